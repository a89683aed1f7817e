"""Extraction speed: provnews vs bare ``trafilatura.extract(..., with_metadata=True)`` on the same pages.

Groups: the real provincial article pages (../shared/fixtures/real, family parsers), the project's
synthetic provincial pages (tests/fixtures/sites) and the WCXB pages (generic parser). provnews is
timed from the page bytes (decoding included) in-process, and also through the worker process that
enforces the time limit (``LimitedExtractor``), as the crawl runs it; trafilatura gets the decoded text.
Usage: ``.venv/bin/python -m benchmarks.speed [--repeat N] [--wceb-limit N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from provnews.crawler.extraction.extract import extract_page
from provnews.crawler.extraction.limits import LimitedExtractor
from provnews.crawler.parsers import NotAnArticle
from provnews.crawler.sites.families import family_for_url
from provnews.crawler.sites.registry import load_sites
from provnews.crawler.text.encoding import decode_html

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
Page = tuple[bytes, str, str]  # body, url, family


def provincial_real() -> list[Page]:
    sites = load_sites()
    pages = []
    for case in sorted((REPO / "tests" / "fixtures" / "real").rglob("*.expected.json")):
        expected = json.loads(case.read_text(encoding="utf-8"))
        body = (SHARED / "fixtures" / "real" / expected["page"]).read_bytes()
        pages.append((body, expected["url"], family_for_url(expected["url"], sites)))
    return pages


def provincial_synthetic() -> list[Page]:
    pages = []
    for meta_path in sorted((REPO / "tests" / "fixtures" / "sites").rglob("meta.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        pages.append(((meta_path.parent / "page.html").read_bytes(), meta["url"], meta["family"]))
    return pages


def wceb(limit: int | None) -> list[Page]:
    root = SHARED / "benchmarks" / "wceb" / "test"
    pages = []
    for gt in sorted((root / "ground-truth").glob("*.json"))[:limit]:
        url = json.loads(gt.read_text(encoding="utf-8")).get("url") or "https://example.invalid/"
        pages.append((gzip.decompress((root / "html" / f"{gt.stem}.html.gz").read_bytes()), url, "generic"))
    return pages


def timings(pages: list[Page], run: Callable[[Page], object], repeat: int) -> list[float]:
    """Milliseconds per page run, every page ``repeat`` times."""
    out = []
    for _ in range(repeat):
        for page in pages:
            started = time.perf_counter()
            with contextlib.suppress(NotAnArticle):
                run(page)
            out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="runs of each provincial page")
    parser.add_argument("--wceb-limit", type=int, default=None)
    args = parser.parse_args(argv)
    groups = {
        "provincial (real)": (provincial_real(), args.repeat),
        "provincial (synthetic)": (provincial_synthetic(), args.repeat),
        "wceb (generic)": (wceb(args.wceb_limit), 1),
    }
    decoded: dict[bytes, str] = {}

    def bare(page: Page) -> object:
        html = decoded.setdefault(page[0], decode_html(page[0]))
        return trafilatura.extract(html, url=page[1], with_metadata=True)

    print(f"{'pages':<24}{'n':>5}{'runs':>6}  {'median ms / p95 ms':>22}{'':>4}{'':>22}{'':>22}")
    print(f"{'':<35}  {'provnews':>22}{'':>4}{'provnews (worker)':>22}{'trafilatura+metadata':>22}")
    slower = False
    with LimitedExtractor(timeout=30) as worker:
        for name, (pages, repeat) in groups.items():
            for page in pages[:3]:  # warm up: imports, the worker process, caches
                bare(page)
                worker.extract(page[0], page[1], page[2])
            ours = timings(pages, lambda p: extract_page(p[0], p[1], p[2]), repeat)
            limited = timings(pages, lambda p: worker.extract(p[0], p[1], p[2]), repeat)
            theirs = timings(pages, bare, repeat)
            cells = [f"{statistics.median(t):9.1f} / {p95(t):8.1f}" for t in (ours, limited, theirs)]
            print(
                f"{name:<24}{len(pages):>5}{len(ours):>6}  {cells[0]:>22}{'':>4}{cells[1]:>22}{cells[2]:>22}"
            )
            slower = slower or statistics.median(limited) > statistics.median(theirs)
    print(
        "provnews is",
        "SLOWER than" if slower else "not slower than",
        "bare trafilatura on every group (median)",
    )
    return 1 if slower else 0


if __name__ == "__main__":
    sys.exit(main())
