"""The one generic spider: `scrapy crawl news -a site=baogialai` (or several ids, comma-separated;
all active sites when none is given). Discovery from sitemaps, feeds and listing pages, driven by the
site registry (`crawler.discovery.sources` reads them); which article URLs are requested, resumed or retried
is decided by the run's `crawler.runs.crawl_state.CrawlState`, with the database as the memory of every URL
met. `-a since=DATE [-a until=DATE]` backfills a period from the monthly sitemaps (or, for a site without
sitemaps, by walking its listings down to `since` by the dates of their items); `-a max_articles=N`
caps the article requests per site (the rest stay "discovered" for the next run).

Listings are walked to their oldest page (or PROVNEWS_LISTING_WALK_MAX_PAGES) until one complete walk
is recorded; the walk's progress is saved page by page and resumed by the next run. After that, a
listing is read from page 1 until a page brings nothing new in this run. Sitemaps and feeds are parsed
in a thread, with limits per document, on the sitemap index depth and on documents per site and run.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urljoin

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import DeferredSemaphore
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from provnews.crawler.discovery.sources import (
    Link,
    Parsed,
    entry_in_period,
    listing_links,
    listing_page_url,
    older_than,
    read_feed,
    read_sitemap,
    sitemap_in_period,
)
from provnews.crawler.discovery.urls import host_of, normalize_url
from provnews.crawler.items import PageItem
from provnews.crawler.middlewares.address_guard import RefusedAddress
from provnews.crawler.middlewares.conditional import NotModified
from provnews.crawler.middlewares.site_redirects import RedirectOffSite
from provnews.crawler.runs.accounting import (
    DROPPED,
    FAILED,
    NETWORK_REASONS,
    PENDING,
    Ledger,
    failure_reason,
    over_size_limit,
    pending_reason,
    reason_key,
)
from provnews.crawler.runs.crawl_state import CrawlState
from provnews.crawler.runs.site_stop import SiteStopped, site_stopped
from provnews.crawler.sites.registry import RegistryError, Site
from provnews.crawler.text.vietnamese import to_vn_iso
from provnews.storage import Validators, stop_crawl

logger = logging.getLogger(__name__)

SOURCE, ARTICLE = "source", "article"
# How a listing is read: to its end (no complete walk recorded yet), from page 1 until a page brings
# nothing new (after a complete walk), or down to the backfill's `since`.
WALK, FRESH, BACKFILL = "walk", "fresh", "backfill"
DISCOVERY_PART = 1000  # article links admitted (one read, one write of URL states) between reactor turns
WORK = "provnews_work"  # meta marker of a request counted in NewsSpider.work until it is answered


def answers_request(callback: Callable[..., Any]) -> Callable[..., Any]:
    """A callback (generator or async generator) whose request counts as answered once its output is
    done with, or it raised (see `NewsSpider.work`)."""
    if inspect.isasyncgenfunction(callback):

        @functools.wraps(callback)
        async def async_answering(self: NewsSpider, response: Response, **kwargs: Any) -> AsyncIterator[Any]:
            try:
                async for out in callback(self, response, **kwargs):
                    yield out
            finally:
                if response.request is not None:
                    self._answered(response.request)

        return async_answering

    @functools.wraps(callback)
    def answering(self: NewsSpider, response: Response, **kwargs: Any) -> Iterator[Any]:
        try:
            yield from callback(self, response, **kwargs)
        finally:
            if response.request is not None:
                self._answered(response.request)

    return answering


@dataclass
class ListingRead:
    """One reading of one listing in this run: its mode and the article URLs it met."""

    listing: str
    mode: str
    met: set[str] = field(default_factory=set)


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
        self.requested: list[Site] = []  # the sites asked for
        self.sites: list[Site] = []  # those this run crawls (narrowed, then grown, by the SiteClaims)
        self.scheduled: Counter[str] = Counter()  # article requests per site, for max_articles
        self.documents: Counter[str] = Counter()  # sitemaps and feeds read per site, for their limit
        # discovery bounds, from the settings (see from_crawler)
        self.max_document_urls = 50_000
        self.max_sitemap_depth = 3
        self.max_documents = 1000
        self.walk_max_pages = 200
        self.resume_page = 500
        # Sitemaps and feeds parsed and admitted at once: each holds up to PROVNEWS_DISCOVERY_MAX_URLS
        # links in memory meanwhile, so the crawl's memory does not grow with the documents in flight.
        self.documents_at_once = DeferredSemaphore(2)
        self.crawl_state = CrawlState(self._count, backfill=self.backfill)
        self.ledger = Ledger(self._count)  # every article URL met, until its outcome is counted
        self.refusals_logged: set[str | None] = set()  # sites whose first redirect/address refusal was logged
        # Requests of each site not answered yet (made, and their callback or errback not done), and
        # the sites whose start requests are still being made: a site is done when it has neither and
        # the ledger holds none of its URLs (see `site_busy`).
        self.work: Counter[str] = Counter()
        self.starting: set[str] = set()

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
        state = spider.crawl_state
        state.max_attempts = crawler.settings.getint("PROVNEWS_MAX_ATTEMPTS", 5)
        state.retry_backoff = crawler.settings.getfloat("PROVNEWS_RETRY_BACKOFF", 900.0)
        state.on_disk_full = lambda exc: stop_crawl(crawler, exc)
        # A site stopped within the run did not take all its discovery led to: keep no validators.
        crawler.signals.connect(spider.crawl_state.mark_unclean, signal=site_stopped)
        settings = crawler.settings
        spider.max_document_urls = settings.getint("PROVNEWS_DISCOVERY_MAX_URLS", 50_000)
        spider.max_sitemap_depth = settings.getint("PROVNEWS_SITEMAP_MAX_DEPTH", 3)
        spider.max_documents = settings.getint("PROVNEWS_DISCOVERY_MAX_DOCUMENTS", 1000)
        spider.walk_max_pages = settings.getint("PROVNEWS_LISTING_WALK_MAX_PAGES", 200)
        spider.resume_page = settings.getint("PROVNEWS_RESUME_PAGE", 500)
        # Connected before any extension's: the sites and the storage are the spider's before the
        # SiteClaims and the RunRecorder look at them.
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.resume_more, signal=signals.spider_idle)
        crawler.signals.connect(spider._dropped, signal=signals.request_dropped)
        return spider

    def _opened(self, spider: Spider) -> None:
        """The sites asked for, from the crawl's registry; the crawl's storage for its URL states."""
        from provnews.crawler.extensions.crawl_registry import CrawlRegistry
        from provnews.crawler.extensions.crawl_storage import CrawlStorage

        registry = self.crawler.get_extension(CrawlRegistry)
        shared = self.crawler.get_extension(CrawlStorage)
        if registry is None or shared is None:
            raise RuntimeError("the news spider needs the CrawlRegistry and CrawlStorage extensions")
        self.requested = list(registry.requested)
        self.sites = list(self.requested)
        self.crawl_state.storage, self.crawl_state.writer = shared.storage, shared.writer
        shared.storage.upsert_sites(self.requested)

    # -- start: what earlier runs left, then the discovery sources ---------------------------------
    async def start(self) -> AsyncIterator[Request]:
        # self.sites may have been narrowed by the SiteClaims extension since from_crawler.
        sites = list(self.sites)
        self.starting.update(site.id for site in sites)
        for site in sites:
            self.crawl_state.load(site.id)
        for site in sites:
            for request in self._resumed(site):
                yield request
        for site in sites:
            for request in self._discovery_starts(site):
                yield request
        self.starting.difference_update(site.id for site in sites)

    def add_site(self, site: Site) -> list[Request]:
        """A site claimed while the run goes on: its start requests (left URLs, then discovery)."""
        if site not in self.sites:
            self.sites.append(site)
        self.crawl_state.load(site.id)
        return [*self._resumed(site), *self._discovery_starts(site)]

    def site_busy(self, site_id: str) -> bool:
        """Whether the site still has work in this run: requests not answered, start requests not made,
        or article URLs whose outcome is not counted yet (an item on its way to storage)."""
        return self.work[site_id] > 0 or site_id in self.starting or self.ledger.open_for(site_id) > 0

    def more_for(self, site: Site) -> list[Request]:
        """The next page of URLs earlier runs left for this site (none once they are all taken)."""
        return list(self._resumed(site))

    def _discovery_starts(self, site: Site) -> Iterator[Request]:
        for source in site.sitemaps:
            if self._document_allowed(site, source):
                yield self._source(site, source, self.parse_sitemap, depth=0)
        if self.backfill:
            # A period is backfilled from the sitemaps; a site without any walks its listings
            # down to `since`. Feeds only carry "now".
            if not site.sitemaps:
                for source in site.listings:
                    yield self._listing(site, ListingRead(site_url(site, source), BACKFILL), 1)
            return
        for source in site.feeds:
            if self._document_allowed(site, source):
                yield self._source(site, source, self.parse_feed)
        yield from self._listing_starts(site)

    def _resumed(self, site: Site) -> Iterator[Request]:
        """Requests for the next page of URLs earlier runs left unfinished, within --max-articles."""
        want = self.resume_page
        if self.max_articles is not None:
            want = min(want, self.max_articles - self.scheduled[site.id])
        if want <= 0:
            return
        for pending in self.crawl_state.resume(site.id, want):
            if pending.info.lastmod:
                self.crawl_state.lastmods[pending.url] = to_vn_iso(pending.info.lastmod)
            date = pending.discovered_date
            source = pending.discovered_date_source if date else None
            yield self._article_request(site, pending.url, to_vn_iso(date) if date else None, source)

    def resume_more(self) -> None:
        """spider_idle: take the next page of unfinished URLs, so they are never all held at once."""
        more = [request for site in self.sites for request in self._resumed(site)]
        if not more:
            return
        assert self.crawler.engine is not None
        for request in more:
            self.crawler.engine.crawl(request)
        raise DontCloseSpider

    def _listing_starts(self, site: Site) -> Iterator[Request]:
        """Each listing is walked to its end until one complete walk is recorded, resuming an
        interrupted walk at its next page (page 1 is then also read for what is new); after that
        it is read from page 1 until a page brings nothing new."""
        walks = self.crawl_state.listing_walks(site.id)
        for source in site.listings:
            listing = site_url(site, source)
            walk = walks.get(listing)
            if walk is not None and walk.completed_at is not None:
                yield self._listing(site, ListingRead(listing, FRESH), 1)
                continue
            start = walk.next_page if walk is not None else 1
            if start > 1:
                self._count("discovery/listing_walks_resumed")
                yield self._listing(site, ListingRead(listing, FRESH), 1)
            yield self._listing(site, ListingRead(listing, WALK), start)

    def _listing(self, site: Site, read: ListingRead, page: int) -> Request:
        url = read.listing if page == 1 else listing_page_url(read.listing, site.pagination or "", page)
        request = self._source(site, url, self.parse_listing, read=read, page=page)
        # A 304 only says "nothing new" for a listing read from the top after a complete walk.
        request.meta["provnews_conditional"] = read.mode == FRESH and page == 1 and not self.backfill
        return request

    # -- discovery -------------------------------------------------------------------------------
    def _document_allowed(self, site: Site, url: str) -> bool:
        """Sitemaps and feeds read per site and run are capped (PROVNEWS_DISCOVERY_MAX_DOCUMENTS)."""
        self.documents[site.id] += 1
        if self.documents[site.id] <= self.max_documents:
            return True
        self._limit_hit(site, "documents", f"more than {self.max_documents} sitemaps and feeds: {url}")
        return False

    def _limit_hit(self, site: Site, limit: str, detail: str) -> None:
        self._count(f"discovery/limit/{limit}")
        self.crawl_state.mark_unclean(site.id)  # what lies beyond was not taken: keep no validators
        logger.warning("%s: discovery limit (%s): %s", site.id, limit, detail)

    async def _parse_document(self, reader: Any, response: Response, site: Site, what: str) -> Parsed | None:
        """A sitemap or feed parsed in a thread (the reactor keeps serving other requests), or None
        when unreadable (counted)."""
        try:
            parsed: Parsed = await maybe_deferred_to_future(
                deferToThread(reader, response.body, self.max_document_urls)
            )
        except Exception as exc:  # a broken document must not end the crawl; count it and go on
            self._count(f"discovery/{what}_error")
            self.crawl_state.mark_unclean(site.id)
            logger.warning("%s: unreadable %s %s: %s", site.id, what, response.url, exc)
            return None
        if parsed.truncated:
            self._limit_hit(site, "document_urls", f"{response.url} lists more than {self.max_document_urls}")
        if not parsed.links:
            self._count(f"discovery/{what}_empty")
            logger.warning("%s: %s %s lists nothing", site.id, what, response.url)
        return parsed

    @answers_request
    async def parse_sitemap(self, response: Response, site: Site, depth: int = 0) -> AsyncIterator[Request]:
        self._keep_validators(site, response)
        await maybe_deferred_to_future(self.documents_at_once.acquire())
        try:
            parsed = await self._parse_document(read_sitemap, response, site, "sitemap")
            if parsed is None:
                return
            if parsed.kind == "sitemapindex":
                for request in self._children(site, response.url, parsed.links, depth):
                    yield request
                return
            async for request in self._articles_in_parts(site, parsed.links, "sitemap"):
                yield request
        finally:
            self.documents_at_once.release()

    def _children(self, site: Site, url: str, links: list[Link], depth: int) -> Iterator[Request]:
        """Requests for the sitemaps of an index, newest first, within the depth and document limits."""
        if depth + 1 > self.max_sitemap_depth:
            self._limit_hit(site, "sitemap_depth", f"{url} is nested {depth + 1} indexes deep")
            return
        for link in sorted(links, key=lambda lk: lk.lastmod or "", reverse=True):
            if self.since is not None and not sitemap_in_period(link, self.since, self.until):
                self._count("discovery/sitemaps_out_of_range")
                continue
            if not self._document_allowed(site, link.url):
                break
            yield self._source(site, link.url, self.parse_sitemap, depth=depth + 1)

    @answers_request
    async def parse_feed(self, response: Response, site: Site) -> AsyncIterator[Request]:
        self._keep_validators(site, response)
        await maybe_deferred_to_future(self.documents_at_once.acquire())
        try:
            parsed = await self._parse_document(read_feed, response, site, "feed")
            if parsed is not None:
                async for request in self._articles_in_parts(site, parsed.links, "feed"):
                    yield request
        finally:
            self.documents_at_once.release()

    async def _articles_in_parts(self, site: Site, links: list[Link], source: str) -> AsyncIterator[Request]:
        """`_articles` a thousand links at a time, letting the reactor serve other requests in between
        (each part is one read and one write of URL states)."""
        from twisted.internet import reactor  # the running one (importing it early would install one)

        for start in range(0, len(links), DISCOVERY_PART):
            if start:
                await maybe_deferred_to_future(deferLater(reactor, 0, lambda: None))
            if not self.crawler.crawling:  # stopping: the rest is read again by the next run
                self.crawl_state.mark_unclean(site.id)
                return
            for request in (await self._articles(site, links[start : start + DISCOVERY_PART], source))[0]:
                yield request

    @answers_request
    async def parse_listing(
        self, response: Response, site: Site, read: ListingRead, page: int
    ) -> AsyncIterator[Request]:
        self._keep_validators(site, response)
        if not isinstance(response, TextResponse):
            return
        links = listing_links(
            response.text, response.url, lambda u: self._on_site_article(site, u) is not None
        )
        if read.mode == BACKFILL and any(link.published for link in links):
            # On a listing whose items show dates, an undated link is no item of it (a "most read"
            # box, a menu): it says nothing of the period.
            links = [link for link in links if link.published]
        unmet = [link for link in links if link.url not in read.met]
        read.met.update(link.url for link in links)
        requests, new = await self._articles(site, links, "listing")
        for request in requests:
            yield request
        if read.mode == FRESH:
            # Listings are newest first: once a page brings nothing new in this run (URLs first met
            # earlier in the run count as new), older pages will not either.
            if new and site.pagination and page < site.max_listing_pages:
                yield self._listing(site, read, page + 1)
            return
        # A walk ends at a page with no article it had not met (a last page served again), or a 404.
        at_limit = page >= self.walk_max_pages
        if unmet and site.pagination and at_limit:
            self._count("discovery/limit/listing_walk_pages")
        ends = not unmet or not site.pagination or at_limit
        if read.mode == BACKFILL:
            assert self.since is not None
            dated = [link for link in links if link.published]
            ends = ends or (bool(dated) and all(older_than(link, self.since) for link in dated))
        else:
            self.crawl_state.save_walk(site.id, read.listing, page + 1, complete=ends)
            if self.crawl_state.disk_full is not None:
                self._stop_if_disk_full()
                return
        if not ends:
            yield self._listing(site, read, page + 1)

    def _on_site_article(self, site: Site, url: str) -> str | None:
        """The normalised URL when it is an article of the site, else None."""
        url = normalize_url(url, canonical_host=site.domain, aliases=site.aliases)
        if not site.is_article_url(url) or host_of(url) not in (site.domain, *site.aliases):
            return None
        return url

    async def _articles(self, site: Site, links: Iterable[Link], source: str) -> tuple[list[Request], int]:
        """Requests for the article links worth fetching, and how many links are new in this run (first
        met now or earlier in the run, or changed); new URLs are handed to the writer before they are
        requested."""
        found = [(url, link) for link in links if (url := self._on_site_article(site, link.url))]
        await self.crawl_state.prefetch(url for url, _ in found)
        # (from here on, no await: the page is admitted in one turn of the reactor)
        requests: list[Request] = []
        new = 0
        for url, link in found:
            if self.since is not None and not entry_in_period(link, self.since, self.until):
                self._count("discovery/skipped_out_of_range")
                continue
            state = self.crawl_state
            admitted = state.admit(site.id, url, link.lastmod, link.published, link.date_source)
            if admitted or url in state.new_in_run:
                new += 1
            if not admitted:
                if link.published and url in state.seen:  # a date for a page on its way
                    state.discovery_dates.setdefault(url, (link.published, link.date_source or ""))
                continue
            if self.max_articles is not None and self.scheduled[site.id] >= self.max_articles:
                self._count("discovery/skipped_max_articles")  # stays "discovered": the next run takes it
                self._settle(site.id, url, PENDING, "limit_reached", met=True)
                continue
            state.take(url)
            self._count(f"discovery/articles_from_{source}")
            if link.lastmod:
                self.crawl_state.lastmods[url] = max(link.lastmod, self.crawl_state.lastmods.get(url, ""))
            requests.append(self._article_request(site, url, link.published, link.date_source))
        self.crawl_state.record_discovered()
        if self.crawl_state.disk_full is not None:  # URLs that could not be recorded are not requested
            stop_crawl(self.crawler, self.crawl_state.disk_full)
            for request in requests:
                self._answered(request)
                self._settle(site.id, request.cb_kwargs["url"], PENDING, "disk_full")
            return [], new
        return requests, new

    # -- articles --------------------------------------------------------------------------------
    @answers_request
    def parse_article(
        self,
        response: Response,
        site: Site,
        url: str,
        discovered_date: str | None = None,
        discovered_date_source: str | None = None,
    ) -> Iterable[PageItem]:
        if not discovered_date and url in self.crawl_state.discovery_dates:  # met again, dated, meanwhile
            discovered_date, discovered_date_source = self.crawl_state.discovery_dates.pop(url)
        final = normalize_url(response.url, canonical_host=site.domain, aliases=site.aliases)
        if final != url:
            self.crawl_state.redirected[final] = url
        content_type = response.headers.get("Content-Type")
        yield PageItem(
            url=response.url,
            requested_url=url,
            site_id=site.id,
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            lastmod=self.crawl_state.lastmods.get(url),
            discovered_date=discovered_date,
            discovered_date_source=discovered_date_source,
        )

    def _article_request(
        self, site: Site, url: str, published: str | None = None, date_source: str | None = None
    ) -> Request:
        self.scheduled[site.id] += 1
        self.ledger.met(site.id, url)
        self.work[site.id] += 1
        kwargs: dict[str, Any] = {"site": site, "url": url}
        if published:  # the date discovery saw, for a page that gives none
            kwargs |= {"discovered_date": published, "discovered_date_source": date_source}
        return Request(
            url,
            callback=self.parse_article,
            cb_kwargs=kwargs,
            errback=self._failed,
            meta={"download_slot": site.id, "site_id": site.id, "provnews_kind": ARTICLE, WORK: True},
        )

    def _source(self, site: Site, url: str, callback: Any, **cb_kwargs: Any) -> Request:
        # Feeds, sitemaps and listing pages are asked for conditionally (outside backfills).
        self.work[site.id] += 1
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
                WORK: True,
            },
        )

    def _keep_validators(self, site: Site, response: Response) -> None:
        self._count(f"site/{site.id}/sources/ok")  # every discovery callback starts here
        headers = response.headers
        self.crawl_state.keep_validators(
            site.id, response.url, headers.get("ETag"), headers.get("Last-Modified")
        )

    # -- failures ---------------------------------------------------------------------------------
    def _failed(self, failure: Failure) -> None:
        """Count and record a request that brought no response to parse. Each article URL gets its
        outcome (failed, dropped or pending, with a reason); discovery requests count per site."""
        request: Request | None = getattr(failure, "request", None)
        if request is None:
            return
        try:
            self._request_failed(request, failure)
        finally:
            self._answered(request)

    def _request_failed(self, request: Request, failure: Failure) -> None:
        site_id = request.meta.get("site_id")
        article = request.meta.get("provnews_kind") == ARTICLE
        url = request.cb_kwargs.get("url", request.url)
        if failure.check(NotModified):  # 304: nothing new there, nothing more to do
            self._count(f"site/{site_id}/sources/ok")
            return
        if isinstance(failure.value, HttpError):
            self._http_failed(request, failure.value.response.status, site_id, url, article)
            return
        if failure.check(RedirectOffSite, RefusedAddress):  # counted by the middleware that refused it
            # counted per site: the first one of a site is logged as a warning, the rest quietly
            first = site_id not in self.refusals_logged
            self.refusals_logged.add(site_id)
            logger.log(
                logging.WARNING if first else logging.INFO, "not fetched: %s", failure.getErrorMessage()
            )
            message = failure.getErrorMessage()[:500]
            off_site = failure.check(RedirectOffSite) is not None
            reason = "redirect_off_site" if off_site else "address_refused"
            if article:
                # off the site is final (not an article of this site); an address may change: retried later
                self.crawl_state.mark(url, site_id, "not_article" if off_site else "failed", message)
                self._settle(site_id, url, DROPPED if off_site else FAILED, reason)
            else:
                self._source_failed(site_id, reason)
            return
        if failure.check(IgnoreRequest):  # (HttpError is one too: handled above)
            self._ignored(request, failure, site_id, url, article)
            return
        reason = failure_reason(failure.value)
        error = failure.type.__name__ if failure.type else "error"
        self._count(f"errors/{reason}")
        # Network errors are expected on a bad day: one line per site at the end of the run says so.
        level = logging.INFO if reason in NETWORK_REASONS or reason == "page_too_large" else logging.WARNING
        logger.log(level, "request failed: %s: %s", request.url, failure.getErrorMessage())
        if not article:
            self._source_failed(site_id, reason)
        elif reason == "page_too_large":  # cancelled by DOWNLOAD_MAXSIZE: it will not shrink; final
            self.crawl_state.mark(
                url, site_id, "not_article", f"page_too_large: {failure.getErrorMessage()}"[:500]
            )
            self._settle(site_id, url, DROPPED, reason)
        else:
            self.crawl_state.mark(url, site_id, "failed", f"{error}: {failure.getErrorMessage()}"[:500])
            self._settle(site_id, url, FAILED, reason)

    def _http_failed(
        self, request: Request, status: int, site_id: str | None, url: str, article: bool
    ) -> None:
        # A 404 past the last listing page is how a listing ends, not a fault.
        listing_end = status == 404 and request.callback == self.parse_listing
        self._count("discovery/listing_end" if listing_end else f"errors/http_{status}")
        logger.info("HTTP %s for %s", status, request.url)
        if not article:
            if listing_end:
                self._count(f"site/{site_id}/sources/ok")
                read = request.cb_kwargs.get("read")
                page = request.cb_kwargs.get("page", 1)
                if isinstance(read, ListingRead) and read.mode == WALK and site_id and page > 1:
                    # past the last page: the walk is complete
                    self.crawl_state.save_walk(site_id, read.listing, page, complete=True)
                    self._stop_if_disk_full()
            else:
                self._source_failed(site_id, f"http_{status}")
        elif request.meta.get("provnews_retry_later"):
            # the server asked for a wait longer than a run honours: left as it was, for a later run
            self._settle(site_id, url, PENDING, request.meta["provnews_retry_later"])
        elif status in (404, 410):
            self.crawl_state.mark(url, site_id, "gone", f"http_{status}")
            self._settle(site_id, url, DROPPED, f"http_{status}")
        else:
            self.crawl_state.mark(url, site_id, "failed", f"http_{status}")
            self._settle(site_id, url, FAILED, f"http_{status}")

    def _ignored(
        self, request: Request, failure: Failure, site_id: str | None, url: str, article: bool
    ) -> None:
        if isinstance(failure.value, SiteStopped):  # its site was stopped in this run: for the next one
            if article:
                self._settle(site_id, url, PENDING, failure.value.reason)
            return
        robots = request.meta.get("provnews_robots")
        message = failure.getErrorMessage()
        logger.debug("not fetched: %s: %s", request.url, message)
        if robots == "unreachable":
            reason = "robots_unreachable"
            if self.crawler.stats is not None:
                why = request.meta.get("provnews_robots_why") or "no answer"
                self.crawler.stats.set_value(f"provnews/site/{site_id}/robots_why", why)
        elif robots == "disallowed":
            reason = "robots_denied"
        elif over_size_limit(failure.value):
            reason = "page_too_large"
        else:  # another component refused it, saying why first ("redirect_off_site: ...")
            reason = reason_key(message.split(":", 1)[0]) if ":" in message else reason_key(message)
        if not article:
            self._source_failed(site_id, reason)
        elif reason == "page_too_large":  # it decompressed past DOWNLOAD_MAXSIZE: it will not shrink; final
            self.crawl_state.mark(url, site_id, "not_article", f"page_too_large: {message}"[:500])
            self._settle(site_id, url, DROPPED, reason)
        elif robots == "disallowed":
            self.crawl_state.mark(url, site_id, "robots_denied", "robots.txt disallows it")
            self._settle(site_id, url, DROPPED, reason)
        elif robots == "unreachable":  # the URL stays as it was and is tried again in a later run
            self._settle(site_id, url, FAILED, reason)
        else:
            self._settle(site_id, url, DROPPED, reason)

    def _stop_if_disk_full(self) -> None:
        if self.crawl_state.disk_full is not None:
            stop_crawl(self.crawler, self.crawl_state.disk_full)

    def _source_failed(self, site_id: str | None, reason: str) -> None:
        if site_id:
            self._count(f"site/{site_id}/sources/failed/{reason}")
            self.crawl_state.mark_unclean(site_id)

    def _settle(self, site_id: str | None, url: str, outcome: str, reason: str, *, met: bool = False) -> None:
        if not site_id:
            return
        if met:
            self.ledger.met(site_id, url)
        self.ledger.settle(url, outcome, reason)
        self._stop_if_disk_full()  # the outcome could not be written

    def _answered(self, request: Request) -> None:
        """The request (or the redirect or retry that replaced it) is done with: its site has one
        request less under way. Counted once, by the marker its meta carries."""
        if request.meta.pop(WORK, False):
            site_id = request.meta.get("site_id")
            if site_id and self.work[site_id] > 0:
                self.work[site_id] -= 1

    def _dropped(self, request: Request, spider: Spider | None = None) -> None:
        """request_dropped: the scheduler refused it (a duplicate); it will not be answered."""
        self._answered(request)

    def _count(self, key: str, n: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"provnews/{key}", n)

    # -- end ---------------------------------------------------------------------------------------
    def closed(self, reason: str) -> None:
        # (normally done already by the RunRecorder, before it writes the run row)
        self.ledger.settle_open(PENDING, pending_reason(reason))
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
