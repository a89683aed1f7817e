"""Shared fixtures. Every storage test runs on a SQLite file in tmp_path and on PostgreSQL: a real server
that the session starts (initdb/pg_ctl on a unix socket, see tests/pgserver.py), or the server named by
PROVNEWS_TEST_PG_URL. Without PostgreSQL's server binaries the PostgreSQL tests skip, saying what to
install (CI sets PROVNEWS_REQUIRE_SERVICES=1, which makes that a failure); a server that is installed but
does not start is always a failure."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from provnews.storage.api import Storage
from tests.helpers import LOOPBACK_HOSTS
from tests.paths import REQUIRE_SERVICES, missing
from tests.pgserver import INSTALL_HINT, PgUnavailable, find_bindir, start_server

# Generated cases are checked for what they produce, never for how fast: on a busy two-core machine a
# case that touches a database can take longer than hypothesis' default 200 ms deadline.
settings.register_profile("provnews", deadline=None)
settings.load_profile("provnews")

PG_URL = os.environ.get("PROVNEWS_TEST_PG_URL")
# Durability is not what the tests check; these make a scratch server several times faster.
_TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a PostgreSQL maintenance database on which scratch databases may be created."""
    if PG_URL:
        yield PG_URL
        return
    if find_bindir() is None:
        missing(INSTALL_HINT, REQUIRE_SERVICES)
    try:
        server = start_server(_TEST_SETTINGS)
    except PgUnavailable as exc:
        pytest.fail(f"cannot start PostgreSQL for the tests: {exc}", pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def pg_database(pg_server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"provnews_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A URL of a new, empty database (a SQLite file in a folder that does not exist yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'provnews.sqlite3'}"
        return
    yield request.getfixturevalue("pg_database")


@pytest.fixture
def storage(db_url: str) -> Iterator[Storage]:
    with Storage.open(db_url) as opened:
        yield opened


@pytest.fixture
def make_article() -> Callable[..., dict[str, Any]]:
    """A factory of article rows as the store pipeline hands them to `Storage.upsert_articles`."""

    def make(n: int = 1, **overrides: Any) -> dict[str, Any]:
        row: dict[str, Any] = {
            "url": f"https://baotest.vn/tin-{n}.html?utm_source=x",
            "canonical_url": f"https://baotest.vn/tin-{n}.html",
            "title": f"Tin số {n}",
            "sapo": "Sapo của bài.",
            "text": f"Sapo của bài.\n\nNội dung bài số {n}.\n\nNguyễn Văn A",
            "byline": "Nguyễn Văn A",
            "authors": ["Nguyễn Văn A"],
            "published_at": "2024-05-01T08:30:00+07:00",
            "modified_at": None,
            "date_source": "meta",
            "section": "Thời sự",
            "tags": ["tin"],
            "images": [{"url": "https://baotest.vn/a.jpg", "caption": "Ảnh"}],
            "dateline": None,
            "language": "vi",
            "family": "post",
            "fallback": False,
            "site_id": "baotest",
            "province": "Tỉnh Thử",
            "province_old": None,
            "raw_html": b"<html><body>hello</body></html>",
            "run_id": None,
        }
        row.update(overrides)
        return row

    return make


@pytest.fixture(scope="module")
def loopback_clients() -> Iterator[None]:
    """The canary's and `sites add`'s HTTP client refuses loopback unless allowed by name, like the
    crawl: modules whose in-process commands talk to test servers on 127.0.0.1 allow it."""
    saved = os.environ.get("PROVNEWS_ALLOW_PRIVATE_HOSTS")
    os.environ["PROVNEWS_ALLOW_PRIVATE_HOSTS"] = LOOPBACK_HOSTS
    try:
        yield
    finally:
        if saved is None:
            del os.environ["PROVNEWS_ALLOW_PRIVATE_HOSTS"]
        else:
            os.environ["PROVNEWS_ALLOW_PRIVATE_HOSTS"] = saved
