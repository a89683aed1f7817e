"""Registry patterns: catastrophic ones refused, safe ones matched in linear time."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from provnews.crawler.sites.patterns import compile_pattern, pattern_problem
from provnews.crawler.sites.registry import Site, load_sites
from tests.paths import REPO


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a*)*b", "^(\\w+\\s?)*$", "(x+x+)+y", "(\\d+)*-post"])
def test_catastrophic_patterns_are_refused_with_an_example(pattern: str) -> None:
    problem = pattern_problem(pattern)
    assert problem is not None and "catastrophic backtracking" in problem and "*" in problem


@pytest.mark.parametrize("pattern", ["(?=a)a", "(?<!x)-post\\d+", "(a)\\1"])
def test_patterns_needing_a_backtracking_engine_are_refused(pattern: str) -> None:
    problem = pattern_problem(pattern)
    assert problem is not None and "backtracking engine" in problem


def test_every_shipped_pattern_is_safe() -> None:
    for site in load_sites():
        assert pattern_problem(site.article_pattern) is None, site.id


def test_a_site_built_in_code_cannot_bypass_the_check() -> None:
    with pytest.raises(ValueError, match="catastrophic backtracking"):
        Site(id="x", name="X", province="P", base_url="https://x.vn", family="post", article_pattern="(a+)+$")


def test_matching_time_is_linear_even_for_a_nested_repeat() -> None:
    """What froze a crawl: Python's engine on `(a+)+$` and a 33-character URL. RE2 answers at once,
    even on a 100,000-character URL (a pattern check that missed something costs nothing)."""
    search = compile_pattern("(a+)+$")
    started = time.perf_counter()
    assert not search("http://x.vn/" + "a" * 100_000 + "!")
    assert time.perf_counter() - started < 1.0
    assert compile_pattern("-post\\d+\\.html$")("https://x.vn/tin-post12.html")


def test_the_old_engine_froze_on_the_same_url() -> None:
    """The fault the check guards against, shown in a child process killed after 3 s."""
    code = "import re; re.search(r'(a+)+$', 'http://x.vn/' + 'a' * 33 + '!')"
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=3, check=False)


def test_checking_a_pattern_leaves_logging_unconfigured() -> None:
    """The check must not set up the root logger (regexploit's logging.debug() would), or every debug
    record of a crawl reaches stderr."""
    code = (
        "import logging; from provnews.crawler.sites.patterns import pattern_problem; "
        "pattern_problem('(a+)+$'); pattern_problem('-post\\\\d+'); print(len(logging.getLogger().handlers))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0", done.stdout + done.stderr
