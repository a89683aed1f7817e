"""The plain "-{id}.html" CMSs (baoquangninh, baohungyen, baocaobang, baolangson, baodanang, baohaiphong,
baonghean's 8-digit ids, baohaugiang, baosonla, baoninhbinh)."""

from __future__ import annotations

from provnews.crawler.parsers.base import ArticleParser


class HtmlIdParser(ArticleParser):
    """Several templates behind one URL shape (vietnamese-sites.md §2.1 E, provinces.tsv notes). The
    family keeps what several of them share: ``#content-detail`` (baoquangninh, baohungyen, baocaobang
    with a bold first paragraph as sapo, baolangson) and the common title and sapo classes. Each site's
    own template (baohungyen ``h1.name``, baolangson's sapo ``#content-detail h2``, the
    ``div.b-maincontent .entry`` and longform ``.sc-longform-header-*`` of baodanang, baohaiphong and
    baonghean ``article.entry``, baohaugiang ``div.news-details-content div.contentView``, baosonla
    ``div#editor-detail`` / ``div.fulltext`` with sapo ``p.font-bold``, baoninhbinh ``h1.header-title``
    and ``#content_detail``) is in its registry entry's ``selectors``, so a fix for one site cannot
    change another."""

    family = "html-id"
    title_css = ("h1.title-detail", "h1.title", "h1")
    sapo_css = (".content-detail .font-bold", ".sapo", ".detail-sapo")
    body_css = ("#content-detail", ".content-detail")
    byline_css = (".author", ".tacgia")
    byline_classes = ("author", "tacgia", "tac-gia")
    date_css = (".date-time", ".date", ".time", ".post-date", ".publish-date")
    section_css = (".breadcrumb a", ".breadcrumbs a")
    tags_css = ".tags a, .tag a"
    sapo_strong_lead = True
