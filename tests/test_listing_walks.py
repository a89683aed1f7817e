"""Listings collected completely (issue 12 item 4): a listing-only site (a feed of its 20 newest articles
and paginated section listings, no sitemap) is stored whole by its first crawl, a walk killed half-way
is resumed where it stopped, and `--since/--until` backfills such a site from its listings' dates."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from provnews.crawler.replica import ReplicaServer
from provnews.crawler.replica.sitegen import VN_TZ
from provnews.storage.api import Storage
from provnews.storage.models import ListingWalk, UrlState
from tests.fault_proxy import Fault, FaultProxy
from tests.helpers import BIN, LOOPBACK_ENV, run
from tests.paths import REPO

SITE = "baogialai"  # "post" family: ?page=N listings, 8 items per page with their dates
LISTINGS = ("thoi-su", "kinh-te")


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(sites=[SITE], articles_per_site=400, seed=5, feed_size=20) as server:
        yield server


def listing_only_registry(replica: ReplicaServer, path: Path, delay: float = 0.0) -> Path:
    """The replica site without its sitemap: a feed overlapping the first listing pages, and two
    section listings of many pages (registry max_listing_pages = 10, fewer than they have)."""
    text = replica.sites_toml(sitemaps=False, listings=LISTINGS)
    if delay:
        text = text.replace("delay = 0\n", f"delay = {delay}\n").replace(
            "concurrency = 4\n", "concurrency = 1\n"
        )
    path.write_text(text, encoding="utf-8")
    return path


def listed_articles(replica: ReplicaServer) -> set[str]:
    """Canonical URLs of the articles the two listings, their "most read" box and the feed link to."""
    model = replica.models[SITE]
    base = replica.base_url(SITE).rstrip("/")
    listed = [a for a in model.articles if a.section in LISTINGS]
    feed = model.in_section(None)[: model.feed_size]
    most_read = [model.by_id[i] for i in model.most_read]
    return {base + a.path(model.family) for a in [*listed, *feed, *most_read]}


def crawl(db: str, sites_file: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run(["provnews", "--db", db, "crawl", "--sites-file", str(sites_file), *extra])


def stored_urls(db: str) -> set[str]:
    with Storage.open(db) as storage:
        return {a["canonical_url"] for a in storage.iter_articles()}


def walks(db: str) -> dict[str, tuple[int, bool]]:
    with Storage.open(db) as storage, storage.engine.connect() as conn:
        rows = conn.execute(select(ListingWalk.url, ListingWalk.next_page, ListingWalk.completed_at))
        return {url: (next_page, completed is not None) for url, next_page, completed in rows}


def pages_requested(replica: ReplicaServer, listing: str) -> list[int]:
    pages = []
    for _method, path, _status in replica.request_log(SITE):
        if path == f"/{listing}/":
            pages.append(1)
        elif m := re.fullmatch(rf"/{listing}/\?page=(\d+)", path):
            pages.append(int(m[1]))
    return pages


def test_first_crawl_of_a_listing_only_site_stores_every_listed_article(
    replica: ReplicaServer, tmp_path: Path, db_url: str
) -> None:
    sites_file = listing_only_registry(replica, tmp_path / "sites.toml")
    expected = listed_articles(replica)
    assert len(expected) > 300
    replica.clear_log()
    first = crawl(db_url, sites_file)
    assert first.returncode == 0, first.stderr[-3000:]
    assert stored_urls(db_url) == expected
    # each listing was walked to its last page (a 404 after it), the walks are recorded complete
    model = replica.models[SITE]
    for slug in LISTINGS:
        last = -(-len(model.in_section(slug)) // 8)
        assert last > 10
        assert sorted(set(pages_requested(replica, slug))) == list(range(1, last + 2))
    assert walks(db_url) == {f"{replica.base_url(SITE)}{slug}/": (1, True) for slug in LISTINGS}

    # Once complete, a listing is read from page 1 until a page brings nothing new.
    replica.clear_log()
    second = crawl(db_url, sites_file)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "articles new:      0" in second.stdout
    for slug in LISTINGS:
        assert pages_requested(replica, slug) == [1]


def test_a_walk_killed_half_way_is_resumed_where_it_stopped(replica: ReplicaServer, tmp_path: Path) -> None:
    sites_file = listing_only_registry(replica, tmp_path / "sites.toml", delay=0.04)
    db = f"sqlite:///{tmp_path / 'walk.sqlite3'}"
    replica.clear_log()
    proc = subprocess.Popen(
        [str(BIN / "provnews"), "--db", db, "crawl", "--sites-file", str(sites_file)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **LOOPBACK_ENV, "PROVNEWS_PROGRESS": "0"},
    )
    # Kill -9 once a walk has recorded a few pages and none is complete yet.
    deadline = time.monotonic() + 120
    progress: dict[str, tuple[int, bool]] = {}
    while time.monotonic() < deadline and proc.poll() is None:
        if Path(db.removeprefix("sqlite:///")).exists():
            progress = walks(db)
            if any(page >= 4 for page, _ in progress.values()):
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    killed_at = walks(db)
    assert killed_at and not any(done for _, done in killed_at.values()), killed_at
    assert len(stored_urls(db)) < len(listed_articles(replica))

    replica.clear_log()
    final = run(
        ["provnews", "--db", db, "crawl", "--sites-file", str(sites_file), "-s", "PROVNEWS_LOCK_STALE=1"]
    )
    assert final.returncode == 0, final.stderr[-3000:]
    assert stored_urls(db) == listed_articles(replica)
    assert all(done for _, done in walks(db).values())
    for slug in LISTINGS:
        resumed_from = killed_at.get(f"{replica.base_url(SITE)}{slug}/", (1, False))[0]
        requested = pages_requested(replica, slug)
        # page 1 for what is new, then the walk from where it stopped; the pages between not again
        assert min(p for p in requested if p > 1) == max(resumed_from, 2), requested
        assert not set(range(2, resumed_from)) & set(requested)
    with Storage.open(db) as storage, storage.engine.connect() as conn:
        statuses = set(conn.execute(select(UrlState.status)).scalars())
    assert statuses == {"stored", "robots_denied"}  # the private article linked from thoi-su


def test_max_articles_leaves_the_walk_to_be_finished_by_the_next_runs(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    sites_file = listing_only_registry(replica, tmp_path / "sites.toml")
    db = f"sqlite:///{tmp_path / 'max.sqlite3'}"
    first = crawl(db, sites_file, "--max-articles", "30")
    assert first.returncode == 0, first.stderr[-3000:]
    assert 25 <= len(stored_urls(db)) <= 30  # (a request may be the robots.txt-denied private page)
    # every listed URL was recorded on the way (the walk went on), the rest waits as "discovered"
    with Storage.open(db) as storage, storage.engine.connect() as conn:
        statuses = list(conn.execute(select(UrlState.status)).scalars())
    assert len(statuses) == len(listed_articles(replica)) + 1
    assert all(done for _, done in walks(db).values())
    second = crawl(db, sites_file, "--max-articles", "1000")
    assert second.returncode == 0, second.stderr[-3000:]
    assert stored_urls(db) == listed_articles(replica)


def test_since_until_backfills_a_listing_only_site_by_the_dates_of_listing_items(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    sites_file = listing_only_registry(replica, tmp_path / "sites.toml")
    db = f"sqlite:///{tmp_path / 'since.sqlite3'}"
    since, until = date(2025, 10, 1), date(2025, 10, 31)
    replica.clear_log()
    result = crawl(db, sites_file, "--since", since.isoformat(), "--until", until.isoformat())
    assert result.returncode == 0, result.stderr[-3000:]
    model = replica.models[SITE]
    base = replica.base_url(SITE).rstrip("/")
    october = {
        base + a.path(model.family)
        for a in model.articles
        if a.section in LISTINGS and since <= a.published.astimezone(VN_TZ).date() <= until
    }
    assert len(october) > 30
    assert stored_urls(db) == october
    # the walk stopped at the first page older than the period, well before the listing's end
    last = -(-len(model.in_section("thoi-su")) // 8)
    assert max(pages_requested(replica, "thoi-su")) < last


def test_a_walk_stopped_by_an_error_goes_on_from_the_failing_page(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    """Page 6 of thoi-su answers 500 for a whole run: the walk records page 6 as its next page, is not
    complete, and the next run goes on from page 6 (and reads page 1 for what is new)."""
    db = f"sqlite:///{tmp_path / 'error.sqlite3'}"
    with FaultProxy(replica.base_url(SITE)) as proxy:
        sites_file = tmp_path / "sites.toml"
        text = replica.sites_toml(sitemaps=False, listings=("thoi-su",))
        sites_file.write_text(text.replace(replica.base_url(SITE), proxy.base_url), encoding="utf-8")
        fault = proxy.add(Fault(path=r"^/thoi-su/\?page=6$", status=500))
        first = crawl(db, sites_file, "-s", "RETRY_TIMES=0")
        assert first.stderr.count("Traceback") == 0
        listing = f"{proxy.base_url}thoi-su/"
        assert walks(db) == {listing: (6, False)}
        proxy.faults.remove(fault)
        before = len(proxy.log)
        second = crawl(db, sites_file)
        assert second.returncode == 0, second.stderr[-3000:]
        pages = [h.path for h in proxy.log[before:] if h.path.startswith("/thoi-su/")]
    assert walks(db) == {listing: (1, True)}
    assert "/thoi-su/" in pages and "/thoi-su/?page=6" in pages
    assert not {f"/thoi-su/?page={n}" for n in range(2, 6)} & set(pages)
    model = replica.models[SITE]
    base = proxy.base_url.rstrip("/")
    assert {base + a.path(model.family) for a in model.in_section("thoi-su")} <= stored_urls(db)
