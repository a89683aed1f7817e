"""Redirects stay on the site: a redirected request (3xx or meta refresh: Scrapy's redirect middlewares
mark both with `redirect_urls`) is fetched only when its URL is on the site's own host or one of its
registry aliases (or their www./m. forms), and, for an article, still matches the site's
`article_pattern`. Anything else is not fetched and counted as `provnews/dropped/redirect_off_site`;
the spider records the URL's outcome.

This runs before robots.txt (100), so not even the foreign host's robots.txt is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from provnews.crawler.discovery.urls import host_of, normalize_url
from provnews.crawler.sites.registry import Site

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class RedirectOffSite(IgnoreRequest):
    """A redirect led off the site, or to a URL of the site that its rules do not accept."""

    def __init__(self, target: str, why: str) -> None:
        super().__init__(f"redirect_off_site: {why}: {target}")
        self.target = target


class SiteRedirectsMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteRedirectsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        site = request.cb_kwargs.get("site")
        if not request.meta.get("redirect_urls") or not isinstance(site, Site):
            return
        target = normalize_url(request.url, canonical_host=site.domain, aliases=site.aliases)
        if host_of(target) != site.domain:
            why = f"host {host_of(request.url) or '?'} is not {site.id}'s"
        elif request.meta.get("provnews_kind") == "article" and not site.is_article_url(target):
            why = f"{site.id}'s article_pattern does not match the new URL"
        else:
            return
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("provnews/dropped/redirect_off_site")
        raise RedirectOffSite(request.url, why)
