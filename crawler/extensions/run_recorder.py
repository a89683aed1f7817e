"""Records each crawl as a row in crawl_runs: start, end, sites, counts and outcome.

Before a run starts, runs left "running" by a process that is gone are closed as failed ("crashed").
While a run goes on its counters are saved every PROVNEWS_RUN_SAVE_INTERVAL seconds, so a run that is
killed still tells how far it got."""

from __future__ import annotations

import logging
import os
from collections import Counter
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from provnews.crawler.extensions.crawl_storage import CrawlStorage
from provnews.crawler.runs.accounting import (
    CLASSES,
    PENDING,
    pending_reason,
    run_outcome,
    site_account,
    site_verdict,
    totals,
)
from provnews.storage import HOSTNAME, Storage, free_reserve, is_disk_full, make_reserve

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.spiders import Spider

logger = logging.getLogger(__name__)


class RunRecorder:
    def __init__(self, crawler: Crawler, db_url: str, command: str) -> None:
        self.crawler = crawler
        self.db_url = db_url
        self.storage: Storage | None = None  # the crawl's (CrawlStorage), from spider open
        self.command = command
        self.run_id: int | None = None
        self.spider: Spider | None = None
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
        self.spider = spider
        make_reserve(self.db_url)  # room to record the run's end should the disk fill up
        shared = self.crawler.get_extension(CrawlStorage)
        if shared is None:
            raise RuntimeError("the run recorder needs the CrawlStorage extension")
        self.storage = storage = shared.storage
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

    @property
    def sites(self) -> list[str]:
        """The sites of the run so far: a worker claims more as it goes (SiteClaims)."""
        return [s.id for s in getattr(self.spider, "sites", [])]

    def response_downloaded(self, response: Response, request: Request, spider: Spider | None = None) -> None:
        site_id = request.meta.get("site_id")
        if site_id and self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"provnews/site/{site_id}/pages")

    def save_progress(self) -> None:
        """The counters so far, on the reactor thread like the run row's start and end (a small
        write to crawl_runs, which the writer's batches never lock): the row names the sites claimed
        meanwhile within PROVNEWS_RUN_SAVE_INTERVAL, whatever the writer has queued."""
        if self.run_id is None or self.crawler.stats is None or self.storage is None:
            return
        try:
            sites = self.sites
            summary = run_summary(self.crawler.stats.get_stats(), sites)
            self.storage.save_run_progress(self.run_id, summary, sites)
        except Exception as exc:  # progress is a courtesy; the crawl goes on
            logger.warning("could not save the run's progress: %s", exc)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.run_id is None:
            return
        stats = self.crawler.stats
        assert stats is not None
        ledger = getattr(spider, "ledger", None)
        if ledger is not None:  # what is still open now was not taken up: left for the next run
            ledger.settle_open(PENDING, pending_reason(reason))
        sites = self.sites
        summary = run_summary({**stats.get_stats(), "finish_reason": reason}, sites)
        for site_id, account in summary["sites"].items():
            if account["status"] != "ok":  # one line per site, however many requests failed
                t = totals(account)
                sources = account["sources"]
                logger.warning(
                    "%s: failed: %s (%d of %d discovery requests failed; article URLs: %d met, %d failed)",
                    site_id,
                    account["reason"],
                    sum(sources["failed"].values()),
                    sources["ok"] + sum(sources["failed"].values()),
                    t["met"],
                    t["failed"],
                )
        # (the store pipeline has written and counted everything by now: it waits for its writes)
        storage = self.storage
        assert storage is not None
        try:
            storage.finish_run(self.run_id, summary["outcome"], summary, sites)
        except Exception as exc:
            if not is_disk_full(exc) or not free_reserve(self.db_url):
                raise
            # the disk is full: the reserve's room is enough for the run's record
            storage.finish_run(self.run_id, summary["outcome"], summary, sites)
        logger.info("Run %s %s: %s", self.run_id, summary["outcome"], summary)


def run_summary(stats: dict[str, Any], sites: list[str] | None = None) -> dict[str, Any]:
    """The counts kept with a run: pages, articles, drops by reason, errors by kind, and per site the
    accounts of its article URLs (met = stored + dropped + failed + pending, see `crawler.runs.accounting`)
    with the verdict; `outcome` is the run's, from those verdicts and Scrapy's finish reason."""
    dropped = {k.split("/")[-1]: v for k, v in stats.items() if k.startswith("provnews/dropped/")}
    # Requests that failed for good (after retries), by reason (http_503, dns, timeout...).
    errors = {
        k.removeprefix("provnews/errors/"): v for k, v in stats.items() if k.startswith("provnews/errors/")
    }
    per_site = {}
    for site_id in sites or []:
        prefix = f"provnews/site/{site_id}/"
        account = {name: stats.get(prefix + name, 0) for name in ("pages", "new", "updated", "not_modified")}
        account |= site_account(stats, site_id)
        account["status"], account["reason"] = site_verdict(account)
        per_site[site_id] = account
    urls = {k.rsplit("/", 1)[-1]: v for k, v in stats.items() if k.startswith("provnews/urls/")}
    outcomes = {"met": sum(a["met"] for a in per_site.values())} | {
        cls: sum(totals(a)[cls] for a in per_site.values()) for cls in CLASSES
    }
    by_reason: dict[str, Counter[str]] = {cls: Counter() for cls in CLASSES}
    for account in per_site.values():
        for cls in CLASSES:
            by_reason[cls].update(account[cls])
    failure = stats.get("provnews/failure")
    finish_reason = stats.get("finish_reason")
    return {
        "outcome": run_outcome(finish_reason, [a["status"] for a in per_site.values()], failure),
        "pages_fetched": stats.get("downloader/response_count", 0),
        "articles_new": stats.get("provnews/store/new", 0),
        "articles_updated": stats.get("provnews/store/updated", 0),
        "articles_unchanged": stats.get("provnews/store/unchanged", 0),
        "already_stored": stats.get("provnews/discovery/skipped_stored", 0),
        "extraction_fallbacks": stats.get("provnews/extract/fallback", 0),
        "not_modified": stats.get("provnews/conditional/not_modified", 0),
        "pending_resumed": stats.get("provnews/discovery/articles_pending", 0),
        "robots_denied": stats.get("robotstxt/forbidden", 0),
        "robots_unreachable_denied": stats.get("provnews/robots/denied_unreachable", 0),
        "retry_after": sum(v for k, v in stats.items() if k.startswith("provnews/retry/retry_after/")),
        "retry_after_left": sum(
            v for k, v in stats.items() if k.startswith("provnews/retry/retry_after_too_long/")
        ),
        "sites_skipped_locked": stats.get("provnews/lock/skipped", 0),
        # per site crawled: when this worker claimed and released it, and from whom it took it over
        "claims": dict(stats.get("provnews/claims/sites") or {}),
        "outcomes": outcomes,
        "outcome_reasons": {cls: dict(sorted(c.items())) for cls, c in by_reason.items()},
        "urls": urls,
        "discovery_limits": {
            k.rsplit("/", 1)[-1]: v for k, v in stats.items() if k.startswith("provnews/discovery/limit/")
        },
        "dropped": dropped,
        "errors": errors,
        "sites": per_site,
        "finish_reason": finish_reason,
        "failure": failure,
    }
