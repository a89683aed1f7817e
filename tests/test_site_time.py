"""A slow site beside a normal one: the normal site's articles are committed while the slow one is still
being crawled (the store batch is written every PROVNEWS_STORE_FLUSH_SECONDS), and a site over its
PROVNEWS_SITE_TIME_BUDGET stops, releases its lock during the run and leaves its remaining URLs pending
for the next run."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage
from provnews.storage.models import SiteLockRow, UrlState
from tests.fault_proxy import Fault, FaultProxy
from tests.helpers import BIN, LOOPBACK_ENV, assert_run_balances
from tests.paths import REPO

NORMAL, SLOW = "baogialai", "baolaocai"


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(sites=[NORMAL, SLOW], articles_per_site=10, seed=41) as server:
        yield server


@pytest.fixture
def slow_site(replica: ReplicaServer) -> Iterator[FaultProxy]:
    """The slow site behind a proxy that answers each of its article pages after `delay` seconds."""
    with FaultProxy(replica.base_url(SLOW)) as proxy:
        yield proxy


def registry(replica: ReplicaServer, proxy: FaultProxy, path: Path) -> Path:
    """The replica's registry with the slow site behind its proxy, one request at a time."""
    blocks = replica.sites_toml().replace(replica.base_url(SLOW), proxy.base_url).split("\n\n")
    slow = [i for i, block in enumerate(blocks) if proxy.base_url in block]
    for i in slow:
        blocks[i] = blocks[i].replace("concurrency = 4", "concurrency = 1")
    path.write_text("\n\n".join(blocks), encoding="utf-8")
    return path


def start(db: str, sites_file: Path, log: Path, *settings: str) -> subprocess.Popen[str]:
    extra = [item for setting in settings for item in ("-s", setting)]
    return subprocess.Popen(
        [str(BIN / "provnews"), "--db", db, "crawl", "--sites-file", str(sites_file), *extra],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        text=True,
        env={**os.environ, **LOOPBACK_ENV, "PROVNEWS_PROGRESS": "0"},
    )


def wait_for(condition: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def counts(db: str) -> dict[str, int]:
    with Storage.open(db) as storage:
        return dict(storage.article_counts_by_site())


def test_a_slow_site_does_not_hold_the_other_sites_articles(
    replica: ReplicaServer, slow_site: FaultProxy, db_url: str, tmp_path: Path
) -> None:
    """Failed before: the batch was written every 50 articles or at the end, so the normal site's 10
    articles waited in memory until the slow site was done."""
    slow_site.add(Fault(r"-post\d+\.html$", delay=1.5, forward=True))
    sites_file = registry(replica, slow_site, tmp_path / "sites.toml")
    Storage.open(db_url).close()  # the schema, before two processes look at it
    proc = start(db_url, sites_file, tmp_path / "crawl.log", "PROVNEWS_STORE_FLUSH_SECONDS=1")
    try:
        wait_for(lambda: counts(db_url).get(NORMAL, 0) == 10 or proc.poll() is not None)
        assert proc.poll() is None, "the crawl ended before the normal site's articles were committed"
        assert counts(db_url).get(SLOW, 0) < 10
        assert proc.wait(timeout=120) == 0, (tmp_path / "crawl.log").read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert counts(db_url) == {NORMAL: 10, SLOW: 10}


def test_a_site_over_its_time_budget_stops_and_releases_its_lock(
    replica: ReplicaServer, slow_site: FaultProxy, db_url: str, tmp_path: Path
) -> None:
    slow_site.add(Fault(r"-post\d+\.html$", delay=12, forward=True))
    sites_file = registry(replica, slow_site, tmp_path / "sites.toml")
    Storage.open(db_url).close()
    log = tmp_path / "crawl.log"
    proc = start(db_url, sites_file, log, "PROVNEWS_SITE_TIME_BUDGET=6", "PROVNEWS_STORE_FLUSH_SECONDS=1")
    try:
        with Storage.open(db_url) as storage:

            def locked() -> set[str]:
                with storage.engine.connect() as conn:
                    held = select(SiteLockRow.site_id).where(SiteLockRow.released_at.is_(None))
                    return set(conn.execute(held).scalars())

            wait_for(lambda: SLOW in locked() or proc.poll() is not None)
            # The slow site's article requests take 12 s: its lock goes while they are still under way.
            wait_for(lambda: SLOW not in locked() or proc.poll() is not None)
            assert proc.poll() is None, "the lock was released only when the crawl ended"
        assert proc.wait(timeout=120) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "time budget of 6 s used up" in log.read_text()
    account = assert_run_balances(db_url)["stats"]["sites"][SLOW]
    assert account["pending"].get("site_time_budget", 0) >= 1, account
    stored = counts(db_url)  # (on a loaded machine the normal site may use up its budget too)
    assert stored.get(SLOW, 0) < 10
    articles = {urlsplit(url).path for url in replica.ground_truth(SLOW)}
    with Storage.open(db_url) as storage, storage.engine.connect() as conn:
        rows = conn.execute(select(UrlState.url, UrlState.status).where(UrlState.site_id == SLOW)).all()
    states = {urlsplit(url).path: status for url, status in rows if urlsplit(url).path in articles}
    # Each URL met is stored (fetched before the stop, or under way then) or left pending.
    slow_stored = stored.get(SLOW, 0)
    assert sorted(states.values()) == ["discovered"] * (len(states) - slow_stored) + ["stored"] * slow_stored
    assert "discovered" in states.values()
    # The next run, without the slowness, takes the URLs left pending.
    slow_site.faults.clear()
    again = start(db_url, sites_file, tmp_path / "again.log")
    assert again.wait(timeout=120) == 0, (tmp_path / "again.log").read_text()[-3000:]
    assert counts(db_url) == {NORMAL: 10, SLOW: 10}
