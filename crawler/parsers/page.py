"""Read-only helpers over one parsed HTML page: meta tags, JSON-LD, first matching selector."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from parsel import Selector

from provnews.crawler.text.vietnamese import clean_text

# The text a reader sees in an element: never the code of a <script> or <style> inside it (an inline
# script in an <h1> used to land in the title).
VISIBLE_TEXT = (
    ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"
)


class Page:
    """One HTML page and its URL, parsed once with parsel (lxml) and queried by the parsers."""

    def __init__(self, html: str, url: str) -> None:
        self.html = html
        self.url = url
        self.sel = Selector(text=html or "<html></html>")
        self._jsonld: list[dict[str, Any]] | None = None

    def meta(self, *names: str) -> str | None:
        """The first non-empty content of <meta property|name|itemprop=NAME>, cleaned."""
        for name in names:
            for attr in ("property", "name", "itemprop"):
                value = self.sel.xpath(f"//meta[@{attr}=$n]/@content", n=name).get()
                if value and clean_text(value):
                    return clean_text(value)
        return None

    def first_text(self, *css: str) -> str | None:
        """The cleaned text of the first element matching any selector, in selector order."""
        for query in css:
            for node in self.sel.css(query):
                text = clean_text(" ".join(node.xpath(VISIBLE_TEXT).getall()))
                if text:
                    return text
        return None

    def first_node(self, *css: str) -> Selector | None:
        for query in css:
            node = self.sel.css(query)
            if node:
                return node[0]
        return None

    def texts(self, css: str) -> list[str]:
        return [
            t for t in (clean_text(" ".join(n.xpath(VISIBLE_TEXT).getall())) for n in self.sel.css(css)) if t
        ]

    def link(self, rel: str) -> str | None:
        href = self.sel.xpath("//link[@rel=$r]/@href", r=rel).get()
        return self.absolute(href) if href and href.strip() else None

    def absolute(self, href: str) -> str:
        return urljoin(self.url, href.strip())

    @property
    def language(self) -> str:
        lang = (self.sel.xpath("/html/@lang").get() or "vi").strip().lower()
        return lang.split("-")[0] or "vi"

    def jsonld(self) -> list[dict[str, Any]]:
        """Every JSON-LD object on the page, @graph members flattened; broken blocks are skipped."""
        if self._jsonld is None:
            found: list[dict[str, Any]] = []
            for raw in self.sel.xpath('//script[@type="application/ld+json"]/text()').getall():
                try:
                    data = json.loads(raw.strip())
                except ValueError:
                    continue
                found.extend(_flatten(data))
            self._jsonld = found
        return self._jsonld

    def jsonld_value(
        self, key: str, types: tuple[str, ...] = ("NewsArticle", "Article", "BlogPosting")
    ) -> Any:
        for obj in self.jsonld():
            kind = obj.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(k in types for k in kinds) and obj.get(key):
                return obj[key]
        return None


def _flatten(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item)
    elif isinstance(data, dict):
        yield data
        if isinstance(data.get("@graph"), list):
            yield from _flatten(data["@graph"])
