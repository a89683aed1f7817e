"""The "/{cat}/{YYYYMM}/{slug}-{id}/" CMS (baodaklak, baotuyenquang, baohagiang, baokhanhhoa, baothainguyen,
baoquangtri, baovinhlong, baodongnai, baosoctrang; the old baogialai/baodaklak /channel/ archive)."""

from __future__ import annotations

import re
from datetime import datetime

from provnews.crawler.parsers.base import ArticleParser
from provnews.crawler.parsers.page import Page
from provnews.crawler.text.vietnamese import VN_TZ

# The publication month in the path: /xa-hoi/202112/slug-785426/ or /channel/5301/202009/slug-5698714/.
_URL_MONTH = re.compile(r"/((?:19|20)\d{2})(0[1-9]|1[0-2])/[^/]+")


def month_from_url(url: str) -> datetime | None:
    """The first day of the URL's YYYYMM segment, at 00:00 +07:00."""
    match = _URL_MONTH.search(url.split("?", 1)[0])
    return datetime(int(match[1]), int(match[2]), 1, tzinfo=VN_TZ) if match else None


class YyyymmParser(ArticleParser):
    """The family's sites share a URL scheme but not one template (vietnamese-sites.md §2.1 C):
    ``div.article_content div#content`` with a bold first paragraph as sapo (baodaklak, baotuyenquang),
    ``.content-detail`` (baokhanhhoa ``h1.head_title``, baothainguyen ``div.desc``), tagDiv's
    ``#content .td-post-content`` (baovinhlong, baodongnai), ``div#content`` (baoquangtri). Visible dates
    read ``19:48, 05/09/2020``; when a page shows none, the URL's month is the date (source "url")."""

    family = "yyyymm"
    title_css = ("h1.head_title", "h1.media-heading", "h1.title", "h1.entry-title", "h1.tdb-title-text", "h1")
    sapo_css = ("div.desc", ".sapo", ".td-post-sub-title")
    body_css = (
        "div.article_content div#content",
        ".content-detail",
        "#content .td-post-content",
        ".td-post-content",
        "div#content",
        "div.content",
    )
    byline_css = (".author", ".tacgia")
    byline_classes = ("author", "tacgia", "tac-gia")
    date_css = (".date-time", ".date", ".time", ".td-post-date", "time.entry-date", ".post-date")
    section_css = (".breadcrumb a", ".breadcrumbs a", ".td-category a")
    tags_css = ".tags a, .tag a, .td-tags a"
    sapo_strong_lead = True

    def published(self, page: Page) -> tuple[datetime | None, str | None]:
        found, source = super().published(page)
        if found is not None:
            return found, source
        month = month_from_url(page.url)
        if month is None:
            return None, None
        self.fell_back("published_at", "the URL's month")
        return month, "url"
