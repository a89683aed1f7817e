"""Pure text helpers: cleaning, datelines, Vietnamese dates, bylines.

Legacy-font repair lives in :mod:`crawler.text.legacy_vn` and is re-exported here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import overload

from provnews.crawler.text.legacy_vn import is_vn_syllable, repair_legacy_vietnamese

__all__ = [
    "VN_TZ",
    "authors_from_byline",
    "clean_paragraphs",
    "clean_text",
    "is_byline",
    "parse_iso_datetime",
    "parse_vn_date_parts",
    "parse_vn_datetime",
    "repair_legacy_vietnamese",
    "split_dateline",
    "to_vn_iso",
]

#: Vietnam's fixed UTC offset (Asia/Ho_Chi_Minh has had no DST since 1975).
VN_TZ = timezone(timedelta(hours=7))

# --- cleaning -------------------------------------------------------------------------------------------

_DELETE = "\u200b\u200c\u200d\u2060\ufeff\u00ad" + "".join(
    chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]
)
_TO_SPACE = "\t\n\r\u000b\u000c\u0085\u00a0\u202f\u205f\u3000\u2028\u2029" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
# C1 controls (U+0080–U+009F; NEL is a line break, made a space above): U+009B is a terminal's CSI.
_DELETE += "".join(chr(c) for c in range(0x80, 0xA0) if c != 0x85)
# Bidirectional formatting (embeddings, overrides, isolates, marks): they reorder what a reader sees, so
# they are kept only in text that has right-to-left script (Hebrew, Arabic…), where they can be needed.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI_RE = re.compile(f"[{BIDI_CONTROLS}]")
_RTL_RE = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff]")
_CLEAN_TABLE: dict[int, str | None] = {ord(c): None for c in _DELETE}
_CLEAN_TABLE.update({ord(c): " " for c in _TO_SPACE})
_CLEAN_TABLE.update({0xD0: "Đ", 0xF0: "đ"})  # Icelandic eth used for Vietnamese Đ
_SPACES_RE = re.compile(r" {2,}")


def clean_text(s: str) -> str:
    """NFC, drop zero-width and control characters (C0, C1, and bidi controls outside right-to-left
    text), unify spaces and ``Ð``; one paragraph is one line.

    Tone-mark style (``hòa``/``hoà``), smart quotes and dashes are kept as published.
    """
    s = unicodedata.normalize("NFC", s).translate(_CLEAN_TABLE)
    # The Arabic letter mark (U+061C) is a bidi control inside the Arabic block: not RTL text itself.
    if _BIDI_RE.search(s) and not _RTL_RE.search(_BIDI_RE.sub("", s)):
        s = _BIDI_RE.sub("", s)
    # Removing an invisible between a letter and a combining mark can enable composition.
    s = unicodedata.normalize("NFC", s)
    return _SPACES_RE.sub(" ", s).strip()


def clean_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """Clean every paragraph and drop the ones left empty."""
    return [c for c in (clean_text(p) for p in paragraphs) if c]


# --- datelines ------------------------------------------------------------------------------------------

_DASH = "[-–—]"
_DATELINE_RE = re.compile(
    r"^\s*(?:"
    # (GLO)- / (BDO) / (NTO) / (BL-ĐKC) / (Baonghean.vn) - / (Báo Quảng Ngãi)- : code-like, dash optional
    r"\(\s*(?P<p1>[A-ZĐ][A-ZĐ0-9]{0,7}(?:-[A-ZĐ0-9]{1,6})?|[A-ZĐ][\w.-]{1,30}\.(?:vn|VN|com|net|org)"
    r"|Báo\s[^()\n]{2,30}?)\s*\)\s*(?:[-–—:]\s*)?"
    # (Dân Việt) - : any capitalised short text, dash required
    rf"|\(\s*(?P<p2>[A-ZĐ][^()\n]{{1,30}}?)\s*\)\s*[-–—:]\s*"
    # BHG - / YBĐT - / QTO - / Baonghean.vn - / VOV.VN - : bare code, space before the dash
    rf"|(?P<b1>[A-ZĐ]{{2,6}}(?:ĐT|O)?|[A-ZĐ][A-Za-z]+\.(?:vn|VN))\s+{_DASH}\s*"
    # PTO- / LSO- / HGĐT- : glued dash only for codes ending in O or ĐT, never before a digit (COVID-19)
    rf"|(?P<b2>[A-ZĐ]{{1,5}}(?:ĐT|O)){_DASH}(?!\d)\s*"
    r")"
)


def split_dateline(first_paragraph: str) -> tuple[str | None, str]:
    """Split a leading newspaper dateline code: ``"(GLO)- Sáng 7-9…"`` → ``("GLO", "Sáng 7-9…")``.

    Returns ``(None, first_paragraph)`` unchanged when the paragraph does not start with a code, e.g.
    ``"Hà Nội - Sáng nay…"``.
    """
    m = _DATELINE_RE.match(first_paragraph)
    if m is None:
        return None, first_paragraph
    code = next(g for g in m.group("p1", "p2", "b1", "b2") if g)
    return code.strip(), first_paragraph[m.end() :].strip()


# --- dates ----------------------------------------------------------------------------------------------

_DMY_RE = re.compile(r"(?<![\d/.-])(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{4})(?!\d)")
_YMD_RE = re.compile(r"(?<![\d/.-])(\d{4})([/.-])(\d{1,2})\2(\d{1,2})(?![\d/.-])")
_WORDS_RE = re.compile(
    r"(?<!\d)(\d{1,2})\s+tháng\s+(\d{1,2})\s*(?:,|năm|,\s*năm)?\s*(\d{4})(?!\d)", re.IGNORECASE
)
_TIME_RE = re.compile(
    r"(?<![\d:])([01]?\d|2[0-3])\s*(?::|h|giờ)\s*([0-5]\d)(?:\s*:\s*([0-5]\d))?(?![\d:])"
    r"(?:\s*(AM|PM|SA|CH)\b)?",
    re.IGNORECASE,
)


def _find_date(s: str) -> tuple[int, int, int, int, int] | None:
    """Return (year, month, day, span start, span end) of the first full date in ``s``."""
    found: list[tuple[int, tuple[int, int, int, int, int]]] = []
    if m := _DMY_RE.search(s):
        found.append((m.start(), (int(m[4]), int(m[3]), int(m[1]), m.start(), m.end())))
    if m := _YMD_RE.search(s):
        found.append((m.start(), (int(m[1]), int(m[3]), int(m[4]), m.start(), m.end())))
    if m := _WORDS_RE.search(s):
        found.append((m.start(), (int(m[3]), int(m[2]), int(m[1]), m.start(), m.end())))
    return min(found)[1] if found else None


# Not dateparser (`search_dates(..., languages=["vi"], DATE_ORDER="DMY")`), measured on this module's
# test dates: it drops the time of "Thứ hai, 05/01/2026 - 08:27" and "17.06.2025 13h43", misses
# "08:27 PM 05/01/2026", reads the US date "12/13/2021" as 13 December and "1 giờ trước" as a date
# (both must be refused), and takes ~1 ms per string against ~5 µs here. htmldate reads whole pages,
# not a visible date string (the generic family asks it for a page's date: `crawler.parsers.generic`).
def parse_vn_date_parts(s: str) -> tuple[datetime, bool] | None:
    """Parse a visible Vietnamese date (always day-first) into ``(aware datetime +07:00, has_time)``.

    Finds ``dd/mm/yyyy`` (separators ``/ - .``) or ``ngày d tháng m năm yyyy`` anywhere in ``s`` plus
    an optional ``HH:MM``/``HHhMM`` time. Returns None without a full, valid date.
    """
    date = _find_date(s)
    if date is None:
        return None
    year, month, day, start, end = date
    rest = s[:start] + " " + s[end:]
    hour = minute = second = 0
    has_time = False
    if t := _TIME_RE.search(rest):
        hour, minute, second = int(t[1]), int(t[2]), int(t[3] or 0)
        suffix = (t[4] or "").upper()
        if suffix and hour <= 12:
            if suffix in ("PM", "CH") and hour < 12:
                hour += 12
            elif suffix in ("AM", "SA") and hour == 12:
                hour = 0
        has_time = True
    if not 1900 <= year <= 2100:
        return None
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=VN_TZ), has_time
    except ValueError:
        return None


def parse_vn_datetime(s: str) -> datetime | None:
    """Parse a visible Vietnamese date/time, day-first, as an aware +07:00 datetime (00:00 if no time)."""
    parts = parse_vn_date_parts(s)
    return parts[0] if parts else None


_ISO_FRACTION_RE = re.compile(r"(\.\d{6})\d+")


def parse_iso_datetime(s: str) -> datetime | None:
    """Parse ISO 8601 (``Z``, ``+07:00`` or ``+0700`` offsets); naive values are taken as +07:00."""
    s = s.strip()
    if not s or not s[0].isdigit():
        return None
    s = _ISO_FRACTION_RE.sub(r"\1", s)
    if s[-1:] in "zZ":
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=VN_TZ)


@overload
def to_vn_iso(dt: datetime) -> str: ...
@overload
def to_vn_iso(dt: None) -> None: ...
@overload
def to_vn_iso(dt: datetime | None) -> str | None: ...


def to_vn_iso(dt: datetime | None) -> str | None:
    """Format as ``YYYY-MM-DDTHH:MM:SS+07:00`` in Vietnam time, to the second (naive input is taken as
    +07:00; None stays None)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=VN_TZ)
    return dt.astimezone(VN_TZ).strftime("%Y-%m-%dT%H:%M:%S+07:00")


