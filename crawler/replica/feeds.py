"""robots.txt, RSS feeds and sitemaps of a replica site."""

from __future__ import annotations

import gzip
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from provnews.crawler.replica.sitegen import Article, SiteModel, iso


def robots_txt(base: str, crawl_delay: float | None = None) -> str:
    delay = f"Crawl-delay: {crawl_delay:g}\n" if crawl_delay is not None else ""
    return (
        "User-agent: *\n"
        "Disallow: /private/\n"
        "Disallow: /binh-luan/\n"
        f"Allow: /\n{delay}"
        "\n"
        f"Sitemap: {base}/sitemap.xml\n"
    )


def feed_articles(model: SiteModel, section: str | None) -> list[Article]:
    return model.in_section(section)[: model.feed_size]


def rss(model: SiteModel, base: str, feed_path: str, articles: list[Article], title: str) -> str:
    items = []
    for art in articles:
        url = base + art.path(model.family)
        images = art.images
        thumb = base + images[0].src if images else ""
        description = (f'<a href="{url}"><img src="{thumb}" /></a>' if thumb else "") + escape(art.sapo)
        items.append(
            "<item>"
            f"<title>{escape(art.title)}</title>"
            f"<link>{escape(url)}</link>"
            f'<guid isPermaLink="true">{escape(url)}</guid>'
            f"<description><![CDATA[{description}]]></description>"
            f"<pubDate>{format_datetime(art.published)}</pubDate>"
            f"<category>{escape(model.section_name(art.section))}</category>"
            "</item>"
        )
    newest = max((a.modified for a in articles), default=None)
    build = f"<lastBuildDate>{format_datetime(newest)}</lastBuildDate>" if newest else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>{escape(title)}</title>\n<link>{base}/</link>\n"
        f"<description>{escape(title)} - tin tức mới nhất</description>\n<language>vi</language>\n{build}\n"
        f'<atom:link href="{base}{feed_path}" rel="self" type="application/rss+xml" />\n'
        + "\n".join(items)
        + "\n</channel>\n</rss>\n"
    )


def months(model: SiteModel) -> list[tuple[int, int]]:
    """Publication months, newest first."""
    return sorted({(a.published.year, a.published.month) for a in model.articles}, reverse=True)


def month_articles(model: SiteModel, year: int, month: int) -> list[Article]:
    return [a for a in model.articles if (a.published.year, a.published.month) == (year, month)]


def month_path(year: int, month: int) -> str:
    return f"/sitemaps/news-{year}-{month}.xml.gz"


def last_modified(articles: list[Article]) -> datetime | None:
    return max((a.modified for a in articles), default=None)


def sitemap_index(model: SiteModel, base: str) -> str:
    entries = []
    for year, month in months(model):
        newest = last_modified(month_articles(model, year, month))
        assert newest is not None
        entries.append(
            f"<sitemap><loc>{base}{month_path(year, month)}</loc><lastmod>{iso(newest)}</lastmod></sitemap>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(entries)
        + "\n</sitemapindex>\n"
    )


def sitemap_month(model: SiteModel, base: str, year: int, month: int) -> bytes:
    news = ""
    entries = []
    for a in month_articles(model, year, month):
        if model.news_sitemap:
            news = (
                f"<news:news><news:publication_date>{iso(a.published)}</news:publication_date>"
                f"<news:title>{escape(a.title)}</news:title></news:news>"
            )
        loc = escape(base + a.path(model.family))
        entries.append(f"<url><loc>{loc}</loc><lastmod>{iso(a.modified)}</lastmod>{news}</url>")
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
        + "\n".join(entries)
        + "\n</urlset>\n"
    )
    return gzip.compress(xml.encode("utf-8"), mtime=0)
