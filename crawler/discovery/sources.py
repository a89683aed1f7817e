"""Finding article URLs: sitemaps (indexes, gzip, lastmod, news publication dates), RSS/Atom feeds and
listing pages (with the dates their items show), and which of them a backfill of a period follows. Pure
functions, testable without a crawl; sitemaps and feeds are read streaming (lxml iterparse), so a
document costs memory for the links kept, never for its whole tree."""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import IO, NamedTuple
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from provnews.crawler.text.vietnamese import VN_TZ, parse_iso_datetime, parse_vn_datetime, to_vn_iso
from provnews.storage import to_utc

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # decompressed; larger sitemaps are refused, not truncated
MAX_DOCUMENT_URLS = 50_000  # the sitemap protocol's own limit per file
# URL month of a monthly sitemap: news-2025-3.xml.gz, sitemap-2025-03.xml, 2025/03/...
_MONTH_IN_URL = re.compile(r"(?<!\d)((?:19|20)\d\d)[-_/](0?[1-9]|1[0-2])(?!\d)")
# A publication day in an article URL: /2025/09/03/, /2025-09-03-, /20250903/
_DAY_IN_URL = re.compile(r"/((?:19|20)\d\d)([-/]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?=[/_-]|\.html?$)")


@dataclass(frozen=True, slots=True)
class Link:
    """An article link as discovery met it: `lastmod` says when it changed (sitemap lastmod, feed
    date), `published` when it was published, by `date_source` (news sitemap, feed, listing item)."""

    url: str
    lastmod: str | None = None
    published: str | None = None
    date_source: str | None = None


class Parsed(NamedTuple):
    """A sitemap or feed: its kind ('sitemapindex', 'urlset', 'feed'), the links kept and whether the
    document held more than the limit (the rest was not read)."""

    kind: str
    links: list[Link]
    truncated: bool = False


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


class _CappedReader(io.RawIOBase):
    """A decompressing reader that refuses to go past `limit` bytes (a gzip bomb is an error)."""

    def __init__(self, source: IO[bytes], limit: int) -> None:
        self.source, self.limit, self.read_total = source, limit, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(size if size and size > 0 else 64 * 1024)
        self.read_total += len(chunk)
        if self.read_total > self.limit:
            raise ValueError(f"document larger than {self.limit} bytes decompressed")
        return chunk


