"""The one database connection of a crawl: `Storage` opened once when the crawler is built, its
`StorageWriter` thread for the writes, closed once everything else is done with it. The spider, the
pipelines and the other extensions take it with `crawler.get_extension(CrawlStorage)`.

`provnews/storage/opened` counts the opens (1 per crawl). A write asked for during the crawl is done
in the writer thread, in order; at spider close, once the store pipeline, the run recorder and the
site claims have written what they hold, the writer is drained and the storage closed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future

from provnews.crawler.runs.storage_writer import StorageWriter
from provnews.storage import Storage

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class CrawlStorage:
    def __init__(self, crawler: Crawler, db_url: str) -> None:
        self.crawler = crawler
        self.db_url = db_url
        self.storage = Storage.open(db_url)
        self.writer = StorageWriter(self.storage)
        if crawler.stats is not None:
            crawler.stats.inc_value("provnews/storage/opened")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlStorage:
        db_url = crawler.settings.get("PROVNEWS_DB_URL")
        if not db_url:
            raise NotConfigured("PROVNEWS_DB_URL is not set")
        ext = cls(crawler, db_url)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        return ext

    def spider_opened(self, spider: Any) -> None:
        # Connected now, after every component connected its own spider_closed handler at its
        # construction: this one runs after them, when nothing writes any more.
        self.crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    async def spider_closed(self, spider: Any, reason: str) -> None:
        try:
            await maybe_deferred_to_future(self.writer.drain())
        finally:
            self.writer.close()
            self.storage.close()
