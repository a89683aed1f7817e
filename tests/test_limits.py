"""Hard limits on one page's extraction: oversized and pathological pages are dropped, nothing hangs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from scrapy.exceptions import DropItem

from provnews.crawler.cli import cli
from provnews.crawler.extraction.limits import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    ExtractionLimitExceeded,
    LimitedExtractor,
)
from provnews.crawler.items import PageItem
from provnews.crawler.parsers import PARSERS, NotAnArticle
from provnews.pipelines.extract import ExtractPipeline
from tests.paths import FIXTURES

GIALAI = FIXTURES / "sites" / "baogialai" / "post-glo-figcaption"
GIALAI_URL = json.loads((GIALAI / "meta.json").read_text(encoding="utf-8"))["url"]
# 50,000 tiny paragraphs: whole-page trafilatura needs several seconds on this.
MANY_PARAGRAPHS = ("<html><body><h1>Tít</h1>" + "<p>một hai ba</p>" * 50_000 + "</body></html>").encode()
# 100,000 nested <div>s around one paragraph.
DEEP = (
    "<html><body><h1>Tít</h1>"
    + "<div>" * 100_000
    + "<p>Nội dung.</p>"
    + "</div>" * 100_000
    + "</body></html>"
).encode()


def test_defaults_are_ten_mib_and_five_seconds() -> None:
    assert (DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT) == (10 * 1024 * 1024, 5.0)


def test_oversized_page_is_refused_before_any_work() -> None:
    extractor = LimitedExtractor()
    with pytest.raises(ExtractionLimitExceeded) as caught:
        extractor.extract(b"<p>x</p>" * (DEFAULT_MAX_BYTES // 8 + 1), GIALAI_URL, "post")
    assert caught.value.reason == "page_too_large"
    assert "> 10485760" in str(caught.value)
    assert extractor.running == 0  # no worker was started for it


@pytest.mark.timeout(60)
def test_slow_page_times_out_and_the_next_page_still_extracts() -> None:
    with LimitedExtractor(timeout=0.3) as extractor:
        started = time.monotonic()
        with pytest.raises(ExtractionLimitExceeded) as caught:
            extractor.extract(MANY_PARAGRAPHS, "https://example.vn/a.html", "generic")
        assert caught.value.reason == "extract_timeout"
        assert time.monotonic() - started < 3  # the deadline, not the page, decides
        extractor.timeout = 10  # a fresh worker replaces the killed one
        fields = extractor.extract((GIALAI / "page.html").read_bytes(), GIALAI_URL, "post")
        assert fields.title == "Gia Lai bàn giải pháp liên kết sản xuất cà phê bền vững"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("family", ["generic", "post", "html-id"])
def test_pathological_pages_finish_or_time_out_within_the_limit(family: str) -> None:
    with LimitedExtractor(timeout=2) as extractor:
        for body in (MANY_PARAGRAPHS, DEEP):
            started = time.monotonic()
            with contextlib.suppress(ExtractionLimitExceeded, NotAnArticle):
                extractor.extract(body, "https://example.vn/a.html", family)
            assert time.monotonic() - started < 4


def test_worker_reports_parser_outcomes_like_in_process() -> None:
    with LimitedExtractor(timeout=10) as extractor:
        with pytest.raises(NotAnArticle):
            extractor.extract(b"<html><body></body></html>", "https://example.vn/a.html", "post")
        with pytest.raises(ValueError, match="gzip"):
            extractor.extract(b"\x1f\x8bnot gzip", "https://example.vn/a.html", "post")
    in_process = LimitedExtractor(timeout=0).extract((GIALAI / "page.html").read_bytes(), GIALAI_URL, "post")
    with LimitedExtractor(timeout=10) as extractor:
        assert extractor.extract((GIALAI / "page.html").read_bytes(), GIALAI_URL, "post") == in_process


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str) -> None:
        self.values[key] = self.values.get(key, 0) + 1


@pytest.mark.timeout(60)
def test_pipeline_drops_with_the_reason_and_keeps_going() -> None:
    crawler = SimpleNamespace(stats=_Stats())
    pipeline = ExtractPipeline(crawler, {}, max_bytes=100_000, keep_html=False, timeout=0.3)  # type: ignore[arg-type]
    try:
        with pytest.raises(DropItem, match=r"^page_too_large: "):
            asyncio.run(
                pipeline.process_item(
                    PageItem(url="https://example.vn/big.html", site_id="x", body=b"x" * 100_001)
                )
            )
        pipeline.extractor.max_bytes = len(MANY_PARAGRAPHS)
        with pytest.raises(DropItem, match=r"^extract_timeout: "):
            asyncio.run(
                pipeline.process_item(
                    PageItem(url="https://example.vn/slow.html", site_id="x", body=MANY_PARAGRAPHS)
                )
            )
        pipeline.extractor.timeout = 10
        ok = asyncio.run(
            pipeline.process_item(
                PageItem(url=GIALAI_URL, site_id="x", body=(GIALAI / "page.html").read_bytes())
            )
        )
        assert ok.fields.family == "generic"  # an unknown site: whole-page extraction
        assert "Tham dự hội thảo có đại diện các sở" in ok.fields.text
    finally:
        pipeline.close_spider()


@pytest.mark.timeout(60)
def test_cli_extract_prints_an_error_line_and_goes_on(tmp_path: Path) -> None:
    slow = tmp_path / "slow.html"
    slow.write_bytes(MANY_PARAGRAPHS)
    result = CliRunner().invoke(
        cli,
        [
            "extract",
            str(slow),
            str(GIALAI / "page.html"),
            "--url",
            GIALAI_URL,
            "--family",
            "generic",
            "--timeout",
            "0.3",
        ],
    )
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines[0]["error"].startswith("extract_timeout: ")
    assert lines[1]["title"] == "Gia Lai bàn giải pháp liên kết sản xuất cà phê bền vững"


def test_parsers_for_the_workers_leave_this_process_alone() -> None:
    """PROVNEWS_PARSERS given to an extractor with workers is checked here but installed only in the
    workers: the calling process (a test run, a command that also parses in-process) keeps its own
    parsers. In-process extraction (timeout 0) installs them, since that is where pages are parsed."""
    generic = PARSERS["generic"]
    spec = {"generic": "tests.crashing_parser:CrashingParser"}
    with LimitedExtractor(timeout=5, parsers=spec):
        assert PARSERS["generic"] is generic
    with pytest.raises(ValueError, match="unknown family 'nosuch'"):
        LimitedExtractor(timeout=5, parsers={"nosuch": "tests.crashing_parser:CrashingParser"})
    try:
        LimitedExtractor(timeout=0, parsers=spec)
        assert type(PARSERS["generic"]).__name__ == "CrashingParser"
    finally:
        PARSERS["generic"] = generic
