"""Where the tests find data and tools from outside the repository, and what happens when they are not
there: a bare clone skips the tests that need them, naming what is missing; CI (`.ci/run`) sets
PROVNEWS_REQUIRE_SHARED=1 and PROVNEWS_REQUIRE_SERVICES=1, under which a missing one fails instead."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PROVNEWS_SHARED_DIR", REPO.parent / "shared"))
REAL_PAGES = SHARED / "fixtures" / "real"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REQUIRE_SHARED = "PROVNEWS_REQUIRE_SHARED"
REQUIRE_SERVICES = "PROVNEWS_REQUIRE_SERVICES"


def required(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0")


def missing(what: str, variable: str) -> NoReturn:
    """Skip the test, naming `what` is missing; fail instead when `variable` says it must be there."""
    if required(variable):
        pytest.fail(f"{what} ({variable}=1: required here)", pytrace=False)
    pytest.skip(f"{what} ({variable}=1 makes this a failure)")


def require_real_pages() -> Path:
    """../shared/fixtures/real, the real saved pages kept outside the repository."""
    if not REAL_PAGES.is_dir():
        missing(
            f"shared test data not found: {REAL_PAGES}; set PROVNEWS_SHARED_DIR to the shared/ folder",
            REQUIRE_SHARED,
        )
    return REAL_PAGES


def shared_file(relative: str) -> Path:
    """A file of ../shared/fixtures/real. Without the folder the test skips (see `missing`); a file
    missing from a folder that is there is an error."""
    path = require_real_pages() / relative
    if not path.exists():
        pytest.fail(f"shared test data missing: {path}", pytrace=False)
    return path
