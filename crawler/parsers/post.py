"""The "-post{id}.html" CMS (baogialai, baolaocai, baohatinh, sggp, baonghean; nhandan's template)."""

from __future__ import annotations

from provnews.crawler.parsers.base import ArticleParser


class PostParser(ArticleParser):
    """Layout seen 2025-2026: h1.article__title, .article__sapo, div.article__body.cms-body."""

    family = "post"
    title_css = ("h1.article__title", "h1.cms-title")
    sapo_css = (".article__sapo", ".cms-desc", ".sc-longform-header-sapo")
    body_css = ("div.article__body", "div.cms-body", "[itemprop=articleBody]")
    byline_css = (".article__author", ".article__byline")
    byline_classes = ("t1", "t2", "author", "article__author")
    section_css = ("div.breadcrumbs h2.main a", ".breadcrumbs a", ".breadcrumb a")
    tags_css = ".article__tags a"
