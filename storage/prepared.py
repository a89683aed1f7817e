"""An article batch made ready for writing without the database: the CPU-bound part of an upsert, so
that it can run while another batch is being written (`storage.bulk`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from provnews.storage import neardup
from provnews.storage.clusters import Signed
from provnews.storage.fts import index_fold
from provnews.storage.rows import article_values_and_words, sqlite_row


@dataclass
class PreparedBatch:
    """Articles by url_key: their `articles` values (MinHash signature packed in), the signature itself,
    their title, sapo and text folded for the full-text index, and on SQLite the driver-ready columns.

    On SQLite the texts travel as UTF-8 bytes (the article text in `sqlite_rows` only, not in `values`;
    the folded ones too), which the writer binds and casts to TEXT: a batch comes back from the
    preparing process without decoding them, and the writer thread does not encode them again while
    holding the GIL (3,316 → 3,848 articles/s at 100k)."""

    values: dict[str, dict[str, Any]]
    signatures: dict[str, list[int] | None]
    folded: dict[str, tuple[str, str, str] | tuple[bytes, ...]] = field(default_factory=dict)
    sqlite_rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def subset(self, keys: Iterable[str]) -> PreparedBatch:
        """The articles `keys` of this batch, as a batch of their own."""
        keys = list(keys)

        def pick(parts: Mapping[str, Any]) -> dict[str, Any]:
            return {key: parts[key] for key in keys if key in parts}

        return PreparedBatch(
            pick(self.values), pick(self.signatures), pick(self.folded), pick(self.sqlite_rows)
        )

    def signed(
        self, keys: Iterable[str], ids: Mapping[str, int], existing: Mapping[str, Any]
    ) -> list[Signed]:
        """The articles `keys` with their ids, new signatures and, for stored ones, the old signature."""
        signed = []
        for key in keys:
            old = existing.get(key)
            old_sig = neardup.unpack(old.minhash) if old is not None and old.minhash else None
            signed.append(Signed(ids[key], self.signatures[key], old_sig))
        return signed


def prepare_articles(rows: Iterable[Mapping[str, Any]], dialect: str) -> PreparedBatch:
    """Values, signatures and folded text of pipeline rows; the same canonical URL twice: the last wins."""
    values: dict[str, dict[str, Any]] = {}
    words: dict[str, list[str]] = {}
    for row in rows:
        prepared, words_of_text = article_values_and_words(row)
        values[prepared["url_key"]] = prepared
        words[prepared["url_key"]] = words_of_text
    sigs = neardup.signatures_of_words(list(words.values()))
    batch = PreparedBatch(values, dict(zip(values, sigs, strict=True)))
    fold = index_fold(dialect)
    for key, prepared in values.items():
        sig = batch.signatures[key]
        prepared["minhash"] = neardup.pack(sig) if sig else None
        folded = (fold(prepared["title"]), fold(prepared["sapo"] or ""), fold(prepared["text"]))
        if dialect == "sqlite":
            row = sqlite_row(prepared)
            row["text"] = prepared.pop("text").encode("utf-8")
            batch.sqlite_rows[key] = row
            batch.folded[key] = tuple(part.encode("utf-8") for part in folded)
        else:
            batch.folded[key] = folded
    return batch
