"""Page bytes → article fields: decoding (with the legacy-font check) and the family's parser.

The one entry point shared by the crawl pipeline, ``provnews extract``, ``provnews evaluate`` and the
benchmarks, so they all extract alike.
"""

from __future__ import annotations

from crawler.encoding import decode_html, gunzip_if_compressed
from crawler.legacy_page import could_be_legacy, repair_legacy_html
from crawler.parsers import ArticleFields, parser_for


def decode_page(body: bytes, content_type: str | None = None) -> tuple[str, str | None]:
    """The page as text, legacy-font text converted: ``(html, "TCVN3" | "VNI" | None)``.

    A TCVN3 page is Latin-1 bytes, and the charset detector may read them as Windows-1258 (which
    turns some bytes into Vietnamese letters and combining marks), so when the decoded page does not
    look like Unicode Vietnamese the raw bytes are also tried as Latin-1. ``ValueError`` if undecodable.
    """
    html = decode_html(body, content_type)
    if not could_be_legacy(html):
        return html, None
    for candidate in (html, gunzip_if_compressed(body).decode("latin-1")):
        repaired, detected = repair_legacy_html(candidate)
        if detected:
            return repaired, detected
    return html, None


def extract_page(
    body: bytes, url: str, family: str = "generic", content_type: str | None = None
) -> ArticleFields:
    """Decode and parse one fetched page; raises NotAnArticle or ValueError (undecodable)."""
    html, legacy = decode_page(body, content_type)
    fields = parser_for(family).parse(html, url)
    if legacy:
        fields.encoding_repair = legacy
    return fields
