"""The "-a{id}.html" CMS (baocantho, baobinhduong, baodongthap, baotayninh, dongkhoi./travinh.baovinhlong)."""

from __future__ import annotations

from provnews.crawler.parsers.base import ArticleParser
from provnews.crawler.parsers.page import Page
from provnews.crawler.text.vietnamese import split_dateline


class AidParser(ArticleParser):
    """Layout of baocantho.com.vn seen 2026-01: a breadcrumb <h1> before the headline <h1>, body in
    .content-fck, date only as visible text in span.pubdate, the lead is the first body paragraph."""

    family = "a-id"
    title_css = ("#newscontents h1", "h1.title", "h1")
    sapo_css = (".detail-desc p", ".detail-desc")
    body_css = ("#newscontents .content-fck", ".content-fck", "#contentNews .singular-content")
    byline_classes = ("author", "tacgia")
    date_css = ("span.pubdate", ".pubdate", ".date-detail", ".post-date")
    section_css = ("div.titlecate h1 a", ".titlecate a", ".breadcrumb a")
    tags_css = "div.block_tag a.tag_item"

    def sapo(self, page: Page, paragraphs: list[str]) -> str | None:
        found = super().sapo(page, paragraphs)
        if found or not paragraphs:
            return found
        # No sapo element: the lead is the first paragraph when it carries the dateline or is the
        # page's description.
        first = paragraphs[0]
        description = page.meta("description", "Description", "og:description")
        if split_dateline(first)[0] or (description and description == first):
            self.fell_back("sapo", "first paragraph")
            return first
        return None
