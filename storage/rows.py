"""Conversions between pipeline dicts and database rows: hashes, times, compression."""

from __future__ import annotations

import hashlib
import json
import unicodedata
import zlib
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from provnews.crawler.discovery.urls import url_identity
from provnews.crawler.text.vietnamese import VN_TZ, to_vn_iso

TIME_COLUMNS = ("published_at", "modified_at", "first_seen_at", "updated_at", "started_at", "finished_at")


def sha1_hex(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8")).hexdigest()


def content_hash(text: str) -> str:
    return sha1_hex(unicodedata.normalize("NFC", text))


def to_utc(value: str | datetime | None) -> datetime | None:
    """ISO string or datetime → aware UTC. A value without offset is Vietnam local time (+07:00)."""
    if value is None or value == "":
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VN_TZ)
    return parsed.astimezone(UTC)


def _parse_bound(value: str | date | datetime) -> date | datetime:
    if isinstance(value, str):
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    return value


def since_bound(value: str | date | datetime | None) -> datetime | None:
    """Inclusive lower bound in UTC; a bare date means the start of that day in Vietnam."""
    if value is None or value == "":
        return None
    value = _parse_bound(value)
    if isinstance(value, datetime):
        return to_utc(value)
    return datetime.combine(value, time(), VN_TZ).astimezone(UTC)


def until_bound(value: str | date | datetime | None) -> datetime | None:
    """Exclusive upper bound in UTC: a bare date includes that whole Vietnam day, a datetime includes
    itself (both engines store microseconds, so +1 µs is the next representable instant)."""
    if value is None or value == "":
        return None
    value = _parse_bound(value)
    if isinstance(value, datetime):
        return to_utc(value + timedelta(microseconds=1))
    return since_bound(value + timedelta(days=1))


def compress_html(raw: bytes | str | None) -> bytes | None:
    if raw is None:
        return None
    return zlib.compress(raw.encode("utf-8") if isinstance(raw, str) else raw, 6)


def decompress_html(blob: bytes | None) -> bytes | None:
    return None if blob is None else zlib.decompress(blob)


def _plain(value: Any) -> Any:
    return asdict(value) if is_dataclass(value) and not isinstance(value, type) else value


def article_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """A pipeline dict (ArticleFields keys + site_id, province, raw_html, run_id...) → `articles` values.

    Unknown keys are ignored so that pipelines may carry extra metadata; missing required keys raise.
    """
    return article_values_and_words(row)[0]


def article_values_and_words(row: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`article_values` and the words of the text (split once: counted here, signed by the caller)."""
    for key in ("url", "site_id", "title", "text"):
        if not row.get(key):
            raise ValueError(f"article row lacks '{key}': {row.get('url')!r}")
    text = unicodedata.normalize("NFC", row["text"])
    words = text.split()
    canonical = row.get("canonical_url") or row["url"]
    images = [_plain(image) for image in row.get("images") or []]
    values = {
        "site_id": row["site_id"],
        "url": row["url"],
        "canonical_url": canonical,
        "url_key": url_identity(canonical),
        "title": unicodedata.normalize("NFC", row["title"]),
        "sapo": row.get("sapo"),
        "text": text,
        "byline": row.get("byline"),
        "authors": list(row.get("authors") or []),
        "published_at": to_utc(row.get("published_at")),
        "modified_at": to_utc(row.get("modified_at")),
        "date_source": row.get("date_source"),
        "section": row.get("section"),
        "tags": list(row.get("tags") or []),
        "images": [{"url": i.get("url"), "caption": i.get("caption")} for i in images],
        "dateline": row.get("dateline"),
        "language": row.get("language") or "vi",
        "family": row.get("family") or "generic",
        "fallback": bool(row.get("fallback")),
        "province": row.get("province"),
        "province_old": row.get("province_old"),
        "content_hash": sha1_hex(text),  # `content_hash` of the text, which is NFC already
        "word_count": len(words),
        "raw_html": compress_html(row.get("raw_html")),
        "run_id": row.get("run_id"),
    }
    return values, words


def public_dict(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    """A result row as a plain dict with times as +07:00 ISO strings and JSON columns as lists."""
    out = dict(mapping)
    for key in (*TIME_COLUMNS, "lastmod"):
        if isinstance(out.get(key), datetime):
            out[key] = to_vn_iso(out[key])
    for key in ("authors", "tags", "images", "versions", "sites"):
        if key in out and out[key] is None:
            out[key] = []
    if "raw_html" in out:
        out["raw_html"] = decompress_html(out["raw_html"])
    return out


_JSON_COLUMNS = ("authors", "tags", "images", "versions")
_SQLITE_TIMES = ("published_at", "modified_at", "first_seen_at", "updated_at")


def sqlite_row(values: Mapping[str, Any]) -> dict[str, Any]:
    """`articles` values as the SQLite driver takes them, stored exactly as SQLAlchemy would store them
    (`UTCDateTime`: naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff'; JSON: `json.dumps`; booleans: 0/1), for
    the bulk writes that bypass SQLAlchemy's per-parameter processing."""
    row = dict(values)
    for key in _SQLITE_TIMES:
        value = row.get(key)
        if value is not None:
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            row[key] = value.isoformat(" ", "microseconds")
    for key in _JSON_COLUMNS:
        if key in row:
            row[key] = "[]" if row[key] == [] else json.dumps(row[key])  # the common case, without its cost
    if "fallback" in row:
        row["fallback"] = int(bool(row["fallback"]))
    return row
