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
from collections.abc import Sequence

import numpy as np

SHINGLE = 5
BINS = 32
ROWS = 4  # bins per band
BANDS = BINS // ROWS
THRESHOLD = 0.5
MIN_SHINGLES = 24  # shorter texts are not clustered: too few shingles to tell copies from chance
MAX_WORDS = 300  # the start of a text is enough to recognise a copy, and keeps inserts fast
EMPTY = (1 << 63) - 1  # no smaller than any hash (signed 64-bit): an empty bin
_PACK = struct.Struct(f"<{BINS}q")
assert BINS & (BINS - 1) == 0  # bins are picked with a bit mask in `signatures`


class _WordIds(dict[str, int]):
    """word → stable 64-bit id, computed once per process."""

    def __missing__(self, word: str) -> int:
        value = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
        if len(self) < 2_000_000:  # bounded: the folded Vietnamese vocabulary is small
            self[word] = value
        return value


_IDS = _WordIds()

# CPython's hash of a non-negative int is the int modulo 2**61 - 1 (sys.hash_info.modulus).
_MODULUS = (1 << 61) - 1


class _Lanes(dict[str, int]):
    """word → hash(its id): the value CPython's tuple hash mixes in for that word."""

    def __missing__(self, word: str) -> int:
        value = _IDS[word] % _MODULUS
        if len(self) < 2_000_000:
            self[word] = value
        return value


_LANES = _Lanes()
# CPython 3.8+ tuple hash (xxHash-based, Objects/tupleobject.c), 64-bit constants.
_XXPRIME_1 = np.uint64(11400714785074694791)
_XXPRIME_2 = np.uint64(14029467366897019727)
_XXPRIME_5 = np.uint64(2870177450012600261)
_TUPLE_TAIL = np.uint64(SHINGLE ^ (2870177450012600261 ^ 3527539))
_MINUS_ONE = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


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


def signatures(texts: Sequence[str]) -> list[list[int] | None]:
    """`signature` of many texts at once, vectorised with numpy: the same values (CPython's tuple hash
    of the shingle's word ids is recomputed in uint64 arithmetic), several times faster per text."""
    return signatures_of_words([text.split(None, MAX_WORDS)[:MAX_WORDS] for text in texts])


def signatures_of_words(texts: Sequence[Sequence[str]]) -> list[list[int] | None]:
    """`signatures` of texts already split into words (only the first MAX_WORDS are used)."""
    out: list[list[int] | None] = []
    for start in range(0, len(texts), _CHUNK):
        out += _signatures(texts[start : start + _CHUNK])
    return out


_CHUNK = 4096  # texts per numpy pass: text numbers stay int16 for the radix sort


def _signatures(texts: Sequence[Sequence[str]]) -> list[list[int] | None]:
    out: list[list[int] | None] = [None] * len(texts)
    lanes: list[int] = []
    lengths: list[int] = []
    for words in texts:
        used = len(words) if len(words) < MAX_WORDS else MAX_WORDS
        if used < SHINGLE + MIN_SHINGLES - 1:
            lengths.append(0)
            continue
        lanes += map(_LANES.__getitem__, words[:used])
        lengths.append(used)
    if not lanes:
        return out
    lane = np.array(lanes, dtype=np.uint64)
    count = len(lane) - SHINGLE + 1
    acc = np.full(count, _XXPRIME_5, dtype=np.uint64)
    for offset in range(SHINGLE):
        acc += lane[offset : offset + count] * _XXPRIME_2
        acc = (acc << np.uint64(31)) | (acc >> np.uint64(33))
        acc *= _XXPRIME_1
    acc += _TUPLE_TAIL
    acc[acc == _MINUS_ONE] = np.uint64(1546275796)
    # The text of each word; a shingle starts at every word but the last SHINGLE - 1 of its text.
    per_text = np.array(lengths, dtype=np.int64)
    owner = np.repeat(np.arange(len(texts), dtype=np.int16), per_text)
    ends = np.cumsum(per_text)[per_text > 0]
    for back in range(1, SHINGLE):
        owner[ends - back] = -1
    owner = owner[:count]
    keep = owner >= 0
    values, owner = acc.view(np.int64)[keep], owner[keep]
    # Distinct shingles per text: sort by value, then (stable, radix) by text; count value changes.
    order = np.argsort(values)
    order = order[np.argsort(owner[order], kind="stable")]
    values_sorted, owner_sorted = values[order], owner[order]
    fresh = np.ones(len(order), dtype=bool)
    fresh[1:] = (values_sorted[1:] != values_sorted[:-1]) | (owner_sorted[1:] != owner_sorted[:-1])
    distinct = np.bincount(owner_sorted[fresh], minlength=len(texts))
    # The minimum of each (text, bin); a value's bin is value % BINS (floor modulo: & for a power of 2).
    mins = np.full(len(texts) * BINS, EMPTY, dtype=np.int64)
    np.minimum.at(mins, owner.astype(np.int64) * BINS + (values & (BINS - 1)), values)
    rows = mins.reshape(len(texts), BINS).tolist()
    for index in np.flatnonzero(distinct >= MIN_SHINGLES).tolist():
        out[index] = rows[index]
    return out


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
