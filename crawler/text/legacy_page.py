"""Whole pages typed in a legacy Vietnamese font encoding (TCVN3 ``.VnTime``, VNI-Times).

Such pages store Vietnamese in Latin-1 code points, so after decoding they read ``TiÕng ViÖt``. They
must be converted before any cleaning: TCVN3 uses U+00AD (a soft hyphen in Unicode, which the text
cleaner deletes) for ``ư``. Both tables map only non-ASCII characters, so converting the whole HTML
leaves the markup alone. :func:`decode_with_legacy_repair` is the bytes → text step of every fetched
page.
"""

from __future__ import annotations

import re

from provnews.crawler.text.encoding import decode_html, gunzip_if_compressed
from provnews.crawler.text.legacy_vn import detect_legacy_vietnamese, tcvn3_to_unicode, vni_to_unicode

# Real Unicode Vietnamese is about half letters of the Latin Extended Additional block (ạ ế ờ ữ …)
# among its non-ASCII characters (0.35–0.55 on the project's pages); legacy-font text has almost none.
_VN_EXTENDED = re.compile("[\u1ea0-\u1ef9]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_MAX_EXTENDED_SHARE = 0.15
_MIN_NON_ASCII = 20
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)
_CONVERTERS = {"TCVN3": tcvn3_to_unicode, "VNI": vni_to_unicode}


def could_be_legacy(html: str) -> bool:
    """Cheap pre-check: enough non-ASCII characters and few Unicode-only Vietnamese letters."""
    if html.isascii():
        return False
    non_ascii = len(_NON_ASCII.findall(html))
    return non_ascii >= _MIN_NON_ASCII and len(_VN_EXTENDED.findall(html)) < _MAX_EXTENDED_SHARE * non_ascii


def visible_text(html: str) -> str:
    return _TAG.sub(" ", html)


def repair_legacy_html(html: str) -> tuple[str, str | None]:
    """``(converted html, "TCVN3" | "VNI")`` when the page's text is legacy-font Vietnamese, else
    ``(html, None)``; real Unicode pages are returned as they are."""
    if not could_be_legacy(html):
        return html, None
    detected = detect_legacy_vietnamese(visible_text(html))
    if detected is None:
        return html, None
    return _CONVERTERS[detected](html), detected


def decode_with_legacy_repair(body: bytes, content_type: str | None = None) -> tuple[str, str | None]:
    """A fetched page as text, legacy-font text converted: ``(html, "TCVN3" | "VNI" | None)``.

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
