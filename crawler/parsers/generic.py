"""Any page: whole-page extraction with the shared metadata rules."""

from __future__ import annotations

from datetime import datetime

import htmldate
import trafilatura

from provnews.crawler.parsers.base import ArticleParser
from provnews.crawler.parsers.body import Body, extract_body, is_boilerplate
from provnews.crawler.parsers.page import Page
from provnews.crawler.text.vietnamese import VN_TZ, clean_text


class GenericParser(ArticleParser):
    """No family selectors: trafilatura's own whole-page choice of the main content with its default
    settings, one output line per paragraph. On the WCXB benchmark our scoped-container reading (tuned
    for provincial article bodies) kept too much or too little of arbitrary pages; trafilatura's
    defaults did better. Never counted as a fallback."""

    family = "generic"
    title_css = ("h1",)
    sapo_css = ()
    body_css = ()
    date_css = ("time", ".date", ".time", ".publish-date", ".post-date", ".pubdate")

    def published(self, page: Page) -> tuple[datetime | None, str | None]:
        """The shared date rules, then htmldate's reading of the markup (Dublin Core, `<abbr>`,
        microdata, the URL...) before giving up. Its free-text search is left out: on a news page it
        picks up the dates of related articles and comments as readily as the article's own."""
        found = super().published(page)
        if found[0] is not None:
            return found
        day = htmldate.find_date(page.html, url=page.url, original_date=True, extensive_search=False)
        if not day:
            return None, None
        return datetime.fromisoformat(day).replace(tzinfo=VN_TZ), "htmldate"

    def body(self, page: Page) -> tuple[Body, bool]:
        text = trafilatura.extract(
            page.html, url=page.url, include_comments=False, include_tables=True, with_metadata=False
        )
        self.fell_back("text", "whole page")
        lines = [clean_text(line) for line in (text or "").splitlines()]
        paragraphs = [p for p in lines if p and not is_boilerplate(p)]
        if paragraphs:
            return Body(paragraphs=paragraphs), False
        whole = page.first_node("body")
        if whole is None:
            return Body(), False
        return extract_body(whole.root, page.url, scoped=False), False
