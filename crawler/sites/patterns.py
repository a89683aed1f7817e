"""Registry regular expressions that cannot freeze a crawl.

A registry pattern is matched against every URL a site lists, and URLs are written by strangers: with
Python's backtracking engine, `(a+)+$` took one 33-character URL into exponential time and froze every
site of the crawl. So a pattern is (1) refused when regexploit finds catastrophic backtracking in it,
with an example of a killing input, and (2) matched with RE2 (google-re2), whose time is linear in the
input whatever the pattern. RE2 has no lookaround or backreferences; a pattern that needs them is
refused as well, since only a backtracking engine could run it. Where google-re2 cannot be imported
(a platform without a wheel), patterns that passed (1) run on Python's `re`.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

with warnings.catch_warnings():  # regexploit reads Python's parser through the deprecated sre_* modules
    warnings.simplefilter("ignore", DeprecationWarning)
    from regexploit.ast.sre import SreOpParser
    from regexploit.redos import find as find_redos

try:
    import re2
except ImportError:  # pragma: no cover - google-re2 is a dependency; this is the fallback where it fails
    re2 = None

# regexploit's starriness: above 2 the backtracking is exponential or a high polynomial (its own cut-off)
_CATASTROPHIC = 2


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print each refused pattern on stderr
    return options


def pattern_problem(pattern: str) -> str | None:
    """Why this pattern must not be used on URLs, or None when it is safe."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    try:
        with warnings.catch_warnings(), _no_root_logging_setup():
            warnings.simplefilter("ignore")
            found = [r for r in find_redos(SreOpParser().parse_sre(pattern)) if r.starriness > _CATASTROPHIC]
    except Exception:  # regexploit does not model every construct; RE2 below still decides
        found = []
    if found:
        return (
            "catastrophic backtracking: nested or overlapping repetition makes matching time explode "
            f"on inputs such as {found[0].example()}; rewrite it without a repeat inside a repeat"
        )
    if re2 is not None:
        try:
            re2.compile(pattern, _re2_options())
        except re2.error as exc:
            detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
            return (
                f"needs a backtracking engine ({detail}): lookaround and backreferences are not allowed, "
                "so that matching time stays linear"
            )
    return None


@contextmanager
def _no_root_logging_setup() -> Iterator[None]:
    """regexploit logs through `logging.debug()`, which configures the root logger (basicConfig) when it
    has no handler yet: every later log record of the crawl, debug included, then went to stderr twice,
    enough to fill a pipe and stall a crawl run from a script."""
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)
    try:
        yield
    finally:
        root.removeHandler(guard)


@cache
def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """A search function for a pattern that passed `pattern_problem`: RE2 where available."""
    if re2 is not None:
        compiled = re2.compile(pattern, _re2_options())
        return lambda text: compiled.search(text) is not None
    fallback = re.compile(pattern)
    return lambda text: fallback.search(text) is not None
