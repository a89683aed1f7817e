"""Articles from JSON Lines files (a `provnews export --format jsonl`, or any file with url, site_id,
title and text on each line) for `Storage.ingest`; lines that cannot be stored are skipped, each
counted with its reason and line number. Each article is bounded as a crawled one is
(`storage.bounds`): values cut are counted in `ImportReport.truncated`, values repaired (NUL, lone
surrogates) in `ImportReport.repaired`.

The files are cut here into chunks of `batch` article lines (a scan for line ends); each chunk is
decoded, parsed and checked by the ingest's preparing process (`bulk.RowSource`), beside the writer:
parsing a line's JSON costs about as much as preparing the article, and parsed rows would have to be
pickled across. A pipe works too (`provnews import <(zcat dump.jsonl.gz)`): its chunks carry their
bytes."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provnews.crawler.discovery.urls import url_identity
from provnews.crawler.sites.registry import SITE_ID
from provnews.storage.bounds import bound_fields
from provnews.storage.rows import to_utc
from provnews.storage.shard import Shard

REQUIRED = ("url", "site_id", "title", "text")
# Optional fields and the type a stored value must have (absent or null is fine).
_STRINGS = (
    "canonical_url", "sapo", "byline", "section", "dateline", "date_source", "language", "family",
    "province", "province_old",
)  # fmt: skip
_STRING_LISTS = ("tags", "authors")
_TIMES = ("published_at", "modified_at")
_URLS = ("url", "canonical_url")
_WEB_URL = re.compile(r"https?://[^/\s?#]+", re.I)
_EXAMPLES = 5  # skipped lines quoted in the report


@dataclass
class ImportReport:
    read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # the first few skipped lines, "file:line: reason"
    truncated: Counter[str] = field(default_factory=Counter)  # values cut to their bound, by field
    repaired: Counter[str] = field(default_factory=Counter)  # values without NUL or lone surrogates now
    elsewhere: int = 0  # lines left to the other shards (`--shard`): parsed for their key only

    def skip(self, where: str, reason: str, detail: str = "") -> None:
        self.skipped[reason] += 1
        if len(self.examples) < _EXAMPLES:
            self.examples.append(f"{where}: {reason}" + (f" ({detail})" if detail else ""))

    def add(self, other: ImportReport) -> None:
        """Count `other`, the report of the lines after this one's."""
        self.read += other.read
        self.elsewhere += other.elsewhere
        self.skipped.update(other.skipped)
        self.truncated.update(other.truncated)
        self.repaired.update(other.repaired)
        self.examples += other.examples[: _EXAMPLES - len(self.examples)]


@dataclass
class JsonlChunk:
    """Consecutive lines of a JSON Lines file, the first being line `first_line`: a batch of article
    lines parsed where it is prepared (a `bulk.RowSource`), with its own report. The lines are bytes
    `span` of the file, read again by the preparing process, or, for a file that cannot be read twice
    (a pipe), carried as `data`."""

    path: Path
    first_line: int
    span: tuple[int, int] | None = None
    data: bytes = b""
    report: ImportReport = field(default_factory=ImportReport)
    known_sites: frozenset[str] | None = None  # site ids that may be stored (None: any well-formed id)
    shard: Shard | None = None  # only the lines of this shard (None: all)

    def rows(self) -> list[dict[str, Any]]:
        """The storable rows of the chunk (of its shard's lines, see `storage.shard`); everything
        else goes to `report`. Carried bytes are dropped: the chunk goes back to the importing process
        with its report only."""
        rows = []
        # Bytes, decoded line by line: a line in another encoding is skipped alone.
        for number, raw in enumerate(self._lines().split(b"\n"), self.first_line):
            if not raw.strip():
                continue
            try:
                row, reason = parse_line(raw.decode("utf-8"), self.known_sites)
            except UnicodeDecodeError:
                row, reason = None, "not_utf8"
            if self.shard is not None and not self._in_shard(row, number):
                self.report.elsewhere += 1
                continue
            self.report.read += 1
            if row is not None:
                reason = self._bound(row)
            if row is None or reason:
                self.report.skip(f"{self.path}:{number}", reason)
            else:
                rows.append(row)
        return rows

    def _in_shard(self, row: dict[str, Any] | None, number: int) -> bool:
        """Whether line `number` falls to this chunk's shard: by its article's URL identity, or by the
        line number when it has none."""
        assert self.shard is not None
        if row is not None:
            try:
                return self.shard.holds_key(url_identity(row.get("canonical_url") or row["url"]))
            except ValueError:  # not a URL: the line is skipped as bad_url by the line's shard
                pass
        return self.shard.holds_line(number)

    def _bound(self, row: dict[str, Any]) -> str:
        """Bound the row's fields (counted in the report); the reason to skip it, or ""."""
        bounded = bound_fields(row)
        self.report.truncated.update(bounded.truncated)
        self.report.repaired.update(bounded.repaired)
        if bounded.drop:
            return bounded.drop
        for key in REQUIRED:  # NUL characters may have been all there was
            if not row[key].strip():
                return f"missing_{key}"
        try:
            url_identity(row.get("canonical_url") or row["url"])
        except ValueError:  # e.g. "http://[x": not a URL an article can be found by
            return "bad_url"
        return ""

    def _lines(self) -> bytes:
        if self.span is None:
            data, self.data = self.data, b""
            return data
        start, end = self.span
        with self.path.open("rb") as source:
            source.seek(start)
            return source.read(end - start)


