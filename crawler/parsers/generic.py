"""Any page: whole-page extraction with the shared metadata rules."""

from __future__ import annotations

import trafilatura

from crawler.parsers.base import ArticleParser
from crawler.parsers.body import Body, extract_body, is_boilerplate, paragraphs_from_xml
from crawler.parsers.page import Page


class GenericParser(ArticleParser):
    """No family selectors: trafilatura's own whole-page choice of the main content, with its default
    thresholds (scoring the WCXB benchmark showed that our scoped-container settings, tuned for short
    provincial briefs, keep too much boilerplate on arbitrary pages). Never counted as a fallback."""

    family = "generic"
    title_css = ("h1",)
    sapo_css = ()
    body_css = ()
    date_css = ("time", ".date", ".time", ".publish-date", ".post-date", ".pubdate")

    def body(self, page: Page) -> tuple[Body, bool]:
        xml = trafilatura.extract(
            page.html,
            url=page.url,
            output_format="xml",
            include_tables=True,
            include_comments=False,
            include_images=False,
            include_links=False,
            with_metadata=False,
        )
        paragraphs = [p for p in paragraphs_from_xml(xml) if not is_boilerplate(p)] if xml else []
        if paragraphs:
            return Body(paragraphs=paragraphs), False
        whole = page.first_node("body")
        if whole is None:
            return Body(), False
        return extract_body(whole.root, page.url), False
