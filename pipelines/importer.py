"""Articles from JSON Lines files (a `provnews export --format jsonl`, or any file with url, site_id,
title and text on each line) for `Storage.ingest`; lines that cannot be stored are skipped, each
counted with its reason and line number.

The files are cut into slices of `batch` article lines here (a scan for line ends); each slice is
read, decoded, parsed and checked by the ingest's preparing process (`bulk.RowSource`), beside the
writer: parsing a line's JSON costs about as much as preparing the article, and the rows then need
not be pickled across."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.rows import to_utc

REQUIRED = ("url", "site_id", "title", "text")
_TIMES = ("published_at", "modified_at")
_EXAMPLES = 5  # skipped lines quoted in the report


@dataclass
class ImportReport:
    read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # the first few skipped lines, "file:line: reason"

    def skip(self, where: str, reason: str) -> None:
        self.skipped[reason] += 1
        if len(self.examples) < _EXAMPLES:
            self.examples.append(f"{where}: {reason}")

    def add(self, other: ImportReport) -> None:
        """Count `other`, the report of the lines after this one's."""
        self.read += other.read
        self.skipped.update(other.skipped)
        self.examples += other.examples[: _EXAMPLES - len(self.examples)]


@dataclass
class JsonlSlice:
    """Bytes `start`..`end` of a JSON Lines file, whose first line is line `first_line`: a batch of
    article lines, read where it is prepared (a `bulk.RowSource`), with its own report."""

    path: Path
    start: int
    end: int
    first_line: int
    report: ImportReport = field(default_factory=ImportReport)

    def rows(self) -> list[dict[str, Any]]:
        """The storable rows of the slice; everything else goes to `report`."""
        with self.path.open("rb") as source:
            source.seek(self.start)
            data = source.read(self.end - self.start)
        rows = []
        # Bytes, decoded line by line: a line in another encoding is skipped alone.
        for number, raw in enumerate(data.split(b"\n"), self.first_line):
            if not raw.strip():
                continue
            self.report.read += 1
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.report.skip(f"{self.path}:{number}", "not_utf8")
                continue
            row, reason = parse_line(line)
            if row is None:
                self.report.skip(f"{self.path}:{number}", reason)
            else:
                rows.append(row)
        return rows


def read_slices(paths: Iterable[Path], batch: int = 500) -> Iterator[JsonlSlice]:
    """The files cut into slices of `batch` non-blank lines (the last of each file may hold fewer)."""
    for path in paths:
        with path.open("rb") as lines:
            start = end = count = 0
            first = 1
            for number, raw in enumerate(lines, 1):
                end += len(raw)
                count += bool(raw.strip())
                if count == batch:
                    yield JsonlSlice(path, start, end, first)
                    start, first, count = end, number + 1, 0
            if count:
                yield JsonlSlice(path, start, end, first)


def parse_line(line: str) -> tuple[dict[str, Any] | None, str]:
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
    for key in _TIMES:
        try:
            row[key] = to_utc(row.get(key))
        except (TypeError, ValueError):
            return None, f"bad_{key}"
    row.pop("raw_html", None)  # an export has none; a stray value must not reach the compressor
    return row, ""
