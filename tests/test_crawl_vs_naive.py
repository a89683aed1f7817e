"""The crawl-against-naive benchmark (benchmarks/crawl_vs_naive.py) runs end to end at a small size:
its report has every figure for every run, and the counts agree with the replica. Timing is not
asserted (benchmarks print figures; tests do not time)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.paths import REPO

SITES, ARTICLES = 3, 12  # three sites: both families of the replica


def benchmark(*args: str) -> str:
    """The benchmark's output, run as documented; it must exit 0 (every run complete)."""
    command = [sys.executable, "-m", "benchmarks.crawl_vs_naive", *args]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_small_run_reports_consistent_figures() -> None:
    out = benchmark("--sites", str(SITES), "--articles", str(ARTICLES), "--workers", "1,2", "--json")
    report = json.loads(out)
    assert report["replica"]["sites"] == SITES
    assert report["replica"]["article_urls"] == SITES * ARTICLES
    assert report["replica"]["families"] == "a-id: 1, post: 2"
    runs = report["runs"]
    assert [(r["design"], r.get("extract_workers")) for r in runs] == [
        ("provnews", 1),
        ("provnews", 2),
        ("naive", None),
    ]
    for run in runs:
        assert run["exit_code"] == 0 and run["processes_left_running"] == 0, run
        assert run["articles_stored"] == run["articles_expected"] == SITES * ARTICLES, run
        assert run["pages_fetched"] >= run["articles_stored"], run
        assert run["wall_s"] > 0 and run["cpu_s"] > 0 and run["peak_rss_mib"] > 0, run
        assert run["pages_per_s"] == round(run["pages_fetched"] / run["wall_s"], 1), run
        assert run["cpu_ms_per_article"] > 0 and run["replica_cpu_s"] >= 0, run
    provnews = [r for r in runs if r["design"] == "provnews"]
    # discovery (robots.txt, sitemaps, feeds, listings) comes on top of the articles
    assert all(r["pages_fetched"] > r["articles_stored"] for r in provnews)
    naive = runs[-1]
    assert naive["pages_fetched"] == SITES * ARTICLES + SITES  # each article and each robots.txt
    assert naive["not_extracted"] == 0
    for part in ("extract_cpu", "store_cpu", "store_wall"):
        assert naive[f"{part}_ms_per_article"] > 0, naive
    assert (
        naive["extract_cpu_ms_per_article"] + naive["store_cpu_ms_per_article"] < naive["cpu_ms_per_article"]
    )
    assert [r["extract_workers"] for r in report["ratios"]] == [1, 2]
    for ratio in report["ratios"]:
        assert set(ratio) == {
            "extract_workers", "pages_per_s_ratio", "cpu_per_article_ratio", "peak_rss_mib", "goals_met"
        }  # fmt: skip
        assert len(ratio["goals_met"]) == 3


def test_skip_naive_and_table() -> None:
    lines = benchmark("--sites", "1", "--articles", "4", "--workers", "1", "--skip-naive").splitlines()
    assert lines[0].startswith("replica: 1 sites x 4 articles (post: 1)")
    rows = [line for line in lines if line.startswith(("provnews,", "naive"))]
    assert len(rows) == 1
    _label, _one, _workers, exit_code, pages, stored, *_ = rows[0].split()
    assert (exit_code, stored) == ("0", "4") and int(pages) > 4
    assert not any("/ naive" in line for line in lines)  # no ratios without the naive run
