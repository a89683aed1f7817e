"""What a news site offers for discovery, read from its home page: robots.txt (``Sitemap:`` lines,
``Crawl-delay``), feeds, sitemaps, listing pages and their pagination, and article URLs.

Every fetch goes through the canary's client (`crawler.canary.client`: its delay, robots.txt per RFC
9309) and stays on the site's host. trafilatura's feed and sitemap helpers are used for what they
parse (``determine_feed`` on the home page, ``extract_robots_sitemaps``, ``GUESSES``), not its
``find_feed_urls``/``sitemap_search``, which fetch with their own client and, when a home page has no
feed, ask Google News."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from trafilatura.feeds import FeedParameters, determine_feed
from trafilatura.sitemaps import GUESSES, extract_robots_sitemaps

from provnews.crawler.canary.client import Client, Fetched, Robots
from provnews.crawler.discovery.sources import Link, page_links, parse_feed, parse_sitemap
from provnews.crawler.discovery.urls import host_of
from provnews.crawler.sites.families import URL_FAMILIES
from provnews.crawler.text.encoding import decode_html, gunzip_if_compressed

# Article URL shapes of CMSs outside the known families, most specific first (the learned pattern must
# hold for nearly every URL the feeds and sitemaps list).
GENERIC_SHAPES = tuple(
    re.compile(p)
    for p in (
        r"-\d{5,}\.html$",
        r"-\d{5,}\.htm$",
        r"/\d{5,}\.html?$",
        r"/\d{4}/\d{2}/[^/]+/?$",
        r"-\d{5,}/?$",
        r"/[a-z0-9]+(?:-[a-z0-9]+){3,}\.html?$",
        r"/[a-z0-9]+(?:-[a-z0-9]+){3,}/?$",
    )
)
# Feed paths Vietnamese CMSs use, tried when the home page links no feed.
COMMON_FEEDS = ("rss/home.rss", "rss.xml", "rss", "feed", "rss/tin-moi-nhat.rss")
LISTING_CANDIDATES = 8  # section links fetched to find listing pages
MIN_LISTING_ARTICLES = 3
# How page 2 of a listing is addressed, as a registry `pagination` value: (link pattern, template).
_PAGINATION = (
    (re.compile(r"^\?(page|p|trang|pg)=2$"), lambda m: f"?{m[1]}={{n}}"),
    (
        re.compile(r"^(page|trang|p)/2/?$"),
        lambda m: f"{m[1]}/{{n}}/" if m[0].endswith("/") else f"{m[1]}/{{n}}",
    ),
    (re.compile(r"^(trang|page|p)-2(\.html?)?$"), lambda m: f"{m[1]}-{{n}}{m[2] or ''}"),
)


@dataclass
class Discovery:
    """What the site offers; ``evidence`` says how each finding was made."""

    base_url: str
    home_html: str = ""
    robots: Robots | None = None
    crawl_delay: float | None = None
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    listings: list[str] = field(default_factory=list)
    pagination: str | None = None
    article_urls: list[str] = field(default_factory=list)  # newest first where the source says so
    article_pattern: str | None = None
    url_family: str | None = None  # the CMS family whose URL shape the article URLs have
    evidence: list[str] = field(default_factory=list)
    moved_to: str | None = None  # the home page redirected to this origin: the site lives there

    def note(self, line: str) -> None:
        self.evidence.append(line)


class Prober:
    """Fetches for one site: robots.txt first, then only allowed URLs on the site's host."""

    def __init__(self, base_url: str, client: Client) -> None:
        self.base_url = base_url
        self.host = host_of(base_url)
        self.client = client
        fetched = client.get(urljoin(base_url, "/robots.txt"))
        self.robots = Robots(fetched)
        self.robots_text = fetched.body.decode("utf-8", "replace") if self.robots.parser is not None else ""

    def get(self, url: str, *, may_leave: bool = False) -> Fetched | None:
        """The page when allowed, on the site, and answered 2xx; else None (``may_leave``: a redirect
        to another host is returned, for the home page, whose site then lives there)."""
        if host_of(url) != self.host or not self.robots.allowed(url, self.client.user_agent):
            return None
        fetched = self.client.get(url)
        if not fetched.ok or fetched.error:
            return None
        if host_of(fetched.final_url or url) != self.host and not may_leave:
            return None
        return fetched


