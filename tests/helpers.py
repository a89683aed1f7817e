"""Running the real `provnews` and `scrapy` commands in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from provnews.crawler.runs.accounting import CLASSES, totals
from provnews.storage.api import Storage
from provnews.storage.models import Article
from tests.paths import REPO

BIN = Path(sys.executable).parent

# Every crawl in the tests goes to servers on loopback, which the crawler refuses unless allowed by name.
LOOPBACK_HOSTS = "127.0.0.1,localhost"
LOOPBACK_ENV = {"PROVNEWS_ALLOW_PRIVATE_HOSTS": LOOPBACK_HOSTS}

# The smallest valid registry entry, for tests that vary one key at a time.
MINIMAL_SITE = """
[[site]]
id = "baoa"
name = "Báo A"
province = "Gia Lai"
base_url = "https://baoa.vn"
family = "post"
article_pattern = '-post\\d+\\.html$'
"""


def write_registry(folder: Path, text: str) -> Path:
    """A registry file with this text in the folder."""
    path = folder / "sites.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(
    args: list[str], *, env: dict[str, str] | None = None, timeout: int = 240
) -> subprocess.CompletedProcess[str]:
    """Run a console script of this venv from the repository root; output captured as text. Crawls may
    reach loopback (LOOPBACK_ENV) unless `env` says otherwise. A `provnews crawl` that recorded a run
    has its accounts checked (`assert_run_balances`), whatever the test goes on to assert."""
    full_env = {**os.environ, **LOOPBACK_ENV, **(env or {})}
    started = datetime.now(UTC).replace(microsecond=0)
    result = subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    db = crawl_database(args)
    if db is not None and result.returncode != 3:  # 3: not started, every site held by another crawl
        run_id = recorded_run(db, started)
        if run_id is not None:
            assert_run_balances(db, run_id)
    return result


def crawl_database(args: list[str]) -> str | None:
    """The database URL of a `provnews ... crawl` command line (given with --db), else None."""
    if not args or Path(args[0]).name != "provnews" or "crawl" not in args or "--db" not in args:
        return None
    at = args.index("--db") + 1
    return args[at] if at < len(args) else None


def recorded_run(db: str, since: datetime) -> int | None:
    """The id of the newest run started at or after `since`, if the database and such a run exist."""
    if db.startswith("sqlite:///") and not Path(db.removeprefix("sqlite:///")).exists():
        return None
    with Storage.open(db) as storage:
        newest = storage.runs(limit=1)
    if not newest or datetime.fromisoformat(newest[0]["started_at"]) < since:
        return None
    return int(newest[0]["id"])


def assert_run_balances(db_url: str, run_id: int | None = None) -> dict[str, Any]:
    """The run's accounts balance (the newest run when no id is given) and agree with each other and
    with the database; returns the run row.

    - every site of the run has an account and a verdict, and met = stored + dropped + failed + pending;
    - the run's totals are the sum of its sites', and its stored counts are its article counts;
    - the run's outcome follows from the verdicts: finished only when every site is ok;
    - the articles whose row the run wrote (they name the run) are its new and updated ones."""
    with Storage.open(db_url) as storage:
        run = storage.get_run(run_id) if run_id is not None else storage.runs(limit=1)[0]
        assert run is not None, f"no run {run_id}"
        with storage.engine.connect() as conn:
            created = conn.execute(
                select(func.count()).select_from(Article).where(Article.run_id == run["id"])
            ).scalar_one()
    stats = run["stats"]
    accounts = stats["sites"]
    assert set(accounts) == set(run["sites"]), (accounts.keys(), run["sites"])
    for site_id, account in accounts.items():
        t = totals(account)
        assert t["met"] == sum(t[cls] for cls in CLASSES), (site_id, account)
        assert account["status"] in ("ok", "failed") and (account["status"] == "ok") == (
            account["reason"] is None
        ), account
    assert stats["outcomes"] == {
        key: sum(totals(a)[key] for a in accounts.values()) for key in ("met", *CLASSES)
    }
    new = sum(a["stored"].get("new", 0) for a in accounts.values())
    updated = sum(a["stored"].get("updated", 0) for a in accounts.values())
    assert (new, updated) == (stats["articles_new"], stats["articles_updated"]), stats
    assert created == new + updated, (created, new, updated)
    statuses = {a["status"] for a in accounts.values()}
    if run["outcome"] == "finished":
        assert statuses <= {"ok"}, accounts
    elif run["outcome"] == "partial":
        assert statuses == {"ok", "failed"}, accounts
    return run


def wait_for(predicate: Callable[[], object], timeout: float = 120, what: str = "the condition") -> None:
    """Poll until `predicate()` is true: tests wait for observable states, not for fixed times (the
    timeout only guards against a hang)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
