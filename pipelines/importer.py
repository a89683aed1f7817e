"""Articles from JSON Lines files (a `provnews export --format jsonl`, or any file with url, site_id,
title and text on each line) in batches for `Storage.ingest`; lines that cannot be stored are skipped,
each counted with its reason and line number."""

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


@dataclass
class ImportReport:
    read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # the first few skipped lines, "file:line: reason"

    def skip(self, where: str, reason: str) -> None:
        self.skipped[reason] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{where}: {reason}")


def read_batches(
    paths: Iterable[Path], report: ImportReport, batch: int = 500
) -> Iterator[list[dict[str, Any]]]:
    """Valid article rows of the files, `batch` at a time; everything else goes to `report`."""
    rows: list[dict[str, Any]] = []
    for path in paths:
        # Bytes, decoded line by line: a line in another encoding is skipped alone (a text-mode file
        # would fail on the whole buffered chunk around it).
        with path.open("rb") as lines:
            for number, raw in enumerate(lines, 1):
                if not raw.strip():
                    continue
                report.read += 1
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    report.skip(f"{path}:{number}", "not_utf8")
                    continue
                row, reason = parse_line(line)
                if row is None:
                    report.skip(f"{path}:{number}", reason)
                    continue
                rows.append(row)
                if len(rows) == batch:
                    yield rows
                    rows = []
    if rows:
        yield rows


def parse_line(line: str) -> tuple[dict[str, Any] | None, str]:
    """(row, "") for a storable article, else (None, reason)."""
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
            to_utc(row.get(key))
        except (TypeError, ValueError):
            return None, f"bad_{key}"
    row.pop("raw_html", None)  # an export has none; a stray value must not reach the compressor
    return row, ""
