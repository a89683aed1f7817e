"""Generic extraction quality on WCXB (../shared/benchmarks/wceb): provnews vs bare trafilatura.

Both extractors run on the same pages in one run; each page's main text is scored against the
ground truth with 4-word shingle F1 (crawler.extraction.evaluate.shingles), macro-averaged, overall and per
page type. Usage: ``.venv/bin/python -m benchmarks.wceb_f1 [--wceb DIR] [--split test] [--limit N]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import defaultdict
from pathlib import Path

import trafilatura

from provnews.crawler.extraction.evaluate import PRF, prf, shingles
from provnews.crawler.parsers import NotAnArticle, parser_for

DEFAULT_WCEB = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "wceb"


def load_pages(wceb: Path, split: str, limit: int | None) -> list[tuple[str, str, str, str]]:
    """(file id, page type, url, html) per page; page types come from metadata.json."""
    meta = json.loads((wceb / "metadata.json").read_text(encoding="utf-8"))["files"]
    pages = []
    for gt_path in sorted((wceb / split / "ground-truth").glob("*.json"))[:limit]:
        gt = json.loads(gt_path.read_text(encoding="utf-8"))
        html = gzip.decompress((wceb / split / "html" / f"{gt_path.stem}.html.gz").read_bytes())
        page_type = meta.get(gt_path.stem, {}).get("page_type", "unknown")
        pages.append((gt_path.stem, page_type, gt.get("url") or "", html.decode("utf-8", "replace")))
    return pages


def provnews_text(html: str, url: str) -> str:
    try:
        return parser_for("generic").parse(html, url or "https://example.invalid/").text
    except NotAnArticle:
        return ""


def trafilatura_text(html: str, url: str) -> str:
    return trafilatura.extract(html, url=url or None) or ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wceb", type=Path, default=DEFAULT_WCEB)
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    truth = {
        p.stem: json.loads(p.read_text(encoding="utf-8"))["ground_truth"]["main_content"] or ""
        for p in (args.wceb / args.split / "ground-truth").glob("*.json")
    }
    systems = {"provnews": provnews_text, "trafilatura": trafilatura_text}
    scores: dict[str, dict[str, list[PRF]]] = {name: defaultdict(list) for name in systems}
    pages = load_pages(args.wceb, args.split, args.limit)
    for file_id, page_type, url, html in pages:
        reference = shingles(truth[file_id])
        for name, extract in systems.items():
            result = prf(shingles(extract(html, url)), reference)
            scores[name][page_type].append(result)
            scores[name]["ALL"].append(result)
    types = ["ALL", *sorted(t for t in scores["provnews"] if t != "ALL")]
    print(f"WCXB {args.split}: {len(pages)} pages, 4-word shingle F1 (macro average), precision/recall")
    print(f"{'page type':<14}{'pages':>6}  " + "  ".join(f"{n + ' F1':>15}{'P':>7}{'R':>7}" for n in systems))
    for page_type in types:
        row = f"{page_type:<14}{len(scores['provnews'][page_type]):>6}  "
        for name in systems:
            got = scores[name][page_type]
            mean = [sum(getattr(r, m) for r in got) / len(got) for m in ("f1", "precision", "recall")]
            row += f"{mean[0]:>15.3f}{mean[1]:>7.3f}{mean[2]:>7.3f}  "
        print(row.rstrip())
    overall = {n: sum(r.f1 for r in scores[n]["ALL"]) / len(scores[n]["ALL"]) for n in systems}
    verdict = "OK" if overall["provnews"] + 1e-9 >= overall["trafilatura"] else "WORSE"
    print(f"provnews - trafilatura: {overall['provnews'] - overall['trafilatura']:+.3f} ({verdict})")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
