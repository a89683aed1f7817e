"""The ROBOTSTXT_PARSER (`crawler.politeness.robots_rules.Rfc9309RobotParser`) on any robots.txt body:
Protego's verdicts while robots.txt gave rules, everything allowed when it was unavailable (4xx), nothing when
it was unreachable; an odd body or Crawl-delay never raises. The crawl-level behaviour (statuses, timeouts,
requests waiting together) is tested end to end in tests/test_politeness.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.exceptions import NotConfigured
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.test import get_crawler

from provnews.crawler.middlewares.robots import Rfc9309RobotsTxtMiddleware
from provnews.crawler.politeness.robots_rules import RULES, UNAVAILABLE, UNREACHABLE, Rfc9309RobotParser

CRAWLER = get_crawler(settings_dict={})
AGENT = "provnews"
LINES = st.sampled_from(
    [
        "User-agent: *",
        "User-agent: provnews",
        "User-agent: other",
        "Disallow: /",
        "Disallow: /private/",
        "Allow: /private/ok",
        "Crawl-delay: 2",
        "Crawl-delay: 0.5",
        "Crawl-delay: abc",
        "Crawl-delay: -1",
        "Crawl-delay: 1e400",
        "Sitemap: https://baotest.vn/sitemap.xml",
        "<html><body>not found</body></html>",
        "",
    ]
)
BODIES = st.one_of(st.lists(LINES, max_size=12).map("\n".join).map(str.encode), st.binary(max_size=300))
PATHS = st.sampled_from(["/", "/private/", "/private/ok", "/tin-1.html", "/a?b=c"])


@settings(max_examples=300)
@given(body=BODIES, path=PATHS)
def test_the_rules_are_protegos_while_robots_txt_gave_rules(body: bytes, path: str) -> None:
    parser = Rfc9309RobotParser.from_crawler(CRAWLER, body)
    url = "https://baotest.vn" + path
    assert parser.state == RULES
    assert parser.allowed(url, AGENT) == ProtegoRobotParser.from_crawler(CRAWLER, body).allowed(url, AGENT)
    delay = parser.crawl_delay(AGENT)
    assert delay is None or delay > 0


@settings(max_examples=100)
@given(body=BODIES, path=PATHS)
def test_unavailable_allows_everything_and_unreachable_nothing(body: bytes, path: str) -> None:
    url = "https://baotest.vn" + path
    unavailable = Rfc9309RobotParser.from_crawler(CRAWLER, body)
    unavailable.settle(UNAVAILABLE, "http_404")
    assert unavailable.allowed(url, AGENT) and unavailable.crawl_delay(AGENT) is None
    unreachable = Rfc9309RobotParser.from_crawler(CRAWLER, body)
    unreachable.settle(UNREACHABLE, "http_503")
    assert not unreachable.allowed(url, AGENT) and unreachable.crawl_delay(AGENT) is None
    assert unreachable.why == "http_503"


def test_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown robots\.txt state"):
        Rfc9309RobotParser.from_crawler(CRAWLER, b"").settle("maybe")


def test_the_rfc_9309_middleware_refuses_another_parser() -> None:
    """Scrapy's own parser would read a 5xx error page as rules: the middleware says so and stays off."""
    settings = {"ROBOTSTXT_OBEY": True, "ROBOTSTXT_PARSER": "scrapy.robotstxt.ProtegoRobotParser"}
    with pytest.raises(NotConfigured, match="RFC 9309"):
        Rfc9309RobotsTxtMiddleware(get_crawler(settings_dict=settings))
    settings["ROBOTSTXT_PARSER"] = "provnews.crawler.politeness.robots_rules.Rfc9309RobotParser"
    assert Rfc9309RobotsTxtMiddleware(get_crawler(settings_dict=settings)).parsers == {}
