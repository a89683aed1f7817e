"""The canary's probe of one site: robots.txt, every discovery source, and the newest articles fetched
and extracted as the crawl would; the findings go into a `SiteReport` (see `crawler.canary.report`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from scrapy.utils.gz import gunzip

from provnews.crawler.canary.client import MAX_BYTES, Client, Fetched, Robots
from provnews.crawler.canary.report import (
    FIELDS,
    MIN_TEXT_CHARS,
    ArticleCheck,
    SiteReport,
    SourceCheck,
    conclude,
    expects,
    field_problems,
    field_sources,
)
from provnews.crawler.canary.save import save_case
from provnews.crawler.discovery.sources import Link, listing_page_url, page_links, parse_feed, parse_sitemap
from provnews.crawler.discovery.urls import host_of, normalize_url
from provnews.crawler.extraction.extract import extract_page
from provnews.crawler.parsers import NotAnArticle
from provnews.crawler.sites.registry import Site
from provnews.crawler.text.encoding import decode_html
from provnews.crawler.text.vietnamese import parse_iso_datetime

CHILD_SITEMAPS = 2  # of a sitemap index, only the newest children are read


@dataclass
class _Found:
    url: str
    when: datetime | None
    rank: int  # discovery order: what listings and feeds show first is newest


class SiteCanary:
    """Check one site; `run()` returns its report."""

    def __init__(
        self,
        site: Site,
        client: Client,
        articles: int = 3,
        min_text_chars: int = MIN_TEXT_CHARS,
        save_dir: Path | None = None,
    ):
        self.site = site
        self.save_dir = save_dir  # where each fetched article is saved as an evaluation case
        self.client = client
        self.wanted = articles
        self.min_text_chars = min_text_chars
        self.report = SiteReport(site.id, site.name, site.status, site.verified)
        self.robots: dict[str, Robots] = {}
        self.found: dict[str, _Found] = {}

    def run(self) -> SiteReport:
        self._discover()
        for url in self._newest():
            self.report.articles.append(self._check_article(url))
        conclude(self.report, self.site, found_articles=bool(self.found))
        return self.report

    # discovery
    def _discover(self) -> None:
        site = self.site
        self._robots_for(site.base_url)
        if not self.robots[host_of(site.base_url)].check.ok:
            return  # nothing may be fetched: the robots.txt entry says why
        for source in site.sitemaps:
            self._sitemap(urljoin(site.base_url, source), depth=0)
        for source in site.feeds:
            self._feed(urljoin(site.base_url, source))
        for index, source in enumerate(site.listings):
            url = urljoin(site.base_url, source)
            first = self._listing("listing", url)
            if index == 0 and site.pagination and first:
                check, second = self._listing_check(
                    "listing page 2", listing_page_url(url, site.pagination, 2)
                )
                if second and set(second) <= set(first):
                    check.ok, check.reason = False, "page 2 brings no article URLs that page 1 lacks"

    def _sitemap(self, url: str, depth: int) -> None:
        check, fetched = self._fetch_source("sitemap", url)
        if fetched is None:
            return
        try:
            kind, links = parse_sitemap(fetched.body)
        except Exception as exc:  # lxml or gzip errors on a broken sitemap: report, do not crash
            check.ok, check.reason = False, f"unreadable sitemap: {exc}"
            return
        if kind == "sitemapindex":
            check.reason = f"sitemap index of {len(links)} sitemaps"
            if not links:
                check.ok, check.reason = False, "empty sitemap index"
            if depth == 0:
                for child in sorted(links, key=_newest_first_key)[:CHILD_SITEMAPS]:
                    self._sitemap(urljoin(url, child.url), depth + 1)
            return
        self._record_links(check, url, links)

    def _feed(self, url: str) -> None:
        check, fetched = self._fetch_source("feed", url)
        if fetched is None:
            return
        try:
            body = fetched.body
            links = parse_feed(gunzip(body, max_size=MAX_BYTES) if body[:2] == b"\x1f\x8b" else body)
        except Exception as exc:  # a broken feed is a finding, not a crash
            check.ok, check.reason = False, f"unreadable feed: {exc}"
            return
        self._record_links(check, url, links)

    def _listing(self, kind: str, url: str) -> list[str]:
        return self._listing_check(kind, url)[1]

    def _listing_check(self, kind: str, url: str) -> tuple[SourceCheck, list[str]]:
        check, fetched = self._fetch_source(kind, url)
        if fetched is None:
            return check, []
        try:
            html = decode_html(fetched.body, fetched.content_type)
        except ValueError as exc:
            check.ok, check.reason = False, f"undecodable page: {exc}"
            return check, []
        links = [Link(u) for u in page_links(html, fetched.final_url or url)]
        return check, self._record_links(check, url, links)

    def _fetch_source(self, kind: str, url: str) -> tuple[SourceCheck, Fetched | None]:
        """Fetch a discovery source, recording its SourceCheck; no Fetched when it failed."""
        allowed = self._allowed(url)  # first: it may record the robots.txt of a new host
        check = SourceCheck(kind, url, False)
        self.report.sources.append(check)
        if not allowed:
            check.reason = "robots.txt disallows it"
            return check, None
        fetched = self.client.get(url)
        check.http_status = fetched.status
        if not fetched.ok or fetched.error:
            check.reason = fetched.problem()
            return check, None
        off_site = self._off_site(fetched)
        if off_site:
            check.reason = off_site
            return check, None
        check.ok = True
        return check, fetched

    def _record_links(self, check: SourceCheck, url: str, links: Iterable[Link]) -> list[str]:
        """Keep the links that are articles of this site; the check counts them (none is a failure)."""
        links = list(links)
        urls: list[str] = []
        for link in links:
            absolute = urljoin(url, link.url)
            article = normalize_url(absolute, canonical_host=self.site.domain, aliases=self.site.aliases)
            if host_of(article) not in self.site.hosts or not self.site.is_article_url(article):
                continue
            if article not in urls:
                urls.append(article)
            if article not in self.found:
                rank = len(self.found) + (10**6 if check.kind == "sitemap" else 0)
                self.found[article] = _Found(article, _parse_when(link.lastmod), rank)
        check.article_urls = len(urls)
        if not urls:
            check.ok = False
            check.reason = f"no article URLs found ({len(links)} links; none on the site matches the pattern)"
        return urls

    def _newest(self) -> list[str]:
        ordered = sorted(
            self.found.values(),
            key=lambda f: (f.when is None, -(f.when.timestamp() if f.when else 0.0), f.rank),
        )
        chosen: list[str] = []
        for found in ordered:
            if len(chosen) >= self.wanted:
                break
            if self._allowed(found.url):
                chosen.append(found.url)
        return chosen

    # robots
    def _robots_for(self, url: str) -> Robots:
        host = host_of(url)
        if host not in self.robots:
            parts = urlsplit(url)
            robots = Robots(self.client.get(f"{parts.scheme}://{parts.netloc}/robots.txt"))
            self.robots[host] = robots
            self.report.sources.append(robots.check)
        return self.robots[host]

    def _allowed(self, url: str) -> bool:
        return self._robots_for(url).allowed(url, self.client.user_agent)

    def _off_site(self, fetched: Fetched) -> str | None:
        final = fetched.final_url or fetched.url
        if host_of(final) in (*self.site.hosts, host_of(fetched.url)):
            return None
        return f"redirected off the site to {final}"

    # articles
    def _check_article(self, url: str) -> ArticleCheck:
        check = ArticleCheck(url)
        fetched = self.client.get(url)
        check.http_status = fetched.status
        check.error = None if fetched.ok and not fetched.error else fetched.problem()
        check.error = check.error or self._off_site(fetched)
        if check.error is None:
            fields = None
            try:
                fields = extract_page(fetched.body, url, self.site.family, fetched.content_type, self.site)
            except NotAnArticle as exc:
                check.error = f"not an article: {exc.reason}"
            except ValueError as exc:  # undecodable body
                check.error = f"undecodable page: {exc}"
            else:
                check.values = {
                    "title": fields.title,
                    "text_chars": len(fields.text),
                    "authors": fields.authors,
                    "published_at": fields.published_at,
                    "dateline": fields.dateline,
                    "fallback": fields.fallback,
                }
                check.sources = field_sources(fields)
                check.problems = field_problems(fields, self.site, self.min_text_chars)
            if self.save_dir is not None:
                check.saved = str(save_case(self.save_dir, self.site, url, fetched, fields, check.error))
        if check.error is not None:
            check.problems = {name: check.error for name in FIELDS if expects(self.site, name)}
        return check


def _parse_when(value: str | None) -> datetime | None:
    if not value:
        return None
    when = parse_iso_datetime(value)
    if when is None:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _newest_first_key(link: Link) -> tuple[float, list[int]]:
    # Monthly sitemaps (news-2025-12.xml) may carry no lastmod: then the numbers in the name decide.
    when = _parse_when(link.lastmod)
    numbers = [-int(n) for n in re.findall(r"\d+", link.url)]
    return (-(when.timestamp() if when else 0.0), numbers)


# -- entry points ------------------------------------------------------------------------------------
def check_site(
    site: Site,
    *,
    user_agent: str,
    articles: int = 3,
    timeout: float = 20.0,
    min_text_chars: int = MIN_TEXT_CHARS,
    save_dir: Path | None = None,
) -> SiteReport:
    """The canary report of one site (network access; never raises on site faults); with
    ``save_dir``, every fetched article is also saved there as an evaluation case."""
    client = Client(user_agent, timeout=timeout, delay=site.delay)
    return SiteCanary(site, client, articles, min_text_chars, save_dir).run()


def run_canary(
    sites: list[Site],
    *,
    user_agent: str,
    articles: int = 3,
    timeout: float = 20.0,
    workers: int = 8,
    on_report: Callable[[SiteReport], None] | None = None,
    save_dir: Path | None = None,
) -> list[SiteReport]:
    """Check sites in parallel (each site sequentially, with its delay); reports in registry order."""

    def one(site: Site) -> SiteReport:
        report = check_site(
            site, user_agent=user_agent, articles=articles, timeout=timeout, save_dir=save_dir
        )
        if on_report is not None:
            on_report(report)
        return report

    if not sites:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(sites)))) as pool:
        return list(pool.map(one, sites))
