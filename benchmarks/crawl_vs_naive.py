"""`provnews crawl` against the naive design on the same replica: pages/s, CPU per stored article and
peak memory (issue 14).

The replica (`crawler.replica`, both families, numbered copies for many sites) is served by a separate
process, each site on its own loopback address (127.0.0.1, 127.0.0.2, ...) without delay. Then, one
after the other, each from a fresh SQLite database:

- `provnews crawl` of every site, once per number of extraction workers (`--workers 1,2`, passed as
  `-s PROVNEWS_EXTRACT_WORKERS=N`): discovery (robots.txt, sitemaps, feeds, listings) and articles;
- the naive design (unless `--skip-naive`): a plain Scrapy spider (`NaiveSpider` below, not part of the
  package) given the replica's article URLs, calling `trafilatura.bare_extraction` in its callback and
  writing each article to SQLite (one INSERT and commit per article).

Each run is a subprocess; its CPU is user+sys of its whole process tree (getrusage of the children it
and we waited for), its memory the peak of the summed RSS of the process and its descendants (sampled
from /proc every 50 ms). The replica's own CPU is measured apart (from /proc) and not counted in any
run. Usage: ``.venv/bin/python -m benchmarks.crawl_vs_naive [--sites 20] [--articles 200]
[--workers 1,2] [--skip-naive] [--json]``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import multiprocessing
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from benchmarks.big_sitemap import tree_rss
from benchmarks.worker_capacity import site_ids
from provnews.crawler import settings as provnews_settings
from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# The goals, on 2 cores: provnews / naive pages per second, provnews / naive CPU per stored
# article, provnews peak RSS.
GOAL_SPEEDUP = 5.0
GOAL_CPU_RATIO = 0.15
GOAL_RSS_MIB = 600
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


# ---- the replica, in its own process ----------------------------------------------------------------
def serve_replica(conn: Connection, sites: list[str], articles: int) -> None:
    hosts = [f"127.0.0.{n + 1}" for n in range(len(sites))]
    with ReplicaServer(sites, articles_per_site=articles, seed=3, hosts=hosts) as replica:
        conn.send(
            {
                "sites_toml": replica.sites_toml(),
                "hosts": hosts,
                "article_urls": sorted(replica.ground_truth()),
                "families": [replica.models[s].family for s in sites],
            }
        )
        conn.recv()  # any message: stop


def process_cpu(pid: int) -> float:
    """User+system CPU seconds of one process (all its threads) so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- one measured subprocess -------------------------------------------------------------------------
def adopt_orphans() -> None:
    """Become the parent of our descendants' orphans (Linux), so that a process a run leaves behind is
    waited for here and its CPU still counted in RUSAGE_CHILDREN."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(c) for c in (task / "children").read_text().split())
    return found


def reap_orphans(keep: set[int], timeout: float = 60) -> int:
    """Wait for the processes a run left to us (not those in `keep`); how many still run after
    `timeout` seconds (not waited for, their CPU not counted)."""
    deadline = time.monotonic() + timeout
    left = children(os.getpid()) - keep
    while True:
        left = {pid for pid in left if os.waitpid(pid, os.WNOHANG) == (0, 0)}
        if not left or time.monotonic() > deadline:
            return len(left)
        time.sleep(0.05)


def measured(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a command; its wall time, CPU of its process tree, peak tree RSS, exit status and stdout."""
    ours = children(os.getpid())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=err, text=True)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.05)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    left_running = reap_orphans(ours)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "exit_code": proc.returncode,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mib": peak / 2**20,
        "left_running": left_running,
        "out": stdout,
        "err": stderr,
    }


