"""StorePipeline: batched, idempotent upsert of articles; URL state for stored and dropped pages.

A URL counts as stored only once its batch is committed, so a crash loses at most one batch of work,
which the next run fetches again."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem

from crawler.items import ArticleItem, PageItem
from pipelines.storage import Storage

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def article_row(item: ArticleItem, run_id: int | None) -> dict[str, Any]:
    row = asdict(item.fields)
    row.update(
        site_id=item.site_id,
        province=item.province,
        province_old=item.province_old,
        raw_html=item.raw_html,
        run_id=run_id,
    )
    return row


def drop_reason(exc: BaseException) -> str:
    """The reason code of a DropItem message ('text_too_short: http://…' → 'text_too_short')."""
    return str(exc).split(":", 1)[0].strip().replace(" ", "_") or "unknown"


class StorePipeline:
    def __init__(self, crawler: Crawler, db_url: str, batch_size: int) -> None:
        self.crawler = crawler
        self.db_url = db_url
        self.batch_size = max(1, batch_size)
        self.batch: list[ArticleItem] = []
        self.storage: Storage | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(
            crawler, crawler.settings.get("PROVNEWS_DB_URL"), crawler.settings.getint("PROVNEWS_STORE_BATCH")
        )
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    def open_spider(self) -> None:
        self.storage = Storage.open(self.db_url)

    def close_spider(self) -> None:
        self.flush()
        if self.storage is not None:
            self.storage.close()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            self.batch.append(item)
            if len(self.batch) >= self.batch_size:
                self.flush()
        return item

    def flush(self) -> None:
        if not self.batch or self.storage is None:
            return
        batch, self.batch = self.batch, []
        stats = self.crawler.stats
        assert stats is not None
        run_id = stats.get_value("provnews/run_id")
        result = self.storage.upsert_articles([article_row(item, run_id) for item in batch])
        stats.inc_value("provnews/store/new", result.new)
        stats.inc_value("provnews/store/updated", result.updated)
        stats.inc_value("provnews/store/unchanged", result.unchanged)
        self.storage.mark_urls(
            [
                {
                    "url": item.url,
                    "site_id": item.site_id,
                    "status": "stored",
                    "lastmod": item.extra.get("lastmod"),
                }
                for item in batch
            ]
        )

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any = None) -> None:
        reason = drop_reason(exception)
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(f"provnews/dropped/{reason}")
        if (
            isinstance(item, (PageItem, ArticleItem))
            and self.storage is not None
            and isinstance(exception, DropItem)
        ):
            status = "stored" if reason == "duplicate" else "not_article"
            self.storage.mark_url(item.url, item.site_id, status, reason=str(exception)[:500])
