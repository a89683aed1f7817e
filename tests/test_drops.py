"""Every item a pipeline drops carries its reason as a type (`pipelines.dropped.Dropped`), and the
accounting (the store pipeline's `item_dropped`: stats, outcomes, URL states) reads that reason, not the
message: a message with colons or another reason's name in it is counted under the drop's own reason."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from provnews.crawler.extraction.reextract import rebuild_row
from provnews.crawler.items import ArticleItem, PageItem
from provnews.crawler.parsers.fields import ArticleFields
from provnews.crawler.runs.accounting import Ledger
from provnews.pipelines.dedupe import DedupePipeline
from provnews.pipelines.dropped import Dropped
from provnews.pipelines.extract import ExtractPipeline
from provnews.pipelines.normalize import NormalizePipeline
from provnews.pipelines.store import StorePipeline
from provnews.pipelines.validate import ValidatePipeline
from provnews.storage.api import Storage
from provnews.storage.bounds import TEXT_CHARS, URL_BYTES
from provnews.storage.models import UrlState

URL = "https://baotest.vn/tin-1.html"
TEXT = "Nội dung bài viết về tỉnh. " * 20


def fields(**changes: object) -> ArticleFields:
    values: dict[str, object] = {
        "url": URL,
        "canonical_url": URL,
        "title": "Tin một",
        "text": TEXT,
        "published_at": "2024-05-01T08:30:00+07:00",
    }
    values.update(changes)
    return ArticleFields(**values)  # type: ignore[arg-type]


def dropped_by(pipeline: object, item: object) -> Dropped:
    """The drop `pipeline` raises for `item` (the extract pipeline's `process_item` is a coroutine)."""
    with pytest.raises(Dropped) as caught:
        result = pipeline.process_item(item)  # type: ignore[attr-defined]
        if inspect.iscoroutine(result):
            asyncio.run(result)
    return caught.value


@pytest.fixture(scope="module")
def extract() -> Iterator[ExtractPipeline]:
    crawler = get_crawler(settings_dict={})
    parsers = {"generic": "tests.crashing_parser:CrashingParser"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PROVNEWS_TEST_CRASH_PATH", "/crash.html")
        pipeline = ExtractPipeline(
            crawler, {}, max_bytes=100_000, keep_html=False, timeout=10, parsers=parsers
        )
        try:
            yield pipeline
        finally:
            pipeline.close_spider()


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/big.html", b"x" * 100_001, "page_too_large"),
        ("/empty.html", b"<html><body></body></html>", "not_article"),
        ("/gz.html", b"\x1f\x8b\x08not gzip at all", "undecodable"),
        (
            "/crash.html",
            b"<html><body><h1>Tin</h1><p>" + TEXT.encode() + b"</p></body></html>",
            "extract_error",
        ),
    ],
)
def test_extract_drops_carry_their_reason(
    extract: ExtractPipeline, path: str, body: bytes, reason: str
) -> None:
    drop = dropped_by(extract, PageItem(url="https://baotest.vn" + path, site_id="baotest", body=body))
    assert drop.reason == reason
    assert drop.record.startswith(f"{reason}: ") and path in drop.detail


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"url": "https://baotest.vn/" + "a" * URL_BYTES}, "url_too_long"),
        ({"text": "chữ " * (TEXT_CHARS // 3)}, "text_too_long"),
    ],
)
def test_normalize_drops_carry_their_reason(changes: dict[str, object], reason: str) -> None:
    pipeline = NormalizePipeline({}, get_crawler(settings_dict={}))
    assert dropped_by(pipeline, ArticleItem(fields(**changes), site_id="baotest")).reason == reason


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"title": ""}, "no_title"),
        ({"text": "ngắn"}, "text_too_short"),
        ({"published_at": None}, "no_date"),
        ({"text": "Nội dung bài viết.\ufffd" * 40}, "mojibake"),
    ],
)
def test_validate_drops_carry_their_reason(changes: dict[str, object], reason: str) -> None:
    pipeline = ValidatePipeline(min_text_chars=150)
    drop = dropped_by(pipeline, ArticleItem(fields(**changes), site_id="baotest"))
    assert (drop.reason, drop.detail) == (reason, URL)


