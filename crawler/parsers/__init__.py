"""Page parsers, one per CMS family: pure functions of (html, url)."""

from __future__ import annotations

from crawler.parsers.aid import AidParser
from crawler.parsers.base import ArticleParser
from crawler.parsers.fields import ArticleFields, Image, NotAnArticle
from crawler.parsers.generic import GenericParser
from crawler.parsers.htmid import HtmIdParser
from crawler.parsers.html_id import HtmlIdParser
from crawler.parsers.legacy import LegacyParser
from crawler.parsers.oneoff import OneOffParser
from crawler.parsers.post import PostParser
from crawler.parsers.yyyymm import YyyymmParser

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


def parse_article(html: str, url: str, family: str = "generic") -> ArticleFields:
    return parser_for(family).parse(html, url)


__all__ = [
    "PARSERS",
    "ArticleFields",
    "ArticleParser",
    "Image",
    "NotAnArticle",
    "parse_article",
    "parser_for",
]
