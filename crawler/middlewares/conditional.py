"""Conditional requests for discovery pages: If-None-Match / If-Modified-Since from the validators the
last clean run kept (see `crawler.runs.crawl_state.CrawlState.close`), and a 304 answer turned into "nothing
new"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import IgnoreRequest, NotConfigured

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class NotModified(IgnoreRequest):
    """The server answered 304: the page did not change since the last clean run."""


class ConditionalRequestsMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestsMiddleware:
        if not crawler.settings.getbool("PROVNEWS_CONDITIONAL", True):
            raise NotConfigured("PROVNEWS_CONDITIONAL is off")
        return cls(crawler)

    def _validators(self, url: str) -> Any:
        return getattr(self.crawler.spider, "validators", {}).get(url)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("provnews_conditional"):
            return
        known = self._validators(request.url)
        if known is None:
            return
        if known.etag:
            request.headers.setdefault("If-None-Match", known.etag)
        if known.last_modified:
            request.headers.setdefault("If-Modified-Since", known.last_modified)
        request.meta["provnews_conditional_sent"] = True

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status != 304 or not request.meta.get("provnews_conditional_sent"):
            return response
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("provnews/conditional/not_modified")
        site_id = request.meta.get("site_id")
        if site_id:
            stats.inc_value(f"provnews/site/{site_id}/not_modified")
        raise NotModified(f"not modified since the last run: {request.url}")
