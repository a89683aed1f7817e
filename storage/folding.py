"""Accent-insensitive folding of Vietnamese text for search.

Every character maps to exactly one character, so an offset in the folded string is the same offset in
the NFC original: search snippets find hits in the folded text and cut the original at the same range.
"""

from __future__ import annotations

import unicodedata

# đ/Đ have no Unicode decomposition, so NFD alone would leave them unfolded ("duong" would miss "Đường").
_SPECIAL = {"đ": "d", "Đ": "d"}


def _fold_char(char: str) -> str:
    if char in _SPECIAL:
        return _SPECIAL[char]
    base = unicodedata.normalize("NFD", char)[0]
    lowered = base.lower()
    # A few letters lowercase to two code points (İ -> i̇); keep them as they are to stay 1:1.
    return lowered if len(lowered) == 1 else base


class _FoldTable(dict[int, str]):
    """A `str.translate` table filled lazily: each code point is folded once per process."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


_TABLE = _FoldTable()


def fold_for_search(s: str) -> str:
    """NFC, then per character: base letter without diacritics, đ→d, lowercase; same length as NFC(s).

    >>> fold_for_search("Hà Nội"), fold_for_search("Đường"), fold_for_search("hoà") == fold_for_search("hòa")
    ('ha noi', 'duong', True)
    """
    return unicodedata.normalize("NFC", s).translate(_TABLE)
