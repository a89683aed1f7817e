"""Extraction quality: cases (a saved page plus its expected fields) scored field by field.

Pure logic, no I/O beyond reading the case files. Two case layouts are understood:

* the real-fixture layout: ``*.expected.json`` holding ``"page"`` (a path relative to a pages root)
  and ``"url"``;
* the sites layout: a folder with ``page.html`` (or ``page.html.gz``, as `provnews canary --save`
  writes it), ``meta.json`` (``url``, ``family``, optionally ``content_type``) and ``expected.json``.

Text is scored twice: on whole paragraphs (exact matches) and on 4-word shingles (partial credit).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Metadata fields compared exactly; a case scores a field only when its expected JSON has it.
FIELDS = (
    "canonical_url",
    "title",
    "sapo",
    "byline",
    "authors",
    "published_at",
    "modified_at",
    "date_source",
    "dateline",
    "section",
    "tags",
    "images",
    "language",
    "encoding_repair",
)
_WORD_RE = re.compile(r"\w+")


@dataclass
class Case:
    name: str
    page: Path
    url: str
    family: str | None
    expected: dict[str, Any]
    content_type: str | None = None  # the response's Content-Type, when the case saved it


@dataclass
class PRF:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def prf(predicted: Iterable[str], reference: Iterable[str]) -> PRF:
    """Multiset precision/recall of two bags of items; two empty bags agree perfectly."""
    pred, ref = Counter(predicted), Counter(reference)
    if not pred and not ref:
        return PRF(1.0, 1.0)
    overlap = sum((pred & ref).values())
    return PRF(overlap / sum(pred.values()) if pred else 0.0, overlap / sum(ref.values()) if ref else 0.0)


def shingles(text: str, size: int = 4) -> list[str]:
    """Overlapping ``size``-word shingles of lower-cased words (a text shorter than that is one shingle)."""
    words = _WORD_RE.findall(text.lower())
    if len(words) < size:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]


@dataclass
class CaseResult:
    name: str
    fields: dict[str, bool] = field(default_factory=dict)  # field → matched
    paragraphs: PRF = field(default_factory=lambda: PRF(0.0, 0.0))
    shingles: PRF = field(default_factory=lambda: PRF(0.0, 0.0))
    error: str | None = None


def score_case(
    name: str, expected: dict[str, Any], got: dict[str, Any] | None, error: str | None = None
) -> CaseResult:
    """Compare one extraction (``ArticleFields.to_dict()`` or None when it failed) with its expectation."""
    result = CaseResult(name=name, error=error)
    wanted = [f for f in FIELDS if f in expected]
    if got is None:
        result.fields = dict.fromkeys(wanted, False)
        return result
    result.fields = {f: _normalise(f, got.get(f)) == _normalise(f, expected[f]) for f in wanted}
    paragraphs = [p for p in (got.get("text") or "").split("\n\n") if p]
    reference = list(expected.get("paragraphs") or [])
    result.paragraphs = prf(paragraphs, reference)
    result.shingles = prf(shingles("\n\n".join(paragraphs)), shingles("\n\n".join(reference)))
    return result


def _normalise(name: str, value: Any) -> Any:
    if name == "images":
        return [{"url": i.get("url"), "caption": i.get("caption")} for i in value or []]
    if name in ("authors", "tags"):
        return list(value or [])
    return value


@dataclass
class Report:
    cases: list[CaseResult]

    def field_accuracy(self) -> dict[str, float]:
        totals: dict[str, list[int]] = {}
        for case in self.cases:
            for name, ok in case.fields.items():
                hit = totals.setdefault(name, [0, 0])
                hit[0] += int(ok)
                hit[1] += 1
        return {name: totals[name][0] / totals[name][1] for name in FIELDS if name in totals}

    def overall_field_accuracy(self) -> float:
        checks = [ok for case in self.cases for ok in case.fields.values()]
        return sum(checks) / len(checks) if checks else 1.0

    def mean(self, attr: str, metric: str) -> float:
        values = [getattr(getattr(case, attr), metric) for case in self.cases]
        return sum(values) / len(values) if values else 1.0

    def summary(self) -> dict[str, float]:
        return {
            "cases": float(len(self.cases)),
            "errors": float(sum(1 for c in self.cases if c.error)),
            "field_accuracy": self.overall_field_accuracy(),
            "paragraph_precision": self.mean("paragraphs", "precision"),
            "paragraph_recall": self.mean("paragraphs", "recall"),
            "paragraph_f1": self.mean("paragraphs", "f1"),
            "text_precision": self.mean("shingles", "precision"),
            "text_recall": self.mean("shingles", "recall"),
            "text_f1": self.mean("shingles", "f1"),
        }


def below_floors(summary: dict[str, float], floors: dict[str, float]) -> list[str]:
    """Human-readable lines for every summary metric under its floor (unknown floor names included)."""
    failures = []
    for name, floor in floors.items():
        if name not in summary:
            failures.append(f"unknown floor {name!r}")
        elif summary[name] + 1e-9 < floor:
            failures.append(f"{name} {summary[name]:.4f} < floor {floor:.4f}")
    return failures


def find_cases(root: Path, pages_root: Path) -> list[Case]:
    """Every case under ``root``, in path order, in either layout."""
    cases: list[Case] = []
    for path in sorted(root.rglob("*.json")):
        if path.name.endswith(".expected.json"):
            expected = json.loads(path.read_text(encoding="utf-8"))
            page = pages_root / expected["page"]
            name = str(path.relative_to(root)).removesuffix(".expected.json")
            cases.append(Case(name, page, expected["url"], expected.get("family"), expected))
        elif path.name == "expected.json" and (page := _page_file(path.parent)) is not None:
            expected = json.loads(path.read_text(encoding="utf-8"))
            meta_path = path.parent / "meta.json"
            meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
            url = meta.get("url") or expected.get("url")
            if not url:
                raise ValueError(f"{path}: no url in meta.json or expected.json")
            name = str(path.parent.relative_to(root)) if path.parent != root else path.parent.name
            cases.append(Case(name, page, url, meta.get("family"), expected, meta.get("content_type")))
    return cases


def _page_file(folder: Path) -> Path | None:
    """The case's page: ``page.html`` or the gzip ``page.html.gz`` (read transparently by decoding)."""
    return next((p for p in (folder / "page.html", folder / "page.html.gz") if p.exists()), None)


Extractor = Callable[[Case], tuple[dict[str, Any] | None, str | None]]


def evaluate(cases: Iterable[Case], extract: Extractor) -> Report:
    """Run ``extract`` (case → (fields dict or None, error or None)) on every case and score it."""
    results = []
    for case in cases:
        got, error = extract(case)
        results.append(score_case(case.name, case.expected, got, error))
    return Report(results)
