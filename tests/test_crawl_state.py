"""URL state in the database, against the replica: incremental runs with conditional requests, updates
driven by sitemap lastmod, and backfill of a period from the monthly sitemaps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage
from provnews.storage.models import SourceState, UrlState
from tests.helpers import run

ARTICLE = re.compile(r"-(post|a)\d+\.html$")


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(sites=["baolaocai", "baocantho"], articles_per_site=12, seed=41) as server:
        yield server


def crawl(db: str, sites_file: Path, *args: str) -> str:
    result = run(["provnews", "--db", db, "crawl", "--sites-file", str(sites_file), *args])
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def article_requests(replica: ReplicaServer) -> list[str]:
    return [p for s in replica.site_ids for _, p, _ in replica.request_log(s) if ARTICLE.search(p)]


def test_incremental_runs_and_lastmod_driven_update(replica: ReplicaServer, tmp_path: Path) -> None:
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(replica.sites_toml(), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    truth = replica.ground_truth()

    crawl(db, sites_file)
    with Storage.open(db) as storage:
        assert storage.count_articles() == len(truth) == 24
        with storage.engine.connect() as conn:
            states = dict(conn.execute(select(UrlState.url, UrlState.status)).all())
            validators = conn.execute(select(SourceState.url, SourceState.etag)).all()
    assert all(states[url] == "stored" for url in truth)
    assert validators and all(etag for _, etag in validators)  # feeds, sitemaps, listings

    # second run: discovery pages are asked for conditionally, answered 304, no article page fetched
    replica.clear_log()
    out = crawl(db, sites_file)
    assert "articles new:      0" in out
    assert article_requests(replica) == []
    log = [entry for s in replica.site_ids for entry in replica.request_log(s) if entry[1] != "/robots.txt"]
    assert log and all(status == 304 for _, _, status in log), log
    with Storage.open(db) as storage:
        assert storage.runs(limit=1)[0]["stats"]["not_modified"] == len(log)

    # an article changes: its sitemap lastmod moves, and only that page is fetched again
    url = sorted(replica.ground_truth("baolaocai"))[0]
    with Storage.open(db) as storage:
        before = storage.get_article(url)
    assert before is not None
    replica.update_article(
        "baolaocai", url, "Đoạn văn mới được bổ sung sau khi bài đã đăng, để kiểm tra cập nhật."
    )
    replica.clear_log()
    out = crawl(db, sites_file)
    assert "articles new:      0" in out and "articles updated:  1" in out
    assert article_requests(replica) == [urlsplit(url).path]
    with Storage.open(db) as storage:
        after = storage.get_article(url)
        assert storage.count_articles() == 24
    assert after is not None
    assert after["id"] == before["id"] and after["first_seen_at"] == before["first_seen_at"]
    assert after["text"].count("Đoạn văn mới được bổ sung") == 1
    assert after["text"] == replica.ground_truth("baolaocai")[url]["text"]
    assert after["versions"] == [before["content_hash"]]

    # and nothing more the time after
    replica.clear_log()
    crawl(db, sites_file)
    assert article_requests(replica) == []


def test_backfill_takes_a_period_from_the_monthly_sitemaps(replica: ReplicaServer, tmp_path: Path) -> None:
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(replica.sites_toml(), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'backfill.sqlite3'}"
    replica.clear_log()
    out = crawl(db, sites_file, "--since", "2025-10-01", "--until", "2025-10-31")
    assert "finish reason:     finished" in out
    truth = replica.ground_truth()
    october = {u for u, t in truth.items() if str(t["published_at"]).startswith("2025-10")}
    assert october and len(october) < len(truth)
    with Storage.open(db) as storage:
        stored = {a["canonical_url"] for a in storage.iter_articles()}
    assert stored == october
    for site in replica.site_ids:
        paths = [p for _, p, _ in replica.request_log(site)]
        sitemaps = {p for p in paths if p.startswith("/sitemaps/")}
        assert sitemaps == {"/sitemaps/news-2025-10.xml.gz"}  # the other months are not even read
        assert not any(p.startswith("/rss") or (p.endswith("/") and p != "/") for p in paths), paths
    # the regular run afterwards takes the rest, without fetching October again
    replica.clear_log()
    crawl(db, sites_file)
    refetched = {p for p in article_requests(replica)}
    assert refetched == {urlsplit(u).path for u in set(truth) - october}
    with Storage.open(db) as storage:
        assert storage.count_articles() == len(truth)


def test_since_and_until_are_checked(tmp_path: Path) -> None:
    result = run(
        ["provnews", "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}", "crawl", "--until", "2025-01-01"]
    )
    assert result.returncode == 2 and "--until needs --since" in result.stderr
    result = run(["provnews", "crawl", "--since", "2025-02-01", "--until", "2025-01-01"])
    assert result.returncode == 2 and "before --since" in result.stderr
