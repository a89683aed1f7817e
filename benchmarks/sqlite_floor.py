"""The SQLite writer's floor: the statements a bulk ingest runs, and nothing else.

`db_bench` times the whole ingest (reading the corpus, preparing batches in a worker process, the
writer thread). This script times only the writer's own database steps, through the same functions
the writer calls, one connection writing back to back: per batch of 500, the url_key lookup
(`upsert.stored_state`), the near-duplicate candidate lookup (`clusters.stored_candidates`), the
multi-row INSERTs into `articles` (`write_sqlite.insert_rows`), the full-text index
(`fts.insert_into_index`) and `near_dup_keys` (`clusters.save_keys`), in a savepoint; a commit every
10,000 articles or 2 seconds; the real schema (every migration), the engine's settings and the bulk
connection's page cache. The batches are built before each one's clock starts, from a pool of 20,000
articles prepared by `prepare_articles` from the benchmark corpus, each copy with its own url_key, URL
and band keys: no preparation is counted. SQLite has one writer at a time, so this bounds any ingest
through this schema on the machine.

    .venv/bin/python -m benchmarks.sqlite_floor --articles 1000000 --corpus corpus-1000000-500.pickle

`--skip fts` / `--skip keys` leave out the full-text index or the near-duplicate keys (lookups and
inserts), `--detail column` builds the full-text index without positions, and `--checkpoint PAGES`
sets another WAL checkpoint threshold, to attribute the time. One JSON line of figures on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import pickle
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from provnews.storage import neardup
from provnews.storage.api import Storage
from provnews.storage.bulk import BULK_CACHE_KIB, COMMIT_EVERY, COMMIT_SECONDS
from provnews.storage.clusters import save_keys, stored_candidates
from provnews.storage.engine import SQLITE_CHECKPOINT_PAGES, writer
from provnews.storage.fts import insert_into_index
from provnews.storage.prepared import prepare_articles
from provnews.storage.upsert import stored_state
from provnews.storage.write_sqlite import insert_rows

POOL = 20_000
BATCH = 500
STEPS = ("lookup", "candidates", "rows", "fts", "keys", "commit")

Pooled = tuple[dict[str, Any], tuple[Any, ...], list[int]]


def prepared_pool(corpus: Path) -> list[Pooled]:
    """POOL articles of the corpus as the writer gets them: driver row, folded texts, band keys."""
    out: list[Pooled] = []
    with corpus.open("rb") as source:
        while len(out) < POOL:
            batch = prepare_articles(pickle.load(source), "sqlite")
            for key, row in batch.sqlite_rows.items():
                sig = batch.signatures[key]
                out.append((row, batch.folded[key], neardup.band_keys(sig) if sig else []))
    return out


def make_batch(pool: list[Pooled], start: int) -> dict[str, Any]:
    """Articles start..start+BATCH-1: pooled ones with their own id, url_key, URL and band keys."""
    batch: dict[str, Any] = {"rows": [], "fts": [], "keys": {}}
    for n in range(start, start + BATCH):
        base, folded, band = pool[n % POOL]
        id_ = n + 1
        url = f"https://bao{n % 34:02d}.example.vn/tin-tuc/bai-{id_}.html"
        row = base | {"id": id_, "url": url, "canonical_url": url, "cluster_id": id_, "versions": "[]"}
        row |= {"url_key": hashlib.sha1(url.encode()).hexdigest()}
        row |= {"first_seen_at": base["published_at"], "updated_at": base["published_at"]}
        batch["rows"].append(row)
        batch["fts"].append((id_, *folded))
        salt = (n // POOL) * 0x9E3779B97F4A7C15  # each pass over the pool gets other keys
        batch["keys"][id_] = [(k ^ salt) & 0x7FFF_FFFF_FFFF_FFFF for k in band]
    return batch


def open_database(path: Path, pool: list[Pooled], detail: str, checkpoint: int) -> tuple[Storage, Connection]:
    storage = Storage.open(str(path))  # the real schema, every migration
    conn = writer(storage.engine).connect()
    driver = conn.connection.driver_connection  # outside any transaction, as `bulk` sets its cache
    driver.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")  # type: ignore[union-attr]
    driver.execute(f"PRAGMA wal_autocheckpoint={checkpoint}")  # type: ignore[union-attr]
    if detail != "full":  # the same index without positions (it cannot answer phrase queries)
        with conn.begin():
            conn.exec_driver_sql("DROP TABLE articles_fts")
            conn.exec_driver_sql(
                "CREATE VIRTUAL TABLE articles_fts USING fts5(title, sapo, text,"
                " content='articles_fts_source', content_rowid='id',"
                f" tokenize='unicode61 remove_diacritics 2', detail={detail})"
            )
            for key, value in (("automerge", 16), ("hashsize", 64 * 1024 * 1024)):  # migration 0007
                conn.exec_driver_sql(
                    f"INSERT INTO articles_fts (articles_fts, rank) VALUES ('{key}', {value})"
                )
    with conn.begin():
        conn.exec_driver_sql(
            "INSERT INTO sites (id, name, province, base_url, family, status, updated_at)"
            " VALUES (?, ?, '', '', 'generic', 'unknown', '2026-01-01')",
            [(site, site) for site in sorted({row["site_id"] for row, _, _ in pool})],
        )
    return storage, conn


def write_batch(conn: Connection, batch: dict[str, Any], skip: list[str]) -> list[float]:
    """The batch's steps in a savepoint; the seconds of each step but the commit."""
    clock = [time.perf_counter()]
    with conn.begin_nested():
        stored_state(conn, [row["url_key"] for row in batch["rows"]])
        clock.append(time.perf_counter())
        if "keys" not in skip:
            stored_candidates(conn, {k for keys in batch["keys"].values() for k in keys})
        clock.append(time.perf_counter())
        insert_rows(conn, batch["rows"])
        clock.append(time.perf_counter())
        if "fts" not in skip:
            insert_into_index(conn, batch["fts"])
        clock.append(time.perf_counter())
        if "keys" not in skip:
            save_keys(conn, batch["keys"])
    clock.append(time.perf_counter())
    return [b - a for a, b in itertools.pairwise(clock)]


