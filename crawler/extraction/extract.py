"""Page bytes → article fields: decoding (legacy fonts included), then the family's parser with the
site's own selectors (those of the template the page was published with).

The one entry point shared by the crawl pipeline, ``provnews extract``, ``provnews evaluate``,
``provnews canary`` and the benchmarks, so they all extract alike.
"""

from __future__ import annotations

from datetime import date, datetime

from provnews.crawler.parsers import ArticleFields, parser_for
from provnews.crawler.sites.registry import Site
from provnews.crawler.text.legacy_page import decode_with_legacy_repair
from provnews.crawler.text.vietnamese import parse_iso_datetime


def day_of(value: object) -> date | None:
    """The day of a datetime, a date or an ISO 8601 string (sitemap lastmod, stored date); else None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    parsed = parse_iso_datetime(value) if isinstance(value, str) and value else None
    return parsed.date() if parsed else None


def extract_page(
    body: bytes,
    url: str,
    family: str = "generic",
    content_type: str | None = None,
    site: Site | None = None,
    known_date: date | None = None,
) -> ArticleFields:
    """Decode and parse one fetched page; raises NotAnArticle or ValueError (undecodable).

    ``site``: the registry entry whose selector overrides apply; a site with template versions gets
    the selectors of the version in use on the page's date, or on ``known_date`` (the sitemap or feed
    date, the stored date) when the page shows none to the current selectors."""
    html, legacy = decode_with_legacy_repair(body, content_type)
    parser = parser_for(family)
    selectors = site.selectors if site is not None else None
    version = None
    if site is not None and site.templates:
        when = parser.page_date(html, url, selectors)
        version = site.template_on(when.date() if when is not None else known_date)
        if version is not None:
            selectors = version.selectors
    fields = parser.parse(html, url, selectors)
    if version is not None:
        fields.field_sources["template"] = f"valid until {version.valid_until.isoformat()}"
    if legacy:
        fields.encoding_repair = legacy
    return fields
