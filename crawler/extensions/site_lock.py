"""One crawl per site at a time, across processes and hosts: lock rows in the database.

At spider open each site is locked for this process (pid, host); a site whose lock is held by a live
run is skipped with a warning naming the holder, and when every site is held the spider closes at once
with reason "locked" (`provnews crawl` then exits with status 3). A lock whose holder died (pid gone on
this host, or no heartbeat for PROVNEWS_LOCK_STALE seconds) is taken over, so a crash leaves no lock
behind for long. The heartbeat runs every PROVNEWS_LOCK_HEARTBEAT seconds; locks go at spider close,
or as soon as a site is stopped within the run (`crawler.site_stop`, e.g. its time budget is used up),
so that the next scheduled run may take it.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured
from twisted.internet import task

from crawler.site_stop import site_stopped
from pipelines.disk import is_disk_full
from pipelines.locks import HOSTNAME
from pipelines.storage import Storage

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.spiders import Spider

logger = logging.getLogger(__name__)


class SiteLock:
    def __init__(self, crawler: Crawler, db_url: str, stale_after: float, interval: float) -> None:
        self.crawler = crawler
        self.db_url = db_url
        self.stale_after = stale_after
        self.interval = interval
        self.pid = os.getpid()
        self.held: list[str] = []
        self.storage: Storage | None = None
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteLock:
        db_url = crawler.settings.get("PROVNEWS_DB_URL")
        if not db_url or not crawler.settings.getbool("PROVNEWS_LOCK", True):
            raise NotConfigured("site locks are off")
        ext = cls(
            crawler,
            db_url,
            crawler.settings.getfloat("PROVNEWS_LOCK_STALE", 600.0),
            crawler.settings.getfloat("PROVNEWS_LOCK_HEARTBEAT", 30.0),
        )
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.site_stopped, signal=site_stopped)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        sites: list[Any] = getattr(spider, "sites", [])
        self.storage = Storage.open(self.db_url)
        acquired, refused, stale = self.storage.acquire_site_locks(
            [s.id for s in sites], self.pid, HOSTNAME, self.stale_after
        )
        stats = self.crawler.stats
        assert stats is not None
        for site_id, holder in stale.items():
            logger.warning(
                "%s: took over the lock left by a run that is gone (%s)", site_id, holder.describe()
            )
            stats.inc_value("provnews/lock/taken_over")
        locked_out = {site_id: holder.describe() for site_id, holder in refused.items()}
        for site_id, described in locked_out.items():
            logger.warning("%s: skipped, another crawl holds it (%s)", site_id, described)
            stats.inc_value("provnews/lock/skipped")
            stats.set_value(f"provnews/lock/held_by/{site_id}", described)
        spider.locked_out = locked_out  # type: ignore[attr-defined]
        spider.sites = [s for s in sites if s.id in acquired]  # type: ignore[attr-defined]
        self.held = acquired
        if not acquired and sites:
            spider.lock_refused = True  # type: ignore[attr-defined]
            raise CloseSpider("locked")
        self.loop = task.LoopingCall(self.heartbeat)
        self.loop.start(self.interval, now=False)

    def heartbeat(self) -> None:
        if self.storage is None or not self.held:
            return
        stats = self.crawler.stats
        run_id = stats.get_value("provnews/run_id") if stats is not None else None
        try:
            self.storage.heartbeat_site_locks(self.held, self.pid, HOSTNAME, run_id)
        except Exception as exc:  # a busy database must not end the crawl; the next beat will do
            logger.warning("lock heartbeat failed: %s", exc)

    def site_stopped(self, site_id: str, reason: str) -> None:
        if self.storage is None or site_id not in self.held:
            return
        self.held.remove(site_id)
        try:
            self.storage.release_site_locks([site_id], self.pid, HOSTNAME)
        except Exception as exc:  # the lock then goes at spider close, or is taken over once stale
            logger.warning("%s: could not release its lock (%s): %s", site_id, reason, exc)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.storage is None:
            return
        try:
            if self.held:
                self.storage.release_site_locks(self.held, self.pid, HOSTNAME)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            # the locks name this process: once it is gone, the next run takes them over
            logger.warning("could not release the site locks (disk full): the next run takes them over")
        finally:
            self.storage.close()
            self.storage = None
