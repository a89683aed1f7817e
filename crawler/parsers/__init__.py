"""Page parsers, one per CMS family: pure functions of (html, url)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from provnews.crawler.parsers.aid import AidParser
from provnews.crawler.parsers.base import ArticleParser
from provnews.crawler.parsers.fields import ArticleFields, Image, NotAnArticle
from provnews.crawler.parsers.generic import GenericParser
from provnews.crawler.parsers.htm_id_cms import HtmIdParser
from provnews.crawler.parsers.html_id_templates import HtmlIdParser
from provnews.crawler.parsers.legacy import LegacyParser
from provnews.crawler.parsers.oneoff import OneOffParser
from provnews.crawler.parsers.post import PostParser
from provnews.crawler.parsers.yyyymm import YyyymmParser

PARSERS: dict[str, ArticleParser] = {
    "post": PostParser(),
    "a-id": AidParser(),
    "yyyymm": YyyymmParser(),
    "htm-id": HtmIdParser(),
    "html-id": HtmlIdParser(),
    "one-off": OneOffParser(),
    "legacy": LegacyParser(),
    "generic": GenericParser(),
}


def parser_for(family: str) -> ArticleParser:
    """The family's parser; families without a parser of their own use the generic one."""
    return PARSERS.get(family, PARSERS["generic"])


def load_parsers(spec: Mapping[str, str]) -> dict[str, Any]:
    """The parsers a PROVNEWS_PARSERS spec names (family -> "module:attribute", a parser class or an
    instance with `parse(html, url)`), checked, without putting them in use."""
    loaded = {}
    for family, path in spec.items():
        if family not in PARSERS:
            raise ValueError(f"PROVNEWS_PARSERS: unknown family {family!r}; families: {', '.join(PARSERS)}")
        module, _, attribute = path.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        parser = found() if isinstance(found, type) else found
        if not callable(getattr(parser, "parse", None)):
            raise ValueError(f"PROVNEWS_PARSERS: {path} has no parse(html, url)")
        loaded[family] = parser
    return loaded


def use_parsers(spec: Mapping[str, str]) -> None:
    """Replace families' parsers in this process (PROVNEWS_PARSERS: a local fix for a family, or a
    test's parser)."""
    PARSERS.update(load_parsers(spec))


__all__ = [
    "PARSERS",
    "ArticleFields",
    "ArticleParser",
    "Image",
    "NotAnArticle",
    "load_parsers",
    "parser_for",
    "use_parsers",
]
