"""`provnews reextract`: stored pages re-parsed with the current parsers, nothing fetched, on both engines."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner

from provnews.crawler.cli import cli
from provnews.crawler.extraction.reextract import reextract
from provnews.crawler.replica import ReplicaServer
from provnews.crawler.sites.families import family_for_url
from provnews.storage.api import Storage

MakeArticle = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def pages() -> list[tuple[str, bytes, dict[str, Any]]]:
    """(url, page bytes, ground truth) of a few replica articles, fetched once."""
    with ReplicaServer(sites=["baolaocai"], articles_per_site=3) as replica:
        truth = replica.ground_truth()
        return [
            (url, urllib.request.urlopen(url, timeout=10).read(), fields) for url, fields in truth.items()
        ]


def stale_row(make_article: MakeArticle, n: int, url: str, page: bytes | None) -> dict[str, Any]:
    """The article as an older parser stored it: same page, worse text and title."""
    return make_article(
        n,
        url=url,
        canonical_url=url,
        site_id="baolaocai",
        family=family_for_url(url, []),
        title="Tiêu đề cũ",
        text="Văn bản cũ do bộ tách cũ tạo ra. " * 10,
        raw_html=page,
    )


def test_reextract_updates_changed_articles(
    storage: Storage, make_article: MakeArticle, pages: list[tuple[str, bytes, dict[str, Any]]]
) -> None:
    (url1, page1, truth1), (url2, page2, _) = pages[:2]
    rows = [
        stale_row(make_article, 1, url1, page1),
        stale_row(make_article, 2, url2, page2),
        stale_row(make_article, 3, "https://baolaocai.vn/mat-trang-post3.html", None),  # page not kept
        stale_row(make_article, 4, "https://baolaocai.vn/rong-post4.html", b"<html><body></body></html>"),
    ]
    ids = storage.upsert_articles(rows).new_ids
    before = storage.get_article(ids[0])
    report = reextract(storage)
    assert (report.examined, report.changed, report.unchanged, report.failed) == (4, 2, 0, 2)
    assert report.reasons["no_stored_page"] == 1 and sum(report.reasons.values()) == 2
    after = storage.get_article(ids[0])
    assert after is not None and before is not None
    assert after["title"] == truth1["title"] and after["text"] == truth1["text"]
    assert after["authors"] == truth1["authors"] and after["published_at"] == truth1["published_at"]
    assert after["versions"] == [before["content_hash"]] and after["first_seen_at"] == before["first_seen_at"]
    assert after["canonical_url"] == url1 and after["site_id"] == "baolaocai"  # identity kept
    again = reextract(storage, site="baolaocai")
    assert (again.changed, again.unchanged, again.failed) == (0, 2, 2)
    assert reextract(storage, site="other").examined == 0


def test_cli_reextract(
    storage: Storage, db_url: str, make_article: MakeArticle, pages: list[tuple[str, bytes, dict[str, Any]]]
) -> None:
    url, page, truth = pages[0]
    storage.upsert_articles([stale_row(make_article, 1, url, page)])
    result = CliRunner().invoke(
        cli, ["--db", db_url, "reextract", "--site", "baolaocai", "--since", "2000-01-01"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "examined 1, changed 1, unchanged 0, failed 0"
    found = storage.get_article(url)
    assert found is not None and found["text"] == truth["text"]


def test_cli_reextract_fails_when_a_page_cannot_be_re_extracted(
    storage: Storage, db_url: str, make_article: MakeArticle
) -> None:
    storage.upsert_articles([stale_row(make_article, 1, "https://baolaocai.vn/mat-trang-post1.html", None)])
    result = CliRunner().invoke(cli, ["--db", db_url, "reextract"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "examined 1, changed 0, unchanged 0, failed 1",
        "  failed: no_stored_page: 1",
    ]
