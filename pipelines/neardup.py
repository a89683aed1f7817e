"""Near-duplicate signatures: MinHash (one-permutation hashing) over 5-syllable shingles of the text.

The same story republished by several papers (wire copy, "Theo TTXVN") differs in its dateline, sapo and
byline but shares most 5-syllable runs, so its shingle sets have a high Jaccard similarity. A signature
holds the minimum shingle hash in each of 32 bins; 8 bands of 4 bins give the lookup keys, and two
articles sharing a key are one cluster when their signatures agree on at least `THRESHOLD` of the bins.

Cost matters (it runs on every insert), so the per-shingle work happens in C: words map to stable
64-bit ids through a per-process cache, and shingles hash as tuples of ints, which CPython hashes
deterministically (no PYTHONHASHSEED salt for ints and tuples; `test_neardup` pins known values).
"""

from __future__ import annotations

import hashlib
import struct

SHINGLE = 5
BINS = 32
ROWS = 4  # bins per band
BANDS = BINS // ROWS
THRESHOLD = 0.5
MIN_SHINGLES = 24  # shorter texts are not clustered: too few shingles to tell copies from chance
MAX_WORDS = 300  # the start of a text is enough to recognise a copy, and keeps inserts fast
EMPTY = (1 << 63) - 1  # no smaller than any hash (signed 64-bit): an empty bin
_PACK = struct.Struct(f"<{BINS}q")


class _WordIds(dict[str, int]):
    """word → stable 64-bit id, computed once per process."""

    def __missing__(self, word: str) -> int:
        value = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
        if len(self) < 2_000_000:  # bounded: the folded Vietnamese vocabulary is small
            self[word] = value
        return value


_IDS = _WordIds()


def signature(text: str) -> list[int] | None:
    """The MinHash signature of a text (None when it is too short to cluster).

    Words are taken as written (whitespace split, punctuation kept, case and accents kept): copies of
    one story are written alike, and folding would cost more than the whole signature."""
    words = text.split(None, MAX_WORDS)[:MAX_WORDS]
    if len(words) < SHINGLE + MIN_SHINGLES - 1:
        return None
    ids = list(map(_IDS.__getitem__, words))
    shingles = sorted(set(map(hash, zip(*(ids[i:] for i in range(SHINGLE)), strict=False))))
    if len(shingles) < MIN_SHINGLES:
        return None
    mins = [EMPTY] * BINS
    filled = 0
    for value in shingles:  # ascending: the first value seen in a bin is its minimum
        slot = value % BINS
        if mins[slot] == EMPTY:
            mins[slot] = value
            filled += 1
            if filled == BINS:
                break
    return mins


def pack(sig: list[int]) -> bytes:
    return _PACK.pack(*sig)


def unpack(blob: bytes) -> list[int]:
    return list(_PACK.unpack(blob))


def band_keys(sig: list[int]) -> list[int]:
    """One lookup key per band whose bins are all filled, as signed 63-bit integers (BIGINT-safe)."""
    keys = []
    for band in range(BANDS):
        part = tuple(sig[band * ROWS : (band + 1) * ROWS])
        if EMPTY not in part:
            keys.append(hash((band, *part)) & 0x7FFF_FFFF_FFFF_FFFF)
    return keys


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity: the share of bins filled in either that hold the same minimum."""
    both = sum(1 for x, y in zip(a, b, strict=True) if x != EMPTY or y != EMPTY)
    same = sum(1 for x, y in zip(a, b, strict=True) if x == y != EMPTY)
    return same / both if both else 0.0
