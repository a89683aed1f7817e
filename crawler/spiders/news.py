"""The one generic spider: `scrapy crawl news -a site=baogialai` (or several ids, comma-separated;
all active sites when none is given). Discovery from sitemaps, feeds and listing pages, driven by the
site registry (`crawler.discovery` reads them); which article URLs are requested, resumed or retried is
decided by the run's `crawler.crawl_state.CrawlState`, with the database as the memory of every URL met.
`-a since=DATE [-a until=DATE]` backfills a period from the monthly sitemaps only; `-a max_articles=N`
caps the article requests per site (the rest stay "discovered" for the next run).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urljoin

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.crawl_state import CrawlState
from crawler.discovery import (
    Link,
    entry_in_period,
    listing_page_url,
    page_links,
    parse_feed,
    parse_sitemap,
    sitemap_in_period,
)
from crawler.items import PageItem
from crawler.middlewares.address_guard import RefusedAddress
from crawler.middlewares.conditional import NotModified
from crawler.middlewares.site_redirects import RedirectOffSite
from crawler.registry import RegistryError, Site, load_sites
from crawler.urls import host_of, normalize_url
from pipelines.storage import Storage
from pipelines.validators import Validators

logger = logging.getLogger(__name__)

SOURCE, ARTICLE = "source", "article"


class NewsSpider(Spider):
    name = "news"

    def __init__(
        self,
        site: str | None = None,
        sites_file: str | None = None,
        max_articles: str | int | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.site_arg = site
        self.sites_file = sites_file
        self.max_articles = int(max_articles) if max_articles else None
        self.since = parse_day(since, "since")
        self.until = parse_day(until, "until")
        if self.until and not self.since:
            raise ValueError("until needs since: a backfill covers since..until")
        if self.since and self.until and self.until < self.since:
            raise ValueError(f"until ({self.until}) is before since ({self.since})")
        self.sites: list[Site] = []
        self.db_url = ""
        self.scheduled: Counter[str] = Counter()  # article requests per site, for max_articles
        self.crawl_state = CrawlState(self._count, backfill=self.backfill)

    @property
    def backfill(self) -> bool:
        return self.since is not None

    # Read from the spider by name: lastmods and redirected by the store pipeline, validators by the
    # ConditionalRequestsMiddleware.
    @property
    def lastmods(self) -> dict[str, str]:
        return self.crawl_state.lastmods

    @property
    def redirected(self) -> dict[str, str]:
        return self.crawl_state.redirected

    @property
    def validators(self) -> dict[str, Validators]:
        return self.crawl_state.validators

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        registry = load_sites(spider.sites_file or crawler.settings.get("PROVNEWS_SITES_FILE") or None)
        spider.sites = select_sites(registry, spider.site_arg)
        # Per-site politeness: each site is its own download slot with the registry's delay.
        slots = {s.id: {"delay": s.delay, "concurrency": s.concurrency} for s in spider.sites}
        crawler.settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        spider.db_url = crawler.settings.get("PROVNEWS_DB_URL")
        state = spider.crawl_state
        state.max_attempts = crawler.settings.getint("PROVNEWS_MAX_ATTEMPTS", 5)
        state.retry_backoff = crawler.settings.getfloat("PROVNEWS_RETRY_BACKOFF", 900.0)
        state.storage = Storage.open(spider.db_url)
        state.storage.upsert_sites(spider.sites)
        return spider

    # -- start: what earlier runs left, then the discovery sources ---------------------------------
    async def start(self) -> AsyncIterator[Request]:
        # self.sites may have been narrowed by the SiteLock extension since from_crawler.
        for site in self.sites:
            self.crawl_state.load(site.id)
        for site in self.sites:
            for url in self.crawl_state.resume(site.id):
                yield self._article_request(site, url)
        for site in self.sites:
            for source in site.sitemaps:
                yield self._source(site, source, self.parse_sitemap)
            if self.backfill:  # a period is backfilled from the sitemaps; feeds and listings are "now"
                continue
            for source in site.feeds:
                yield self._source(site, source, self.parse_feed)
            for source in site.listings:
                yield self._source(site, source, self.parse_listing, listing=site_url(site, source), page=1)

    # -- discovery -------------------------------------------------------------------------------
    def parse_sitemap(self, response: Response, site: Site) -> Iterable[Request]:
        self._keep_validators(site, response)
        try:
            kind, links = parse_sitemap(response.body)
        except Exception as exc:  # a broken sitemap must not end the crawl; count it and go on
            self._count("discovery/sitemap_error")
            self.crawl_state.mark_unclean(site.id)
            logger.warning("%s: unreadable sitemap %s: %s", site.id, response.url, exc)
            return
        if not links:
            self._count("discovery/sitemap_empty")
            logger.warning("%s: sitemap %s lists no URLs", site.id, response.url)
        if kind == "sitemapindex":
            for link in sorted(links, key=lambda lk: lk.lastmod or "", reverse=True):
                if self.since is not None and not sitemap_in_period(link, self.since, self.until):
                    self._count("discovery/sitemaps_out_of_range")
                    continue
                yield self._source(site, link.url, self.parse_sitemap)
            return
        yield from self._articles(site, links, "sitemap")

    def parse_feed(self, response: Response, site: Site) -> Iterable[Request]:
        self._keep_validators(site, response)
        links = parse_feed(response.body)
        if not links:
            self._count("discovery/feed_empty")
            logger.warning("%s: feed %s lists no items", site.id, response.url)
        yield from self._articles(site, links, "feed")

    def parse_listing(self, response: Response, site: Site, listing: str, page: int) -> Iterable[Request]:
        self._keep_validators(site, response)
        if not isinstance(response, TextResponse):
            return
        found = [Link(u) for u in page_links(response.text, response.url)]
        new = self._articles(site, found, "listing")
        yield from new
        # Listings are newest first: once a page brings nothing new, older pages will not either.
        if new and site.pagination and page < site.max_listing_pages:
            next_url = listing_page_url(listing, site.pagination, page + 1)
            yield self._source(site, next_url, self.parse_listing, listing=listing, page=page + 1)

    def _articles(self, site: Site, links: Iterable[Link], source: str) -> list[Request]:
        """Requests for the article links worth fetching; new URLs are recorded before they are requested."""
        requests: list[Request] = []
        for link in links:
            url = normalize_url(link.url, canonical_host=site.domain, aliases=site.aliases)
            if not site.is_article_url(url) or host_of(url) not in (site.domain, *site.aliases):
                continue
            if self.since is not None and not entry_in_period(link, self.since):
                self._count("discovery/skipped_out_of_range")
                continue
            if not self.crawl_state.admit(site.id, url, link.lastmod):
                continue
            if self.max_articles is not None and self.scheduled[site.id] >= self.max_articles:
                self._count("discovery/skipped_max_articles")  # stays "discovered": the next run takes it
                continue
            self._count(f"discovery/articles_from_{source}")
            requests.append(self._article_request(site, url))
        self.crawl_state.record_discovered()
        return requests

    # -- articles --------------------------------------------------------------------------------
    def parse_article(self, response: Response, site: Site, url: str) -> Iterable[PageItem]:
        final = normalize_url(response.url, canonical_host=site.domain, aliases=site.aliases)
        if final != url:
            self.crawl_state.redirected[final] = url
        content_type = response.headers.get("Content-Type")
        yield PageItem(
            url=response.url,
            site_id=site.id,
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            lastmod=self.crawl_state.lastmods.get(url),
        )

    def _article_request(self, site: Site, url: str) -> Request:
        self.scheduled[site.id] += 1
        return Request(
            url,
            callback=self.parse_article,
            cb_kwargs={"site": site, "url": url},
            errback=self._failed,
            meta={"download_slot": site.id, "site_id": site.id, "provnews_kind": ARTICLE},
        )

    def _source(self, site: Site, url: str, callback: Any, **cb_kwargs: Any) -> Request:
        # Feeds, sitemaps and listing pages are asked for conditionally (outside backfills).
        return Request(
            site_url(site, url),
            callback=callback,
            cb_kwargs={"site": site, **cb_kwargs},
            errback=self._failed,
            meta={
                "download_slot": site.id,
                "site_id": site.id,
                "provnews_kind": SOURCE,
                "provnews_conditional": not self.backfill,
            },
        )

    def _keep_validators(self, site: Site, response: Response) -> None:
        headers = response.headers
        self.crawl_state.keep_validators(
            site.id, response.url, headers.get("ETag"), headers.get("Last-Modified")
        )

    # -- failures --------------------------------------------------------------------------------
    def _failed(self, failure: Failure) -> None:
        request: Request | None = getattr(failure, "request", None)
        if request is None:
            return
        site_id = request.meta.get("site_id")
        kind = request.meta.get("provnews_kind")
        url = request.cb_kwargs.get("url", request.url)
        if failure.check(NotModified):  # 304: nothing new there, nothing more to do
            return
        if isinstance(failure.value, HttpError):
            status = failure.value.response.status
            listing_end = status == 404 and request.callback == self.parse_listing
            self._count("discovery/listing_end" if listing_end else f"errors/http_{status}")
            # A 404 past the last listing page is how a listing ends, not a fault.
            logger.log(
                logging.INFO if listing_end else logging.WARNING, "HTTP %s for %s", status, request.url
            )
            if kind == ARTICLE:
                gone = status in (404, 410)
                self.crawl_state.mark(url, site_id, "gone" if gone else "failed", f"http_{status}")
            elif not listing_end and (status >= 500 or status == 429) and site_id:
                self.crawl_state.mark_unclean(site_id)
            return
        if failure.check(RedirectOffSite, RefusedAddress):  # counted by the middleware that refused it
            logger.warning("not fetched: %s", failure.getErrorMessage())
            reason = failure.getErrorMessage()[:500]
            if kind == ARTICLE:
                # off the site is final (not an article of this site); an address may change: retried later
                outcome = "not_article" if failure.check(RedirectOffSite) else "failed"
                self.crawl_state.mark(url, site_id, outcome, reason)
            elif site_id:
                self.crawl_state.mark_unclean(site_id)
            return
        if failure.check(IgnoreRequest):  # (HttpError is one too: handled above)
            robots = request.meta.get("provnews_robots")
            logger.debug("not fetched: %s: %s", request.url, failure.getErrorMessage())
            if kind == ARTICLE and robots == "disallowed":
                self.crawl_state.mark(url, site_id, "robots_denied", "robots.txt disallows it")
            # robots.txt unavailable: the URL stays as it was and is tried again in a later run
            return
        error = failure.type.__name__ if failure.type else "error"
        self._count(f"errors/{error}")
        logger.warning("request failed: %s: %s", request.url, failure.getErrorMessage())
        if kind == ARTICLE:
            self.crawl_state.mark(url, site_id, "failed", f"{error}: {failure.getErrorMessage()}"[:500])
        elif site_id:
            self.crawl_state.mark_unclean(site_id)

    def _count(self, key: str, n: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"provnews/{key}", n)

    # -- end ---------------------------------------------------------------------------------------
    def closed(self, reason: str) -> None:
        self.crawl_state.close(reason, [s.id for s in self.sites])


def parse_day(value: str | date | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise ValueError(f"{name}: expected a date YYYY-MM-DD, got {value!r}") from exc


def site_url(site: Site, url: str) -> str:
    """A registry URL made absolute against the site's base URL."""
    return urljoin(site.base_url, url)


def select_sites(registry: list[Site], arg: str | None) -> list[Site]:
    """Sites named in `arg` (comma-separated ids, or 'all'); all active sites by default."""
    if not arg or arg == "all":
        return [s for s in registry if s.status == "active"]
    by_id = {s.id: s for s in registry}
    chosen = []
    for site_id in (part.strip() for part in arg.split(",")):
        if site_id not in by_id:
            raise RegistryError(f"unknown site '{site_id}'; the registry has: {', '.join(by_id)}")
        chosen.append(by_id[site_id])
    return chosen
