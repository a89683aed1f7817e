"""The work queue of the crawl workers: sites are claimed, crawled and released one by one.

Any number of crawl processes (on one machine or many) pointed at one database divide the requested
sites between them (`storage.locks` keeps the claims). A process claims up to
PROVNEWS_SITES_PER_WORKER sites at spider open and crawls them at once; when a site is done (no request
of it under way, none of its article URLs waiting for its outcome, no URL left by earlier runs still to
take: `NewsSpider.site_busy`, `more_for`) its claim is released as completed and the next requested
site that nobody holds and nobody completed since this process started is claimed and its start
requests scheduled. The process ends when it holds nothing and nothing is left to claim.

A site held by a live worker is skipped with a warning naming it; when every site asked for is held
(or was completed within PROVNEWS_SITE_MIN_INTERVAL seconds), the spider closes at once with reason
"locked" (`provnews crawl` then exits with status 3). A claim
whose holder died (pid gone on this host, or no heartbeat for PROVNEWS_LOCK_STALE seconds) is taken
over by a worker with room for it, which resumes the site from the URL states in the database. The
heartbeat runs every PROVNEWS_LOCK_HEARTBEAT seconds and also looks for such claims. A site stopped
within the run (`crawler.runs.site_stop`, e.g. its time budget is used up) is released as completed at
once. At spider close what is still held is released (as completed only when the run finished, so
that another worker of the round takes up a site this one was stopped in).

On SQLite a second process finding claims of another live process is told that scale-out needs
PostgreSQL; the claims still keep the two off each other's sites.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured
from twisted.internet import task

from provnews.crawler.extensions.crawl_storage import CrawlStorage
from provnews.crawler.runs.accounting import PENDING
from provnews.crawler.runs.site_stop import site_stopped, store_now
from provnews.crawler.runs.storage_writer import Writer
from provnews.storage import HOSTNAME, Claimed, Storage, to_vn_iso, utcnow

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from provnews.crawler.sites.registry import Site

logger = logging.getLogger(__name__)

CHECK_INTERVAL = 1.0  # seconds between looks at whether a held site is done (counters in memory only)
COMPLETED_REASONS = ("finished", "closespider_itemcount")
SCALE_OUT_NOTICE = (
    "scale-out needs PostgreSQL: another crawl (%s) works on this SQLite database; this one takes only "
    "the sites nobody holds"
)


class SiteClaims:
    def __init__(
        self,
        crawler: Crawler,
        db_url: str,
        stale_after: float,
        interval: float,
        per_worker: int,
        min_interval: float = 0.0,
    ) -> None:
        self.crawler = crawler
        self.db_url = db_url
        self.stale_after = stale_after
        self.interval = interval
        self.per_worker = per_worker  # 0: every requested site at once
        self.pid = os.getpid()
        # A site completed (by any worker) since then is done for this process: since it started, or
        # PROVNEWS_SITE_MIN_INTERVAL seconds before, so that workers started a little apart (timers on
        # several machines) do not crawl again what another has just crawled.
        self.round_start: datetime = utcnow() - timedelta(seconds=max(0.0, min_interval))
        self.spider: Any = None
        self.held: list[str] = []
        self.finished: set[str] = set()  # released by this process, or completed by another this round
        self.refused: set[str] = set()  # seen held by another live worker (warned once)
        self.records: dict[str, dict[str, Any]] = {}  # site id -> its claim in this run
        self.storage: Storage | None = None
        self.writer: Writer | None = None
        self.loops: list[task.LoopingCall] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteClaims:
        db_url = crawler.settings.get("PROVNEWS_DB_URL")
        if not db_url or not crawler.settings.getbool("PROVNEWS_LOCK", True):
            raise NotConfigured("site claims are off")
        ext = cls(
            crawler,
            db_url,
            crawler.settings.getfloat("PROVNEWS_LOCK_STALE", 600.0),
            crawler.settings.getfloat("PROVNEWS_LOCK_HEARTBEAT", 30.0),
            max(0, crawler.settings.getint("PROVNEWS_SITES_PER_WORKER", 16)),
            crawler.settings.getfloat("PROVNEWS_SITE_MIN_INTERVAL", 0.0),
        )
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.site_stopped, signal=site_stopped)
        return ext

    # -- claiming ----------------------------------------------------------------------------------
    def spider_opened(self, spider: Any) -> None:
        self.spider = spider
        shared = self.crawler.get_extension(CrawlStorage)
        if shared is None:
            raise RuntimeError("site claims need the CrawlStorage extension")
        self.storage = shared.storage  # the crawl's: used until spider close, closed by CrawlStorage
        self.writer = shared.writer
        claimed = self.claim()
        self._notice_sqlite(claimed)
        stats = self.crawler.stats
        assert stats is not None
        for site_id, holder in claimed.refused.items():
            stats.set_value(f"provnews/lock/held_by/{site_id}", holder.describe())
        for site_id, holder in claimed.done_elsewhere.items():
            assert holder.completed_at is not None
            stats.set_value(f"provnews/lock/done_at/{site_id}", to_vn_iso(holder.completed_at))
        spider.locked_out = {site_id: h.describe() for site_id, h in claimed.refused.items()}
        spider.sites = [self.site(site_id) for site_id in claimed.claimed]
        stats.set_value("provnews/claims/sites", self.records)  # kept up to date in place
        if not claimed.claimed and spider.requested:
            spider.lock_refused = True
            raise CloseSpider("locked")
        self._loop(self.heartbeat, self.interval)
        self._loop(self.check, min(CHECK_INTERVAL, self.interval))

    def _loop(self, fn: Any, interval: float) -> None:
        loop = task.LoopingCall(fn)
        loop.start(interval, now=False)
        self.loops.append(loop)

    def site(self, site_id: str) -> Site:
        return next(s for s in self.spider.requested if s.id == site_id)

    def room(self) -> int | None:
        """How many more sites this process may hold (None: no limit)."""
        return None if self.per_worker == 0 else self.per_worker - len(self.held)

    def claim(self) -> Claimed:
        """Claim what there is room for among the requested sites not finished in this round."""
        room = self.room()
        candidates = [
            s.id for s in self.spider.requested if s.id not in self.held and s.id not in self.finished
        ]
        if not candidates or (room is not None and room <= 0) or self.storage is None:
            return Claimed()
        stats = self.crawler.stats
        assert stats is not None
        claimed = self.storage.claim_sites(
            candidates,
            self.pid,
            HOSTNAME,
            self.stale_after,
            limit=room,
            round_start=self.round_start,
            run_id=stats.get_value("provnews/run_id"),
        )
        now = to_vn_iso(utcnow())
        for site_id in claimed.claimed:
            self.held.append(site_id)
            self.records[site_id] = {"claimed_at": now}
            stats.inc_value("provnews/claims/claimed")
        for site_id, holder in claimed.taken_over.items():
            described = holder.describe()
            logger.warning("%s: took over the lock left by a run that is gone (%s)", site_id, described)
            self.records[site_id]["taken_over_from"] = described
            stats.inc_value("provnews/lock/taken_over")
        if claimed.taken_over:
            for run_id in self.storage.reap_stale_runs(self.stale_after):
                logger.warning("run %s was left running by a process that is gone: marked crashed", run_id)
        # Said once per site: as a warning when this process starts (someone else was there first),
        # then as information (a site another worker of the fleet claimed meanwhile).
        level = logging.INFO if self.loops else logging.WARNING
        for site_id, holder in claimed.refused.items():
            if site_id not in self.refused:
                self.refused.add(site_id)
                logger.log(level, "%s: skipped, another crawl holds it (%s)", site_id, holder.describe())
                stats.inc_value("provnews/lock/skipped")
        # completed by another worker since this one started: not this round's work any more
        self.finished.update(claimed.done_elsewhere)
        return claimed

    def _notice_sqlite(self, claimed: Claimed) -> None:
        if self.storage is None or self.storage.engine.dialect.name != "sqlite" or not claimed.refused:
            return
        holders = {f"pid {h.pid} on {h.hostname}" for h in claimed.refused.values()}
        logger.warning(SCALE_OUT_NOTICE, ", ".join(sorted(holders)))

    def begin(self, site_ids: list[str]) -> None:
        """Schedule the start requests of sites claimed while the run goes on."""
        engine = self.crawler.engine
        assert engine is not None
        for site_id in site_ids:
            logger.info("%s: claimed, crawling it", site_id)
            for request in self.spider.add_site(self.site(site_id)):
                engine.crawl(request)

    def claim_more(self) -> bool:
        """Claim and begin what there is room for; whether anything was claimed."""
        engine = self.crawler.engine
        if engine is None or not engine.running:  # a stopping crawl takes on nothing more
            return False
        claimed = self.claim().claimed
        self.begin(claimed)
        return bool(claimed)

    # -- done sites --------------------------------------------------------------------------------
    def check(self) -> None:
        """Release the held sites that are done (scheduling the next page of URLs earlier runs left,
        when there is one) and claim the next ones in their place."""
        if self.spider is None:
            return
        waiting_for_storage = False
        released = False
        for site_id in list(self.held):
            if self.spider.site_busy(site_id):
                spider = self.spider
                if not spider.work[site_id] and site_id not in spider.starting:
                    waiting_for_storage = True
                continue
            more = self.spider.more_for(self.site(site_id))
            if more:
                engine = self.crawler.engine
                assert engine is not None
                for request in more:
                    engine.crawl(request)
                continue
            self.release(site_id, completed=True, how="completed")
            released = True
        if waiting_for_storage:  # its articles are the last thing a site waits for: store them now
            self.crawler.signals.send_catch_log(store_now)
        if released:
            self.claim_more()

    def release(self, site_id: str, *, completed: bool, how: str) -> None:
        if site_id not in self.held:
            return
        self.held.remove(site_id)
        self.finished.add(site_id)
        record = self.records.setdefault(site_id, {})
        record |= {"released_at": to_vn_iso(utcnow()), "how": how}
        if self.storage is None:
            return
        try:
            self.storage.release_site_locks([site_id], self.pid, HOSTNAME, completed=completed)
        except Exception as exc:  # the claim then goes at spider close, or is taken over once stale
            logger.warning("%s: could not release its claim (%s): %s", site_id, how, exc)

    def site_stopped(self, site_id: str, reason: str) -> None:
        self.release(site_id, completed=True, how=f"stopped: {reason}")

    def spider_idle(self, spider: Any) -> None:
        engine = self.crawler.engine
        if engine is not None and engine.spider_is_idle():
            self._settle_idle()
        self.check()
        if not self.held:
            self.claim_more()
        if self.held:
            raise DontCloseSpider

    def _settle_idle(self) -> None:
        """The engine is idle: no request of any site is under way, whatever the counters say, and
        once what the store pipeline holds is written, an article URL of a held site still open will
        not be settled by anyone (it stays as it was, for the next run). So that no site waits for
        them for ever, those open now are settled once the writes under way (which settle theirs)
        are done; not those of requests made meanwhile (a site claimed, URLs resumed)."""
        self.spider.work.clear()
        self.crawler.signals.send_catch_log(store_now)
        left = {site_id: self.spider.ledger.open_urls(site_id) for site_id in self.held}
        if self.writer is None:
            self._settle_left(left)
        else:
            self.writer.drain().addCallback(lambda _: self._settle_left(left))

    def _settle_left(self, left: dict[str, list[str]]) -> None:
        ledger = self.spider.ledger
        for site_id, urls in left.items():
            n = sum(1 for url in urls if ledger.settle(url, PENDING, "stopped"))
            if n:
                logger.warning("%s: %d article URLs had no outcome when the crawl went idle", site_id, n)

    def heartbeat(self) -> None:
        if self.storage is None:
            return
        stats = self.crawler.stats
        run_id = stats.get_value("provnews/run_id") if stats is not None else None
        try:
            if self.held:
                beaten = self.storage.heartbeat_site_locks(self.held, self.pid, HOSTNAME, run_id)
                if beaten < len(self.held):
                    self._stop_lost()
            room = self.room()
            if room is None or room > 0:  # a claim left by a dead worker may be there to take over
                self.claim_more()
        except Exception as exc:  # a busy database must not end the crawl; the next beat will do
            logger.warning("claims heartbeat failed: %s", exc)

    def _stop_lost(self) -> None:
        """Claims taken over by another worker (this process went without heartbeat for longer than
        PROVNEWS_LOCK_STALE): the site is the other's now, so it stops here at once."""
        assert self.storage is not None
        mine = {h.site_id for h in self.storage.site_locks() if (h.pid, h.hostname) == (self.pid, HOSTNAME)}
        for site_id in [s for s in self.held if s not in mine]:
            logger.warning("%s: its claim was taken over by another worker: stopped here", site_id)
            self.held.remove(site_id)
            self.finished.add(site_id)
            self.records.setdefault(site_id, {}).update(released_at=to_vn_iso(utcnow()), how="lost")
            self.crawler.signals.send_catch_log(site_stopped, site_id=site_id, reason="claim_lost")

    def spider_closed(self, spider: Any, reason: str) -> None:
        for loop in self.loops:
            if loop.running:
                loop.stop()
        if self.storage is None:
            return
        # (a claim that cannot be released, the disk being full, names this process: once it is gone,
        # the next worker takes it over)
        completed = reason in COMPLETED_REASONS
        for site_id in list(self.held):
            self.release(site_id, completed=completed, how="completed" if completed else reason)
        self.storage = None  # (closed by CrawlStorage)
