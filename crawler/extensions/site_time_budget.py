"""A time budget per site and run (PROVNEWS_SITE_TIME_BUDGET seconds, from the site's first request):
a site that is slow, or endless (a sitemap-index chain, a listing that never ends), stops there, so it
neither holds the run open nor keeps its lock from the next scheduled run. Its requests not yet made
fail with `SiteStopped` and their URLs stay pending for the next run, counted as
`provnews/pending/site_time_budget`; the site gets `provnews/site/<id>/stopped = site_time_budget`."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from provnews.crawler.runs.site_stop import site_stopped

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)
REASON = "site_time_budget"


class SiteTimeBudget:
    def __init__(self, crawler: Crawler, budget: float) -> None:
        self.crawler = crawler
        self.budget = budget
        self.started: dict[str, float] = {}  # site id -> monotonic time of its first request
        self.stopped: set[str] = set()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteTimeBudget:
        budget = crawler.settings.getfloat("PROVNEWS_SITE_TIME_BUDGET", 0.0)
        if budget <= 0:
            raise NotConfigured  # no message: off is the default, Scrapy would warn on every run
        ext = cls(crawler, budget)
        crawler.signals.connect(ext.request_reached_downloader, signal=signals.request_reached_downloader)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        self.loop = task.LoopingCall(self.check)
        self.loop.start(min(1.0, self.budget / 4), now=False)

    def spider_closed(self, spider: Any) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def request_reached_downloader(self, request: Request, spider: Any = None) -> None:
        site_id = request.meta.get("site_id")
        if site_id:
            self.started.setdefault(site_id, time.monotonic())

    def check(self) -> None:
        now = time.monotonic()
        for site_id, started in self.started.items():
            if site_id not in self.stopped and now - started > self.budget:
                self.stop(site_id)

    def stop(self, site_id: str) -> None:
        self.stopped.add(site_id)
        logger.warning(
            "%s: time budget of %g s used up; its remaining URLs wait for the next run", site_id, self.budget
        )
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(f"provnews/site/{site_id}/stopped", REASON)
        self.crawler.signals.send_catch_log(site_stopped, site_id=site_id, reason=REASON)
