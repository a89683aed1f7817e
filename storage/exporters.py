"""Export writers: each takes an iterator of article dicts (`Storage.iter_articles`) and streams it to disk
in constant memory. Parquet needs pyarrow and WARC needs warcio (the `export` extra)."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

FORMATS = ("jsonl", "csv", "parquet", "corpus", "warc")
CSV_COLUMNS = (
    "id",
    "site_id",
    "province",
    "section",
    "title",
    "sapo",
    "text",
    "byline",
    "authors",
    "tags",
    "published_at",
    "modified_at",
    "url",
    "canonical_url",
    "cluster_id",
    "content_hash",
    "word_count",
    "first_seen_at",
    "updated_at",
)
_SAFE_SEGMENT = re.compile(r"[^A-Za-z0-9._-]+")


class ExportError(ValueError):
    """The export cannot be written as asked; the message is meant for the user."""


def safe_segment(value: object, fallback: str = "_") -> str:
    """One path segment from untrusted data: no separators, no `..`, no control characters, bounded."""
    text = unicodedata.normalize("NFKC", str(value))
    text = _SAFE_SEGMENT.sub("_", text).strip("._") or fallback
    return text[:80]


def inside(root: Path, *parts: str) -> Path:
    """root/parts..., refusing any path that resolves (symlinks included) outside root."""
    base = root.resolve()
    path = base.joinpath(*parts).resolve()
    if not path.is_relative_to(base) or path == base:
        raise ExportError(f"refusing to write outside {root}: {path}")
    return path


def check_file_target(out: Path) -> None:
    if out.is_dir():
        raise ExportError(f"{out} is a folder; this format writes one file")
    out.parent.mkdir(parents=True, exist_ok=True)


def corpus_text(article: dict[str, Any]) -> str:
    """The source-document format: ' date YYYY-MM ' and the text; no prefix when undated."""
    published = article.get("published_at")
    prefix = f" date {published[:7]} " if published else ""
    return prefix + article["text"]


def corpus_path(root: Path, article: dict[str, Any]) -> Path:
    """<site>/<YYYY-MM>/<id>.txt under root, every segment sanitised and the result checked."""
    month = (article.get("published_at") or "")[:7]
    month = month if re.fullmatch(r"\d{4}-\d{2}", month) else "undated"
    return inside(root, safe_segment(article["site_id"]), month, f"{int(article['id'])}.txt")


def stream_jsonl(articles: Iterable[dict[str, Any]], fh: TextIO) -> int:
    count = 0
    for article in articles:
        fh.write(json.dumps(article, ensure_ascii=False, default=str) + "\n")
        count += 1
    return count


def write_jsonl(articles: Iterable[dict[str, Any]], out: Path) -> int:
    check_file_target(out)
    with out.open("w", encoding="utf-8") as fh:
        return stream_jsonl(articles, fh)


def stream_csv(articles: Iterable[dict[str, Any]], fh: TextIO) -> int:
    """One row per article; list columns (authors, tags) as JSON arrays."""
    writer = csv.DictWriter(fh, CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for article in articles:
        row = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v for k, v in article.items()}
        writer.writerow(row)
        count += 1
    return count


def write_csv(articles: Iterable[dict[str, Any]], out: Path, *, excel: bool = False) -> int:
    """UTF-8 CSV; `excel` starts it with a byte-order mark, which Excel needs to read UTF-8."""
    check_file_target(out)
    with out.open("w", encoding="utf-8-sig" if excel else "utf-8", newline="") as fh:
        return stream_csv(articles, fh)


def write_corpus(articles: Iterable[dict[str, Any]], out: Path) -> int:
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; the corpus format writes a folder")
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for article in articles:
        path = corpus_path(out, article)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(corpus_text(article), encoding="utf-8")
        count += 1
    return count


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def write_parquet(articles: Iterable[dict[str, Any]], out: Path, batch: int = 2000) -> int:
    """Row groups of `batch` articles; times as timestamps in Vietnam time (+07:00)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ExportError("parquet export needs pyarrow: pip install 'provnews[export]'") from exc
    check_file_target(out)
    ts = pa.timestamp("us", tz="+07:00")
    strings = pa.list_(pa.string())
    fields: list[tuple[str, Any, Callable[[Any], Any]]] = [
        ("id", pa.int64(), int),
        ("site_id", pa.string(), str),
        ("province", pa.string(), str),
        ("province_old", pa.string(), str),
        ("section", pa.string(), str),
        ("title", pa.string(), str),
        ("sapo", pa.string(), str),
        ("text", pa.string(), str),
        ("byline", pa.string(), str),
        ("authors", strings, list),
        ("tags", strings, list),
        ("images", pa.list_(pa.struct([("url", pa.string()), ("caption", pa.string())])), list),
        ("published_at", ts, _when),
        ("modified_at", ts, _when),
        ("date_source", pa.string(), str),
        ("dateline", pa.string(), str),
        ("language", pa.string(), str),
        ("family", pa.string(), str),
        ("url", pa.string(), str),
        ("canonical_url", pa.string(), str),
        ("cluster_id", pa.int64(), int),
        ("content_hash", pa.string(), str),
        ("versions", strings, list),
        ("word_count", pa.int64(), int),
        ("first_seen_at", ts, _when),
        ("updated_at", ts, _when),
    ]
    schema = pa.schema([(name, type_) for name, type_, _ in fields])
    count = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for rows in _batches(articles, batch):
            columns = [
                pa.array([None if r.get(n) is None else conv(r[n]) for r in rows], type=t)
                for n, t, conv in fields
            ]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
            count += len(rows)
    return count


