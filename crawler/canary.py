"""The canary: a live check that each registry site still yields articles, field by field.

For one site it reads robots.txt and every discovery source (sitemaps, feeds, listings and the second
listing page), picks the newest article URLs found, fetches and extracts them with the site's parser
and reports for each field (title, text, authors, published_at, dateline) whether it worked, and why
not. It is deliberately small and sequential per site: a plain urllib client, the registry's delay
between requests, robots.txt obeyed as RFC 9309 says (an unreachable or 5xx robots.txt disallows all).
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from protego import Protego
from scrapy.utils.gz import gunzip

from crawler.discovery import Link, listing_page_url, page_links, parse_feed, parse_sitemap
from crawler.encoding import decode_html
from crawler.extraction import extract_page
from crawler.parsers import ArticleFields, NotAnArticle
from crawler.registry import Site
from crawler.text import parse_iso_datetime
from crawler.urls import host_of, normalize_url

FIELDS = ("title", "text", "authors", "published_at", "dateline")
MAX_BYTES = 16 * 1024 * 1024
MIN_TEXT_CHARS = 150  # as the validate pipeline's default (PROVNEWS_MIN_TEXT_CHARS)
CHILD_SITEMAPS = 2  # of a sitemap index, only the newest children are read
FALLBACK = "the family's body selector found nothing, so the whole-page fallback ran"

FieldState = Literal["ok", "warn", "fail", "skip"]


# -- report ------------------------------------------------------------------------------------------
@dataclass
class SourceCheck:
    """One fetch of robots.txt or a discovery source."""

    kind: str  # robots.txt, sitemap, feed, listing, listing page 2
    url: str
    ok: bool
    http_status: int | None = None
    article_urls: int = 0
    reason: str | None = None


@dataclass
class ArticleCheck:
    url: str
    http_status: int | None = None
    error: str | None = None  # why the page could not be fetched or extracted at all
    values: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # field -> reason


@dataclass
class FieldCheck:
    """A field over the checked articles: fail when it failed on most of them, warn on fewer."""

    field: str
    state: FieldState
    failed: int = 0
    checked: int = 0
    reason: str | None = None


@dataclass
class SiteReport:
    site: str
    name: str
    status: str  # the registry status: active, archive, unknown
    verified: bool
    ok: bool = False
    sources: list[SourceCheck] = field(default_factory=list)
    articles: list[ArticleCheck] = field(default_factory=list)
    fields: list[FieldCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- HTTP --------------------------------------------------------------------------------------------
@dataclass
class Fetched:
    url: str
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    final_url: str | None = None
    error: str | None = None  # network failure: no HTTP status at all

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def problem(self) -> str:
        return self.error or f"HTTP {self.status}"


class Client:
    """A blocking HTTP GET client keeping `delay` seconds between requests (one site, one client)."""

    def __init__(self, user_agent: str, timeout: float = 20.0, delay: float = 0.0) -> None:
        self.user_agent = user_agent
        self.timeout = timeout
        self.delay = delay
        self._last = 0.0

    def get(self, url: str) -> Fetched:
        wait = self._last + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            request = urllib.request.Request(url, headers={"User-Agent": self.user_agent, "Accept": "*/*"})
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return self._read(url, response, response.status)
        except urllib.error.HTTPError as exc:  # a status the server chose: keep it (and its body)
            try:
                return self._read(url, exc, exc.code)
            finally:
                exc.close()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return Fetched(url, error=f"unreachable: {_network_reason(exc)}")
        finally:
            self._last = time.monotonic()

    def _read(self, url: str, response: Any, status: int) -> Fetched:
        try:
            body = response.read(MAX_BYTES + 1)
        except OSError as exc:
            return Fetched(url, status, error=f"read failed: {_network_reason(exc)}")
        if len(body) > MAX_BYTES:
            return Fetched(url, status, error=f"larger than {MAX_BYTES} bytes")
        headers = response.headers
        if (headers.get("Content-Encoding") or "").lower() in ("gzip", "x-gzip"):
            try:
                body = gunzip(body, max_size=MAX_BYTES)
            except Exception as exc:  # a broken gzip stream is a server fault: report it
                return Fetched(url, status, error=f"bad gzip body: {exc}")
        return Fetched(url, status, body, headers.get("Content-Type"), response.geturl())


def _network_reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, TimeoutError):
        return "timed out"
    return getattr(reason, "strerror", None) or str(reason)


class Robots:
    """robots.txt of one host, read per RFC 9309: 4xx allows everything; 5xx or no answer disallows."""

    def __init__(self, fetched: Fetched) -> None:
        self.check = SourceCheck("robots.txt", fetched.url, True, fetched.status)
        self.parser: Protego | None = None
        self.allow_all = False
        if fetched.error or fetched.status is None or fetched.status >= 500:
            self.check.ok = False
            self.check.reason = f"{fetched.problem()}; RFC 9309: everything is disallowed"
        elif fetched.status >= 400:
            self.allow_all = True
            self.check.reason = f"HTTP {fetched.status}: no robots.txt, everything allowed"
        else:
            self.parser = Protego.parse(fetched.body.decode("utf-8", "replace"))

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.allow_all:
            return True
        return self.parser is not None and bool(self.parser.can_fetch(url, user_agent))


# -- the check ---------------------------------------------------------------------------------------
@dataclass
class _Found:
    url: str
    when: datetime | None
    rank: int  # discovery order: what listings and feeds show first is newest


class SiteCanary:
    """Check one site; `run()` returns its report."""

    def __init__(self, site: Site, client: Client, articles: int = 3, min_text_chars: int = MIN_TEXT_CHARS):
        self.site = site
        self.client = client
        self.wanted = articles
        self.min_text_chars = min_text_chars
        self.report = SiteReport(site.id, site.name, site.status, site.verified)
        self.robots: dict[str, Robots] = {}
        self.found: dict[str, _Found] = {}

    def run(self) -> SiteReport:
        self._discover()
        if not self.found and not any(s.kind == "robots.txt" and not s.ok for s in self.report.sources):
            self.report.problems.append("articles: no article URLs found in any discovery source")
        for url in self._newest():
            self.report.articles.append(self._check_article(url))
        self._summarise_fields()
        failed_sources = [s for s in self.report.sources if not s.ok]
        extracted = [a for a in self.report.articles if a.error is None]
        if self.found and not extracted:
            self.report.problems.append("articles: none of the newest articles could be fetched or extracted")
        self.report.problems[:0] = [f"{s.kind} {s.url}: {s.reason}" for s in failed_sources]
        if self.report.articles:  # with no article checked, the source problems above say why
            broken = [f for f in self.report.fields if f.state == "fail"]
            self.report.problems += [f"{f.field}: {f.reason}" for f in broken]
        self.report.ok = not self.report.problems
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
            try:
                fields = extract_page(fetched.body, url, self.site.family, fetched.content_type)
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
                check.problems = self._field_problems(fields)
        if check.error is not None:
            check.problems = {name: check.error for name in FIELDS if self._expects(name)}
        return check

    def _field_problems(self, fields: ArticleFields) -> dict[str, str]:
        problems: dict[str, str] = {}
        text = fields.text
        if not fields.title.strip():
            problems["title"] = "no title found"
        if fields.fallback:
            problems["text"] = FALLBACK
        elif not text.strip():
            problems["text"] = "empty text"
        elif len(text) < self.min_text_chars:
            problems["text"] = f"text too short ({len(text)} < {self.min_text_chars} characters)"
        if not fields.authors:
            problems["authors"] = "no byline or author found"
        if not fields.published_at:
            problems["published_at"] = "no publication date found"
        expected = self.site.dateline
        if expected and (fields.dateline or "").casefold() != expected.casefold():
            found = repr(fields.dateline) if fields.dateline else "none"
            problems["dateline"] = f"expected {expected!r}, found {found}"
        return problems

    def _expects(self, name: str) -> bool:
        return name != "dateline" or self.site.dateline is not None

    def _summarise_fields(self) -> None:
        checked = self.report.articles
        for name in FIELDS:
            result = FieldCheck(name, "ok", checked=len(checked))
            reasons = Counter(a.problems[name] for a in checked if name in a.problems)
            result.failed = sum(reasons.values())
            if not self._expects(name):
                seen = sorted({str(a.values["dateline"]) for a in checked if a.values.get("dateline")})
                result.state = "skip"
                result.reason = "no dateline code in the registry" + (
                    f"; the articles show {', '.join(seen)}" if seen else ""
                )
            elif not checked:
                result.state, result.reason = "fail", "no article could be checked"
            elif reasons:
                reason, count = reasons.most_common(1)[0]
                result.state = "fail" if 2 * result.failed > len(checked) else "warn"
                result.reason = f"{reason} ({count}/{len(checked)} articles)"
            self.report.fields.append(result)


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
) -> SiteReport:
    """The canary report of one site (network access; never raises on site faults)."""
    client = Client(user_agent, timeout=timeout, delay=site.delay)
    return SiteCanary(site, client, articles, min_text_chars).run()


def run_canary(
    sites: list[Site],
    *,
    user_agent: str,
    articles: int = 3,
    timeout: float = 20.0,
    workers: int = 8,
    on_report: Callable[[SiteReport], None] | None = None,
) -> list[SiteReport]:
    """Check sites in parallel (each site sequentially, with its delay); reports in registry order."""

    def one(site: Site) -> SiteReport:
        report = check_site(site, user_agent=user_agent, articles=articles, timeout=timeout)
        if on_report is not None:
            on_report(report)
        return report

    if not sites:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(sites)))) as pool:
        return list(pool.map(one, sites))


def failing(reports: list[SiteReport], named: Iterable[str] = ()) -> list[SiteReport]:
    """The failures cron must alert on: failed active sites, and failed sites named explicitly."""
    names = set(named)
    return [r for r in reports if not r.ok and (r.status == "active" or r.site in names)]
