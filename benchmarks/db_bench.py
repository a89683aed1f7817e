"""Database benchmark: ingest a synthetic corpus through `Storage.ingest` (batches of `upsert_articles`,
the next one prepared while the current one is written; full-text index and near-duplicate clustering
included), then time typical searches; prints one JSON line of figures.

    python -m benchmarks.db_bench --engine sqlite --articles 1000000
    python -m benchmarks.db_bench --engine postgresql --articles 100000   # a throwaway local server

The corpus is generated once into a file of pickled batches (`--corpus`, reused by later runs; the
generator makes ~3,400 articles/s, slower than the storage layer). During the timed ingest each batch
is read and unpickled by the ingest's preparing process, as `provnews import` reads its files: the
figure is the storage layer's rate plus unpickling.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.db_corpus import Corpus, percentile
from provnews.storage.api import Storage
from provnews.storage.search import search

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("ha noi", {}),
    ("Gia Lai", {}),
    ('"dak lak"', {}),
    ("thanh hoa", {"site": "bao05"}),
    ("duong lam", {}),
    ("Nguyễn Văn Thành", {}),
    ('"tran thi thuy"', {"since": "2025-01-01"}),
    ("sam son", {"since": "2024-06-01", "until": "2024-06-30"}),
    ("hue", {"province": "Huế"}),
    ("lao cai", {"section": "Kinh tế"}),
    ("phu quoc du", {}),
    ("ca mau", {"author": "Lê Văn Hoà"}),
]


def write_corpus(path: Path, count: int, batch: int) -> float:
    """Generate `count` articles into `path` (pickled batches); returns the seconds it took."""
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        rows: list[dict[str, Any]] = []
        for row in Corpus().stream(count):
            rows.append(row)
            if len(rows) == batch:
                pickle.dump(rows, out, protocol=5)
                rows = []
        if rows:
            pickle.dump(rows, out, protocol=5)
    partial.rename(path)
    return time.perf_counter() - started


@dataclass
class CorpusSlice:
    """One pickled batch of a corpus file (its first `count` rows), unpickled by the ingest's preparing
    process (a `bulk.RowSource`), as `provnews import` reads its slices of JSON Lines."""

    path: Path
    offset: int
    count: int

    def rows(self) -> list[dict[str, Any]]:
        with self.path.open("rb") as source:
            source.seek(self.offset)
            rows: list[dict[str, Any]] = pickle.load(source)
        return rows[: self.count]


def corpus_slices(path: Path, count: int) -> list[CorpusSlice]:
    """The batches holding the first `count` articles of a corpus file. Where each batch starts is
    found by reading the file once and kept beside it (`<corpus>.offsets.json`), not during the ingest."""
    index = path.with_name(path.name + ".offsets.json")
    if not index.exists():
        offsets = []
        with path.open("rb") as source:
            while True:
                start = source.tell()
                try:
                    size = len(pickle.load(source))
                except EOFError:
                    break
                offsets.append((start, size))
        index.write_text(json.dumps(offsets))
    slices, done = [], 0
    for start, size in json.loads(index.read_text()):
        if done >= count:
            break
        slices.append(CorpusSlice(path, start, min(size, count - done)))
        done += slices[-1].count
    if done < count:
        raise SystemExit(f"{path} holds only {done} articles; delete it to regenerate")
    return slices


def db_size(storage: Storage) -> int:
    with storage.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        return int(pages) * int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())


def ingest(storage: Storage, corpus: Path, count: int) -> dict[str, Any]:
    slices = corpus_slices(corpus, count)
    started = time.perf_counter()
    last_report = started

    def batches() -> Iterator[CorpusSlice]:
        nonlocal last_report
        done = 0
        for part in slices:
            yield part
            done += part.count
            if time.perf_counter() - last_report > 30:
                last_report = time.perf_counter()
                rate = done / (last_report - started)
                print(f"  {done} articles, {rate:.0f}/s", file=sys.stderr, flush=True)

    result = storage.ingest(batches())
    done = result.new + result.updated + result.unchanged
    elapsed = time.perf_counter() - started
    if storage.engine.dialect.name == "sqlite":
        with storage.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with storage.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE articles"))
    size = db_size(storage)
    return {
        "articles": done,
        "ingest_seconds": round(elapsed, 1),
        "ingest_per_second": round(done / elapsed),
        "db_bytes": size,
        "mb_per_1000_articles": round(size / done * 1000 / 1e6, 2),
    }


def time_searches(storage: Storage, rounds: int) -> dict[str, Any]:
    for query, filters in QUERIES:  # warm the caches once: the figures are for a running service
        search(storage, query, limit=20, **filters)
    times: list[float] = []
    per_query: dict[str, list[float]] = {}
    hits: dict[str, int] = {}
    for _ in range(rounds):
        for query, filters in QUERIES:
            started = time.perf_counter()
            found = search(storage, query, limit=20, **filters)
            elapsed = (time.perf_counter() - started) * 1000
            times.append(elapsed)
            label = query + (f" {filters}" if filters else "")
            per_query.setdefault(label, []).append(elapsed)
            hits[label] = len(found)
    return {
        "search_queries": len(times),
        "search_median_ms": round(statistics.median(times), 1),
        "search_p95_ms": round(percentile(times, 0.95), 1),
        "per_query_median_ms": {k: round(statistics.median(v), 1) for k, v in per_query.items()},
        "hits": hits,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10, help="times each query is run")
    parser.add_argument("--db", help="database URL to use instead of a fresh one (must be empty)")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file")
    parser.add_argument(
        "--corpus",
        type=Path,
        help="corpus file: generated when missing (default $BENCH_DIR/corpus-<articles>-<batch>.pickle)",
    )
    args = parser.parse_args()
    bench_dir = Path(os.environ.get("BENCH_DIR", "/tmp"))
    corpus = args.corpus or bench_dir / f"corpus-{args.articles}-{args.batch}.pickle"
    generated = None
    if not corpus.exists():
        generated = round(write_corpus(corpus, args.articles, args.batch), 1)
        print(f"  corpus written to {corpus} in {generated} s", file=sys.stderr, flush=True)
    server = None
    workdir = Path(tempfile.mkdtemp(prefix="provnews-bench-", dir=bench_dir))
    if args.db:
        url = args.db
    elif args.engine == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        from tests.pgserver import start_server

        server = start_server({"shared_buffers": "512MB", "max_wal_size": "4GB"})
        url = server.url
    try:
        with Storage.open(url) as storage:
            figures: dict[str, Any] = {"engine": storage.engine.dialect.name}
            figures |= {"batch": args.batch, "corpus_generation_seconds": generated}
            figures |= ingest(storage, corpus, args.articles)
            figures |= time_searches(storage, args.rounds)
        print(json.dumps(figures, ensure_ascii=False))
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            for path in workdir.glob("*"):
                path.unlink()
            workdir.rmdir()


if __name__ == "__main__":
    main()
