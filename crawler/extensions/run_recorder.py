"""Records each crawl as a row in crawl_runs: start, end, sites, counts and outcome."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from pipelines.storage import Storage

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.spiders import Spider

logger = logging.getLogger(__name__)

# Scrapy's finish reasons mapped to the outcome a person reads in `provnews runs`.
_OUTCOMES = {"finished": "finished", "closespider_itemcount": "finished", "shutdown": "interrupted"}


class RunRecorder:
    def __init__(self, crawler: Crawler, db_url: str, command: str) -> None:
        self.crawler = crawler
        self.db_url = db_url
        self.command = command
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        db_url = crawler.settings.get("PROVNEWS_DB_URL")
        if not db_url:
            raise NotConfigured("PROVNEWS_DB_URL is not set")
        command = crawler.settings.get("PROVNEWS_RUN_COMMAND") or "scrapy crawl news"
        ext = cls(crawler, db_url, command)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        site_ids = [s.id for s in getattr(spider, "sites", [])]
        storage = Storage.open(self.db_url)
        try:
            self.run_id = storage.start_run(self.command, site_ids)
        finally:
            storage.close()
        spider.run_id = self.run_id  # type: ignore[attr-defined]
        self.crawler.stats.set_value("provnews/run_id", self.run_id)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.run_id is None:
            return
        stats = self.crawler.stats.get_stats()
        summary = run_summary(stats)
        storage = Storage.open(self.db_url)
        try:
            storage.finish_run(self.run_id, _OUTCOMES.get(reason, "failed"), summary)
        finally:
            storage.close()
        logger.info("Run %s %s: %s", self.run_id, reason, summary)


def run_summary(stats: dict[str, Any]) -> dict[str, Any]:
    """The counts kept with a run: pages, new and updated articles, drops by reason, errors by kind."""
    dropped = {k.split("/")[-1]: v for k, v in stats.items() if k.startswith("provnews/dropped/")}
    errors = {
        k.removeprefix("downloader/exception_type_count/"): v
        for k, v in stats.items()
        if k.startswith("downloader/exception_type_count/")
    }
    for key, value in stats.items():
        if key.startswith("downloader/response_status_count/") and key.split("/")[-1][0] in "45":
            errors["http_" + key.split("/")[-1]] = value
    return {
        "pages_fetched": stats.get("downloader/response_count", 0),
        "articles_new": stats.get("provnews/store/new", 0),
        "articles_updated": stats.get("provnews/store/updated", 0),
        "articles_unchanged": stats.get("provnews/store/unchanged", 0),
        "extraction_fallbacks": stats.get("provnews/extract/fallback", 0),
        "dropped": dropped,
        "errors": errors,
        "finish_reason": stats.get("finish_reason"),
    }