# --- bylines --------------------------------------------------------------------------------------------

_PREFIX_RE = re.compile(
    r"^(?:(?:tin|bài)\s*(?:,|và|\+|&)\s*ảnh|tin|bài|ảnh|video|clip|thực hiện|trình bày|đồ họa|đồ hoạ)"
    r"\s*:\s*",
    re.IGNORECASE,
)
_SOURCE_RE = re.compile(r"^(?:theo\s+|nguồn\s*:\s*)", re.IGNORECASE)
_TEAM_RE = re.compile(r"^nhóm\s+(?:pv|phóng viên|ctv|phóng viên\b.*)$", re.IGNORECASE)
_CAPTION_RE = re.compile(r"(?:^|\s)(?:ảnh|photo)\s*:", re.IGNORECASE)
_PAREN_RE = re.compile(r"\(([^()]*)\)")
_SEP_RE = re.compile(r"\s*[,;/&]\s*|\s+(?:và|and)\s+|\s*[-–—]\s*")
_CODE_RE = re.compile(r"[A-ZĐ]{2,8}|[A-Za-z][\w-]*\.(?:vn|com|net|org)(?:\.vn)?", re.IGNORECASE)
_DOMAIN_RE = re.compile(r"\.(?:vn|com|net|org)\b", re.IGNORECASE)
# Words that make a capitalised phrase an organisation rather than a person.
# fmt: off
_ORG_WORDS = frozenset([
    "UBND", "HĐND", "MTTQ", "TỈNH", "ỦY", "UỶ", "SỞ", "BỘ", "BAN", "ĐẢNG", "BÁO", "ĐÀI", "CỤC", "VIỆN",
    "HUYỆN", "XÃ", "PHƯỜNG", "QUẬN", "HỘI", "NHÓM", "PHÓNG", "CTV", "PV", "BTV", "BBT", "TTXVN", "TTX",
    "ĐIỆN", "TẠP", "CỔNG", "TTĐT", "ONLINE",
])
# fmt: on
# Codes that name a role, not a source agency.
_ROLE_CODES = frozenset({"PV", "CTV", "BTV", "BBT", "PV-CTV", "TH"})