def test_dedupe_drop_carries_its_reason() -> None:
    pipeline = DedupePipeline()
    pipeline.process_item(ArticleItem(fields(), site_id="baotest"))
    again = ArticleItem(fields(url=URL + "?utm_source=x"), site_id="baotest")
    assert dropped_by(pipeline, again).reason == "duplicate"


def test_reextract_reasons_are_the_drops() -> None:
    with pytest.raises(Dropped) as caught:
        rebuild_row({"url": URL, "site_id": "baotest", "raw_html": None}, "generic")
    assert caught.value.reason == "no_stored_page"


def store(db_url: str) -> tuple[StorePipeline, Ledger]:
    crawler = get_crawler(settings_dict={"PROVNEWS_DB_URL": db_url, "PROVNEWS_STORE_BATCH": 20})
    assert crawler.stats is not None
    stats = crawler.stats
    ledger = Ledger(lambda key, n=1: stats.inc_value(f"provnews/{key}", n))
    crawler.spider = SimpleNamespace(ledger=ledger)  # type: ignore[assignment]
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline, ledger


def test_a_drop_is_counted_under_its_own_reason_whatever_its_message(db_url: str) -> None:
    """Failed before: the reason was read back from the message, up to its first colon."""
    pipeline, ledger = store(db_url)
    stats = pipeline.crawler.stats
    assert stats is not None
    cases = [
        # (path, the drop, the URL's state afterwards)
        (
            "/a.html",
            Dropped("text_too_short", "12 chars", message="not_article: listing: 12 chars"),
            "not_article",
        ),
        (
            "/b.html",
            Dropped("duplicate", "of /a.html", message="https://baotest.vn/b.html: see /a.html"),
            "stored",
        ),
        ("/c.html", Dropped("extract_error", "KeyError: 'not_article'"), "failed"),
    ]
    try:
        for path, drop, _status in cases:
            item = ArticleItem(fields(url="https://baotest.vn" + path), site_id="baotest")
            ledger.met("baotest", item.url)
            pipeline.item_dropped(item, None, drop)
    finally:
        asyncio.run(pipeline.close_spider())
    values = stats.get_stats()
    assert {k: v for k, v in values.items() if k.startswith(("provnews/dropped/", "provnews/errors/"))} == {
        "provnews/dropped/text_too_short": 1,
        "provnews/dropped/duplicate": 1,
        "provnews/errors/extract_error": 1,
    }
    assert {k: v for k, v in values.items() if k.startswith("provnews/outcome/")} == {
        "provnews/outcome/baotest/dropped/text_too_short": 1,
        "provnews/outcome/baotest/dropped/duplicate": 1,
        "provnews/outcome/baotest/failed/extract_error": 1,
    }
    with Storage.open(db_url) as storage, storage.engine.connect() as conn:
        states = {
            url: (status, reason)
            for url, status, reason in conn.execute(select(UrlState.url, UrlState.status, UrlState.reason))
        }
    for path, drop, status in cases:
        assert states["https://baotest.vn" + path] == (status, drop.record)


def test_an_untyped_drop_is_counted_by_its_type(db_url: str) -> None:
    """A DropItem from outside provnews has no reason: its type stands for it, not its message."""
    pipeline, ledger = store(db_url)
    ledger.met("baotest", URL)
    try:
        pipeline.item_dropped(ArticleItem(fields(), site_id="baotest"), None, DropItem("duplicate: no, old"))
    finally:
        asyncio.run(pipeline.close_spider())
    stats = pipeline.crawler.stats
    assert stats is not None
    assert stats.get_value("provnews/dropped/dropitem") == 1
    assert stats.get_value("provnews/dropped/duplicate") is None
