"""Search snippets: find hits in the folded text and cut the same range out of the original.

`fold_for_search` maps each character to one character, so offsets carry over and the snippet shows
the original accented words ("[Hà Nội]" for the query `ha noi`).
"""

from __future__ import annotations

import re
import unicodedata

from provnews.storage.folding import fold_for_search

_NOT_WORD_BEFORE = r"(?<![^\W_])"
_NOT_WORD_AFTER = r"(?![^\W_])"
_ELLIPSIS = "…"


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Words of a phrase may be separated by any run of non-letters, as the tokenizer sees them.
    body = r"[\W_]+".join(re.escape(word) for word in words)
    return re.compile(_NOT_WORD_BEFORE + body + _NOT_WORD_AFTER)


def find_hits(folded: str, phrases: list[tuple[str, ...]]) -> list[tuple[int, int, int]]:
    """(start, end, phrase index) of every phrase occurrence, by position."""
    hits = [
        (m.start(), m.end(), i) for i, words in enumerate(phrases) for m in _pattern(words).finditer(folded)
    ]
    return sorted(hits)


def make_snippet(
    text: str, phrases: list[tuple[str, ...]], *, words: int = 30, markers: tuple[str, str] = ("[", "]")
) -> str:
    """About `words` words of `text` around the densest group of hits, hits wrapped in `markers`."""
    original = unicodedata.normalize("NFC", text)
    tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", original)]
    if not tokens:
        return ""
    hits = find_hits(fold_for_search(original), phrases)
    first = _best_window(tokens, hits, words)
    last = min(first + words, len(tokens)) - 1
    start, end = tokens[first][0], tokens[last][1]
    pieces, cursor = [], start
    for hit_start, hit_end in _merge(hits, original):
        hit_start, hit_end = max(hit_start, start), min(hit_end, end)
        if hit_start >= hit_end:
            continue
        pieces += [original[cursor:hit_start], markers[0], original[hit_start:hit_end], markers[1]]
        cursor = hit_end
    pieces.append(original[cursor:end])
    snippet = re.sub(r"\s+", " ", "".join(pieces)).strip()
    prefix = _ELLIPSIS + " " if first > 0 else ""
    suffix = " " + _ELLIPSIS if last < len(tokens) - 1 else ""
    return prefix + snippet + suffix


def _best_window(tokens: list[tuple[int, int]], hits: list[tuple[int, int, int]], words: int) -> int:
    """Index of the first token of the window covering the most distinct phrases (then most hits),
    starting a little before a hit so that it has some context."""
    if not hits:
        return 0
    starts = [start for start, _ in tokens]
    hit_tokens = [(_token_index(starts, hit_start), phrase) for hit_start, _, phrase in hits]
    best, best_score = 0, (-1, -1)
    for anchor, _ in hit_tokens:
        first = max(0, min(anchor - words // 5, len(tokens) - words))
        inside = [phrase for index, phrase in hit_tokens if first <= index < first + words]
        score = (len(set(inside)), len(inside))
        if score > best_score:
            best, best_score = first, score
    return best


def _token_index(starts: list[int], offset: int) -> int:
    """The token containing `offset` (the last token starting at or before it)."""
    low, high = 0, len(starts)
    while low < high:
        middle = (low + high) // 2
        if starts[middle] <= offset:
            low = middle + 1
        else:
            high = middle
    return max(0, low - 1)


def _merge(hits: list[tuple[int, int, int]], original: str) -> list[tuple[int, int]]:
    """Overlapping hits, and hits apart by whitespace only, as one span: "[Hà Nội]", not "[Hà] [Nội]"."""
    merged: list[tuple[int, int]] = []
    for start, end, _ in hits:
        if merged and (start <= merged[-1][1] or original[merged[-1][1] : start].isspace()):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
