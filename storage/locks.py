"""The `site_locks` table: the claims of the crawl workers, one row per site ever claimed.

A site is the unit of work. A worker (one crawl process: pid, hostname) claims sites, crawls them and
releases each when it is done, marking it completed. A claim is held while `released_at` is null and is
kept fresh by a heartbeat; it is stale, and taken over, when its holder is on this host and the process
is gone, or when the heartbeat is older than `stale_after`.

A worker that started at `round_start` claims a requested site when nobody holds it live and nobody
completed a crawl of it since `round_start`: so any number of workers pointed at one database divide
the sites between them, and a site crawled by one of them is not crawled again by another in the same
round. On PostgreSQL the rows are read `FOR UPDATE SKIP LOCKED`, so workers claiming at the same moment
do not wait for each other; every claim is also a compare-and-set on the row as it was read, so two
workers never both take the same site (on SQLite, where the writer lock serialises them, too).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, select, update

from provnews.crawler.text.vietnamese import to_vn_iso
from provnews.storage.models import SiteLockRow, utcnow
from provnews.storage.sql import upsert_statement

HOSTNAME = socket.gethostname()


@dataclass(frozen=True)
class LockHolder:
    site_id: str
    pid: int
    hostname: str
    run_id: int | None
    acquired_at: datetime
    heartbeat_at: datetime
    released_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def held(self) -> bool:
        return self.released_at is None

    def describe(self) -> str:
        run = f"run {self.run_id}, " if self.run_id is not None else ""
        since = to_vn_iso(self.acquired_at)
        return f"{run}pid {self.pid} on {self.hostname}, since {since}"


@dataclass
class Claimed:
    """The outcome of one `claim`: sites taken, sites held live by others (with their holder), sites
    taken over from a dead holder (with it), and sites another worker completed in this round."""

    claimed: list[str] = field(default_factory=list)
    refused: dict[str, LockHolder] = field(default_factory=dict)
    taken_over: dict[str, LockHolder] = field(default_factory=dict)
    done_elsewhere: dict[str, LockHolder] = field(default_factory=dict)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def holder_alive(holder: LockHolder, stale_after: float, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if now - holder.heartbeat_at > timedelta(seconds=stale_after):
        return False
    if holder.hostname == HOSTNAME:
        return holder.pid != os.getpid() and pid_alive(holder.pid)
    return True


def _holder(row: Any) -> LockHolder:
    return LockHolder(
        row.site_id,
        row.pid,
        row.hostname,
        row.run_id,
        row.acquired_at,
        row.heartbeat_at,
        row.released_at,
        row.completed_at,
    )


def claim(
    conn: Connection,
    site_ids: Iterable[str],
    pid: int,
    hostname: str,
    stale_after: float,
    *,
    limit: int | None = None,
    round_start: datetime | None = None,
    run_id: int | None = None,
) -> Claimed:
    """Claim up to `limit` of these sites (all when None), in their order, for (pid, hostname)."""
    table: Table = SiteLockRow.__table__  # type: ignore[assignment]
    wanted = list(dict.fromkeys(site_ids))
    out = Claimed()
    if not wanted or (limit is not None and limit <= 0):
        return out
    # Rows another worker is claiming right now are skipped (not waited for) on PostgreSQL.
    query = select(table).where(table.c.site_id.in_(wanted)).with_for_update(skip_locked=True)
    rows = {row.site_id: _holder(row) for row in conn.execute(query)}
    listed = set(rows)
    if conn.dialect.name == "postgresql":  # which of the rows not returned exist (locked by another)
        existing = select(table.c.site_id).where(table.c.site_id.in_(wanted))
        locked = set(conn.execute(existing).scalars()) - listed
    else:
        locked = set()
    for site_id in wanted:
        if limit is not None and len(out.claimed) >= limit:
            break
        if site_id in locked:
            continue
        now = utcnow()
        values = {
            "pid": pid,
            "hostname": hostname,
            "run_id": run_id,
            "acquired_at": now,
            "heartbeat_at": now,
            "released_at": None,
        }
        holder = rows.get(site_id)
        if holder is None:
            stmt = upsert_statement(conn, table).values(site_id=site_id, **values).on_conflict_do_nothing()
            # Whether the row went in, by RETURNING: psycopg's rowcount for this statement is not 1 on
            # PostgreSQL, which made every crawl "take over" the lock it had just taken.
            if conn.execute(stmt.returning(table.c.site_id)).first() is not None:
                out.claimed.append(site_id)
            continue  # else another worker inserted it meanwhile: it holds it
        if holder.held and holder_alive(holder, stale_after, now):
            out.refused[site_id] = holder
            continue
        done = holder.completed_at
        if not holder.held and round_start is not None and done is not None and done >= round_start:
            out.done_elsewhere[site_id] = holder
            continue
        # Compare-and-set on the row as read, so two workers cannot both take the same site.
        stmt = update(table).where(table.c.site_id == site_id, *_as_read(table, holder)).values(**values)
        if conn.execute(stmt).rowcount == 1:
            out.claimed.append(site_id)
            if holder.held:
                out.taken_over[site_id] = holder
    return out


def _as_read(table: Table, holder: LockHolder) -> list[ColumnElement[bool]]:
    was = holder.released_at
    released = table.c.released_at.is_(None) if was is None else table.c.released_at == was
    return [
        table.c.pid == holder.pid,
        table.c.hostname == holder.hostname,
        table.c.heartbeat_at == holder.heartbeat_at,
        released,
    ]


def acquire(
    conn: Connection, site_ids: list[str], pid: int, hostname: str, stale_after: float
) -> tuple[list[str], dict[str, LockHolder], dict[str, LockHolder]]:
    """Claim every site that can be claimed, whatever the round: (claimed, refused, taken over)."""
    out = claim(conn, site_ids, pid, hostname, stale_after)
    return out.claimed, out.refused, out.taken_over


def _mine(site_ids: list[str], pid: int, hostname: str) -> list[ColumnElement[bool]]:
    return [
        SiteLockRow.site_id.in_(site_ids),
        SiteLockRow.pid == pid,
        SiteLockRow.hostname == hostname,
        SiteLockRow.released_at.is_(None),
    ]


def heartbeat(
    conn: Connection, site_ids: list[str], pid: int, hostname: str, run_id: int | None = None
) -> int:
    values: dict[str, object] = {"heartbeat_at": utcnow()}
    if run_id is not None:
        values["run_id"] = run_id
    stmt = update(SiteLockRow).where(*_mine(site_ids, pid, hostname)).values(**values)
    return int(conn.execute(stmt).rowcount)


def release(
    conn: Connection, site_ids: list[str], pid: int, hostname: str, *, completed: bool = False
) -> int:
    """Let go of these claims; `completed`: the site's crawl is done for this round (no other worker
    of the round takes it up again)."""
    now = utcnow()
    values: dict[str, object] = {"released_at": now, "heartbeat_at": now}
    if completed:
        values["completed_at"] = now
    stmt = update(SiteLockRow).where(*_mine(site_ids, pid, hostname)).values(**values)
    return int(conn.execute(stmt).rowcount)


def holders(conn: Connection, *, include_released: bool = False) -> list[LockHolder]:
    """The held claims (and, with `include_released`, the last holder of every site ever claimed)."""
    query = select(SiteLockRow.__table__).order_by(SiteLockRow.site_id)
    if not include_released:
        query = query.where(SiteLockRow.released_at.is_(None))
    return [_holder(row) for row in conn.execute(query)]
