"""Records each crawl as a row in crawl_runs: start, end, sites, counts and outcome.

Before a run starts, runs left "running" by a process that is gone are closed as failed ("crashed").
While a run goes on its counters are saved every PROVNEWS_RUN_SAVE_INTERVAL seconds, so a run that is
killed still tells how far it got."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from pipelines.locks import HOSTNAME
from pipelines.storage import Storage

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
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
        self.sites: list[str] = []
        self.loop: task.LoopingCall | None = None
        self.stale_after = crawler.settings.getfloat("PROVNEWS_LOCK_STALE", 600.0)
        self.save_interval = crawler.settings.getfloat("PROVNEWS_RUN_SAVE_INTERVAL", 30.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        db_url = crawler.settings.get("PROVNEWS_DB_URL")
        if not db_url:
            raise NotConfigured("PROVNEWS_DB_URL is not set")
        command = crawler.settings.get("PROVNEWS_RUN_COMMAND") or "scrapy crawl news"
        ext = cls(crawler, db_url, command)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_downloaded, signal=signals.response_downloaded)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        if getattr(spider, "lock_refused", False):  # every site is being crawled by another run
            return
        self.sites = [s.id for s in getattr(spider, "sites", [])]
        with Storage.open(self.db_url) as storage:
            for run_id in storage.reap_stale_runs(self.stale_after):
                logger.warning("run %s was left running by a process that is gone: marked crashed", run_id)
            self.run_id = storage.start_run(self.command, self.sites)
            # name the run in this process's site locks, for whoever finds them taken
            storage.heartbeat_site_locks(self.sites, os.getpid(), HOSTNAME, self.run_id)
        spider.run_id = self.run_id  # type: ignore[attr-defined]
        stats = self.crawler.stats
        assert stats is not None
        stats.set_value("provnews/run_id", self.run_id)
        self.loop = task.LoopingCall(self.save_progress)
        self.loop.start(self.save_interval, now=False)

    def response_downloaded(self, response: Response, request: Request, spider: Spider | None = None) -> None:
        site_id = request.meta.get("site_id")
        if site_id and self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"provnews/site/{site_id}/pages")

    def save_progress(self) -> None:
        if self.run_id is None or self.crawler.stats is None:
            return
        try:
            with Storage.open(self.db_url) as storage:
                storage.save_run_progress(
                    self.run_id, run_summary(self.crawler.stats.get_stats(), self.sites)
                )
        except Exception as exc:  # progress is a courtesy; the crawl goes on
            logger.warning("could not save the run's progress: %s", exc)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.run_id is None:
            return
        stats = self.crawler.stats
        assert stats is not None
        summary = run_summary(stats.get_stats(), self.sites)
        summary["finish_reason"] = reason
        with Storage.open(self.db_url) as storage:
            storage.finish_run(self.run_id, _OUTCOMES.get(reason, "failed"), summary)
        logger.info("Run %s %s: %s", self.run_id, reason, summary)


def run_summary(stats: dict[str, Any], sites: list[str] | None = None) -> dict[str, Any]:
    """The counts kept with a run: pages, new and updated articles, drops by reason, errors by kind,
    and the same per site."""
    dropped = {k.split("/")[-1]: v for k, v in stats.items() if k.startswith("provnews/dropped/")}
    # Requests that failed for good (after retries), by HTTP status or exception kind.
    errors = {
        k.removeprefix("provnews/errors/"): v for k, v in stats.items() if k.startswith("provnews/errors/")
    }
    per_site = {}
    for site_id in sites or []:
        prefix = f"provnews/site/{site_id}/"
        per_site[site_id] = {
            name: stats.get(prefix + name, 0) for name in ("pages", "new", "updated", "not_modified")
        }
    urls = {k.rsplit("/", 1)[-1]: v for k, v in stats.items() if k.startswith("provnews/urls/")}
    return {
        "pages_fetched": stats.get("downloader/response_count", 0),
        "articles_new": stats.get("provnews/store/new", 0),
        "articles_updated": stats.get("provnews/store/updated", 0),
        "articles_unchanged": stats.get("provnews/store/unchanged", 0),
        "extraction_fallbacks": stats.get("provnews/extract/fallback", 0),
        "not_modified": stats.get("provnews/conditional/not_modified", 0),
        "pending_resumed": stats.get("provnews/discovery/articles_pending", 0),
        "robots_denied": stats.get("robotstxt/forbidden", 0)
        + stats.get("provnews/robots/denied_unreachable", 0),
        "retry_after": sum(v for k, v in stats.items() if k.startswith("provnews/retry/retry_after/")),
        "sites_skipped_locked": stats.get("provnews/lock/skipped", 0),
        "urls": urls,
        "discovery_limits": {
            k.rsplit("/", 1)[-1]: v for k, v in stats.items() if k.startswith("provnews/discovery/limit/")
        },
        "dropped": dropped,
        "errors": errors,
        "sites": per_site,
        "finish_reason": stats.get("finish_reason"),
    }
