"""Legacy 8-bit Vietnamese font encodings (TCVN3/ABC, VNI Windows) seen as Latin-1 mojibake.

Old pages typed with .VnTime (TCVN3) or VNI-Times fonts store Vietnamese in ordinary Latin-1 code
points, so a browser without the font shows ``TiÕng ViÖt`` (TCVN3) or ``Tieáng Vieät`` (VNI). This
module detects such text and converts it to Unicode NFC. Real Unicode Vietnamese is never touched.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

# --- the Vietnamese alphabet -----------------------------------------------------------------------

_VOWEL_ROWS = "aăâeêioôơuưy"
_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # none, grave, acute, hook, tilde, dot


def _build_alphabet() -> frozenset[str]:
    letters = set("đĐ")
    for base in _VOWEL_ROWS:
        for tone in _TONES:
            ch = unicodedata.normalize("NFC", base + tone)
            letters.add(ch)
            letters.add(ch.upper())
    return frozenset(c for c in letters if ord(c) > 0x7F)


#: Every non-ASCII letter of the Vietnamese alphabet (NFC, both cases).
VN_LETTERS: frozenset[str] = _build_alphabet()

# --- TCVN3 (TCVN 5712:1993 VN3, the "ABC" .VnTime fonts) ----------------------------------------------
# Only lower-case letters carry tones in VN3; upper-case toned letters used a separate font (.VnTimeH)
# with the same codes, so they come out lower-case here.
_TCVN3_PAIRS = (
    "a1Ă a2Â a3Ê a4Ô a5Ơ a6Ư a7Đ a8ă a9â aaê abô acơ adư aeđ "
    "b5à b6ả b7ã b8á b9ạ bbằ bcẳ bdẵ beắ c6ặ c7ầ c8ẩ c9ẫ caấ cbậ "
    "ccè ceẻ cfẽ d0é d1ẹ d2ề d3ể d4ễ d5ế d6ệ d7ì d8ỉ dcĩ ddí deị "
    "dfò e1ỏ e2õ e3ó e4ọ e5ồ e6ổ e7ỗ e8ố e9ộ eaờ ebở ecỡ edớ eeợ "
    "efù f1ủ f2ũ f3ú f4ụ f5ừ f6ử f7ữ f8ứ f9ự faỳ fbỷ fcỹ fdý feỵ"
)
TCVN3_TO_UNICODE: dict[str, str] = {chr(int(p[:2], 16)): p[2:] for p in _TCVN3_PAIRS.split()}
_TCVN3_TABLE = str.maketrans(TCVN3_TO_UNICODE)

# --- VNI Windows ---------------------------------------------------------------------------------------
# A toned vowel is a base letter followed by a mark byte; i/ỵ, ơ, ư and đ are single bytes.
_VNI_TONE_MARKS = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_CIRC_MARKS = {"â": "", "á": "\u0301", "à": "\u0300", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_VNI_BREVE_MARKS = {"ê": "", "é": "\u0301", "è": "\u0300", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
_VNI_SINGLES = {
    "Ñ": "Đ", "ñ": "đ", "Ô": "Ơ", "ô": "ơ", "Ö": "Ư", "ö": "ư",
    "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ",
    "Í": "Í", "Ì": "Ì", "Æ": "Ỉ", "Ó": "Ĩ", "Ò": "Ị", "Î": "Ỵ",
}  # fmt: skip


def _build_vni_pairs() -> dict[str, str]:
    pairs: dict[str, str] = {}

    def add(base_src: str, base_uni: str, marks: dict[str, str], modifier: str = "") -> None:
        for mark, tone in marks.items():
            for src, uni, mk in (
                (base_src, base_uni, mark),
                (base_src.upper(), base_uni.upper(), mark.upper()),
            ):
                pairs[src + mk] = unicodedata.normalize("NFC", uni + modifier + tone)

    for vowel in "aeouy":
        add(vowel, vowel, _VNI_TONE_MARKS)
    add("ô", "ơ", _VNI_TONE_MARKS)  # VNI ô is ơ
    add("ö", "ư", _VNI_TONE_MARKS)  # VNI ö is ư
    for vowel in "aeo":
        add(vowel, vowel, _VNI_CIRC_MARKS, "\u0302")
    add("a", "a", _VNI_BREVE_MARKS, "\u0306")
    return pairs


VNI_PAIRS: dict[str, str] = _build_vni_pairs()
_VNI_RE = re.compile(
    "|".join(re.escape(k) for k in sorted([*VNI_PAIRS, *_VNI_SINGLES], key=len, reverse=True))
)


def tcvn3_to_unicode(text: str) -> str:
    """Convert TCVN3 (ABC) text, read as Latin-1, to Unicode NFC."""
    return unicodedata.normalize("NFC", text.translate(_TCVN3_TABLE))


def vni_to_unicode(text: str) -> str:
    """Convert VNI Windows text, read as Latin-1, to Unicode NFC."""

    def repl(m: re.Match[str]) -> str:
        s = m.group(0)
        return VNI_PAIRS.get(s) or _VNI_SINGLES[s]

    return unicodedata.normalize("NFC", _VNI_RE.sub(repl, text))


# --- detection -----------------------------------------------------------------------------------------

_EDGE_PUNCT = "\"'()[]{}<>,.;:!?…“”‘’«»-–—/*"
_CONVERTERS = {"TCVN3": tcvn3_to_unicode, "VNI": vni_to_unicode}


def _is_vn_word(word: str) -> bool:
    """True if every letter is ASCII or Vietnamese and the case pattern is plausible."""
    if any(ord(c) > 0x7F and c not in VN_LETTERS for c in word):
        return False
    # A lower-case letter directly followed by a non-ASCII capital (``TiÕng``) is not Vietnamese.
    return not any(a.islower() and b.isupper() and ord(b) > 0x7F for a, b in itertools.pairwise(word))


_ONSET = "(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
_NUCLEI = (
    "a ă â e ê i o ô ơ u ư y ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ uy "
    "ưa ưi ưu ươ yê iêu yêu oai oao oay oeo uây uôi uya uyê uyu ươi ươu"
)
_SYLLABLE_RE = re.compile(
    _ONSET + "(?:" + "|".join(sorted(_NUCLEI.split(), key=len, reverse=True)) + ")(?:ch|ng|nh|[cmnpt])?"
)
_TONE_MARKS = frozenset(_TONES[1:])


def is_vn_syllable(word: str) -> bool:
    """True if ``word`` (a syllable, or syllables joined by hyphens) is phonotactically Vietnamese."""
    for part in word.lower().split("-"):
        decomposed = unicodedata.normalize("NFD", part)
        if sum(1 for c in decomposed if c in _TONE_MARKS) > 1:
            return False
        bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
        if not _SYLLABLE_RE.fullmatch(bare):
            return False
    return True


def _is_suspect(word: str) -> bool:
    """A token of ASCII and Latin-1 characters (some non-ASCII) that is not a plausible Vietnamese word."""
    if word.isascii() or any(ord(c) > 0xFF for c in word):
        return False
    return not (_is_vn_word(word) and is_vn_syllable(word))


def detect_legacy_vietnamese(text: str) -> str | None:
    """Return ``"TCVN3"`` or ``"VNI"`` when ``text`` is legacy-font Vietnamese read as Latin-1, else None."""
    tokens = [t.strip(_EDGE_PUNCT) for t in text.split()]
    non_ascii = [t for t in tokens if t and not t.isascii()]
    if not non_ascii:
        return None
    # Real Unicode Vietnamese is full of letters beyond Latin-1 (ạ ế ư đ …); legacy text has none.
    unicode_vn = sum(1 for t in non_ascii if any(ord(c) > 0xFF and c in VN_LETTERS for c in t))
    if unicode_vn > 0.05 * len(non_ascii):
        return None
    suspects = [t for t in non_ascii if _is_suspect(t)]
    if len(suspects) < min(2, len(non_ascii)) or len(suspects) < 0.2 * len(non_ascii):
        return None
    best: tuple[int, str] | None = None
    for name, convert in _CONVERTERS.items():
        good = sum(1 for t in suspects if _is_vn_word(w := convert(t)) and is_vn_syllable(w))
        if good >= 0.7 * len(suspects) and (best is None or good > best[0]):
            best = (good, name)
    return best[1] if best else None


def repair_legacy_vietnamese(text: str) -> tuple[str, str | None]:
    """Convert TCVN3 or VNI mojibake to Unicode NFC; return ``(text, detected encoding or None)``."""
    detected = detect_legacy_vietnamese(text)
    if detected is None:
        return text, None
    return _CONVERTERS[detected](text), detected
