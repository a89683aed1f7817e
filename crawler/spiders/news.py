"""The one generic spider: `scrapy crawl news -a site=baogialai` (or several ids, comma-separated;
all active sites when none is given). Discovery from sitemaps, feeds and listing pages, driven by the
site registry; article pages already stored are never fetched again."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.discovery import Link, listing_page_url, page_links, parse_feed, parse_sitemap
from crawler.items import PageItem
from crawler.registry import Site, load_sites
from crawler.urls import host_of, normalize_url
from pipelines.storage import Storage

logger = logging.getLogger(__name__)


class NewsSpider(Spider):
    name = "news"

    def __init__(
        self,
        site: str | None = None,
        sites_file: str | None = None,
        max_articles: str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.site_arg = site
        self.sites_file = sites_file
        self.max_articles = int(max_articles) if max_articles else None
        self.sites: list[Site] = []
        self.stored: set[str] = set()
        self.scheduled: Counter[str] = Counter()
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        registry = load_sites(spider.sites_file or crawler.settings.get("PROVNEWS_SITES_FILE") or None)
        spider.sites = select_sites(registry, spider.site_arg)
        # Per-site politeness: each site is its own download slot with the registry's delay.
        slots = {s.id: {"delay": s.delay, "concurrency": s.concurrency} for s in spider.sites}
        crawler.settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        storage = Storage.open(crawler.settings.get("PROVNEWS_DB_URL"))
        try:
            storage.upsert_sites(spider.sites)
            for s in spider.sites:
                spider.stored |= storage.stored_urls(s.id)
        finally:
            storage.close()
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for site in self.sites:
            for source in site.sitemaps:
                yield self._request(site, source, self.parse_sitemap)
            for source in site.feeds:
                yield self._request(site, source, self.parse_feed)
            for source in site.listings:
                yield self._request(site, source, self.parse_listing, listing=site_url(site, source), page=1)

    # -- discovery -------------------------------------------------------------------------------
    def parse_sitemap(self, response: Response, site: Site) -> Iterable[Request]:
        try:
            kind, links = parse_sitemap(response.body)
        except Exception as exc:  # a broken sitemap must not end the crawl; count it and go on
            self._count("discovery/sitemap_error")
            logger.warning("%s: unreadable sitemap %s: %s", site.id, response.url, exc)
            return
        if not links:
            self._count("discovery/sitemap_empty")
            logger.warning("%s: sitemap %s lists no URLs", site.id, response.url)
        if kind == "sitemapindex":
            for link in sorted(links, key=lambda lk: lk.lastmod or "", reverse=True):
                yield self._request(site, link.url, self.parse_sitemap)
            return
        yield from self._articles(site, links, "sitemap")

    def parse_feed(self, response: Response, site: Site) -> Iterable[Request]:
        links = parse_feed(response.body)
        if not links:
            self._count("discovery/feed_empty")
            logger.warning("%s: feed %s lists no items", site.id, response.url)
        yield from self._articles(site, links, "feed")

    def parse_listing(self, response: Response, site: Site, listing: str, page: int) -> Iterable[Request]:
        if not isinstance(response, TextResponse):
            return
        found = [Link(u) for u in page_links(response.text, response.url)]
        new = list(self._articles(site, found, "listing"))
        yield from new
        # Listings are newest first: once a page brings nothing new, older pages will not either.
        if new and site.pagination and page < site.max_listing_pages:
            next_url = listing_page_url(listing, site.pagination, page + 1)
            yield self._request(site, next_url, self.parse_listing, listing=listing, page=page + 1)

    def _articles(self, site: Site, links: Iterable[Link], source: str) -> Iterable[Request]:
        for link in links:
            url = normalize_url(link.url, canonical_host=site.domain, aliases=site.aliases)
            if not site.is_article_url(url) or host_of(url) not in (site.domain, *site.aliases):
                continue
            if url in self.seen:
                continue
            self.seen.add(url)
            if url in self.stored:
                self._count("discovery/skipped_stored")
                continue
            if self.max_articles is not None and self.scheduled[site.id] >= self.max_articles:
                self._count("discovery/skipped_max_articles")
                continue
            self.scheduled[site.id] += 1
            self._count(f"discovery/articles_from_{source}")
            yield self._request(site, url, self.parse_article, lastmod=link.lastmod)

    # -- articles --------------------------------------------------------------------------------
    def parse_article(self, response: Response, site: Site, lastmod: str | None = None) -> Iterable[PageItem]:
        content_type = response.headers.get("Content-Type")
        yield PageItem(
            url=response.url,
            site_id=site.id,
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            lastmod=lastmod,
        )

    def _request(self, site: Site, url: str, callback: Any, **cb_kwargs: Any) -> Request:
        return Request(
            site_url(site, url),
            callback=callback,
            cb_kwargs={"site": site, **cb_kwargs},
            errback=self._failed,
            meta={"download_slot": site.id, "site_id": site.id},
        )

    def _failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = getattr(request, "url", "?")
        if failure.check(IgnoreRequest):  # robots.txt said no: counted by Scrapy as robotstxt/forbidden
            logger.debug("not fetched: %s: %s", url, failure.getErrorMessage())
            return
        if isinstance(failure.value, HttpError):
            status = failure.value.response.status
            self._count(f"errors/http_{status}")
            callback = getattr(request, "callback", None)
            # A 404 past the last listing page is how a listing ends, not a fault.
            level = logging.INFO if status == 404 and callback == self.parse_listing else logging.WARNING
            logger.log(level, "HTTP %s for %s", status, url)
            return
        kind = failure.type.__name__ if failure.type else "error"
        self._count(f"errors/{kind}")
        logger.warning("request failed: %s: %s", url, failure.getErrorMessage())

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"provnews/{key}")


def site_url(site: Site, url: str) -> str:
    """A registry URL made absolute against the site's base URL."""
    from urllib.parse import urljoin

    return urljoin(site.base_url, url)


def select_sites(registry: list[Site], arg: str | None) -> list[Site]:
    """Sites named in `arg` (comma-separated ids, or 'all'); all active sites by default."""
    if not arg or arg == "all":
        return [s for s in registry if s.status == "active"]
    by_id = {s.id: s for s in registry}
    chosen = []
    for site_id in (part.strip() for part in arg.split(",")):
        if site_id not in by_id:
            from crawler.registry import RegistryError

            raise RegistryError(f"unknown site '{site_id}'; the registry has: {', '.join(by_id)}")
        chosen.append(by_id[site_id])
    return chosen
