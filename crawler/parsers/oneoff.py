"""CMSs used by one paper each (vietnamese-sites.md §2.1 F): baolaichau, baobacninhtv, baodienbienphu,
huengaynay."""

from __future__ import annotations

from provnews.crawler.parsers.base import ArticleParser


class OneOffParser(ArticleParser):
    """baolaichau ``#post-content .post-detail .post-info`` with ``.title``/``.sapo``/``.body`` and a
    ``Thứ hai, 05/01/2026 - 08:27`` date line; baobacninhtv ``.news-details__content`` with sapo
    ``div.news_detail_sapo``; baodienbienphu ``div.editor-content``; huengaynay ``[itemprop=articleBody]``.
    The selectors come from a working crawler's configuration, not from saved pages."""

    family = "one-off"
    title_css = ("#post-content .post-info .title", ".news-details__title", "h1.title", "h1")
    sapo_css = ("#post-content .post-info .sapo", "div.news_detail_sapo", ".sapo", ".editor-sapo")
    body_css = (
        "#post-content .post-info .body",
        ".news-details__content",
        "div.editor-content",
        "[itemprop=articleBody]",
    )
    byline_css = ("#post-content .post-info .author", ".news-details__author", ".author")
    byline_classes = ("author", "tacgia")
    date_css = ("#post-content .post-info .date", ".news-details__date", ".date", ".time")
    section_css = (".breadcrumb a", ".breadcrumbs a", "#post-content .post-info .category a")
    tags_css = ".tags a, .tag a"
