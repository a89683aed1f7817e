"""`--shard I/N`: N processes (on N machines) share a heavy job without overlap, with no coordinator.

Each shard takes the articles whose key falls to it, by a rule every process computes alike:
- stored articles (`reextract`, `export`): article id modulo N, a term of the database query;
- lines of JSON Lines files (`import`): a stable hash of the article's URL identity (the key it is
  stored under) modulo N, so every process reads the same files and each stores only its own
  articles. The URL, not the line number, decides: two lines of one article (in one file or in two)
  fall to the same shard, so no two shards ever write the same article, and the split does not
  depend on how the files are cut or ordered. A line with no usable URL (not JSON, a field missing)
  falls to shard (line number modulo N), which alone reports it as skipped.
Together the N shards cover every article exactly once."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports this module before it needs SQLAlchemy
    from sqlalchemy import ColumnElement

MAX_SHARDS = 1_000_000  # far more processes than anyone runs; keeps `id % N` a small integer everywhere
_FORM = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*")


class ShardError(ValueError):
    pass


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """'I/N' with 0 <= I < N; ShardError saying what is wrong otherwise."""
        match = _FORM.fullmatch(text)
        if not match:
            raise ShardError(f"expected I/N (shard I of N, counted from 0, e.g. 0/3), got {text!r}")
        index, count = int(match[1]), int(match[2])
        if not 1 <= count <= MAX_SHARDS:
            raise ShardError(f"{text!r}: N, the number of shards, must be between 1 and {MAX_SHARDS:,}")
        if index >= count:
            raise ShardError(f"{text!r}: I must be between 0 and {count - 1} (shards are counted from 0)")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def id_term(self, column: Any) -> ColumnElement[bool]:
        """A WHERE term: the rows whose integer `column` (an article id) falls to this shard."""
        term: ColumnElement[bool] = (column % self.count) == self.index
        return term

    def holds_key(self, key: str) -> bool:
        """Whether the article with this key (its URL identity) falls to this shard."""
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.count == self.index

    def holds_line(self, number: int) -> bool:
        """Whether a line without a usable key (reported as skipped) falls to this shard."""
        return number % self.count == self.index
