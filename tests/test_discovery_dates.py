"""Dates from discovery (issue 12 item 5): a page that gives no date takes the one discovery saw (news
sitemap publication date, feed pubDate, listing item date, a day in the URL, sitemap lastmod), with
`date_source` saying which; `provnews extract` shows undated articles with `published_at: null`; the
generic family asks htmldate before giving up."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from provnews.crawler.cli import cli
from provnews.crawler.discovery.sources import date_in_url
from provnews.crawler.items import PageItem
from provnews.crawler.parsers.fields import ArticleFields
from provnews.crawler.parsers.generic import GenericParser
from provnews.crawler.replica import ReplicaServer
from provnews.crawler.replica.sitegen import iso
from provnews.pipelines.extract import date_from_discovery
from provnews.pipelines.validate import problem
from provnews.storage.api import Storage
from provnews.storage.models import UrlState
from tests.helpers import run

SITE = "baogialai"


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(sites=[SITE], articles_per_site=24, seed=3, undated=True, news_sitemap=True) as server:
        yield server


def crawl(replica: ReplicaServer, tmp_path: Path, db: str, *extra: str, **registry: object) -> None:
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(replica.sites_toml(**registry), encoding="utf-8")  # type: ignore[arg-type]
    result = run(["provnews", "--db", db, "crawl", "--sites-file", str(sites_file), *extra])
    assert result.returncode == 0, result.stderr[-3000:]


def stored_dates(db: str) -> dict[str, tuple[str, str]]:
    with Storage.open(db) as storage:
        return {a["canonical_url"]: (a["published_at"], a["date_source"]) for a in storage.iter_articles()}


def test_undated_pages_take_the_news_sitemap_publication_date(
    replica: ReplicaServer, tmp_path: Path, db_url: str
) -> None:
    crawl(replica, tmp_path, db_url, feeds=False, listings=())
    truth = replica.ground_truth(SITE)
    assert stored_dates(db_url) == {
        url: (t["published_at"], "discovery:sitemap_news") for url, t in truth.items()
    }


def test_undated_pages_take_the_feed_date(replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'feed.sqlite3'}"
    crawl(replica, tmp_path, db, sitemaps=False, listings=())
    model = replica.models[SITE]
    truth = replica.ground_truth(SITE)
    feed = [
        replica.base_url(SITE).rstrip("/") + a.path(model.family) for a in model.articles[: model.feed_size]
    ]
    assert stored_dates(db) == {url: (truth[url]["published_at"], "discovery:feed") for url in feed}


def test_undated_pages_take_the_date_of_their_listing_item(replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'listing.sqlite3'}"
    crawl(replica, tmp_path, db, sitemaps=False, feeds=False)
    truth = replica.ground_truth(SITE)
    assert stored_dates(db) == {url: (t["published_at"], "discovery:listing") for url, t in truth.items()}


def test_sitemap_lastmod_dates_a_page_when_nothing_better_is_known(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'lastmod.sqlite3'}"
    model = replica.models[SITE]
    model.news_sitemap = False
    try:
        crawl(replica, tmp_path, db, feeds=False, listings=())
    finally:
        model.news_sitemap = True
    base = replica.base_url(SITE).rstrip("/")
    assert stored_dates(db) == {
        base + a.path(model.family): (iso(a.modified), "discovery:lastmod") for a in model.articles
    }


def test_a_resumed_url_keeps_the_date_discovery_saw(replica: ReplicaServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'resume.sqlite3'}"
    crawl(replica, tmp_path, db, "--max-articles", "5", feeds=False, listings=())
    with Storage.open(db) as storage, storage.engine.connect() as conn:
        waiting = conn.execute(
            select(UrlState.discovered_date_source).where(UrlState.status == "discovered")
        ).scalars()
        assert set(waiting) == {"sitemap_news"}
    # the next run resumes them without any sitemap: the date comes from url_state
    crawl(replica, tmp_path, db, sitemaps=False, feeds=False, listings=())
    truth = replica.ground_truth(SITE)
    assert stored_dates(db) == {
        url: (t["published_at"], "discovery:sitemap_news") for url, t in truth.items()
    }


# -- the fallback order, and a page with no date anywhere ----------------------------------------
def fields(url: str) -> ArticleFields:
    return ArticleFields(url=url, canonical_url=url, title="Tiêu đề", text="Nội dung. " * 30)


def test_fallback_order_and_no_date_anywhere_is_still_dropped() -> None:
    url = "https://bao.vn/2025/09/03/tin-moi-post1.html"
    item = PageItem(url, "s", b"", discovered_date="2025-09-02T08:00:00+07:00", discovered_date_source="feed")
    item.lastmod = "2025-09-05T00:00:00+07:00"
    f = fields(url)
    date_from_discovery(f, item)
    assert (f.published_at, f.date_source) == ("2025-09-02T08:00:00+07:00", "discovery:feed")
    f = fields(url)
    date_from_discovery(f, PageItem(url, "s", b"", lastmod="2025-09-05T00:00:00+07:00"))
    assert (f.published_at, f.date_source) == ("2025-09-03T00:00:00+07:00", "discovery:url")
    bare = "https://bao.vn/tin-moi-post1.html"
    f = fields(bare)
    date_from_discovery(f, PageItem(bare, "s", b"", lastmod="2025-09-05T00:00:00+07:00"))
    assert (f.published_at, f.date_source) == ("2025-09-05T00:00:00+07:00", "discovery:lastmod")
    f = fields(bare)
    date_from_discovery(f, PageItem(bare, "s", b""))
    assert f.published_at is None and problem(f) == "no_date"


@given(st.text(alphabet="/-_.0123456789abch", max_size=40))
def test_date_in_url_never_raises_and_gives_a_real_day(path: str) -> None:
    found = date_in_url("https://bao.vn/" + path)
    assert found is None or found.endswith("T00:00:00+07:00")


# -- extract and the generic family ---------------------------------------------------------------
def test_extract_shows_an_undated_article_with_published_at_null(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    url = next(iter(replica.ground_truth(SITE)))
    page = tmp_path / "undated.html"
    page.write_bytes(urllib.request.urlopen(url).read())
    listing = tmp_path / "listing.html"
    listing.write_text("<html><body><ul><li><a href='/a'>a</a></li></ul></body></html>", encoding="utf-8")
    result = CliRunner().invoke(cli, ["extract", "--url", url, "--family", "post", str(page), str(listing)])
    assert result.exit_code == 1, result.output  # the listing's error line; the undated article is none
    undated, not_article = (json.loads(line) for line in result.output.splitlines())
    assert "error" not in undated
    assert undated["published_at"] is None and undated["date_source"] is None
    assert undated["title"] == replica.ground_truth(SITE)[url]["title"]
    assert not_article["error"].startswith("not an article")


HTMLDATE_PAGE = """<html><head><title>Khánh thành cầu mới</title>
<meta name="DC.date.issued" content="2025-09-03"></head>
<body><h1>Khánh thành cầu mới</h1><p>{text}</p><p>{text}</p></body></html>"""


def test_generic_family_asks_htmldate_before_giving_up() -> None:
    text = "Sáng nay, tỉnh tổ chức lễ khánh thành cây cầu mới bắc qua sông, nối hai xã vùng sâu. " * 3
    fields = GenericParser().parse(HTMLDATE_PAGE.format(text=text), "https://example.org/cau-moi.html")
    assert (fields.published_at, fields.date_source) == ("2025-09-03T00:00:00+07:00", "htmldate")
