"""The `crawl_runs` table: one row per crawling command, with its outcome and counters."""

from __future__ import annotations

import os
import socket
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pipelines.db import RUN_OUTCOMES, CrawlRun, utcnow
from pipelines.rows import public_dict


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


def finish_run(conn: Connection, run_id: int, outcome: str, stats: dict[str, Any]) -> None:
    if outcome not in RUN_OUTCOMES or outcome == "running":
        raise ValueError(f"a finished run's outcome is finished, interrupted or failed, not {outcome!r}")
    stmt = update(CrawlRun).where(CrawlRun.id == run_id)
    stmt = stmt.values(finished_at=utcnow(), outcome=outcome, stats=stats)
    if conn.execute(stmt).rowcount != 1:
        raise KeyError(f"no crawl run with id {run_id}")


def list_runs(conn: Connection, limit: int = 20) -> list[dict[str, Any]]:
    query = select(CrawlRun.__table__).order_by(CrawlRun.id.desc()).limit(limit)
    return [public_dict(row) for row in conn.execute(query).mappings()]


def get_run(conn: Connection, run_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(CrawlRun.__table__).where(CrawlRun.id == run_id)).mappings().first()
    return None if row is None else public_dict(row)