def _source_rest(s: str) -> str | None:
    """For ``Theo X`` / ``Nguồn: X`` return X when it names a source (capitalised or a domain)."""
    m = _SOURCE_RE.match(s)
    if m is None:
        return None
    rest = s[m.end() :].strip()
    if rest and len(rest.split()) <= 5 and (rest[0].isupper() or _DOMAIN_RE.search(rest)):
        return rest
    return None


def _name_pieces(word: str) -> list[str]:
    return [p for p in re.split(r"[.'’]", word) if p]


def _is_name_word(word: str) -> bool:
    """``Lê``, ``ÁNH``, ``P.Y``, ``T.Hùng``, ``H'Hen``: capitalised letters only, syllable-sized."""
    pieces = _name_pieces(word)
    if not pieces or not word[0].isupper():
        return False
    for p in pieces:
        if not p.isalpha() or len(p) > 8 or not p[0].isupper():
            return False
        if len(p) > 1 and not (p[1:].islower() or p.isupper()):
            return False
    return True


def _is_person(part: str) -> bool:
    """A personal name of 1–5 capitalised words, mostly Vietnamese syllables, with no organisation word."""
    words = part.split()
    if not 1 <= len(words) <= 5 or not all(_is_name_word(w) for w in words):
        return False
    if any(w.upper() in _ORG_WORDS for w in words):
        return False
    plausible = sum(1 for w in words if "." in w or "'" in w or "’" in w or is_vn_syllable(w))
    if len(words) == 1:
        return plausible == 1
    return plausible * 2 >= len(words)


