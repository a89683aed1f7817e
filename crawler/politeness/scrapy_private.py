"""Every use of Scrapy's private parts in provnews, in this one module: each works around something
Scrapy 2.19 offers no public route for, named with the upstream issue where there is one.
`tests/test_public_api.py` fails if a private Scrapy, Twisted or Protego attribute is used anywhere else
in `crawler/`, `pipelines/` or `storage/`; the rest of the crawl engine uses settings, signals, `RobotParser`,
`get_retry_request` and downloader middlewares only.

- `StoppingDownloader` (the DOWNLOADER setting): overrides `Downloader._process_queue` and
  `_wait_for_download`, reads `Slot.queue`/`transferring`.
  Stopping: the engine hands up to CONCURRENT_REQUESTS requests to the downloader, which keeps those of
  a site in its slot until the site's delay lets each go. On SIGTERM or Ctrl-C Scrapy's engine stops
  taking new requests but waits for all of those, so a stop took up to 16 times a site's delay (72 s at
  4 s, measured); scrapy/scrapy#2969 and #4749 ask for a stop that drops them (#7455 adds one upstream,
  not in 2.19). Here, once the engine is stopping, a slot's queued requests fail with `IgnoreRequest`
  instead of being fetched: the spider leaves their URLs as they were, for the next run, and only the
  transfers already under way are finished. The same holds for one site stopped while the crawl goes
  on (`crawler.runs.site_stop`): from the `site_stopped` signal on, its queued and later requests fail with
  `SiteStopped`, counted as `provnews/pending/<reason>` for articles (per site too) and
  `provnews/discovery/not_fetched/<reason>` for discovery pages.
  Concurrency (no upstream issue found): Scrapy's slot loop hands a queued request to an asyncio task
  and counts it as transferring only once that task runs, so with no delay between requests (registry
  `delay = 0`, AutoThrottle off) one pass of the loop sent every queued request of a site at once (7 to
  12 against a site with 50 ms latency, measured). Here each pass sees only as many queued requests as
  the slot has room for, counting those handed out whose transfer has not started yet.
- `SharedRobotsTxtMiddleware`: Scrapy's RobotsTxtMiddleware, except that requests waiting together for
  the same robots.txt all get its rules. Since scrapy/scrapy#6802 every waiter awaits the one shared
  Deferred with `maybe_deferred_to_future`; on the asyncio reactor `Deferred.asFuture` turns its result
  into None for the next waiter, which Scrapy reads as "no robots.txt, allow everything" (the PR notes
  that path is untested). And a robots.txt whose fetch raised past the middlewares' `process_exception`
  (a body over DOWNLOAD_MAXSIZE after decompression) is unreachable, where Scrapy allows everything
  (no upstream issue found). Reads `RobotsTxtMiddleware._parsers`, overrides `_robots_error`.
- Download slot delays (`raise_slot_delay`, `hold_slot`, `keep_slot_floor`): a slot's delay cannot be
  changed at run time through settings or signals (scrapy/scrapy#319; per-request delays, #802, are not
  merged), nor can AutoThrottle keep a per-slot floor (scrapy/scrapy#6246, open), so a robots.txt
  Crawl-delay, a Retry-After pause and the registry floor under AutoThrottle set `Slot.delay`,
  `Slot.lastseen` and `Downloader.per_slot_settings` here.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from scrapy import Request, signals
from scrapy.core.downloader import Downloader, Slot
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from provnews.crawler.politeness.robots_rules import UNREACHABLE, Rfc9309RobotParser
from provnews.crawler.runs.accounting import failure_reason, over_size_limit
from provnews.crawler.runs.site_stop import SiteStopped, site_stopped

logger = logging.getLogger(__name__)


class StoppingDownloader(Downloader):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.stopped_sites: dict[str, str] = {}  # site id -> reason
        crawler.signals.connect(self._site_stopped, signal=site_stopped)
        # requests taken from a slot's queue whose transfer has not started yet, per slot (by identity)
        self._handed_out: Counter[int] = Counter()

    def _site_stopped(self, site_id: str, reason: str) -> None:
        self.stopped_sites[site_id] = reason
        for slot in list(self.slots.values()):
            self._drop_stopped(slot)

    def _drop_stopped(self, slot: Slot) -> None:
        """Fail the queued requests of stopped sites."""
        if not self.stopped_sites or not slot.queue:
            return
        kept = []
        stats = self.crawler.stats
        while slot.queue:
            request, deferred = slot.queue.popleft()
            site_id = str(request.meta.get("site_id", ""))
            reason = self.stopped_sites.get(site_id)
            if reason is None:
                kept.append((request, deferred))
                continue
            if stats is not None:
                if request.meta.get("provnews_kind") == "article":
                    stats.inc_value(f"provnews/pending/{reason}")
                    stats.inc_value(f"provnews/site/{site_id}/pending/{reason}")
                else:
                    stats.inc_value(f"provnews/discovery/not_fetched/{reason}")
            deferred.errback(Failure(SiteStopped(site_id, reason)))
        slot.queue.extend(kept)

    def _process_queue(self, slot: Slot) -> None:
        self._drop_stopped(slot)
        engine = self.crawler.engine
        if engine is not None and not engine.running and slot.queue:
            self._drop_queued(slot)
            return
        room = max(0, slot.concurrency - len(slot.transferring) - self._handed_out[id(slot)])
        held = []
        while len(slot.queue) > room:  # hidden from this pass, put back in order afterwards
            held.append(slot.queue.pop())
        queued = len(slot.queue)
        try:
            super()._process_queue(slot)
        finally:
            self._handed_out[id(slot)] += queued - len(slot.queue)
            slot.queue.extend(reversed(held))

    async def _wait_for_download(self, slot: Slot, request: Request, queue_dfd: Deferred[Response]) -> None:
        # The transfer starts now (Scrapy's _download marks it transferring before its first await).
        self._handed_out[id(slot)] -= 1
        if self._handed_out[id(slot)] <= 0:
            del self._handed_out[id(slot)]
        await super()._wait_for_download(slot, request, queue_dfd)

    def _drop_queued(self, slot: Slot) -> None:
        dropped = len(slot.queue)
        while slot.queue:
            _request, deferred = slot.queue.popleft()
            deferred.errback(Failure(IgnoreRequest("the crawl is stopping")))
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("provnews/stop/requests_left", dropped)
        logger.info("stopping: %d queued request(s) left for the next run", dropped)


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        # Each waiter gets a Deferred of its own, fed from the shared one, which keeps its result.
        mine: Deferred[RobotParser | None] = Deferred()

        def relay(result: Any) -> Any:
            mine.callback(result)
            return result

        pending.addBoth(relay)
        return await maybe_deferred_to_future(mine)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        # Scrapy allows everything when fetching robots.txt raised past the middlewares'
        # process_exception (HttpCompressionMiddleware refusing a body over DOWNLOAD_MAXSIZE raises in
        # process_response); RFC 9309 calls that robots.txt unreachable: nothing is allowed.
        parser = build_from_crawler(self._parserimpl, self.crawler, b"")
        if isinstance(parser, Rfc9309RobotParser):
            parser.settle(UNREACHABLE, "page_too_large" if over_size_limit(exc) else failure_reason(exc))
        logger.info("robots.txt of %s unreachable (%s): fetching nothing there for now", netloc, exc)
        self._stats.inc_value("provnews/robots/unreachable")
        pending = self._parsers[netloc]
        self._parsers[netloc] = parser
        # announced like any robots.txt parsed (the handlers read the host of the request)
        self.crawler.signals.send_catch_log(
            signal=signals.robots_parsed, robotparser=parser, request=Request(f"http://{netloc}/robots.txt")
        )
        if isinstance(pending, Deferred):
            pending.callback(parser)


def _downloader(crawler: Crawler) -> Downloader | None:
    engine = crawler.engine
    return engine.downloader if engine is not None else None


def raise_slot_delay(crawler: Crawler, key: str, delay: float) -> bool:
    """Raise download slot `key`'s delay to `delay` seconds, for the slot now and if it is made again;
    False when its delay was that long already."""
    downloader = _downloader(crawler)
    if downloader is None:
        return False
    settings = downloader.per_slot_settings.setdefault(key, {})
    if delay <= float(settings.get("delay", 0)):
        return False
    settings["delay"] = delay
    slot = downloader.slots.get(key)
    if slot is not None:
        slot.delay = max(slot.delay, delay)
    return True


def keep_slot_floor(crawler: Crawler, key: str) -> None:
    """Keep slot `key`'s delay (as AutoThrottle set it) at least at its own delay: the registry's,
    raised by a robots.txt Crawl-delay."""
    downloader = _downloader(crawler)
    slot = downloader.slots.get(key) if downloader is not None else None
    if downloader is None or slot is None:
        return
    floor = float(downloader.per_slot_settings.get(key, {}).get("delay", 0))
    slot.delay = max(slot.delay, floor)


def hold_slot(crawler: Crawler, key: str, seconds: float) -> bool:
    """No request from download slot `key` before `seconds` from now; False when there is no such slot."""
    downloader = _downloader(crawler)
    slot = downloader.slots.get(key) if downloader is not None else None
    if slot is None or seconds <= 0:
        return False
    # The downloader holds a slot back while `delay - now + lastseen > 0`; a slot without delay is never
    # held, hence the tiny delay.
    slot.delay = max(slot.delay, 0.001)
    slot.lastseen = max(slot.lastseen, time.monotonic() + seconds)  # the downloader's clock
    return True
