"""The plain "-{id}.html" CMSs (baoquangninh, baohungyen, baocaobang, baolangson, baodanang, baohaiphong,
baonghean's 8-digit ids, baohaugiang, baosonla, baoninhbinh)."""

from __future__ import annotations

from crawler.parsers.base import ArticleParser


class HtmlIdParser(ArticleParser):
    """Several templates behind one URL shape (vietnamese-sites.md §2.1 E, provinces.tsv notes):
    ``#content-detail`` (baoquangninh, baohungyen ``h1.name``, baocaobang with a bold first paragraph as
    sapo, baolangson sapo ``#content-detail h2``); ``div.b-maincontent .entry`` and the longform
    ``.sc-longform-header-*`` (baodanang, baohaiphong, baonghean ``article.entry``);
    ``div.news-details-content div.contentView`` (baohaugiang); ``div#editor-detail`` / ``div.fulltext``
    with sapo ``p.font-bold`` (baosonla); ``#content_detail`` (baoninhbinh ``h1.header-title``)."""

    family = "html-id"
    title_css = (
        "h1.name",
        "h1.header-title",
        ".sc-longform-header-title",
        "h1.title-detail",
        "h1.title",
        "h1",
    )
    sapo_css = (
        ".sc-longform-header-sapo",
        "#content-detail h2",
        ".content-detail .font-bold",
        "p.font-bold",
        ".sapo",
        ".detail-sapo",
    )
    body_css = (
        "#content-detail",
        "div.b-maincontent .entry",
        "article.entry",
        "div.news-details-content div.contentView",
        "div#editor-detail",
        "div.fulltext",
        "#content_detail",
        ".content-detail",
    )
    byline_css = (".author", ".tacgia")
    byline_classes = ("author", "tacgia", "tac-gia")
    date_css = (".date-time", ".date", ".time", ".post-date", ".publish-date")
    section_css = (".breadcrumb a", ".breadcrumbs a")
    tags_css = ".tags a, .tag a"
    sapo_strong_lead = True