def write_warc(articles: Iterable[dict[str, Any]], out: Path) -> int:
    """A `resource` record per stored page (the HTML as fetched; the HTTP headers were not kept), with a
    `metadata` record of provnews' fields; gzip per record when `out` ends in .gz. Articles without a
    stored page are skipped."""
    try:
        from warcio.warcwriter import WARCWriter
    except ImportError as exc:
        raise ExportError("WARC export needs warcio: pip install 'provnews[export]'") from exc
    check_file_target(out)
    count = 0
    with out.open("wb") as fh:
        writer = WARCWriter(fh, gzip=out.name.endswith(".gz"), warc_version="1.1")
        info = {"software": "provnews", "format": "WARC File Format 1.1", "description": "provincial press"}
        writer.write_record(writer.create_warcinfo_record(out.name, info))
        for article in articles:
            html = article.get("raw_html")
            if not html:
                continue
            date = article.get("updated_at") or article.get("first_seen_at")
            headers = {"WARC-Date": _warc_date(date)} if date else {}
            resource = writer.create_warc_record(
                article["url"],
                "resource",
                payload=io.BytesIO(html),
                warc_content_type="text/html",
                warc_headers_dict=headers,
            )
            writer.write_record(resource)
            meta = {k: article.get(k) for k in ("id", "site_id", "canonical_url", "title", "published_at")}
            metadata = writer.create_warc_record(
                article["url"],
                "metadata",
                payload=io.BytesIO(json.dumps(meta, ensure_ascii=False).encode("utf-8")),
                warc_content_type="application/json",
                warc_headers_dict={
                    **headers,
                    "WARC-Concurrent-To": resource.rec_headers.get_header("WARC-Record-ID"),
                },
            )
            writer.write_record(metadata)
            count += 1
    return count


def _warc_date(iso: str) -> str:
    """ISO 8601 with offset → the UTC form WARC wants (2024-05-01T01:30:00Z)."""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


WRITERS: dict[str, Callable[[Iterable[dict[str, Any]], Path], int]] = {
    "jsonl": write_jsonl,
    "csv": write_csv,
    "parquet": write_parquet,
    "corpus": write_corpus,
    "warc": write_warc,
}
# The formats that can go to standard output (`--out -`).
STREAM_WRITERS: dict[str, Callable[[Iterable[dict[str, Any]], TextIO], int]] = {
    "jsonl": stream_jsonl,
    "csv": stream_csv,
}