def _is_code(part: str) -> bool:
    """An agency/role code (``TTXVN``, ``PV``, ``BBL``) or a domain; never a Vietnamese syllable."""
    if " " in part or not _CODE_RE.fullmatch(part):
        return False
    return bool(_DOMAIN_RE.search(part)) or (part.isupper() and not is_vn_syllable(part))


def _title_case(name: str) -> str:
    """``LÊ ÁNH`` → ``Lê Ánh``; initials such as ``P.Y`` are kept."""
    if not name.isupper():
        return name
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0)[0] + m.group(0)[1:].lower(), name)


def authors_from_byline(byline: str) -> list[str]:
    """People named in a byline: ``"NGỌC MINH - PHƯƠNG VY"`` → ``["Ngọc Minh", "Phương Vy"]``.

    Agencies (``Theo TTXVN``), roles (``PV``, ``Nhóm PV``) and organisations are never returned.
    """
    s = clean_text(byline).rstrip(" .")
    s = _PREFIX_RE.sub("", s, count=1)
    if _TEAM_RE.match(s):
        return []
    rest = _source_rest(s)
    source = rest is not None
    s = rest if rest is not None else s
    agency_in_brackets = any(
        inner and (_is_code(inner) or inner.lower().startswith(("báo ", "đài ", "theo ", "tạp chí ")))
        for inner in (found.strip() for found in _PAREN_RE.findall(s))
    )
    main = _PAREN_RE.sub(" ", s).strip()
    parts = [p.strip() for p in _SEP_RE.split(main) if p.strip()]
    people = [p for p in parts if _is_person(p)]
    codes = [p for p in parts if p not in people and _is_code(p) and p.upper() not in _ROLE_CODES]
    if source and not (people and (codes or agency_in_brackets)):
        return []  # "Theo Hà Nội Mới" names a newspaper, not a person.
    return list(dict.fromkeys(_title_case(p) for p in people))


def is_byline(p: str, strict: bool = True) -> bool:
    """Heuristic: is this short paragraph an author/source line?

    Accepts all-capitals names (``LÊ ÁNH``), credit prefixes (``Tin, ảnh: P.Y``, ``Theo TTXVN``,
    ``Nhóm PV``), several names (``Hữu Đại – Sỹ Thảo``) and name-plus-code (``Chí Linh-BBL``). With
    ``strict=False`` a single mixed-case name (``Anh Dũng``) is accepted too. Rejects sentences,
    captions (``… Ảnh: X``) and organisation lines (``UBND TỈNH``).
    """
    s = clean_text(p)
    words = s.split()
    if not s or len(s) > 60 or len(words) > 8:
        return False
    if m := _PREFIX_RE.match(s):
        return len(s) > m.end()
    if _TEAM_RE.match(s):
        return True
    if s[-1] in ".!?…:" and len(words) >= 4:
        return False  # a sentence
    if _SOURCE_RE.match(s):
        return _source_rest(s) is not None
    if _CAPTION_RE.search(s):
        return False
    main = _PAREN_RE.sub(" ", s).rstrip(" .").strip()
    parts = [x for x in _SEP_RE.split(main) if x.strip()]
    people = [x for x in parts if _is_person(x)]
    codes = [x for x in parts if x not in people and _is_code(x)]
    if not parts or len(people) + len(codes) != len(parts):
        return False
    letters = [c for c in main if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        return True  # LÊ ÁNH, NGỌC MINH - PHƯƠNG VY, PV
    if people and (len(people) >= 2 or codes):
        return True  # Hữu Đại – Sỹ Thảo, Chí Linh-BBL
    return bool(people) and not strict