def figures(design: str, run: dict[str, Any], pages: int, stored: int, expected: int) -> dict[str, Any]:
    return {
        "design": design,
        "exit_code": run["exit_code"],
        "pages_fetched": pages,
        "articles_stored": stored,
        "articles_expected": expected,
        "wall_s": round(run["wall_s"], 2),
        "pages_per_s": round(pages / run["wall_s"], 1),
        "cpu_s": round(run["cpu_s"], 2),
        "cpu_ms_per_article": round(1000 * run["cpu_s"] / stored, 2) if stored else None,
        "peak_rss_mib": round(run["peak_rss_mib"], 1),
        "processes_left_running": run["left_running"],
        # what went wrong, for a run that did not exit 0
        **({"stderr_tail": run["err"][-2000:]} if run["exit_code"] != 0 else {}),
    }


def provnews_run(
    workdir: Path, replica: dict[str, Any], workers: int, args: argparse.Namespace
) -> dict[str, Any]:
    sites_file = workdir / "sites.toml"
    sites_file.write_text(
        replica["sites_toml"].replace("concurrency = 4", f"concurrency = {args.per_site}"), encoding="utf-8"
    )
    db = f"sqlite:///{workdir / f'provnews-{workers}.sqlite3'}"
    settings = {
        "CONCURRENT_REQUESTS": args.concurrency,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_START_DELAY": 0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": args.per_site,
        "PROVNEWS_SITES_PER_WORKER": 0,
    }
    # A provnews without the setting refuses it: its runs then differ only by the label.
    applied = hasattr(provnews_settings, "PROVNEWS_EXTRACT_WORKERS")
    if applied:
        settings["PROVNEWS_EXTRACT_WORKERS"] = workers
    command = [str(BIN / "provnews"), "--db", db, "crawl", "--sites-file", str(sites_file)]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    # the replica is on loopback, which a crawl reaches only when told so
    env = {**os.environ, "PROVNEWS_PROGRESS": "0", "PROVNEWS_ALLOW_PRIVATE_HOSTS": ",".join(replica["hosts"])}
    run = measured(command, env)
    with Storage.open(db) as storage:
        runs = storage.runs(limit=1)
        stored = storage.count_articles()
    stats = runs[0]["stats"] if runs else {}
    row = figures("provnews", run, int(stats.get("pages_fetched", 0)), stored, len(replica["article_urls"]))
    outcome = runs[0]["outcome"] if runs else None
    return {**row, "extract_workers": workers, "extract_workers_applied": applied, "outcome": outcome}


def naive_run(workdir: Path, replica: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    urls = workdir / "article-urls.txt"
    urls.write_text("\n".join(replica["article_urls"]) + "\n", encoding="utf-8")
    db = workdir / "naive.sqlite3"
    command = [sys.executable, "-m", "benchmarks.crawl_vs_naive", "--naive-child", str(urls), str(db)]
    command += ["--concurrency", str(args.concurrency), "--per-site", str(args.per_site)]
    run = measured(command, dict(os.environ))
    lines = run["out"].strip().splitlines()
    stats = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    stored = 0
    if db.exists():
        with sqlite3.connect(db) as conn:
            stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    row = figures("naive", run, int(stats.get("pages_fetched", 0)), stored, len(replica["article_urls"]))
    per_article = {
        f"{key.removesuffix('_s')}_ms_per_article": round(1000 * stats[key] / stored, 2) if stored else None
        for key in ("extract_cpu_s", "store_cpu_s", "store_wall_s")
        if key in stats
    }
    return {**row, "not_extracted": stats.get("not_extracted"), **per_article}


# ---- the naive design: a plain Scrapy spider, run in its own process ---------------------------------
def naive_child(urls_file: str, db_file: str, concurrency: int, per_site: int) -> None:
    import scrapy
    import trafilatura
    from scrapy.crawler import CrawlerProcess

    class NaiveSpider(scrapy.Spider):
        name = "naive"

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.start_urls = Path(urls_file).read_text(encoding="utf-8").split()
            self.db = sqlite3.connect(db_file)
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS articles "
                "(url TEXT PRIMARY KEY, title TEXT, author TEXT, date TEXT, text TEXT)"
            )
            self.not_extracted = 0
            # where the callback's time goes: CPU in bare_extraction, CPU and wall time in SQLite (the
            # commit waits for the disk in the reactor's thread)
            self.spent = {"extract_cpu_s": 0.0, "store_cpu_s": 0.0, "store_wall_s": 0.0}

        def parse(self, response: Any) -> None:
            cpu = time.process_time()
            doc: Any = trafilatura.bare_extraction(response.text, url=response.url, with_metadata=True)
            wall, extracted = time.perf_counter(), time.process_time()
            self.spent["extract_cpu_s"] += extracted - cpu
            if doc is None or not doc.text:
                self.not_extracted += 1
                return
            self.db.execute(
                "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?)",
                (response.url, doc.title, doc.author, doc.date, doc.text),
            )
            self.db.commit()
            self.spent["store_cpu_s"] += time.process_time() - extracted
            self.spent["store_wall_s"] += time.perf_counter() - wall

    process = CrawlerProcess(
        {
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": per_site,
            "DOWNLOAD_DELAY": 0,
            "ROBOTSTXT_OBEY": True,
            "LOG_LEVEL": "INFO",
        }
    )
    crawler = process.create_crawler(NaiveSpider)
    process.crawl(crawler)
    process.start()
    assert crawler.stats is not None and crawler.spider is not None
    spider: Any = crawler.spider
    print(
        json.dumps(
            {
                "pages_fetched": crawler.stats.get_value("downloader/response_count", 0),
                "not_extracted": spider.not_extracted,
                **spider.spent,
            }
        )
    )


