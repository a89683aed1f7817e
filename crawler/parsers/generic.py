"""Any page: whole-page extraction with the shared metadata rules."""

from __future__ import annotations

from crawler.parsers.base import ArticleParser


class GenericParser(ArticleParser):
    """No family selectors: trafilatura sees the whole page; never counted as a fallback."""

    family = "generic"
    title_css = ("h1",)
    sapo_css = ()
    body_css = ()
    date_css = ("time", ".date", ".time", ".publish-date", ".post-date", ".pubdate")
