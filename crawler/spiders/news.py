"""The one generic spider: `scrapy crawl news -a site=baogialai` (or several ids, comma-separated;
all active sites when none is given). Discovery from sitemaps, feeds and listing pages, driven by the
site registry, with the database as the memory of every URL met (see `pipelines.urlstate`):

- a URL found for the first time is recorded as "discovered" (one write per discovery page) before it
  is requested, so a run killed at any moment leaves it for the next run, which requests it first;
- stored articles are not fetched again unless their sitemap lastmod (or feed date) says they changed;
- failed URLs are retried in later runs with back-off, up to PROVNEWS_MAX_ATTEMPTS;
- `-a since=DATE [-a until=DATE]` backfills a period from the monthly sitemaps only.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.discovery import Link, listing_page_url, page_links, parse_feed, parse_sitemap
from crawler.items import PageItem
from crawler.middlewares.conditional import NotModified
from crawler.registry import RegistryError, Site, load_sites
from crawler.urls import host_of, normalize_url
from pipelines.rows import VN_TZ, to_utc
from pipelines.storage import Storage, UrlMark
from pipelines.urlstate import UrlInfo
from pipelines.validators import Validators

logger = logging.getLogger(__name__)

# URL month of a monthly sitemap: news-2025-3.xml.gz, sitemap-2025-03.xml, 2025/03/...
_MONTH_IN_URL = re.compile(r"(?<!\d)((?:19|20)\d\d)[-_/](0?[1-9]|1[0-2])(?!\d)")
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
        self.storage: Storage | None = None
        self.max_attempts = 5
        self.retry_backoff = 900.0
        self.states: dict[str, dict[str, UrlInfo]] = {}
        self.stored: set[str] = set()
        self.scheduled: Counter[str] = Counter()
        self.seen: set[str] = set()  # requested, or settled, in this run
        self.skipped: set[str] = set()  # stored and unchanged so far in this run (counted once)
        self.lastmods: dict[str, str] = {}  # article URL -> newest sitemap/feed date seen in this run
        self.redirected: dict[str, str] = {}  # final URL -> the URL requested (its url_state key)
        self.validators: dict[str, Validators] = {}  # read by ConditionalRequestsMiddleware
        self.new_validators: dict[str, Validators] = {}
        self.unclean_sites: set[str] = set()  # discovery failed somewhere: keep no validators

    @property
    def backfill(self) -> bool:
        return self.since is not None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        registry = load_sites(spider.sites_file or crawler.settings.get("PROVNEWS_SITES_FILE") or None)
        spider.sites = select_sites(registry, spider.site_arg)
        # Per-site politeness: each site is its own download slot with the registry's delay.
        slots = {s.id: {"delay": s.delay, "concurrency": s.concurrency} for s in spider.sites}
        crawler.settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        spider.db_url = crawler.settings.get("PROVNEWS_DB_URL")
        spider.max_attempts = crawler.settings.getint("PROVNEWS_MAX_ATTEMPTS", 5)
        spider.retry_backoff = crawler.settings.getfloat("PROVNEWS_RETRY_BACKOFF", 900.0)
        spider.storage = Storage.open(spider.db_url)
        spider.storage.upsert_sites(spider.sites)
        return spider

    # -- start: what earlier runs left, then the discovery sources ---------------------------------
    async def start(self) -> AsyncIterator[Request]:
        # self.sites may have been narrowed by the SiteLock extension since from_crawler.
        for site in self.sites:
            self._load_state(site)
        for site in self.sites:
            for url in self._pending(site):
                self.seen.add(url)
                self._count("discovery/articles_pending")
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

    def _load_state(self, site: Site) -> None:
        assert self.storage is not None
        self.states[site.id] = self.storage.site_url_states(site.id)
        self.stored |= self.storage.stored_urls(site.id)
        if not self.backfill:
            self.validators.update(self.storage.validators([site.id]))

    def _pending(self, site: Site) -> list[str]:
        """URLs met before and not done: never fetched (a crash, a stop, --max-articles) or failed and due."""
        now = datetime.now(UTC)
        pending = []
        for url, info in self.states[site.id].items():
            if info.status == "discovered" or (info.status == "failed" and self._due(info, now)):
                pending.append(url)
        return pending

    def _due(self, info: UrlInfo, now: datetime) -> bool:
        if info.attempts >= self.max_attempts:
            return False
        wait = self.retry_backoff * 2 ** max(info.attempts - 1, 0)
        return now - info.updated_at >= timedelta(seconds=wait)

    # -- discovery -------------------------------------------------------------------------------
    def parse_sitemap(self, response: Response, site: Site) -> Iterable[Request]:
        self._keep_validators(site, response)
        try:
            kind, links = parse_sitemap(response.body)
        except Exception as exc:  # a broken sitemap must not end the crawl; count it and go on
            self._count("discovery/sitemap_error")
            self.unclean_sites.add(site.id)
            logger.warning("%s: unreadable sitemap %s: %s", site.id, response.url, exc)
            return
        if not links:
            self._count("discovery/sitemap_empty")
            logger.warning("%s: sitemap %s lists no URLs", site.id, response.url)
        if kind == "sitemapindex":
            for link in sorted(links, key=lambda lk: lk.lastmod or "", reverse=True):
                if self.backfill and not self._sitemap_in_range(link):
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
        discovered: list[UrlMark] = []
        states = self.states.setdefault(site.id, {})
        for link in links:
            url = normalize_url(link.url, canonical_host=site.domain, aliases=site.aliases)
            if not site.is_article_url(url) or host_of(url) not in (site.domain, *site.aliases):
                continue
            if self.backfill and not self._entry_in_range(link):
                self._count("discovery/skipped_out_of_range")
                continue
            if link.lastmod and link.lastmod > self.lastmods.get(url, ""):
                self.lastmods[url] = link.lastmod
            if url in self.seen:
                continue
            info = states.get(url)
            if info is None and url in self.stored:
                self.seen.add(url)
                self._count("discovery/skipped_stored")
                continue
            if info is not None and info.status == "stored" and not changed(link.lastmod, info):
                # Not marked seen: a sitemap met later in the run may still bring a newer lastmod.
                if url not in self.skipped:
                    self.skipped.add(url)
                    self._count("discovery/skipped_stored")
                continue
            self.seen.add(url)
            if info is None:
                discovered.append(UrlMark(url, site.id, "discovered", lastmod=link.lastmod))
                states[url] = UrlInfo("discovered", 0, None, datetime.now(UTC))
            elif info.status == "stored":
                self._count("discovery/refetch_modified")
            elif info.status == "failed" and not self._due(info, datetime.now(UTC)):
                self._count("discovery/skipped_failed")
                continue
            elif info.status in ("not_article", "gone"):
                self._count(f"discovery/skipped_{info.status}")
                continue
            if self.max_articles is not None and self.scheduled[site.id] >= self.max_articles:
                self._count("discovery/skipped_max_articles")  # stays "discovered": the next run takes it
                continue
            self._count(f"discovery/articles_from_{source}")
            requests.append(self._article_request(site, url))
        if discovered:
            assert self.storage is not None
            self.storage.mark_urls(discovered)
            self._count("discovery/new_urls", len(discovered))
        return requests

    # -- backfill ranges ---------------------------------------------------------------------------
    def _sitemap_in_range(self, link: Link) -> bool:
        """A child sitemap may hold articles of the period: by the month in its URL, else its lastmod."""
        assert self.since is not None
        match = _MONTH_IN_URL.search(link.url)
        if match:
            first = date(int(match[1]), int(match[2]), 1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            return last >= self.since and (self.until is None or first <= self.until)
        modified = to_utc(link.lastmod)
        return modified is None or modified.astimezone(VN_TZ).date() >= self.since

    def _entry_in_range(self, link: Link) -> bool:
        """An article last modified before the period cannot have been published in it."""
        assert self.since is not None
        modified = to_utc(link.lastmod)
        return modified is None or modified.astimezone(VN_TZ).date() >= self.since

    # -- articles --------------------------------------------------------------------------------
    def parse_article(self, response: Response, site: Site, url: str) -> Iterable[PageItem]:
        final = normalize_url(response.url, canonical_host=site.domain, aliases=site.aliases)
        if final != url:
            self.redirected[final] = url
        content_type = response.headers.get("Content-Type")
        yield PageItem(
            url=response.url,
            site_id=site.id,
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            lastmod=self.lastmods.get(url),
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
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        if etag or modified:
            self.new_validators[response.url] = Validators(
                response.url,
                site.id,
                etag.decode("latin-1") if etag else None,
                modified.decode("latin-1") if modified else None,
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
                self._mark(url, site_id, "gone" if gone else "failed", f"http_{status}")
            elif not listing_end and (status >= 500 or status == 429) and site_id:
                self.unclean_sites.add(site_id)
            return
        if failure.check(IgnoreRequest):  # (HttpError is one too: handled above)
            robots = request.meta.get("provnews_robots")
            logger.debug("not fetched: %s: %s", request.url, failure.getErrorMessage())
            if kind == ARTICLE and robots == "disallowed":
                self._mark(url, site_id, "not_article", "robots.txt disallows it")
            # robots.txt unavailable: the URL stays as it was and is tried again in a later run
            return
        error = failure.type.__name__ if failure.type else "error"
        self._count(f"errors/{error}")
        logger.warning("request failed: %s: %s", request.url, failure.getErrorMessage())
        if kind == ARTICLE:
            self._mark(url, site_id, "failed", f"{error}: {failure.getErrorMessage()}"[:500])
        elif site_id:
            self.unclean_sites.add(site_id)

    def _mark(self, url: str, site_id: str | None, status: str, reason: str) -> None:
        if self.storage is not None:
            self.storage.mark_url(url, site_id, status, reason=reason)
        self._count(f"urls/{status}")

    def _count(self, key: str, n: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"provnews/{key}", n)

    # -- end ---------------------------------------------------------------------------------------
    def closed(self, reason: str) -> None:
        """Keep the validators of discovery pages only after a complete, clean run: a 304 next time
        then safely means "nothing new", because everything those pages led to was taken."""
        if self.storage is None:
            return
        try:
            if reason == "finished" and not self.backfill:
                clean = {s.id for s in self.sites} - self.unclean_sites
                kept = [v for v in self.new_validators.values() if v.site_id in clean]
                if kept:
                    self.storage.save_validators(kept)
        finally:
            self.storage.close()


def changed(lastmod: str | None, info: UrlInfo) -> bool:
    """Whether a stored article changed since it was stored, by its sitemap or feed date."""
    modified = to_utc(lastmod)
    if modified is None:
        return False
    # Without a stored lastmod, compare with when it was stored (the site's clock against ours).
    return modified > (info.lastmod or info.updated_at)


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
