"""The `crawl_runs` table: one row per crawling command, with its outcome and counters."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, insert, select, update

from provnews.storage.models import RUN_OUTCOMES, CrawlRun, utcnow
from provnews.storage.rows import public_dict


def start_run(conn: Connection, command: str, sites: list[str]) -> int:
    stmt = insert(CrawlRun).values(
        started_at=utcnow(),
        command=command,
        sites=list(sites),
        outcome="running",
        stats={},
        pid=os.getpid(),
        hostname=socket.gethostname(),
    )
    return int(conn.execute(stmt.returning(CrawlRun.id)).scalar_one())


def finish_run(
    conn: Connection, run_id: int, outcome: str, stats: dict[str, Any], sites: list[str] | None = None
) -> None:
    """Close the run; `sites`, when given, are the sites it crawled (a worker claims them as it goes)."""
    if outcome not in RUN_OUTCOMES or outcome == "running":
        raise ValueError(f"a finished run's outcome is finished, interrupted or failed, not {outcome!r}")
    stmt = update(CrawlRun).where(CrawlRun.id == run_id)
    stmt = stmt.values(finished_at=utcnow(), outcome=outcome, stats=stats, **_sites(sites))
    if conn.execute(stmt).rowcount != 1:
        raise KeyError(f"no crawl run with id {run_id}")


def list_runs(conn: Connection, limit: int = 20) -> list[dict[str, Any]]:
    query = select(CrawlRun.__table__).order_by(CrawlRun.id.desc()).limit(limit)
    return [public_dict(row) for row in conn.execute(query).mappings()]


def get_run(conn: Connection, run_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(CrawlRun.__table__).where(CrawlRun.id == run_id)).mappings().first()
    return None if row is None else public_dict(row)


def reap_stale_runs(conn: Connection, alive: Callable[[int | None, str | None], bool]) -> list[int]:
    """Mark runs left "running" by a process that is gone as failed (finish reason "crashed")."""
    query = select(CrawlRun.id, CrawlRun.pid, CrawlRun.hostname, CrawlRun.stats).where(
        CrawlRun.outcome == "running"
    )
    reaped = []
    for run_id, pid, hostname, stats in conn.execute(query).all():
        if alive(pid, hostname):
            continue
        note = f"process {pid} on {hostname} ended without closing the run (killed or crashed)"
        stmt = update(CrawlRun).where(CrawlRun.id == run_id, CrawlRun.outcome == "running")
        stmt = stmt.values(
            outcome="failed", stats={**(stats or {}), "finish_reason": "crashed", "note": note}
        )
        if conn.execute(stmt).rowcount == 1:
            reaped.append(run_id)
    return reaped


def save_progress(
    conn: Connection, run_id: int, stats: dict[str, Any], sites: list[str] | None = None
) -> None:
    """Counters of a run still going, so a run that dies keeps a record of what it had done."""
    stmt = update(CrawlRun).where(CrawlRun.id == run_id, CrawlRun.outcome == "running")
    conn.execute(stmt.values(stats=stats, **_sites(sites)))


def _sites(sites: list[str] | None) -> dict[str, Any]:
    return {} if sites is None else {"sites": list(sites)}


def ended_runs(conn: Connection, limit: int = 2000) -> list[dict[str, Any]]:
    """The most recent runs that ended, newest first (id, outcome, finished_at, sites, stats)."""
    query = (
        select(CrawlRun.id, CrawlRun.outcome, CrawlRun.finished_at, CrawlRun.sites, CrawlRun.stats)
        .where(CrawlRun.outcome != "running", CrawlRun.finished_at.is_not(None))
        .order_by(CrawlRun.id.desc())
        .limit(limit)
    )
    return [dict(row) for row in conn.execute(query).mappings()]
