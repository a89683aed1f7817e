"""MinHash signature cost per text (`storage.neardup`), at insert-sized batches.

`.venv/bin/python -m benchmarks.neardup_speed` signs 2,000 synthetic texts (200-900 words from a
20,000-word vocabulary) one at a time and 100 at a time, and, for comparison, hashes each shingle's
bytes with BLAKE2b one call per shingle (the plain alternative to the numpy mixing of word hashes).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable

from provnews.storage import neardup


def per_text_us(texts: list[str], work: Callable[[list[str]], object], batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        work(texts[i : i + batch])
    return (time.perf_counter() - start) / len(texts) * 1e6


def blake2b_per_shingle(texts: list[str]) -> None:
    for text in texts:
        words = [
            hashlib.blake2b(w.encode(), digest_size=8).digest()
            for w in text.split(None, neardup.MAX_WORDS)[: neardup.MAX_WORDS]
        ]
        {
            hashlib.blake2b(b"".join(words[i : i + neardup.SHINGLE]), digest_size=8).digest()
            for i in range(len(words))
        }


def main() -> None:
    rng = random.Random(1)
    vocab = [f"từ{i}" for i in range(20_000)]
    texts = [" ".join(rng.choices(vocab, k=rng.randint(200, 900))) for _ in range(2_000)]
    neardup.signatures(texts)  # warm the word cache, as a running crawl has it
    for batch in (1, 100):
        cost = per_text_us(texts, neardup.signatures, batch)
        print(f"neardup.signatures, batches of {batch:>3}: {cost:6.1f} µs/text")
    print(f"BLAKE2b per shingle (hashes only):  {per_text_us(texts, blake2b_per_shingle, 100):6.1f} µs/text")


if __name__ == "__main__":
    main()
