"""The contract between page parsers and the rest of provnews: what one article page yields."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class NotAnArticle(Exception):
    """Raised by a parser when a page is not an article (listing, empty, video shell...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Image:
    url: str
    caption: str | None = None


@dataclass
class ArticleFields:
    """Fields extracted from one article page.

    ``text`` is the source-document text: sapo (with its dateline) first, body paragraphs,
    captions as their own paragraphs, byline last, paragraphs joined by one blank line, NFC.
    Times are ISO 8601 strings with the +07:00 offset, to the minute or finer.
    """

    url: str
    canonical_url: str
    title: str
    text: str
    sapo: str | None = None
    byline: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    modified_at: str | None = None
    date_source: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    dateline: str | None = None
    language: str = "vi"
    family: str = "generic"
    fallback: bool = False  # whole-page trafilatura ran because the family's selectors found nothing
    encoding_repair: str | None = None  # legacy font encoding converted to Unicode ("TCVN3", "VNI")
    # field -> what produced it: "site <css>" (the registry's override), "family <css>" or
    # "fallback <how>" (page metadata, whole page, heuristics); "template" names an earlier template
    field_sources: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n\n") if p]
