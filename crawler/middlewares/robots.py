"""robots.txt as RFC 9309 says, where Scrapy's RobotsTxtMiddleware differs:

- 4xx (404 among them) means "unavailable": crawl without restriction (Scrapy would parse the body
  of an error page as rules);
- 5xx, 429 or no answer at all (timeout, refused connection) means "unreachable": disallow everything
  for this run (Scrapy allows everything); the URLs stay pending for a later run;
- Crawl-delay is honoured by raising the site's download delay, capped at PROVNEWS_MAX_CRAWL_DELAY;
- requests that wait together for the same robots.txt all get its rules (Scrapy 2.19 on the asyncio
  reactor hands them to the first waiter only: `Deferred.asFuture` turns the shared Deferred's result
  into None, which Scrapy reads as "no robots.txt, allow everything").

- a host that does not answer (DNS, refused, timeout) is logged in one line, not with a traceback:
  the run reports it once per site.

Denied requests carry `meta["provnews_robots"]` ("disallowed" or "unreachable", with the reason in
`meta["provnews_robots_why"]`) so the spider can tell a rule from an outage.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.accounting import NETWORK_REASONS, failure_reason

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)


class DisallowAll(RobotParser):
    """The rules of an unreachable robots.txt: nothing may be fetched."""

    def __init__(self, why: str) -> None:
        self.why = why

    @classmethod
    def from_crawler(cls, crawler: Crawler, robotstxt_body: bytes) -> DisallowAll:
        return cls("unreachable")

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


class Rfc9309RobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.max_crawl_delay = crawler.settings.getfloat("PROVNEWS_MAX_CRAWL_DELAY", 60.0)
        self._delayed: set[str] = set()

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            mine: Deferred[RobotParser | None] = Deferred()

            def relay(result: Any) -> Any:
                mine.callback(result)
                return result  # the shared Deferred keeps its result for the next waiter

            pending.addBoth(relay)
            return await maybe_deferred_to_future(mine)
        netloc = urlparse_cached(request).netloc
        known = self._parsers.get(netloc, pending)
        if netloc in self._parsers and not isinstance(known, Deferred):
            return known
        # The first request for this host fetches its robots.txt (as Scrapy's own middleware does,
        # except that a host that does not answer is an expected outage: no traceback).
        self._parsers[netloc] = Deferred()
        robots_request = Request(
            f"{urlparse_cached(request).scheme}://{netloc}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        try:
            assert self.crawler.engine is not None
            response = await self.crawler.engine.download_async(robots_request)
            await self._parse_robots(response, netloc, request)
        except Exception as exc:
            if not isinstance(exc, IgnoreRequest) and failure_reason(exc) not in NETWORK_REASONS:
                logger.error("robots.txt of %s: unexpected error", netloc, exc_info=True)
            self._robots_error(exc, netloc)
        self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        status = response.status
        if status >= 500 or status == 429:
            self._stats.inc_value("provnews/robots/unreachable")
            logger.info("robots.txt of %s answered HTTP %s: fetching nothing there for now", netloc, status)
            self._resolve(netloc, DisallowAll(f"http_{status}"))
            return
        if 400 <= status < 500:
            self._stats.inc_value("provnews/robots/unavailable")
            response = response.replace(body=b"")  # no rules: everything allowed
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        self._stats.inc_value("provnews/robots/unreachable")
        logger.info("robots.txt of %s unreachable (%s): fetching nothing there for now", netloc, exc)
        self._resolve(netloc, DisallowAll(failure_reason(exc)))

    def _resolve(self, netloc: str, parser: RobotParser) -> None:
        pending = self._parsers.get(netloc)
        self._parsers[netloc] = parser
        if isinstance(pending, Deferred):
            pending.callback(parser)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        if isinstance(rp, DisallowAll):
            request.meta["provnews_robots"] = "unreachable"
            request.meta["provnews_robots_why"] = rp.why
            self._stats.inc_value("provnews/robots/denied_unreachable")
            raise IgnoreRequest(f"robots.txt unreachable ({rp.why}): not fetching for now")
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            request.meta["provnews_robots"] = "disallowed"
            raise
        if rp is not None:
            self._apply_crawl_delay(rp, request)

    def _apply_crawl_delay(self, rp: RobotParser, request: Request) -> None:
        slot_key = request.meta.get("download_slot") or urlparse_cached(request).netloc
        if slot_key in self._delayed:
            return
        self._delayed.add(slot_key)
        inner: Any = getattr(rp, "rp", None)  # Protego's parser
        agent = self._robotstxt_useragent or self._default_useragent
        try:
            delay = inner.crawl_delay(agent) if inner is not None else None
        except Exception:  # an odd Crawl-delay value is no reason to stop
            delay = None
        if not delay:
            return
        delay = min(float(delay), self.max_crawl_delay)
        engine = self.crawler.engine
        assert engine is not None
        downloader = engine.downloader
        settings = downloader.per_slot_settings.setdefault(slot_key, {})
        if delay > float(settings.get("delay", 0)):
            settings["delay"] = delay
            slot = downloader.slots.get(slot_key)
            if slot is not None:
                slot.delay = max(slot.delay, delay)
            self._stats.set_value(f"provnews/robots/crawl_delay/{slot_key}", delay)
            logger.info("%s: robots.txt Crawl-delay %.1f s honoured", slot_key, delay)
