"""Bulk ingest: many batches of articles, with the CPU work of later batches done while the current one
is written, and several batches per transaction.

Preparing a batch (URL identity, NFC, hashes, MinHash signatures, folding; `prepared.prepare_articles`)
is pure Python; writing it is mostly the database engine's own work (SQLite's FTS5 tokenizer and
B-trees, PostgreSQL's server), during which the driver releases the GIL. Batches are prepared in a
worker process and written, in order, by a writer thread: a writer thread beside a preparing thread
waited for the GIL after each SQLite call, and the two together used one core's worth of CPU
(benchmarks/README.md). Up to `AHEAD` articles are queued for the writer, so that a long write (a
group's commit) does not stop the preparation. A batch may also be a `RowSource` that the worker
reads itself (`provnews import` hands it slices of files): reading and parsing then happen there too.

A million articles' indexes (url_key, near-duplicate band keys, dates) are written at random places,
so each commit writes a page per new index entry; grouping batches into transactions (of
`COMMIT_EVERY` articles or `COMMIT_SECONDS`, with a larger page cache for the bulk connection) writes
each such page once per group instead of once per batch. Each batch has its own savepoint: a batch
that the database refuses because of its rows is bisected within savepoints (`storage.bisect`), so
every good article is stored and each refused one comes back in `UpsertResult.refused`; any other
failure rolls back its batch alone, and the batches before it are committed before the error is raised.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from itertools import chain
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Connection, Engine

from provnews.storage.bisect import store_bisected
from provnews.storage.engine import SQLITE_CACHE_KIB
from provnews.storage.upsert import PreparedBatch, UpsertResult, prepare_articles, write_articles

COMMIT_EVERY = 10_000  # articles per transaction...
# ...or fewer: other writers (a crawl storing its batches) wait for SQLite's lock up to their busy
# timeout (5 s), so a group is committed after this many seconds whatever its size.
COMMIT_SECONDS = 2.0
BULK_CACHE_KIB = 256 * 1024  # SQLite page cache of the bulk connection: a group's dirty index pages
# Articles prepared ahead of the writer: enough to keep preparing through a group's commit (about half a
# second at a million articles), about 100 MB of prepared text.
AHEAD = 5_000
PREPARE_AHEAD = 4  # batches handed to the preparing process and not yet taken back


@runtime_checkable
class RowSource(Protocol):
    """A batch that the preparing process reads itself (a slice of a file, say), so that reading and
    parsing happen beside the writer rather than in the ingesting process, and the rows are not pickled
    across. It must be picklable; what `rows()` records on it comes back to the caller (`on_loaded`)."""

    def rows(self) -> Sequence[Mapping[str, Any]]: ...


Batch = Iterable[Mapping[str, Any]] | RowSource


def ingest(
    writer: Engine,
    batches: Iterable[Batch],
    *,
    refresh: bool = False,
    commit_every: int = COMMIT_EVERY,
    on_loaded: Callable[[RowSource], None] | None = None,
) -> UpsertResult:
    """Upsert every batch (see `upsert.upsert_articles`) through `writer`; returns the combined result.
    A batch is rows or a `RowSource`; `on_loaded` gets each source, in order, as its rows were read.
    A batch that fails (in preparation or in the database) stops the ingest with its error; every
    batch before it is stored."""
    total = UpsertResult()
    with ThreadPoolExecutor(1, thread_name_prefix="provnews-writer") as pool:
        sink = _GroupedWriter(writer, refresh, commit_every)
        pending: deque[tuple[int, Future[UpsertResult]]] = deque()
        queued = 0  # articles prepared and not written yet
        try:
            for prepared, source in _prepared(batches, writer.dialect.name):
                if source is not None and on_loaded is not None:
                    on_loaded(source)
                pending.append((len(prepared.values), pool.submit(sink.write, prepared)))
                queued += len(prepared.values)
                while pending and (queued > AHEAD or pending[0][1].done()):
                    size, future = pending.popleft()
                    queued -= size
                    total.add(future.result())
            for _, future in pending:
                total.add(future.result())
        finally:
            # Commit what was written (the failed batch, if any, was rolled back to its savepoint).
            pool.submit(sink.close).result()
    return total


Loaded = tuple[PreparedBatch, RowSource | None]


def _prepared(batches: Iterable[Batch], dialect: str) -> Iterator[Loaded]:
    """The batches prepared (with their source, for a `RowSource`), in order: in a worker process from
    the second batch on (a single batch does not pay for starting one), up to PREPARE_AHEAD batches
    ahead of the caller."""
    source = iter(batches)
    first = next(source, None)
    if first is None:
        return
    second = next(source, None)
    if second is None:
        yield _prepare(first, dialect)
        return
    # spawn: a fresh interpreter, whatever threads or connections this process holds.
    workers = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        pending: deque[Future[Loaded]] = deque()
        for batch in chain((first, second), source):
            sendable = batch if isinstance(batch, RowSource) else list(batch)
            pending.append(workers.submit(_prepare, sendable, dialect))
            while pending and (len(pending) > PREPARE_AHEAD or pending[0].done()):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        workers.shutdown(wait=True, cancel_futures=True)


def _prepare(batch: Batch, dialect: str) -> Loaded:
    if isinstance(batch, RowSource):
        return prepare_articles(batch.rows(), dialect), batch
    return prepare_articles(batch, dialect), None


class _GroupedWriter:
    """One connection and an open transaction, committed every `commit_every` articles or
    `COMMIT_SECONDS`; used by the writer thread only."""

    def __init__(self, engine: Engine, refresh: bool, commit_every: int) -> None:
        self.engine, self.refresh, self.commit_every = engine, refresh, commit_every
        self.conn: Connection | None = None
        self.written = 0
        self.started = 0.0
        self.failed = False

    def write(self, batch: PreparedBatch) -> UpsertResult:
        if self.failed:  # batches queued after a failed one are not written
            raise RuntimeError("an earlier batch of this ingest failed")
        self.failed = True  # until this batch is written
        conn = self._connection()
        if not conn.in_transaction():
            conn.begin()
            self.started = time.monotonic()
        result = self._write_bisected(conn, batch)
        self.written += len(batch.values)
        if self.written >= self.commit_every or time.monotonic() - self.started >= COMMIT_SECONDS:
            conn.commit()
            self.written = 0
        self.failed = False
        return result

    def _write_bisected(self, conn: Connection, batch: PreparedBatch) -> UpsertResult:
        def write(keys: Sequence[str]) -> UpsertResult:
            with conn.begin_nested():
                part = batch if len(keys) == len(batch.values) else batch.subset(keys)
                return write_articles(conn, part, refresh=self.refresh)

        outcome = store_bisected(write, list(batch.values))
        result = UpsertResult()
        for part in outcome.results:
            result.add(part)
        result.refused += [(batch.values[r.entry]["url"], r.error) for r in outcome.refused]
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
