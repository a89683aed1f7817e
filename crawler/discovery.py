"""Finding article URLs: sitemaps (indexes, gzip, lastmod), RSS/Atom feeds and listing pages, and which
of them a backfill of a period follows. Pure functions, testable without a crawl."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from parsel import Selector
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from crawler.text import parse_iso_datetime, to_vn_iso
from pipelines.rows import VN_TZ, to_utc

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # decompressed; larger sitemaps are refused, not truncated
# URL month of a monthly sitemap: news-2025-3.xml.gz, sitemap-2025-03.xml, 2025/03/...
_MONTH_IN_URL = re.compile(r"(?<!\d)((?:19|20)\d\d)[-_/](0?[1-9]|1[0-2])(?!\d)")


@dataclass(frozen=True)
class Link:
    url: str
    lastmod: str | None = None


def normalize_lastmod(value: str | None) -> str | None:
    """A sitemap W3C date or a feed's RFC 822 date as ISO 8601 with +07:00; None when unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    parsed = parse_iso_datetime(value)
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return to_vn_iso(parsed)


def parse_sitemap(body: bytes) -> tuple[str, list[Link]]:
    """('sitemapindex' | 'urlset', links) of a sitemap; gzip is detected by its magic bytes."""
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body, max_size=MAX_SITEMAP_BYTES)
    sitemap = Sitemap(body)
    links = [Link(entry["loc"].strip(), normalize_lastmod(entry.get("lastmod"))) for entry in sitemap]
    return sitemap.type or "urlset", [link for link in links if link.url]


def parse_feed(body: bytes) -> list[Link]:
    """Item links of an RSS 2.0 or Atom feed, with their dates."""
    sel = Selector(body=body, type="xml")
    sel.remove_namespaces()
    links: list[Link] = []
    for item in sel.xpath("//item"):
        url = (item.xpath("link/text()").get() or item.xpath("guid/text()").get() or "").strip()
        if url:
            links.append(Link(url, normalize_lastmod(item.xpath("pubDate/text()").get())))
    for entry in sel.xpath("//entry"):
        url = (entry.xpath("link[not(@rel) or @rel='alternate']/@href").get() or "").strip()
        if url:
            date = entry.xpath("updated/text()").get() or entry.xpath("published/text()").get()
            links.append(Link(url, normalize_lastmod(date)))
    return links


def page_links(html: str, page_url: str) -> list[str]:
    """Every absolute http(s) link of an HTML page, in document order, without fragments."""
    sel = Selector(text=html)
    base = sel.xpath("//base/@href").get()
    # A <base> pointing at a static folder (baocantho does this) would break relative article links:
    # trust it only when it stays on the page's own host.
    if not base or urlsplit(base).netloc not in ("", urlsplit(page_url).netloc):
        base = page_url
    seen: list[str] = []
    for href in sel.xpath("//a/@href").getall():
        href = href.strip()
        if not href or href.startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        url = urljoin(urljoin(page_url, base), href).split("#", 1)[0]
        if url.startswith(("http://", "https://")) and url not in seen:
            seen.append(url)
    return seen


def listing_page_url(listing_url: str, pagination: str, n: int) -> str:
    """The URL of listing page n: `?p={n}`, `?page={n}`, `page/{n}/`, `trang-{n}.html`…"""
    suffix = pagination.replace("{n}", str(n))
    if suffix.startswith(("?", "&")):
        joiner = "&" if "?" in listing_url else "?"
        return listing_url + joiner + suffix.lstrip("?&")
    if re.match(r"^https?://", suffix):
        return suffix
    if suffix.startswith("/"):
        return urljoin(listing_url, suffix)
    return urljoin(listing_url if listing_url.endswith("/") else listing_url + "/", suffix)


def sitemap_in_period(link: Link, since: date, until: date | None) -> bool:
    """A child sitemap may hold articles of the period: by the month in its URL, else its lastmod."""
    match = _MONTH_IN_URL.search(link.url)
    if match:
        first = date(int(match[1]), int(match[2]), 1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return last >= since and (until is None or first <= until)
    return entry_in_period(link, since)


def entry_in_period(link: Link, since: date) -> bool:
    """An article last modified before the period cannot have been published in it."""
    modified = to_utc(link.lastmod)
    return modified is None or modified.astimezone(VN_TZ).date() >= since
