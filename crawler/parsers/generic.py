"""Any page: whole-page extraction with the shared metadata rules."""

from __future__ import annotations

import trafilatura

from crawler.parsers.base import ArticleParser
from crawler.parsers.body import Body, extract_body, is_boilerplate
from crawler.parsers.page import Page
from crawler.text import clean_text


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
