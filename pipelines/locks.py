"""The `site_locks` table: at most one live crawl per site, and no stale lock after a crash.

A lock is held by (pid, hostname) and kept fresh by a heartbeat. It is stale, and taken over, when its
holder is on this host and the process is gone, or when the heartbeat is older than `stale_after`."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, delete, select, update

from pipelines.db import SiteLockRow, utcnow
from pipelines.rows import to_vn_iso
from pipelines.sql import upsert_statement

HOSTNAME = socket.gethostname()


@dataclass(frozen=True)
class LockHolder:
    site_id: str
    pid: int
    hostname: str
    run_id: int | None
    acquired_at: datetime
    heartbeat_at: datetime

    def describe(self) -> str:
        run = f"run {self.run_id}, " if self.run_id is not None else ""
        since = to_vn_iso(self.acquired_at)
        return f"{run}pid {self.pid} on {self.hostname}, since {since}"


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
    return LockHolder(row.site_id, row.pid, row.hostname, row.run_id, row.acquired_at, row.heartbeat_at)


def acquire(
    conn: Connection, site_ids: list[str], pid: int, hostname: str, stale_after: float
) -> tuple[list[str], dict[str, LockHolder], dict[str, LockHolder]]:
    """Lock what can be locked.

    Returns (acquired site ids, refused site -> its live holder, taken over site -> its stale holder)."""
    table: Table = SiteLockRow.__table__  # type: ignore[assignment]
    acquired: list[str] = []
    refused: dict[str, LockHolder] = {}
    stale: dict[str, LockHolder] = {}
    for site_id in site_ids:
        now = utcnow()
        row = conn.execute(select(table).where(table.c.site_id == site_id)).first()
        values = {"pid": pid, "hostname": hostname, "run_id": None, "acquired_at": now, "heartbeat_at": now}
        if row is None:
            stmt = upsert_statement(conn, table).values(site_id=site_id, **values).on_conflict_do_nothing()
            # Whether the row went in, by RETURNING: psycopg's rowcount for this statement is not 1 on
            # PostgreSQL, which made every crawl "take over" the lock it had just taken.
            if conn.execute(stmt.returning(table.c.site_id)).first() is not None:
                acquired.append(site_id)
                continue
            row = conn.execute(select(table).where(table.c.site_id == site_id)).first()
            assert row is not None
        holder = _holder(row)
        if holder_alive(holder, stale_after, now):
            refused[site_id] = holder
            continue
        # Compare-and-set on the old holder, so two processes cannot both take over the same stale lock.
        stmt = (
            update(table)
            .where(
                table.c.site_id == site_id,
                table.c.pid == holder.pid,
                table.c.hostname == holder.hostname,
                table.c.heartbeat_at == holder.heartbeat_at,
            )
            .values(**values)
        )
        if conn.execute(stmt).rowcount == 1:
            acquired.append(site_id)
            stale[site_id] = holder
        else:
            refused[site_id] = holder
    return acquired, refused, stale


def _mine(site_ids: list[str], pid: int, hostname: str) -> list[ColumnElement[bool]]:
    return [SiteLockRow.site_id.in_(site_ids), SiteLockRow.pid == pid, SiteLockRow.hostname == hostname]


def heartbeat(
    conn: Connection, site_ids: list[str], pid: int, hostname: str, run_id: int | None = None
) -> int:
    values: dict[str, object] = {"heartbeat_at": utcnow()}
    if run_id is not None:
        values["run_id"] = run_id
    stmt = update(SiteLockRow).where(*_mine(site_ids, pid, hostname)).values(**values)
    return int(conn.execute(stmt).rowcount)


def release(conn: Connection, site_ids: list[str], pid: int, hostname: str) -> int:
    stmt = delete(SiteLockRow).where(*_mine(site_ids, pid, hostname))
    return int(conn.execute(stmt).rowcount)


def holders(conn: Connection) -> list[LockHolder]:
    return [_holder(row) for row in conn.execute(select(SiteLockRow.__table__).order_by(SiteLockRow.site_id))]