def run(conn: Connection, pool: list[Pooled], articles: int, skip: list[str]) -> dict[str, float]:
    spent = dict.fromkeys(STEPS, 0.0)
    in_group, group_started, last_report = 0, 0.0, time.perf_counter()
    for start in range(0, articles, BATCH):
        batch = make_batch(pool, start)
        if in_group == 0:
            conn.begin()
            group_started = time.perf_counter()
        for step, seconds in zip(STEPS, write_batch(conn, batch, skip), strict=False):
            spent[step] += seconds
        in_group += BATCH
        committed = time.perf_counter()
        if in_group >= COMMIT_EVERY or committed - group_started >= COMMIT_SECONDS:
            conn.commit()
            in_group = 0
        spent["commit"] += time.perf_counter() - committed
        if time.perf_counter() - last_report > 30:
            last_report = time.perf_counter()
            rate = (start + BATCH) / sum(spent.values())
            print(f"  {start + BATCH} articles, {rate:.0f}/s", file=sys.stderr, flush=True)
    closed = time.perf_counter()
    if in_group:
        conn.commit()
    spent["commit"] += time.perf_counter() - closed
    return spent


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--corpus", type=Path, required=True, help="a corpus file of db_bench")
    parser.add_argument("--skip", action="append", choices=["fts", "keys"], default=[])
    parser.add_argument("--detail", choices=["full", "column"], default="full", help="FTS5 detail option")
    parser.add_argument("--checkpoint", type=int, default=SQLITE_CHECKPOINT_PAGES, help="wal_autocheckpoint")
    args = parser.parse_args()
    articles = args.articles // BATCH * BATCH
    pool = prepared_pool(args.corpus)
    with tempfile.TemporaryDirectory() as folder:
        storage, conn = open_database(Path(folder) / "floor.sqlite3", pool, args.detail, args.checkpoint)
        spent = run(conn, pool, articles, args.skip)
        conn.close()
        storage.close()
    total = sum(spent.values())
    figures = {"articles": articles, "skip": args.skip, "detail": args.detail, "checkpoint": args.checkpoint}
    figures |= {"sql_seconds": round(total, 1), "articles_per_second": round(articles / total)}
    figures |= {"us_per_article": {step: round(s / articles * 1e6, 1) for step, s in spent.items()}}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
