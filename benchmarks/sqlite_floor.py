"""The SQLite writer's floor: the statements a bulk ingest runs, and nothing else.

`db_bench` times the whole ingest (reading the corpus, preparing batches in a worker process, the
writer thread). This script times only what SQLite itself does for each article with provnews' schema
(the real migrations) when one connection writes back to back: per batch of 500, the url_key lookup,
the near-duplicate candidate lookup, one multi-row INSERT into `articles`, one into the full-text index
and one into `near_dup_keys`, in a savepoint; a commit every 10,000 articles or 2 seconds; the bulk
connection's page cache (`pipelines.bulk`) and the engine's WAL settings (`pipelines.engine`). The
batches are built before each one's clock starts, from a pool of 20,000 articles prepared by
`prepare_articles` from the benchmark corpus, each copy with its own url_key, URL and band keys: no
Python preparation is counted. SQLite has one writer at a time, so this bounds any ingest through this
schema on the machine.

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
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pipelines import neardup
from pipelines.bulk import BULK_CACHE_KIB, COMMIT_EVERY, COMMIT_SECONDS
from pipelines.db import Article
from pipelines.engine import SQLITE_CHECKPOINT_PAGES
from pipelines.prepared import prepare_articles
from pipelines.storage import Storage

POOL = 20_000
BATCH = 500
COLUMNS = tuple(c.name for c in Article.__table__.columns)
INSERT_ARTICLES = (
    f"INSERT INTO articles ({', '.join(COLUMNS)})",
    "(" + ", ".join("CAST(? AS TEXT)" if c == "text" else "?" for c in COLUMNS) + ")",
)
INSERT_FTS = (
    "INSERT INTO articles_fts (rowid, title, sapo, text)",
    "(?, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))",
)
INSERT_KEYS = ("INSERT OR IGNORE INTO near_dup_keys (key, article_id)", "(?, ?)")
# The statements `upsert._STORED` and `clusters._CANDIDATES` compile to.
STORED = "SELECT url_key, id, content_hash, versions, minhash FROM articles WHERE url_key IN ({})"
CANDIDATES = (
    "SELECT h.key, a.id, a.cluster_id, a.minhash FROM (SELECT key, article_id, row_number() OVER"
    " (PARTITION BY key ORDER BY article_id DESC) AS rank FROM near_dup_keys WHERE key IN ({})) AS h"
    " JOIN articles AS a ON a.id = h.article_id WHERE h.rank <= 8"
)
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


def make_batch(pool: list[Pooled], start: int) -> dict[str, list[Any]]:
    """Articles start..start+BATCH-1: pooled ones with their own id, url_key, URL and band keys."""
    batch: dict[str, list[Any]] = {"rows": [], "fts": [], "keys": [], "url_keys": []}
    for n in range(start, start + BATCH):
        base, folded, band = pool[n % POOL]
        id_ = n + 1
        url = f"https://bao{n % 34:02d}.example.vn/tin-tuc/bai-{id_}.html"
        row = base | {"id": id_, "url": url, "canonical_url": url, "cluster_id": id_, "versions": "[]"}
        row |= {"url_key": hashlib.sha1(url.encode()).hexdigest()}
        row |= {"first_seen_at": base["published_at"], "updated_at": base["published_at"]}
        batch["rows"].append(tuple(row[c] for c in COLUMNS))
        batch["fts"].append((id_, *folded))
        salt = (n // POOL) * 0x9E3779B97F4A7C15  # each pass over the pool gets other keys
        batch["keys"] += [((k ^ salt) & 0x7FFF_FFFF_FFFF_FFFF, id_) for k in band]
        batch["url_keys"].append(row["url_key"])
    batch["keys"].sort()  # as `clusters.save_keys` inserts them
    return batch


def insert_many(db: sqlite3.Connection, statement: tuple[str, str], rows: list[Any]) -> None:
    """Multi-row INSERTs within SQLite's parameter limit, as `sql.sqlite_insert_many` does."""
    head, row_sql = statement
    step = 32766 // row_sql.count("?")
    for i in range(0, len(rows), step):
        part = rows[i : i + step]
        db.execute(f"{head} VALUES {', '.join([row_sql] * len(part))}", [v for r in part for v in r])


