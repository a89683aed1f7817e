"""Bulk ingest: many batches of articles, with the CPU work of the next batch done while the current one
is written, and several batches per transaction.

Preparing a batch (URL identity, NFC, hashes, MinHash signatures, folding; `prepared.prepare_articles`)
is pure Python; writing it is mostly the database engine's own work (SQLite's FTS5 tokenizer and
B-trees, PostgreSQL's server), during which the driver releases the GIL. One writer thread lets the
two overlap on a machine with two cores; batches are still written in order, one at a time.

A million articles' indexes (url_key, near-duplicate band keys, dates) are written at random places,
so each commit writes a page per new index entry; grouping batches into transactions (of
`COMMIT_EVERY` articles or `COMMIT_SECONDS`, with a larger page cache for the bulk connection) writes
each such page once per group instead of once per batch. Each batch has its own savepoint: a failing
batch is rolled back alone and the batches before it are committed before the error is raised.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, Engine

from pipelines.engine import SQLITE_CACHE_KIB
from pipelines.upsert import PreparedBatch, UpsertResult, prepare_articles, write_articles

COMMIT_EVERY = 10_000  # articles per transaction...
# ...or fewer: other writers (a crawl storing its batches) wait for SQLite's lock up to their busy
# timeout (5 s), so a group is committed after this many seconds whatever its size.
COMMIT_SECONDS = 2.0
BULK_CACHE_KIB = 256 * 1024  # SQLite page cache of the bulk connection: a group's dirty index pages


def ingest(
    writer: Engine,
    batches: Iterable[Iterable[Mapping[str, Any]]],
    *,
    refresh: bool = False,
    commit_every: int = COMMIT_EVERY,
) -> UpsertResult:
    """Upsert every batch (see `upsert.upsert_articles`) through `writer`; returns the combined result.
    A batch that fails (in preparation or in the database) stops the ingest with its error; every
    batch before it is stored."""
    total = UpsertResult()
    dialect = writer.dialect.name
    with ThreadPoolExecutor(1, thread_name_prefix="provnews-writer") as pool:
        sink = _GroupedWriter(writer, refresh, commit_every)
        pending: Future[UpsertResult] | None = None
        try:
            for rows in batches:
                prepared = prepare_articles(rows, dialect)
                if pending is not None:
                    _add(total, pending.result())
                pending = pool.submit(sink.write, prepared)
            if pending is not None:
                _add(total, pending.result())
        finally:
            # Commit what was written (the failed batch, if any, was rolled back to its savepoint).
            pool.submit(sink.close).result()
    return total


class _GroupedWriter:
    """One connection and an open transaction, committed every `commit_every` articles or
    `COMMIT_SECONDS`; used by the writer thread only."""

    def __init__(self, engine: Engine, refresh: bool, commit_every: int) -> None:
        self.engine, self.refresh, self.commit_every = engine, refresh, commit_every
        self.conn: Connection | None = None
        self.written = 0
        self.started = 0.0

    def write(self, batch: PreparedBatch) -> UpsertResult:
        conn = self._connection()
        if not conn.in_transaction():
            conn.begin()
            self.started = time.monotonic()
        with conn.begin_nested():
            result = write_articles(conn, batch, refresh=self.refresh)
        self.written += len(batch.values)
        if self.written >= self.commit_every or time.monotonic() - self.started >= COMMIT_SECONDS:
            conn.commit()
            self.written = 0
        return result

    def close(self) -> None:
        if self.conn is None:
            return
        try:
            if self.conn.in_transaction():
                self.conn.commit()
        finally:
            _set_cache(self.conn, SQLITE_CACHE_KIB)
            self.conn.close()
            self.conn = None

    def _connection(self) -> Connection:
        if self.conn is None:
            self.conn = self.engine.connect()
            _set_cache(self.conn, BULK_CACHE_KIB)
        return self.conn


def _set_cache(conn: Connection, kib: int) -> None:
    """SQLite's page cache size, set on the driver connection (outside any transaction)."""
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.execute(f"PRAGMA cache_size=-{kib}")  # type: ignore[union-attr]


def _add(total: UpsertResult, part: UpsertResult) -> None:
    total.new_ids += part.new_ids
    total.updated_ids += part.updated_ids
    total.unchanged_ids += part.unchanged_ids
