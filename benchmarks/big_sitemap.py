"""Memory and time of a crawl that meets a 1.5 M-URL sitemap index (issue 17 item 2).

A sitemap index of 30 sitemaps of 50,000 article URLs each (gzip) is served on 127.0.0.1 by a separate
process; `provnews crawl --max-articles 20` runs twice on a new SQLite database (the first run discovers
and records every URL, the second resumes the pending ones). For each run the script prints the wall
time, the peak resident memory of the crawl's process tree (the crawl and its extraction worker, summed,
sampled every 0.1 s from /proc), its exit status, and the articles and URL states stored.
Usage: ``.venv/bin/python -m benchmarks.big_sitemap [--sitemaps 30] [--per-sitemap 50000]``.
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from provnews.storage.api import Storage
from provnews.storage.models import UrlState

REPO = Path(__file__).resolve().parents[1]
ARTICLE = (
    "<html><head><title>Bài {n}</title>"
    '<meta property="article:published_time" content="2025-09-03T08:00:00+07:00"></head>'
    "<body><h1>Bài số {n}</h1><p>{text}</p><p>{text}</p></body></html>"
)
TEXT = "Sáng nay, tỉnh tổ chức hội nghị tổng kết công tác năm và triển khai nhiệm vụ năm tới. " * 3


def serve(port: int, sitemaps: int, per_sitemap: int, ready: Any) -> None:
    base = f"http://127.0.0.1:{port}"
    cache: dict[int, bytes] = {}

    def child(k: int) -> bytes:
        if k not in cache:
            first = k * per_sitemap
            urls = "".join(
                f"<url><loc>{base}/tin-{n}-post{n}.html</loc><lastmod>2025-09-03T08:00:00+07:00</lastmod></url>"
                for n in range(first, first + per_sitemap)
            )
            xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            cache[k] = gzip.compress(xml.encode(), compresslevel=1)
        return cache[k]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            body, kind = b"not found", "text/plain"
            status = 200
            if self.path == "/robots.txt":
                body = b"User-agent: *\nAllow: /\n"
            elif self.path == "/sitemap.xml":
                locs = "".join(
                    f"<sitemap><loc>{base}/sitemap-{k}.xml.gz</loc></sitemap>" for k in range(sitemaps)
                )
                body = f'<?xml version="1.0"?><sitemapindex>{locs}</sitemapindex>'.encode()
                kind = "application/xml"
            elif m := re.fullmatch(r"/sitemap-(\d+)\.xml\.gz", self.path):
                body, kind = child(int(m[1])), "application/x-gzip"
            elif m := re.fullmatch(r"/tin-(\d+)-post\d+\.html", self.path):
                body, kind = ARTICLE.format(n=m[1], text=TEXT).encode(), "text/html; charset=utf-8"
            else:
                status = 404
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ready.set()
    server.serve_forever()


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) * 1024  # type: ignore[index]
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, TypeError):
            continue
    return total


def measured_crawl(db: str, sites_file: Path) -> tuple[float, int, int, str]:
    """(seconds, peak RSS bytes of the process tree, exit status, summary) of one crawl."""
    command = [
        str(Path(sys.executable).parent / "provnews"), "--db", db, "crawl",
        "--sites-file", str(sites_file), "--max-articles", "20",
    ]  # fmt: skip
    env = {**os.environ, "PROVNEWS_PROGRESS": "0"}
    start = time.monotonic()
    proc = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.1)
    out = proc.stdout.read() if proc.stdout else ""
    return time.monotonic() - start, peak, proc.returncode, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sitemaps", type=int, default=30)
    parser.add_argument("--per-sitemap", type=int, default=50_000)
    parser.add_argument("--port", type=int, default=18790)
    args = parser.parse_args()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(
        target=serve, args=(args.port, args.sitemaps, args.per_sitemap, ready), daemon=True
    )
    server.start()
    ready.wait(30)
    total = args.sitemaps * args.per_sitemap
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sites_file = Path(tmp) / "sites.toml"
            base = f"http://127.0.0.1:{args.port}"
            sites_file.write_text(
                f'[[site]]\nid = "baolon"\nname = "Báo lớn"\nprovince = "Gia Lai"\nbase_url = "{base}/"\n'
                f'family = "post"\nsitemaps = ["{base}/sitemap.xml"]\n'
                "article_pattern = '-post\\d+\\.html$'\ndelay = 0\nconcurrency = 4\n",
                encoding="utf-8",
            )
            db = f"sqlite:///{tmp}/big.sqlite3"
            print(f"sitemap index: {args.sitemaps} sitemaps x {args.per_sitemap:,} URLs = {total:,} URLs")
            for label in ("first run (discovers every URL)", "second run (resumes pending URLs)"):
                seconds, peak, code, out = measured_crawl(db, sites_file)
                with Storage.open(db) as storage, storage.engine.connect() as conn:
                    states = conn.execute(select(func.count()).select_from(UrlState)).scalar_one()
                    articles = storage.count_articles()
                reason = re.search(r"finish reason:\s+(\S+)", out)
                print(
                    f"{label}: {seconds:.1f} s, peak RSS {peak / 2**20:.0f} MiB, exit {code}, "
                    f"finish {reason[1] if reason else '?'}, articles {articles}, URL states {states:,}"
                )
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