def open_database(path: Path, pool: list[Pooled], detail: str, checkpoint: int) -> sqlite3.Connection:
    Storage.open(str(path)).close()  # the real schema, every migration
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
        db.execute(f"PRAGMA {pragma}")
    db.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    db.execute(f"PRAGMA wal_autocheckpoint={checkpoint}")
    if detail != "full":  # the same index without positions (it cannot answer phrase queries)
        db.execute("DROP TABLE articles_fts")
        db.execute(
            "CREATE VIRTUAL TABLE articles_fts USING fts5(title, sapo, text, content='articles_fts_source',"
            f" content_rowid='id', tokenize='unicode61 remove_diacritics 2', detail={detail})"
        )
        for key, value in (("automerge", 16), ("hashsize", 64 * 1024 * 1024)):  # migration 0007
            db.execute(f"INSERT INTO articles_fts (articles_fts, rank) VALUES ('{key}', {value})")
    sites = sorted({row["site_id"] for row, _, _ in pool})
    db.executemany(
        "INSERT INTO sites (id, name, province, base_url, family, status, updated_at)"
        " VALUES (?, ?, '', '', 'generic', 'unknown', '2026-01-01')",
        [(site, site) for site in sites],
    )
    return db


def write_batch(db: sqlite3.Connection, batch: dict[str, list[Any]], skip: list[str]) -> list[float]:
    """The batch's statements in a savepoint; the seconds of each step but the commit."""
    clock = [time.perf_counter()]
    db.execute("SAVEPOINT batch")
    db.execute(STORED.format(", ".join("?" * len(batch["url_keys"]))), batch["url_keys"]).fetchall()
    clock.append(time.perf_counter())
    if "keys" not in skip:
        keys = sorted({k for k, _ in batch["keys"]})
        db.execute(CANDIDATES.format(", ".join("?" * len(keys))), keys).fetchall()
    clock.append(time.perf_counter())
    insert_many(db, INSERT_ARTICLES, batch["rows"])
    clock.append(time.perf_counter())
    if "fts" not in skip:
        insert_many(db, INSERT_FTS, batch["fts"])
    clock.append(time.perf_counter())
    if "keys" not in skip:
        insert_many(db, INSERT_KEYS, batch["keys"])
    db.execute("RELEASE batch")
    clock.append(time.perf_counter())
    return [b - a for a, b in itertools.pairwise(clock)]


def run(db: sqlite3.Connection, pool: list[Pooled], articles: int, skip: list[str]) -> dict[str, float]:
    spent = dict.fromkeys(STEPS, 0.0)
    in_group, group_started, last_report = 0, 0.0, time.perf_counter()
    for start in range(0, articles, BATCH):
        batch = make_batch(pool, start)
        if in_group == 0:
            db.execute("BEGIN IMMEDIATE")
            group_started = time.perf_counter()
        for step, seconds in zip(STEPS, write_batch(db, batch, skip), strict=False):
            spent[step] += seconds
        in_group += BATCH
        committed = time.perf_counter()
        if in_group >= COMMIT_EVERY or committed - group_started >= COMMIT_SECONDS:
            db.execute("COMMIT")
            in_group = 0
        spent["commit"] += time.perf_counter() - committed
        if time.perf_counter() - last_report > 30:
            last_report = time.perf_counter()
            rate = (start + BATCH) / sum(spent.values())
            print(f"  {start + BATCH} articles, {rate:.0f}/s", file=sys.stderr, flush=True)
    closed = time.perf_counter()
    if in_group:
        db.execute("COMMIT")
    spent["commit"] += time.perf_counter() - closed
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--corpus", type=Path, required=True, help="a corpus file of db_bench")
    parser.add_argument("--skip", action="append", choices=["fts", "keys"], default=[])
    parser.add_argument("--detail", choices=["full", "column"], default="full", help="FTS5 detail option")
    parser.add_argument("--checkpoint", type=int, default=SQLITE_CHECKPOINT_PAGES, help="wal_autocheckpoint")
    args = parser.parse_args()
    articles = args.articles // BATCH * BATCH
    pool = prepared_pool(args.corpus)
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(Path(folder) / "floor.sqlite3", pool, args.detail, args.checkpoint)
        spent = run(db, pool, articles, args.skip)
        db.close()
    total = sum(spent.values())
    figures = {"articles": articles, "skip": args.skip, "detail": args.detail, "checkpoint": args.checkpoint}
    figures |= {"sql_seconds": round(total, 1), "articles_per_second": round(articles / total)}
    figures |= {"us_per_article": {step: round(s / articles * 1e6, 1) for step, s in spent.items()}}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