# ---- report -------------------------------------------------------------------------------------------
def ratios(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    naive = next((r for r in runs if r["design"] == "naive"), None)
    if naive is None or not naive["pages_per_s"] or not naive["cpu_ms_per_article"]:
        return []
    out = []
    for run in runs:
        if run["design"] != "provnews" or run["cpu_ms_per_article"] is None:
            continue
        speedup = run["pages_per_s"] / naive["pages_per_s"]
        cpu = run["cpu_ms_per_article"] / naive["cpu_ms_per_article"]
        out.append(
            {
                "extract_workers": run["extract_workers"],
                "pages_per_s_ratio": round(speedup, 2),
                "cpu_per_article_ratio": round(cpu, 3),
                "peak_rss_mib": run["peak_rss_mib"],
                "goals_met": {
                    f"pages_per_s >= {GOAL_SPEEDUP:g}x naive": speedup >= GOAL_SPEEDUP,
                    f"cpu_per_article <= {GOAL_CPU_RATIO:g}x naive": cpu <= GOAL_CPU_RATIO,
                    f"peak_rss < {GOAL_RSS_MIB} MiB": run["peak_rss_mib"] < GOAL_RSS_MIB,
                },
            }
        )
    return out


def print_report(report: dict[str, Any]) -> None:
    r, s = report["replica"], report["settings"]
    print(
        f"replica: {r['sites']} sites x {r['articles_per_site']} articles ({r['families']}), one loopback "
        f"address each ({r['hosts']}), served by a separate process, no delay"
    )
    print(f"settings: {s['both']}; provnews: {s['provnews']}; naive: {s['naive']}; cores: {report['cores']}")
    print(
        f"{'design':<22} {'exit':>4} {'pages':>6} {'stored':>6} {'wall s':>7} {'pages/s':>8} {'CPU s':>7} "
        f"{'CPU ms/article':>14} {'peak RSS MiB':>12} {'replica CPU s':>13}"
    )
    for run in report["runs"]:
        name = f"provnews, {run['extract_workers']} worker(s)" if run["design"] == "provnews" else "naive"
        per_article = run["cpu_ms_per_article"]
        print(
            f"{name:<22} {run['exit_code']:>4} {run['pages_fetched']:>6} {run['articles_stored']:>6} "
            f"{run['wall_s']:>7.1f} {run['pages_per_s']:>8.1f} {run['cpu_s']:>7.1f} "
            f"{'-' if per_article is None else f'{per_article:.2f}':>14} {run['peak_rss_mib']:>12.0f} "
            f"{run['replica_cpu_s']:>13.1f}"
        )
    for run in report["runs"]:
        if run["design"] == "naive" and "extract_cpu_ms_per_article" in run:
            print(
                f"naive, per stored article: bare_extraction {run['extract_cpu_ms_per_article']} ms CPU, "
                f"SQLite {run['store_cpu_ms_per_article']} ms CPU and {run['store_wall_ms_per_article']} ms "
                "wall (the commit waits for the disk in the reactor's thread), the rest is Scrapy"
            )
    for ratio in report["ratios"]:
        goals = ", ".join(f"{goal}: {'met' if ok else 'NOT met'}" for goal, ok in ratio["goals_met"].items())
        speedup, cpu = ratio["pages_per_s_ratio"], ratio["cpu_per_article_ratio"]
        print(
            f"provnews ({ratio['extract_workers']} worker(s)) / naive: pages/s x{speedup}, "
            f"CPU per article x{cpu}; {goals}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--articles", type=int, default=200, help="articles per site")
    parser.add_argument("--workers", default="1,2", help="extraction workers of the provnews runs")
    parser.add_argument("--concurrency", type=int, default=32, help="CONCURRENT_REQUESTS of both designs")
    parser.add_argument("--per-site", type=int, default=4, help="requests at once per site, both designs")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    parser.add_argument("--naive-child", nargs=2, metavar=("URLS", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive_child:
        urls_file, db_file = args.naive_child
        naive_child(urls_file, db_file, args.concurrency, args.per_site)
        return 0
    if not 1 <= args.sites <= 254:
        parser.error("--sites must be 1 to 254 (one loopback address each)")
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    adopt_orphans()
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    server = multiprocessing.get_context("fork").Process(
        target=serve_replica, args=(theirs, site_ids(args.sites), args.articles), daemon=True
    )
    server.start()
    try:
        if not ours.poll(600):
            raise SystemExit("the replica did not start")
        replica = ours.recv()
        runs = []
        replica_pid = server.pid
        assert replica_pid is not None
        with tempfile.TemporaryDirectory(prefix="provnews-vs-naive-") as tmp:
            jobs: list[Callable[[], dict[str, Any]]] = [
                partial(provnews_run, Path(tmp), replica, n, args) for n in workers
            ]
            if not args.skip_naive:
                jobs.append(partial(naive_run, Path(tmp), replica, args))
            for job in jobs:
                replica_before = process_cpu(replica_pid)
                row = job()
                row["replica_cpu_s"] = round(process_cpu(replica_pid) - replica_before, 2)
                runs.append(row)
    finally:
        ours.send("stop")
        server.join(30)
    families = {f: replica["families"].count(f) for f in sorted(set(replica["families"]))}
    report = {
        "replica": {
            "sites": args.sites,
            "articles_per_site": args.articles,
            "article_urls": len(replica["article_urls"]),
            "families": ", ".join(f"{f}: {n}" for f, n in families.items()),
            "hosts": f"{replica['hosts'][0]}-{replica['hosts'][-1]}",
        },
        "settings": {
            "both": f"CONCURRENT_REQUESTS={args.concurrency}, {args.per_site} per site, DOWNLOAD_DELAY=0, "
            "robots.txt obeyed, LOG_LEVEL=INFO, SQLite",
            "provnews": f"registry delay 0 and concurrency {args.per_site}, AutoThrottle floor 0 "
            f"(start delay 0, target concurrency {args.per_site}), all sites in one process, "
            "raw HTML kept",
            "naive": "CONCURRENT_REQUESTS_PER_DOMAIN (one host per site), no AutoThrottle, "
            "bare_extraction with metadata, one commit per article",
        },
        "cores": os.cpu_count(),
        "runs": runs,
        "ratios": ratios(runs),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    broken = [
        r
        for r in runs
        if r["exit_code"] != 0
        or r["articles_stored"] != r["articles_expected"]
        or r["processes_left_running"]
    ]
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
