"""StorePipeline: batched, idempotent upsert of articles; URL state for stored and dropped pages.

A URL counts as stored only once its batch is committed, so a crash loses at most one batch of work,
which the next run fetches again. The batch is written every PROVNEWS_STORE_BATCH articles and every
PROVNEWS_STORE_FLUSH_SECONDS, so a slow site never keeps another site's articles waiting in memory; each
site's articles are their own transaction. An article the database refuses costs only itself
(`Storage.store_entries` bisects the batch): it is counted as `provnews/failed/store_error` (and per
site), its URL is marked failed with the database's message, and a later run tries it again.

The writes are made in the crawl's writer thread (`crawler.extensions.crawl_storage.CrawlStorage`), so
the reactor goes on downloading and extracting while a batch waits on the database; each URL's outcome
is counted in the run's ledger when its write is done, on the reactor thread. At close the pipeline
waits for its writes."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import task
from twisted.python.failure import Failure

from provnews.crawler.items import ArticleItem, PageItem
from provnews.crawler.runs.accounting import DROPPED, FAILED, reason_key
from provnews.crawler.runs.site_stop import store_now
from provnews.crawler.runs.storage_writer import InlineWriter, Writer, error_of
from provnews.pipelines.dropped import Dropped, drop_reason
from provnews.storage import Storage, StoreEntry, StoreOutcome, UrlMark, describe, is_disk_full, stop_crawl

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


# Drops that are failures: the URL is marked failed and tried again in later runs, up to
# PROVNEWS_MAX_ATTEMPTS (a parser bug may be fixed; a page that is not an article will not change).
FAILURE_DROPS = ("extract_error", "extract_crashed")


STORE_ERROR = "store_error"


class StorePipeline:
    def __init__(self, crawler: Crawler, db_url: str, batch_size: int, flush_seconds: float = 0.0) -> None:
        self.crawler = crawler
        self.db_url = db_url
        self.batch_size = max(1, batch_size)
        self.flush_seconds = flush_seconds
        self.batch: list[ArticleItem] = []
        self.storage: Storage | None = None
        self.writer: Writer | None = None
        self.own_storage = False  # opened here: no CrawlStorage in this crawl (a script, a unit test)
        self.loop: task.LoopingCall | None = None
        self.disk_full = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            settings.get("PROVNEWS_DB_URL"),
            settings.getint("PROVNEWS_STORE_BATCH"),
            settings.getfloat("PROVNEWS_STORE_FLUSH_SECONDS", 5.0),
        )
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.item_error, signal=signals.item_error)
        crawler.signals.connect(pipeline.flush, signal=store_now)
        return pipeline

    def open_spider(self) -> None:
        from provnews.crawler.extensions.crawl_storage import CrawlStorage

        shared = self.crawler.get_extension(CrawlStorage)
        if shared is not None:
            self.storage, self.writer = shared.storage, shared.writer
        else:
            self.storage = Storage.open(self.db_url)
            self.writer, self.own_storage = InlineWriter(self.storage), True
        if self.flush_seconds > 0:
            self.loop = task.LoopingCall(self.flush)
            self.loop.start(self.flush_seconds, now=False)

    async def close_spider(self) -> None:
        """Write what is held and wait for every write of the pipeline to be done and counted."""
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.flush()
        if self.writer is not None:
            done = self.writer.drain()
            if not done.called:  # (an InlineWriter is done already: no reactor needed)
                await maybe_deferred_to_future(done)
        if self.own_storage and self.storage is not None:
            self.storage.close()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem) and self.disk_full:
            self._settle([item], FAILED, "disk_full")
        elif isinstance(item, ArticleItem):
            self.batch.append(item)
            if len(self.batch) >= self.batch_size:
                self.flush()
        return item

    def flush(self) -> None:
        """Hand the batch to the writer, one transaction per site; the outcomes are counted when done."""
        if not self.batch or self.storage is None or self.writer is None:
            return
        batch, self.batch = self.batch, []
        stats = self.crawler.stats
        assert stats is not None
        run_id = stats.get_value("provnews/run_id")
        by_site: dict[str, list[ArticleItem]] = {}
        for item in batch:
            by_site.setdefault(item.site_id, []).append(item)
        for site_id, items in by_site.items():
            if self.disk_full:
                self._settle(items, FAILED, "disk_full")
                continue
            # Articles and their "stored" URL states commit together: a crash before the commit leaves
            # the URLs "discovered", and the next run fetches them again.
            entries = [StoreEntry(article_row(item, run_id), self._marks(item)) for item in items]
            written = self.writer.run(self.storage.store_entries, entries)
            written.addCallbacks(
                self._stored,
                self._not_stored,
                callbackArgs=(site_id, items, entries),
                errbackArgs=(site_id, items),
            )
            written.addErrback(self._log_failure, f"{site_id}: counting a stored batch failed")

    def _not_stored(self, failure: Failure, site_id: str, items: list[ArticleItem]) -> None:
        """The database itself failed (the other sites may still be stored)."""
        exc = error_of(failure)
        if is_disk_full(exc):
            self._stop_disk_full(exc)
            self._settle(items, FAILED, "disk_full")
            return
        logger.error("%s: %d articles not stored, the database failed: %s", site_id, len(items), exc)
        self._count_store_errors(site_id, len(items), describe(exc))
        self._settle(items, FAILED, STORE_ERROR)

    def _stored(
        self, outcome: StoreOutcome, site_id: str, items: list[ArticleItem], entries: list[StoreEntry]
    ) -> None:
        stats = self.crawler.stats
        assert stats is not None
        result = outcome.result
        refused_ids = {id(r.entry) for r in outcome.refused}
        not_stored = [item for item, entry in zip(items, entries, strict=True) if id(entry) in refused_ids]
        ledger = getattr(self.crawler.spider, "ledger", None)
        if ledger is not None:
            counts = {"new": result.new, "updated": result.updated, "unchanged": result.unchanged}
            stored = [
                item for item, entry in zip(items, entries, strict=True) if id(entry) not in refused_ids
            ]
            ledger.settle_stored(site_id, [self._requested(item) for item in stored], counts)
        self._settle(not_stored, FAILED, STORE_ERROR)
        for key, value in (
            ("new", result.new),
            ("updated", result.updated),
            ("unchanged", result.unchanged),
        ):
            stats.inc_value(f"provnews/store/{key}", value)
            stats.inc_value(f"provnews/site/{site_id}/{key}", value)
        for refused in outcome.refused:
            logger.warning("%s: not stored: %s: %s", site_id, refused.entry.row.get("url"), refused.error)
        if outcome.refused:
            self._count_store_errors(site_id, len(outcome.refused), outcome.refused[-1].error)

    @staticmethod
    def _log_failure(failure: Failure, what: str) -> None:
        logger.error("%s: %s", what, failure.getTraceback())

    def _count_store_errors(self, site_id: str, n: int, error: str) -> None:
        """Articles fetched and not stored: the run has storage errors (read by the run's outcome)."""
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(f"provnews/failed/{STORE_ERROR}", n)
        stats.inc_value(f"provnews/site/{site_id}/failed/{STORE_ERROR}", n)
        stats.set_value("provnews/store/last_error", error)

    def _stop_disk_full(self, exc: BaseException) -> None:
        """Nothing more can be stored: what was committed stays, the rest waits for the next run."""
        self.disk_full = True
        stop_crawl(self.crawler, exc)

    def _requested(self, item: ArticleItem | PageItem) -> str:
        """The URL the run set out to fetch for this item (its outcome's key)."""
        requested = item.requested_url
        if requested is None:  # an item from elsewhere: the redirect map knows
            requested = getattr(self.crawler.spider, "redirected", {}).get(item.url, item.url)
        return requested

    def _settle(self, items: list[Any], outcome: str, reason: str) -> None:
        ledger = getattr(self.crawler.spider, "ledger", None)
        if ledger is not None:
            for item in items:
                if isinstance(item, (ArticleItem, PageItem)):
                    ledger.settle(self._requested(item), outcome, reason)

    def _marks(
        self, item: ArticleItem | PageItem, status: str = "stored", reason: str | None = None
    ) -> list[UrlMark]:
        """URL states for an item: its own URL, and the URL that was requested when it was redirected."""
        spider = self.crawler.spider
        requested = self._requested(item)
        lastmods = getattr(spider, "lastmods", {})
        extra = item.extra.get("lastmod") if isinstance(item, ArticleItem) else item.lastmod
        lastmod = lastmods.get(requested) or lastmods.get(item.url) or extra
        urls = dict.fromkeys([item.url, requested])
        return [UrlMark(url, item.site_id, status, reason, lastmod=lastmod) for url in urls]

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any = None) -> None:
        reason = drop_reason(exception)
        stats = self.crawler.stats
        assert stats is not None
        failed = reason in FAILURE_DROPS
        stats.inc_value(f"provnews/errors/{reason}" if failed else f"provnews/dropped/{reason}")
        self._settle([item], FAILED if failed else DROPPED, reason)
        if isinstance(item, (PageItem, ArticleItem)) and isinstance(exception, DropItem):
            status = "failed" if failed else "stored" if reason == "duplicate" else "not_article"
            text = exception.record if isinstance(exception, Dropped) else str(exception)
            self._mark(self._marks(item, status, text[:500]))

    def item_error(self, item: Any, response: Any, spider: Any = None, failure: Any = None) -> None:
        """A component raised on an item (Scrapy logs the traceback): the URL failed, with attempts."""
        exc = getattr(failure, "value", None)
        reason = "disk_full" if exc is not None and is_disk_full(exc) else reason_key(type(exc).__name__)
        self._settle([item], FAILED, reason)
        if isinstance(item, (PageItem, ArticleItem)):
            self._mark(self._marks(item, "failed", f"{type(exc).__name__}: {exc}"[:500]))

    def _mark(self, marks: list[UrlMark]) -> None:
        """Write URL states (in the writer thread); a full disk stops the crawl."""
        if self.writer is None or self.disk_full:
            return
        self.writer.mark_urls(marks).addErrback(self._mark_failed)

    def _mark_failed(self, failure: Failure) -> None:
        exc = error_of(failure)
        if is_disk_full(exc):
            self._stop_disk_full(exc)
        else:
            logger.error("URL states not written: %s", exc)