def discover(prober: Prober, start_url: str | None = None, article_pattern: str | None = None) -> Discovery:
    """Read the site's robots.txt, home page, feeds, sitemaps and listings (network access)."""
    base_url = prober.base_url
    found = Discovery(base_url)
    found.robots = prober.robots
    if not prober.robots.check.ok:
        found.note(f"robots.txt: {prober.robots.check.reason}")
        return found
    _read_robots(found, prober)
    home = prober.get(base_url, may_leave=True)
    if home is None:
        found.note(f"home page {base_url}: not fetched (disallowed or an HTTP error)")
        return found
    final = urlsplit(home.final_url or base_url)
    if host_of(home.final_url or base_url) != prober.host:
        found.moved_to = f"{final.scheme}://{final.netloc}/"
        found.note(f"home page {base_url}: redirects to {home.final_url}")
        return found
    found.home_html = decode_html(home.body, home.content_type)
    links = [u for u in page_links(found.home_html, base_url) if host_of(u) == prober.host]
    known: list[str] = [start_url] if start_url and start_url != base_url else []
    known += _feeds(found, prober)
    known += _sitemaps(found, prober)
    _learn_pattern(found, [u for u in known if host_of(u) == prober.host], links, article_pattern)
    _listings(found, prober, links)
    return found


def _read_robots(found: Discovery, prober: Prober) -> None:
    robots = prober.robots
    if robots.parser is None:  # a 4xx robots.txt: everything allowed, no sitemap or delay named
        found.note(f"robots.txt: {robots.check.reason}")
    else:
        delay = robots.parser.crawl_delay(prober.client.user_agent)
        found.crawl_delay = float(delay) if delay is not None else None
        if found.crawl_delay is not None:  # the pace the site asks for, from here on
            prober.client.delay = found.crawl_delay
        text = prober.robots_text
        listed = [
            u for u in extract_robots_sitemaps(text, found.base_url.rstrip("/")) if host_of(u) == prober.host
        ]
        found.sitemaps += listed
        found.note(
            f"robots.txt: {len(listed)} Sitemap line(s)"
            + (
                f", Crawl-delay {found.crawl_delay:g}"
                if found.crawl_delay is not None
                else ", no Crawl-delay"
            )
        )


def _feeds(found: Discovery, prober: Prober) -> list[str]:
    """Feeds linked from the home page (trafilatura's determine_feed), else the common paths; returns
    the article URLs they list."""
    parts = urlsplit(found.base_url)
    params = FeedParameters(f"{parts.scheme}://{parts.netloc}", parts.netloc, found.base_url)
    linked = [u for u in determine_feed(found.home_html, params) if host_of(u) == prober.host]
    how = "linked from the home page"
    if not linked:
        linked, how = [urljoin(found.base_url, path) for path in COMMON_FEEDS], "common feed path"
    urls: list[str] = []
    for url in linked:
        fetched = prober.get(url)
        if fetched is None:
            continue
        try:
            items = parse_feed(gunzip_if_compressed(fetched.body))
        except Exception:  # not a feed after all (an HTML page at /rss, a broken file)
            continue
        if items:
            found.feeds.append(url)
            found.note(f"feed {url}: {len(items)} items ({how})")
            urls += [urljoin(url, i.url) for i in items]
    return urls


def _sitemaps(found: Discovery, prober: Prober) -> list[str]:
    """The robots.txt sitemaps, else trafilatura's guesses; returns the article URLs of the newest
    child sitemap (a sitemap index's children are not listed in the entry: the crawl reads them)."""
    guessed = not found.sitemaps
    candidates = found.sitemaps or [urljoin(found.base_url, g) for g in GUESSES]
    found.sitemaps = []
    urls: list[str] = []
    for url in candidates:
        fetched = prober.get(url)
        if fetched is None:
            continue
        try:
            kind, links = parse_sitemap(fetched.body)
        except Exception:  # not a sitemap (an HTML page, broken XML)
            continue
        if not links:
            continue
        found.sitemaps.append(url)
        found.note(f"sitemap {url}: {kind} of {len(links)} entries" + (" (guessed path)" if guessed else ""))
        if kind == "sitemapindex":
            newest = sorted(links, key=lambda link: link.lastmod or "", reverse=True)[:1]
            for child in newest:
                fetched_child = prober.get(urljoin(url, child.url))
                try:
                    urls += _newest_first(parse_sitemap(fetched_child.body)[1], url) if fetched_child else []
                except Exception:  # a broken child sitemap: the index is still the source to list
                    found.note(f"sitemap {child.url}: unreadable")
        else:
            urls += _newest_first(links, url)
        if guessed:
            break  # one working guess is enough
    return urls


