"""Turn raw HTTP bodies into text: gzip sniffing, BOM, declared charsets, wrong-declaration repair.

Vietnamese sites mostly serve UTF-8, but old pages use Windows-1258 (base letter + combining tone mark,
hence the NFC step), some declare one charset and send another, and some bodies arrive gzipped even
though the client did not ask for it. Legacy font encodings (TCVN3/VNI) are repaired on the
extracted text by :func:`repair_legacy_vietnamese`; whole legacy-font pages are decoded and converted
by :func:`crawler.text.legacy_page.decode_with_legacy_repair`.
"""

from __future__ import annotations

import codecs
import re
import struct
import unicodedata
import zlib
from collections import Counter

from bs4.dammit import UnicodeDammit
from scrapy.utils.gz import gunzip
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from provnews.crawler.text.legacy_vn import VN_LETTERS, detect_legacy_vietnamese, repair_legacy_vietnamese

__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "decode_html",
    "detect_legacy_vietnamese",
    "repair_legacy_vietnamese",
]

#: Upper bound for a gunzipped body (a decompression-bomb guard).
MAX_DECOMPRESSED_BYTES = 20 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
#: Tried after the declared charsets, in this order.
FALLBACK_ENCODINGS = ("utf-8", "cp1258", "cp1252")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
#: A decoding must beat the declared/UnicodeDammit choice by more than this to replace it.
_OVERRIDE_MARGIN = 3
#: Above this many invalid UTF-8 bytes the body is not "UTF-8 with a few stray bytes".
_MAX_STRAY_BYTES = 5000
_COMMON_SYMBOLS = frozenset("“”‘’–—…•·©®°«»€£¥§¶±×÷™\u00a0\u2009\u200b\ufeff½¼¾²³µ")


def gunzip_if_compressed(body: bytes) -> bytes:
    """Decompress (possibly nested) gzip with Scrapy's `gunzip`, refusing output beyond
    :data:`MAX_DECOMPRESSED_BYTES`; a stream cut short keeps what it held (as Scrapy does for
    Content-Encoding), one that yields nothing is a ``ValueError``."""
    for _ in range(3):
        if not body.startswith(_GZIP_MAGIC):
            break
        try:
            body = gunzip(body, max_size=MAX_DECOMPRESSED_BYTES)
        except ValueError as exc:  # Scrapy's size error is a ValueError
            raise ValueError(f"gzip body decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes") from exc
        except (OSError, EOFError, struct.error, zlib.error) as exc:
            raise ValueError(f"body starts with the gzip magic number but is not valid gzip: {exc}") from exc
    return body


def declared_encodings(body: bytes, content_type: str | None = None) -> list[str]:
    """Codec names declared by the Content-Type header, then by ``<meta>``/XML in the first 4 KB, as
    w3lib reads and names them (WHATWG aliases: Latin-1 and ASCII labels mean Windows-1252)."""
    header = http_content_type_encoding(content_type) if content_type else None
    names = [header, html_body_declared_encoding(body[:4096])]
    return list(dict.fromkeys(n for n in names if n))


def _cp1252_byte(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: decode the offending byte as Windows-1252 (Latin-1 where cp1252 has a hole)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    byte = exc.object[exc.start : exc.start + 1]
    try:
        return byte.decode("cp1252"), exc.start + 1
    except UnicodeDecodeError:
        return byte.decode("latin-1"), exc.start + 1


_FALLBACK_ERRORS = "provnews-cp1252-byte"
codecs.register_error(_FALLBACK_ERRORS, _cp1252_byte)


def _strict_utf8(data: bytes) -> str | None:
    """Decode strict UTF-8, tolerating only a multi-byte character cut off at the very end."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            try:
                return data[: exc.start].decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None


def _char_score(ch: str) -> int:
    if ch == "\ufffd":
        return -20
    if ch in VN_LETTERS:
        return 1 if ord(ch) > 0xFF else 0
    if "\x80" <= ch <= "\x9f" or unicodedata.combining(ch):
        return -5
    if ch.isalpha():
        return -2
    return 0 if ch in _COMMON_SYMBOLS else -1


def _score(text: str) -> int:
    """Plausibility of decoded Vietnamese text: Vietnamese letters up, replacement/junk characters down."""
    counts = Counter(_NON_ASCII_RE.findall(text))
    return sum(_char_score(ch) * n for ch, n in counts.items())


def _candidates(data: bytes, declared: list[str]) -> list[tuple[str, str]]:
    """(label, text) decodings worth comparing for bytes that are not valid UTF-8; the first is preferred."""
    found: list[tuple[str, str]] = []
    # Declared charsets are definite for UnicodeDammit, then the fallbacks; Latin-1 (never fails) keeps
    # it from decoding with replacement characters, and is never preferred.
    dammit = UnicodeDammit(
        data,
        known_definite_encodings=[e for e in declared if e != "utf-8"],
        user_encodings=[*FALLBACK_ENCODINGS, "latin-1"],
        is_html=True,
    )
    if dammit.unicode_markup is not None and dammit.original_encoding not in (None, "latin-1"):
        found.append((dammit.original_encoding, dammit.unicode_markup))
    for enc in (*declared, "cp1258", "cp1252"):
        try:
            found.append((enc, data.decode(enc)))
        except (UnicodeDecodeError, LookupError):
            continue
    replaced = data.decode("utf-8", errors="replace")
    found.append(("utf-8-replace", replaced))
    # Mostly UTF-8 with stray Windows-1252 bytes (quotes pasted into a UTF-8 template): decode those bytes
    # one by one as cp1252 instead of replacing them (like UnicodeDammit.detwingle, but much faster).
    bad = replaced.count("\ufffd")
    if bad <= _MAX_STRAY_BYTES:
        found.append(("utf-8+cp1252", data.decode("utf-8", errors=_FALLBACK_ERRORS)))
    return found


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML body to NFC text.

    Order: gunzip if the body starts with ``1f 8b`` (``ValueError`` past 20 MiB); a BOM wins; bytes that
    are valid UTF-8 are UTF-8 whatever the declaration says; otherwise the declared charset (header, then
    ``<meta>``) competes with UnicodeDammit's pick and Windows-1258 / Windows-1252 / detwingled UTF-8,
    and the most plausible Vietnamese decoding wins (ties go to the declaration).
    """
    data = gunzip_if_compressed(body)
    bom_encoding, bom = read_bom(data)
    if bom_encoding and bom:
        return unicodedata.normalize("NFC", data[len(bom) :].decode(bom_encoding, errors="replace"))
    if data.isascii():
        return data.decode("ascii")
    declared = declared_encodings(data, content_type)
    wide = [e for e in declared if e.startswith("utf-16") or e.startswith("utf-32")]
    if not wide and (text := _strict_utf8(data)) is not None:
        return unicodedata.normalize("NFC", text)
    best_score, best_text = None, ""
    for i, (_label, text) in enumerate(_candidates(data, wide + [e for e in declared if e not in wide])):
        nfc = unicodedata.normalize("NFC", text)
        score = _score(nfc) - (_OVERRIDE_MARGIN if i else 0)
        if best_score is None or score > best_score:
            best_score, best_text = score, nfc
    return best_text
