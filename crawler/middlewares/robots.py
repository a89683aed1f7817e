"""robots.txt as RFC 9309 says, beside Scrapy's RobotsTxtMiddleware (which fetches robots.txt and checks
each request against the ROBOTSTXT_PARSER, `crawler.politeness.robots_rules.Rfc9309RobotParser`). This
middleware:

- reads the answer to each robots.txt request (after the retries): 4xx "unavailable", 5xx/429
  "unreachable", and tells the parser through the `robots_parsed` signal;
- turns a robots.txt request that got no answer at all (timeout, refused connection) into an empty
  answer, so that Scrapy builds a parser (that allows nothing) instead of allowing everything; such a
  host is logged in one line, not with a traceback: the run reports it once per site;
- honours Crawl-delay by raising the site's download delay, capped at PROVNEWS_MAX_CRAWL_DELAY;
- marks each request robots.txt denied: `meta["provnews_robots"]` is "disallowed" or "unreachable"
  (the reason in `meta["provnews_robots_why"]`), so the spider can tell a rule from an outage.

Its priority must sit between Scrapy's RobotsTxtMiddleware and the retry middleware: its
`process_request` runs for requests robots.txt allowed, its `process_response` sees a robots.txt answer
once the retries are spent.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object

from provnews.crawler.politeness.robots_rules import UNAVAILABLE, UNREACHABLE, Rfc9309RobotParser
from provnews.crawler.politeness.scrapy_private import raise_slot_delay
from provnews.crawler.runs.accounting import NETWORK_REASONS, failure_reason

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

NO_ANSWER = "provnews_robots_no_answer"  # the flag of the empty answer standing for no answer


class Rfc9309RobotsTxtMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        parser = load_object(crawler.settings["ROBOTSTXT_PARSER"])
        if not (isinstance(parser, type) and issubclass(parser, Rfc9309RobotParser)):
            raise NotConfigured(f"ROBOTSTXT_PARSER {parser!r} does not read robots.txt as RFC 9309 says")
        self.crawler = crawler
        self.max_crawl_delay = crawler.settings.getfloat("PROVNEWS_MAX_CRAWL_DELAY", 60.0)
        self.agent: str = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get("USER_AGENT")
        self.answers: dict[
            str, tuple[str, str | None]
        ] = {}  # host -> state and why of a robots.txt that is no file
        self.parsers: dict[str, Rfc9309RobotParser] = {}  # host -> its rules
        self.delayed: set[str] = set()  # download slots whose Crawl-delay is applied
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Rfc9309RobotsTxtMiddleware:
        return cls(crawler)

    @property
    def stats(self) -> StatsCollector:
        assert self.crawler.stats is not None
        return self.crawler.stats

    @staticmethod
    def robots_host(request: Request) -> str | None:
        """The host whose robots.txt the request fetches for Scrapy's middleware (the first URL of its
        redirects), None for any other request."""
        if request.callback is not NO_CALLBACK or not request.meta.get("dont_obey_robotstxt"):
            return None
        first = urlsplit(request.meta.get("redirect_urls", [request.url])[0])
        return first.netloc if first.path == "/robots.txt" else None

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        if not isinstance(robotparser, Rfc9309RobotParser):
            return  # another ROBOTSTXT_PARSER: its own semantics
        host = urlparse_cached(request).netloc
        state, why = self.answers.pop(host, (robotparser.state, robotparser.why))
        robotparser.settle(state, why)
        self.parsers[host] = robotparser

    def process_request(self, request: Request) -> None:
        """Robots.txt allowed the request: its Crawl-delay holds for the request's download slot."""
        parser = self.parsers.get(urlparse_cached(request).netloc)
        slot = request.meta.get("download_slot") or urlparse_cached(request).netloc
        if parser is None or slot in self.delayed:
            return
        self.delayed.add(slot)
        delay = parser.crawl_delay(self.agent)
        if not delay:
            return
        delay = min(delay, self.max_crawl_delay)
        if raise_slot_delay(self.crawler, slot, delay):
            self.stats.set_value(f"provnews/robots/crawl_delay/{slot}", delay)
            logger.info("%s: robots.txt Crawl-delay %.1f s honoured", slot, delay)

    def process_response(self, request: Request, response: Response) -> Response:
        host = self.robots_host(request)
        if host is None or NO_ANSWER in response.flags:
            return response
        status = response.status
        if status >= 500 or status == 429:
            self.stats.inc_value("provnews/robots/unreachable")
            logger.info("robots.txt of %s answered HTTP %s: fetching nothing there for now", host, status)
            self.answers[host] = (UNREACHABLE, f"http_{status}")
        elif 400 <= status < 500:
            self.stats.inc_value("provnews/robots/unavailable")
            self.answers[host] = (UNAVAILABLE, f"http_{status}")
        else:
            self.answers.pop(host, None)
        return response

    def process_exception(self, request: Request, exception: Exception) -> Response | None:
        host = self.robots_host(request)
        if host is not None:
            return self.no_answer(request, host, exception)
        if isinstance(exception, IgnoreRequest):
            self.mark_denied(request)
        return None

    def no_answer(self, request: Request, host: str, exc: Exception) -> Response:
        reason = failure_reason(exc)
        if not isinstance(exc, IgnoreRequest) and reason not in NETWORK_REASONS:
            logger.error("robots.txt of %s: unexpected error", host, exc_info=exc)
        self.stats.inc_value("provnews/robots/unreachable")
        logger.info("robots.txt of %s unreachable (%s): fetching nothing there for now", host, exc)
        self.answers[host] = (UNREACHABLE, reason)
        return Response(request.url, status=200, flags=[NO_ANSWER], request=request)

    def mark_denied(self, request: Request) -> None:
        """Say why, when it was robots.txt that refused the request (any component may ignore one)."""
        parser = self.parsers.get(urlparse_cached(request).netloc)
        if parser is None or request.meta.get("dont_obey_robotstxt"):
            return
        # the agent Scrapy's middleware checked it for
        agent = self.crawler.settings.get("ROBOTSTXT_USER_AGENT") or request.headers.get(b"User-Agent")
        if parser.allowed(request.url, agent or self.agent):
            return
        if parser.state == UNREACHABLE:
            request.meta["provnews_robots"] = "unreachable"
            request.meta["provnews_robots_why"] = parser.why
            self.stats.inc_value("provnews/robots/denied_unreachable")
        else:
            request.meta["provnews_robots"] = "disallowed"
