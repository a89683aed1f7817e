"""What one crawl worker costs: CPU per page fetched and per article stored, pages per second per core,
database growth per article (raw HTML kept), from a real `provnews crawl` of the local replica.

`python -m benchmarks.worker_capacity --engine sqlite|postgresql [--sites N] [--articles A]
[--workers W]` serves N replica sites (numbered copies of the three replica sites) of A articles each
on 127.0.0.1 without delay (so the crawl is bound by CPU, not by politeness), crawls them with W
`provnews crawl` processes on one database (PostgreSQL: a throwaway local server), and prints one JSON
object: pages fetched, articles stored, wall time, CPU seconds of the crawl processes and their
extraction workers, CPU ms per page and per article, pages per second per core, and the database's
growth per article. docs/deployment.md turns these figures into a capacity estimate.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage

BASES = ("baogialai", "baolaocai", "baocantho")
BIN = Path(sys.executable).parent


def site_ids(n: int) -> list[str]:
    ids = list(BASES)
    copy = 2
    while len(ids) < n:
        ids += [f"{base}-{copy}" for base in BASES]
        copy += 1
    return ids[:n]


def db_size(url: str) -> int:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
    with Storage.open(url) as storage, storage.engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def crawl(url: str, sites_file: Path, workers: int, per_worker: int) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    # the replica is on loopback, which a crawl reaches only when told so
    env = {**os.environ, "PROVNEWS_PROGRESS": "0", "PROVNEWS_ALLOW_PRIVATE_HOSTS": "127.0.0.1,localhost"}
    args = [str(BIN / "provnews"), "--db", url, "crawl", "--sites-file", str(sites_file)]
    args += ["-s", f"PROVNEWS_SITES_PER_WORKER={per_worker}"]
    procs = [subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL) for _ in range(workers)]
    codes = [proc.wait() for proc in procs]
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"exit_codes": codes, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--sites", type=int, default=6)
    parser.add_argument("--articles", type=int, default=150)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="provnews-capacity-"))
    server = None
    if args.engine == "sqlite":
        url = f"sqlite:///{workdir / 'capacity.sqlite3'}"
    else:
        from tests.pgserver import start_server

        server = start_server()
        url = server.url
    try:
        ids = site_ids(args.sites)
        with ReplicaServer(ids, articles_per_site=args.articles, seed=3) as replica:
            sites_file = workdir / "sites.toml"
            sites_file.write_text(replica.sites_toml().replace("concurrency = 4", "concurrency = 1"))
            Storage.open(url).close()
            empty = db_size(url)
            figures: dict[str, Any] = {"engine": args.engine, "sites": len(ids), "workers": args.workers}
            per_worker = max(1, -(-len(ids) // args.workers))
            figures |= crawl(url, sites_file, args.workers, per_worker)
            grown = db_size(url) - empty
            with Storage.open(url) as storage:
                runs = storage.runs(limit=args.workers)
                articles = sum(n for _site, n in storage.article_counts_by_site())
            # A second round with nothing new: what discovery alone costs per site and round.
            again = crawl(url, sites_file, args.workers, per_worker)
            with Storage.open(url) as storage:
                rerun = storage.runs(limit=args.workers)
            figures["discovery_pages_per_site_and_round"] = round(
                sum(int(r["stats"].get("pages_fetched", 0)) for r in rerun) / len(ids), 1
            )
            figures["discovery_not_modified_per_site_and_round"] = round(
                sum(int(r["stats"].get("not_modified", 0)) for r in rerun) / len(ids), 1
            )
            figures["discovery_cpu_s_per_site_and_round"] = round(again["cpu_s"] / len(ids), 2)
        pages = sum(int(r["stats"].get("pages_fetched", 0)) for r in runs)
        cpu = figures["cpu_s"]
        figures |= {
            "pages_fetched": pages,
            "articles_stored": articles,
            "cpu_ms_per_page": round(1000 * cpu / max(pages, 1), 1),
            "cpu_ms_per_article": round(1000 * cpu / max(articles, 1), 1),
            "pages_per_cpu_second": round(pages / max(cpu, 1e-9), 1),
            "pages_per_wall_second": round(pages / max(figures["wall_s"], 1e-9), 1),
            "db_bytes_per_article": round(grown / max(articles, 1)),
        }
        print(json.dumps(figures))
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
