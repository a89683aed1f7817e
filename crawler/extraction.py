"""Page bytes → article fields: decoding (legacy fonts included), then the family's parser.

The one entry point shared by the crawl pipeline, ``provnews extract``, ``provnews evaluate`` and the
benchmarks, so they all extract alike.
"""

from __future__ import annotations

from crawler.legacy_page import decode_with_legacy_repair
from crawler.parsers import ArticleFields, parser_for


def extract_page(
    body: bytes, url: str, family: str = "generic", content_type: str | None = None
) -> ArticleFields:
    """Decode and parse one fetched page; raises NotAnArticle or ValueError (undecodable)."""
    html, legacy = decode_with_legacy_repair(body, content_type)
    fields = parser_for(family).parse(html, url)
    if legacy:
        fields.encoding_repair = legacy
    return fields