def read_chunks(
    paths: Iterable[Path],
    batch: int = 500,
    known_sites: frozenset[str] | None = None,
    shard: Shard | None = None,
) -> Iterator[JsonlChunk]:
    """The files in chunks of `batch` non-blank lines (the last of each file may hold fewer). A regular
    file's chunks are spans of it (about 7% faster than carrying their 3 MB of bytes to the preparing
    process, benchmarks/README.md); anything else is read once, in order. With `known_sites`, lines of
    other sites are skipped as `unknown_site`. With `shard`, each chunk is read for that shard's lines."""
    for path in paths:
        carry = not path.is_file()
        with path.open("rb") as lines:
            held: list[bytes] = []
            first, count, start, end = 1, 0, 0, 0
            for number, raw in enumerate(lines, 1):
                end += len(raw)
                count += bool(raw.strip())
                if carry:
                    held.append(raw)
                if count == batch:
                    yield _chunk(path, first, start, end, held, known_sites, shard)
                    held, first, count, start = [], number + 1, 0, end
            if count:
                yield _chunk(path, first, start, end, held, known_sites, shard)


def _chunk(
    path: Path,
    first: int,
    start: int,
    end: int,
    held: list[bytes],
    known_sites: frozenset[str] | None,
    shard: Shard | None,
) -> JsonlChunk:
    if held:
        return JsonlChunk(path, first, data=b"".join(held), known_sites=known_sites, shard=shard)
    return JsonlChunk(path, first, span=(start, end), known_sites=known_sites, shard=shard)


def parse_line(line: str, known_sites: frozenset[str] | None = None) -> tuple[dict[str, Any] | None, str]:
    """(row, "") for a storable article, else (None, reason). Dates are parsed once, here."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return None, "not_json"
    if not isinstance(row, dict):
        return None, "not_an_object"
    for key in REQUIRED:
        if not isinstance(row.get(key), str) or not row[key].strip():
            return None, f"missing_{key}"
    if not re.fullmatch(SITE_ID, row["site_id"]):  # as the registry's: no paths, spaces or capitals
        return None, "bad_site_id"
    for key in _STRINGS:
        if row.get(key) is not None and not isinstance(row[key], str):
            return None, f"bad_{key}"
    for key in _STRING_LISTS:
        value = row.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return None, f"bad_{key}"
    images = row.get("images")
    if images is not None and not (
        isinstance(images, list)
        and all(isinstance(i, dict) and isinstance(i.get("url"), str) for i in images)
        and all(isinstance(i.get("caption"), str | None) for i in images)
    ):
        return None, "bad_images"
    if known_sites is not None and row["site_id"] not in known_sites:
        return None, "unknown_site"
    for key in _URLS:
        if row.get(key) is not None and not _WEB_URL.match(str(row[key])):
            return None, f"bad_{key}"  # file:, javascript:, a bare path...: not a page of a site
    for key in _TIMES:
        if row.get(key) is not None and not isinstance(row[key], str):
            return None, f"bad_{key}"
        try:
            row[key] = to_utc(row.get(key))
        except (TypeError, ValueError):
            return None, f"bad_{key}"
    row.pop("raw_html", None)  # an export has none; a stray value must not reach the compressor
    row.pop("run_id", None)  # an export's run ids are crawl runs of the database it came from
    return row, ""
