"""Discovery from sitemaps, feeds and listing pages, on real and generated documents."""

from __future__ import annotations

import gzip

from provnews.crawler.discovery.sources import (
    listing_page_url,
    normalize_lastmod,
    page_links,
    parse_feed,
    parse_sitemap,
)
from provnews.crawler.discovery.urls import host_of, normalize_url
from tests.paths import shared_file

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://bao.vn/sitemaps/news-2026-1.xml.gz</loc><lastmod>2026-01-31</lastmod></sitemap>
</sitemapindex>"""
URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc> https://bao.vn/a-post1.html </loc><lastmod>2026-01-02T10:00:00+07:00</lastmod></url>
<url><loc>https://bao.vn/b-post2.html</loc></url>
</urlset>"""


def test_sitemap_index_and_gzip_urlset() -> None:
    kind, links = parse_sitemap(INDEX)
    assert kind == "sitemapindex"
    assert links[0].url.endswith("news-2026-1.xml.gz")
    kind, links = parse_sitemap(gzip.compress(URLSET))
    assert kind == "urlset"
    assert [(lk.url, lk.lastmod) for lk in links] == [
        ("https://bao.vn/a-post1.html", "2026-01-02T10:00:00+07:00"),
        ("https://bao.vn/b-post2.html", None),
    ]


def test_real_rss_feed_items() -> None:
    body = shared_file("vnexpress.net/vnexpress_tin-moi-nhat_2017-07-26.rss.xml").read_bytes()
    links = parse_feed(body)
    assert len(links) == 25
    assert all(lk.url.startswith("http://") and "vnexpress.net/" in lk.url for lk in links)
    assert (
        links[1].url
        == "http://vnexpress.net/tin-tuc/the-gioi/pho-tong-tu-lenh-quan-doi-australia-tham-viet-nam-3618888.html"
    )
    assert links[1].lastmod == "2017-07-26T19:33:31+07:00"
    assert all(lk.lastmod for lk in links)


def test_atom_feed() -> None:
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="https://bao.vn/x-a12.html"/>
    <updated>2026-01-01T00:00:00Z</updated></entry></feed>"""
    assert [(lk.url, lk.lastmod) for lk in parse_feed(atom)] == [
        ("https://bao.vn/x-a12.html", "2026-01-01T07:00:00+07:00")
    ]


def test_unreadable_dates_become_none() -> None:
    assert normalize_lastmod("not a date") is None
    assert normalize_lastmod("") is None
    assert normalize_lastmod("2025-10-16") == "2025-10-16T00:00:00+07:00"


def test_real_listing_links_ignore_the_static_base_href() -> None:
    html = shared_file("baocantho.com.vn/thoi-su.listing.html").read_text(encoding="utf-8")
    links = page_links(html, "https://baocantho.com.vn/thoi-su/")
    articles = [u for u in links if u.endswith(".html") and "-a" in u.rsplit("/", 1)[-1]]
    assert len(articles) >= 10
    assert all(u.startswith("https://baocantho.com.vn/") for u in articles)
    assert not any("/static/templates/" in u for u in articles)


def test_listing_page_urls() -> None:
    assert listing_page_url("https://bao.vn/thoi-su/", "?p={n}", 2) == "https://bao.vn/thoi-su/?p=2"
    assert (
        listing_page_url("https://bao.vn/thoi-su?x=1", "?page={n}", 3) == "https://bao.vn/thoi-su?x=1&page=3"
    )
    assert listing_page_url("https://bao.vn/thoi-su/", "page/{n}/", 4) == "https://bao.vn/thoi-su/page/4/"
    assert (
        listing_page_url("https://bao.vn/thoi-su/", "trang-{n}.html", 5)
        == "https://bao.vn/thoi-su/trang-5.html"
    )


def test_url_normalisation() -> None:
    assert (
        normalize_url(
            "HTTPS://M.Bao.vn:443/a-post1.html?utm_source=x&fbclid=y&id=3#top",
            canonical_host="bao.vn",
            aliases=["m.bao.vn"],
        )
        == "https://bao.vn/a-post1.html?id=3"
    )
    assert normalize_url("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080/x"
    assert host_of("http://bao.vn:80/x") == "bao.vn"
    assert host_of("http://127.0.0.1:8080/x") == "127.0.0.1:8080"
