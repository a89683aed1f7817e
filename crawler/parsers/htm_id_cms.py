"""The "-{id}.htm" CMS (baothanhhoa, baoquangngai, baophutho)."""

from __future__ import annotations

from provnews.crawler.parsers.base import ArticleParser


class HtmIdParser(ArticleParser):
    """baophutho: ``h1.pTitle``, sapo ``p.pHead``, body ``#dcontent``; baoquangngai: ``h1.title``,
    ``p.sapo``, ``#content`` (vietnamese-sites.md §2.1 D). Dates are ``14:33 02/11/2020`` (baothanhhoa)
    or ``15/11/2025`` (baoquangngai). The anti-copy blob of baothanhhoa and of baophutho's print view is
    removed by the shared body cleaning."""

    family = "htm-id"
    title_css = ("h1.pTitle", "h1.title", "h1.article-title", "h1.detail-title", "h1")
    sapo_css = ("p.pHead", "p.sapo", ".sapo", ".article-sapo", ".detail-sapo")
    body_css = ("#dcontent", "#content", ".article-content", ".detail-content")
    byline_css = (".pAuthor", ".author")
    byline_classes = ("pauthor", "author", "tacgia")
    date_css = (".pTime", ".pDate", ".date-time", ".date", ".time", ".publish-date")
    section_css = (".breadcrumb a", ".breadcrumbs a", ".pCate a")
    tags_css = ".tags a, .tag a, .pTag a"
