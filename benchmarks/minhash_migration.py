"""Time of migration 0014 (every near-duplicate signature, band key and cluster recomputed).

`.venv/bin/python -m benchmarks.minhash_migration [--articles N] [--engine sqlite|postgresql] [--db URL]`
stores a synthetic corpus (`benchmarks.db_corpus`, one article in 20 a wire copy; 20,000 articles by
default) in a new database (SQLite in a temporary folder, or a throwaway PostgreSQL server, unless
`--db` names an empty one), moves it back to revision 0013 without touching its rows, then times
`provnews db upgrade` to head and prints articles per second and the clusters before and after (the
same: the corpus was written with this release's signatures).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.db_corpus import Corpus
from provnews.storage.api import Storage


def clusters(storage: Storage) -> int:
    with storage.engine.connect() as conn:
        return conn.execute(text("SELECT count(DISTINCT cluster_id) FROM articles")).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--db", help="an empty database URL (default: a new database of --engine)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        if not args.db and args.engine == "postgresql":
            from tests.pgserver import start_server

            server = start_server()
            stack.callback(server.stop)
            url = server.url
        with Storage.open(url) as storage:
            batch: list[dict[str, Any]] = []
            for article in Corpus().stream(args.articles):
                batch.append(article)
                if len(batch) == 1000:
                    storage.upsert_articles(batch)
                    batch = []
            if batch:
                storage.upsert_articles(batch)
            before = clusters(storage)
            with storage.engine.begin() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = '0013'"))
            start = time.perf_counter()
            storage.upgrade()
            seconds = time.perf_counter() - start
            print(f"{storage.engine.dialect.name}: {args.articles} articles re-signed and re-clustered")
            print(f"  {seconds:.1f} s, {args.articles / seconds:,.0f} articles/s")
            print(f"  clusters before {before}, after {clusters(storage)}")


if __name__ == "__main__":
    main()
