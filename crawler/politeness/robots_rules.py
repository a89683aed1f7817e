"""The ROBOTSTXT_PARSER of provnews: Protego's rules, read as RFC 9309 says.

- 2xx (and whatever else Scrapy hands over as an answer): the file's rules, and its Crawl-delay;
- 4xx, 404 among them, "unavailable": no rules, everything allowed (Scrapy would read the body of an
  error page as rules);
- 5xx, 429 or no answer at all (timeout, refused connection), "unreachable": nothing allowed in this
  run (Scrapy allows everything); the URLs stay pending for a later run.

Scrapy gives a RobotParser the body only, so the answer's status reaches the parser through the
`robots_parsed` signal, before any request is checked against it
(`crawler.middlewares.robots.Rfc9309RobotsTxtMiddleware` calls `settle`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.robotstxt import ProtegoRobotParser, RobotParser

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

RULES, UNAVAILABLE, UNREACHABLE = "rules", "unavailable", "unreachable"


class Rfc9309RobotParser(RobotParser):
    def __init__(self, rules: RobotParser) -> None:
        self.rules = rules
        self.state = RULES
        self.why: str | None = None  # the answer that was no file: http_503, timeout, ...

    @classmethod
    def from_crawler(cls, crawler: Crawler, robotstxt_body: bytes) -> Rfc9309RobotParser:
        return cls(ProtegoRobotParser.from_crawler(crawler, robotstxt_body))

    def settle(self, state: str, why: str | None = None) -> None:
        """What robots.txt answered: RULES, UNAVAILABLE or UNREACHABLE, and why."""
        if state not in (RULES, UNAVAILABLE, UNREACHABLE):
            raise ValueError(f"unknown robots.txt state: {state!r}")
        self.state, self.why = state, why

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        if self.state == UNREACHABLE:
            return False
        return self.state == UNAVAILABLE or self.rules.allowed(url, user_agent)

    def crawl_delay(self, user_agent: str | bytes) -> float | None:
        if self.state != RULES:
            return None
        try:
            delay = self.rules.crawl_delay(user_agent)
        except (TypeError, ValueError):  # an odd Crawl-delay value is no reason to stop
            return None
        return float(delay) if delay else None