def _elements(body: bytes) -> Iterator[tuple[str, etree._Element]]:
    """(local name, element) at the end of each element, streaming; gzip detected by its magic bytes.
    No entity is expanded, no DTD or network fetched, no huge tree allowed (XXE, billion laughs)."""
    raw: IO[bytes] = io.BytesIO(body)
    # Not Scrapy's `gunzip`: it returns the whole decompressed document (up to 50 MB for a sitemap) as
    # one bytes object, where this streams it into iterparse 64 KiB at a time under the same cap.
    if body[:2] == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
    source = _CappedReader(raw, MAX_SITEMAP_BYTES)
    events = etree.iterparse(
        source,
        events=("end",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=True,
    )
    for _, element in events:
        if isinstance(element.tag, str):
            yield etree.QName(element).localname, element


def _release(element: etree._Element) -> None:
    """Free an element read to its end, and its already-read siblings: memory stays flat."""
    element.clear()
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def _child_text(element: etree._Element, *names: str) -> str | None:
    for child in element.iter():
        if isinstance(child.tag, str) and etree.QName(child).localname in names and child.text:
            return child.text.strip()
    return None


def read_sitemap(body: bytes, max_urls: int = MAX_DOCUMENT_URLS) -> Parsed:
    """A sitemap or sitemap index, up to `max_urls` entries; news sitemap publication dates kept."""
    kind, truncated = "urlset", False
    links: list[Link] = []
    for name, element in _elements(body):
        if name in ("url", "sitemap"):
            if len(links) >= max_urls:
                truncated = True
                break
            loc = _child_text(element, "loc")
            if loc:
                published = normalize_lastmod(_child_text(element, "publication_date"))
                lastmod = normalize_lastmod(_child_text(element, "lastmod"))
                links.append(Link(loc, lastmod, published, "sitemap_news" if published else None))
            _release(element)
        elif name == "sitemapindex":
            kind = "sitemapindex"
    return Parsed(kind, links, truncated)


def parse_sitemap(body: bytes) -> tuple[str, list[Link]]:
    """('sitemapindex' | 'urlset', links) of a sitemap; gzip is detected by its magic bytes."""
    parsed = read_sitemap(body)
    return parsed.kind, parsed.links


def read_feed(body: bytes, max_urls: int = MAX_DOCUMENT_URLS) -> Parsed:
    """Item links of an RSS (0.9x, 1.0, 2.0) or Atom feed with their dates, up to `max_urls`."""
    links: list[Link] = []
    for name, element in _elements(body):
        if name not in ("item", "entry"):
            continue
        if len(links) >= max_urls:
            return Parsed("feed", links, True)
        if name == "item":
            url = _child_text(element, "link") or _child_text(element, "guid") or ""
            published = normalize_lastmod(_child_text(element, "pubDate", "date"))
            lastmod = published
        else:
            hrefs = [
                child.get("href", "")
                for child in element
                if isinstance(child.tag, str)
                and etree.QName(child).localname == "link"
                and child.get("rel") in (None, "alternate")
            ]
            url = hrefs[0] if hrefs else ""
            updated = normalize_lastmod(_child_text(element, "updated"))
            published = normalize_lastmod(_child_text(element, "published")) or updated
            lastmod = updated or published
        if url.strip():
            links.append(Link(url.strip(), lastmod, published, "feed" if published else None))
        _release(element)
    return Parsed("feed", links)


def parse_feed(body: bytes) -> list[Link]:
    """Item links of an RSS 2.0 or Atom feed, with their dates."""
    return read_feed(body).links


# Not Scrapy's LinkExtractor: listing dates need each link's <a> node (`_item_date`), which it does
# not return; it trusts any <base href> (an off-host one breaks relative article links); and it
# percent-encodes non-ASCII paths (`safe_url_string`), which sitemaps give raw, so one article would
# get two identity keys.
def _anchors(sel: Selector, page_url: str) -> Iterator[tuple[str, Selector]]:
    """(absolute http(s) URL without fragment, <a> node) of every link of a page, in document order."""
    base = sel.xpath("//base/@href").get()
    # A <base> pointing at a static folder (baocantho does this) would break relative article links:
    # trust it only when it stays on the page's own host.
    if not base or urlsplit(base).netloc not in ("", urlsplit(page_url).netloc):
        base = page_url
    for anchor in sel.xpath("//a[@href]"):
        href = (anchor.attrib.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        url = urljoin(urljoin(page_url, base), href).split("#", 1)[0]
        if url.startswith(("http://", "https://")):
            yield url, anchor


def page_links(html: str, page_url: str) -> list[str]:
    """Every absolute http(s) link of an HTML page, in document order, without fragments."""
    return list(dict.fromkeys(url for url, _ in _anchors(Selector(text=html), page_url)))


def listing_links(html: str, page_url: str, is_article: Callable[[str], bool]) -> list[Link]:
    """The article links of a listing page, in order, each with the date its item shows (the
    smallest block around the link that holds no other article link: a `<time datetime>`, else a
    date/time element's text), as `published`."""
    anchors = [(url, a) for url, a in _anchors(Selector(text=html), page_url) if is_article(url)]
    url_of = {a.root: url for url, a in anchors}
    links: dict[str, Link] = {}
    for url, anchor in anchors:
        if url in links and links[url].published:
            continue
        published = _item_date(anchor, url, url_of)
        links[url] = Link(url, None, published, "listing" if published else None)
    return list(links.values())


def _item_date(anchor: Selector, url: str, url_of: dict[object, str]) -> str | None:
    item = anchor.root
    for _ in range(5):  # a listing item is a few levels above its link
        parent = item.getparent()
        if parent is None:
            return None
        if any(url_of.get(a, url) != url for a in parent.iter("a")):
            return None  # the parent holds other articles: it is the list, not the item
        item = parent
        found = _date_in(Selector(root=item))
        if found:
            return found
    return None


def _date_in(item: Selector) -> str | None:
    for value in item.xpath(".//*[@datetime]/@datetime").getall():
        parsed = parse_iso_datetime(value)
        if parsed:
            return to_vn_iso(parsed)
    query = ".//*[contains(@class, 'time') or contains(@class, 'date')]//text()"
    for text in [" ".join(item.xpath(query).getall()), " ".join(item.xpath(".//text()").getall())]:
        visible = parse_vn_datetime(text)
        if visible:
            return to_vn_iso(visible)
    return None


def date_in_url(url: str) -> str | None:
    """A publication day written in an article URL (/2025/09/03/, -2025-09-03-, /20250903/), as
    midnight +07:00; None when the URL carries no full date."""
    match = _DAY_IN_URL.search(urlsplit(url).path)
    if not match:
        return None
    try:
        return to_vn_iso(datetime(int(match[1]), int(match[3]), int(match[4]), tzinfo=VN_TZ))
    except ValueError:
        return None


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


def entry_in_period(link: Link, since: date, until: date | None = None) -> bool:
    """An article last modified before the period cannot have been published in it, nor one
    published after it."""
    modified = to_utc(link.lastmod or link.published)
    if modified is not None and modified.astimezone(VN_TZ).date() < since:
        return False
    published = to_utc(link.published)
    return published is None or until is None or published.astimezone(VN_TZ).date() <= until


def older_than(link: Link, since: date) -> bool:
    """A listing item whose own date is before `since` (walks of a listing stop at such pages)."""
    published = to_utc(link.published)
    return published is not None and published.astimezone(VN_TZ).date() < since
