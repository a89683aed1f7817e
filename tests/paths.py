"""Where the tests find the shared test data (../shared beside the repository, as CI lays it out)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PROVNEWS_SHARED_DIR", REPO.parent / "shared"))
REAL_PAGES = SHARED / "fixtures" / "real"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_file(relative: str) -> Path:
    """A file of ../shared/fixtures/real; a missing shared folder is an error, not a skip."""
    path = REAL_PAGES / relative
    if not path.exists():
        pytest.fail(f"shared test data missing: {path} (set PROVNEWS_SHARED_DIR to the shared/ folder)")
    return path
