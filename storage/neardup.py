"""Near-duplicate signatures: MinHash (one-permutation hashing) over 5-word shingles of the text.

The same story republished by several papers (wire copy, "Theo TTXVN") differs in its dateline, sapo and
byline but shares most 5-word runs, so its shingle sets have a high Jaccard similarity. A signature
holds the minimum shingle hash in each of 32 bins; 8 bands of 4 bins give the lookup keys, and two
articles sharing a key are one cluster when their signatures agree on at least `THRESHOLD` of the bins.

Every hash here is a fixed function of the text's UTF-8 bytes, never Python's `hash()`: stored
signatures and band keys must mean the same in every process, Python version and PYTHONHASHSEED.
A word's hash is its 64-bit BLAKE2b digest (cached per process: the vocabulary is small); a shingle's
hash mixes the digests of its five words with the xxHash64 round and finaliser, in numpy, so the
per-shingle work of a batch of texts runs in C (it runs on every insert; see
`benchmarks/neardup_speed.py`). A band key is the BLAKE2b digest of the band number and its bins.
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
_BAND = struct.Struct(f"<B{ROWS}q")
assert BINS & (BINS - 1) == 0  # bins are picked with a bit mask in `_signatures`


def word_hash(word: str) -> int:
    """The fixed 64-bit hash of a word: its BLAKE2b digest, little-endian."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


class _WordHashes(dict[str, int]):
    """word → `word_hash(word)`, computed once per process."""

    def __missing__(self, word: str) -> int:
        value = word_hash(word)
        if len(self) < 2_000_000:  # bounded: the Vietnamese vocabulary is small
            self[word] = value
        return value


_WORDS = _WordHashes()

# xxHash64's primes, round and finaliser (avalanche), applied to 64-bit lanes in uint64 arithmetic.
_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_P5 = np.uint64(0x27D4EB2F165667C5)
_SEED = _P5 + np.uint64(SHINGLE * 8)  # xxHash64's start for a short input of SHINGLE lanes


def _shingle_hashes(lane: np.ndarray) -> np.ndarray:
    """The hash of every run of SHINGLE consecutive word hashes in `lane` (uint64), as int64."""
    count = len(lane) - SHINGLE + 1
    acc = np.full(count, _SEED, dtype=np.uint64)
    for offset in range(SHINGLE):
        k = lane[offset : offset + count] * _P2
        k = ((k << np.uint64(31)) | (k >> np.uint64(33))) * _P1
        acc ^= k
        acc = ((acc << np.uint64(27)) | (acc >> np.uint64(37))) * _P1 + _P3
    acc ^= acc >> np.uint64(33)
    acc *= _P2
    acc ^= acc >> np.uint64(29)
    acc *= _P3
    acc ^= acc >> np.uint64(32)
    return acc.view(np.int64)


def signature(text: str) -> list[int] | None:
    """The MinHash signature of a text (None when it is too short to cluster).

    Words are taken as written (whitespace split, punctuation kept, case and accents kept): copies of
    one story are written alike, and folding would cost more than the whole signature."""
    return signatures([text])[0]


def signatures(texts: Sequence[str]) -> list[list[int] | None]:
    """`signature` of many texts at once (one numpy pass per chunk of texts)."""
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
    words: list[int] = []
    lengths: list[int] = []
    for text in texts:
        used = len(text) if len(text) < MAX_WORDS else MAX_WORDS
        if used < SHINGLE + MIN_SHINGLES - 1:
            lengths.append(0)
            continue
        words += map(_WORDS.__getitem__, text[:used])
        lengths.append(used)
    if not words:
        return out
    hashes = _shingle_hashes(np.array(words, dtype=np.uint64))
    # The text of each word; a shingle starts at every word but the last SHINGLE - 1 of its text.
    per_text = np.array(lengths, dtype=np.int64)
    owner = np.repeat(np.arange(len(texts), dtype=np.int16), per_text)
    ends = np.cumsum(per_text)[per_text > 0]
    for back in range(1, SHINGLE):
        owner[ends - back] = -1
    owner = owner[: len(hashes)]
    keep = owner >= 0
    values, owner = hashes[keep], owner[keep]
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
        part = sig[band * ROWS : (band + 1) * ROWS]
        if EMPTY not in part:
            digest = hashlib.blake2b(_BAND.pack(band, *part), digest_size=8).digest()
            keys.append(int.from_bytes(digest, "little") & 0x7FFF_FFFF_FFFF_FFFF)
    return keys


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity: the share of bins filled in either that hold the same minimum."""
    both = sum(1 for x, y in zip(a, b, strict=True) if x != EMPTY or y != EMPTY)
    same = sum(1 for x, y in zip(a, b, strict=True) if x == y != EMPTY)
    return same / both if both else 0.0