def _newest_first(links: list[Link], base: str) -> list[str]:
    return [urljoin(base, link.url) for link in sorted(links, key=lambda k: k.lastmod or "", reverse=True)]


def _learn_pattern(found: Discovery, known: list[str], links: list[str], given: str | None) -> None:
    """The article pattern: ``given``, else the CMS family URL shape most article URLs have, else the
    most specific common shape of the URLs the feeds and sitemaps list (those are articles)."""
    known = list(dict.fromkeys(known))
    every = list(dict.fromkeys([*known, *links]))
    shapes = Counter(f for f in (_url_family(u) for u in (known or every)) if f)
    if given is not None:
        pattern = re.compile(given)
        found.note(f"article URLs: the given pattern {given}")
    elif shapes and (not known or 2 * shapes.most_common(1)[0][1] >= len(known)):
        family, count = shapes.most_common(1)[0]
        pattern = dict(URL_FAMILIES)[family]
        found.url_family = family
        found.note(
            f"article URLs: {count} of {len(known or every)} have the {family} shape {pattern.pattern}"
        )
    else:
        learned = _common_shape(known)
        if learned is None:
            found.note("article URLs: no shape shared by the feed and sitemap URLs; give --article-pattern")
            return
        pattern = learned
        found.note(f"article URLs: the feed and sitemap URLs share the shape {pattern.pattern}")
    found.article_pattern = pattern.pattern
    found.article_urls = [u for u in every if pattern.search(u.split("?", 1)[0])]
    if found.url_family is None and found.article_urls:
        found.url_family = _url_family(found.article_urls[0])


def _url_family(url: str) -> str | None:
    path = url.split("?", 1)[0]
    return next((family for family, pattern in URL_FAMILIES if pattern.search(path)), None)


def _common_shape(known: list[str]) -> re.Pattern[str] | None:
    """The most specific of the usual article URL shapes that nearly all known article URLs have."""
    if not known:
        return None
    paths = [u.split("?", 1)[0] for u in known]
    for shape in GENERIC_SHAPES:
        if sum(1 for p in paths if shape.search(p)) >= 0.9 * len(paths):
            return shape
    return None


def _listings(found: Discovery, prober: Prober, home_links: list[str]) -> None:
    """Section pages of the home page that list several articles, and how their page 2 is addressed."""
    if found.article_pattern is None:
        return
    pattern = re.compile(found.article_pattern)
    home = found.base_url.rstrip("/")
    sections = [
        u
        for u in dict.fromkeys(home_links)
        if not pattern.search(u.split("?", 1)[0]) and _section_like(u, home) and not _is_feed_or_file(u)
    ]
    for url in sections[:LISTING_CANDIDATES]:
        fetched = prober.get(url)
        if fetched is None:
            continue
        html = decode_html(fetched.body, fetched.content_type)
        links = page_links(html, url)
        articles = {u for u in links if pattern.search(u.split("?", 1)[0]) and host_of(u) == prober.host}
        if len(articles) < MIN_LISTING_ARTICLES:
            continue
        found.listings.append(url)
        paging = pagination_of(url, links)
        found.note(
            f"listing {url}: {len(articles)} article links" + (f", page 2 as {paging}" if paging else "")
        )
        found.pagination = found.pagination or paging


def _section_like(url: str, home: str) -> bool:
    """One or two path segments without a query: /thoi-su/, /kinh-te/nong-nghiep/, /xa-hoi.html."""
    parts = urlsplit(url)
    if parts.query or not url.startswith(home):
        return False
    segments = [s for s in parts.path.split("/") if s]
    return 1 <= len(segments) <= 2 and not re.search(r"\d{4,}", parts.path)


def _is_feed_or_file(url: str) -> bool:
    return bool(re.search(r"(rss|feed|atom|sitemap)|\.(xml|rss|jpe?g|png|gif|webp|pdf)$", url, re.I))


def pagination_of(listing: str, links: list[str]) -> str | None:
    """The registry pagination of a listing from its link to page 2, if it has one."""
    for link in links:
        if not link.startswith(listing.split("?", 1)[0]):
            continue
        rest = link[len(listing.split("?", 1)[0]) :]
        if listing.endswith("/") is False and rest.startswith("/"):
            rest = rest[1:]
        for regex, template in _PAGINATION:
            match = regex.match(rest)
            if match:
                return template(match)
    return None
