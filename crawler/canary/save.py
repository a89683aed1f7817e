"""`provnews canary --save DIR`: every checked article becomes an evaluation case.

One folder per article, ``DIR/<site>/<case>/``, in the layout `provnews evaluate` reads
(`crawler.extraction.evaluate.find_cases`): ``page.html.gz`` (the response body as received, gzip),
``meta.json`` (url, family, site, HTTP status, final URL, content type, the response headers and when it
was fetched) and ``expected.json`` (the extracted fields, which a person corrects where the parser was
wrong; from then on `evaluate` scores every parser change against it)."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from provnews.crawler.canary.client import Fetched
from provnews.crawler.extraction.evaluate import FIELDS
from provnews.crawler.parsers import ArticleFields
from provnews.crawler.sites.registry import Site

PAGE = "page.html.gz"


def case_name(url: str) -> str:
    """A folder name from the URL's path and query: readable, safe on every file system."""
    parts = urlsplit(url)
    raw = (parts.path + ("-" + parts.query if parts.query else "")).strip("/") or "home"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", raw)[-100:].strip("-.") or "home"


def expected_fields(fields: ArticleFields) -> dict[str, Any]:
    """The expected-JSON form of extracted fields: every evaluated field, the paragraphs, and the
    parser bookkeeping (family, fallback) that a reader of the case wants to see."""
    values = fields.to_dict()
    expected = {name: values[name] for name in FIELDS}
    expected["paragraphs"] = fields.paragraphs
    expected["family"] = fields.family
    expected["fallback"] = fields.fallback
    return expected


def save_case(
    root: Path, site: Site, url: str, fetched: Fetched, fields: ArticleFields | None, error: str | None
) -> Path:
    """Write one checked article under ``root``; returns its folder. A page that could not be
    extracted is saved too, with the error in expected.json, so the failure can be studied offline."""
    folder = root / site.id / case_name(url)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PAGE).write_bytes(gzip.compress(fetched.body, mtime=0))
    meta = {
        "url": url,
        "family": site.family,
        "site": site.id,
        "status": fetched.status,
        "final_url": fetched.final_url,
        "content_type": fetched.content_type,
        "headers": fetched.headers,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    expected: dict[str, Any] = expected_fields(fields) if fields is not None else {"error": error}
    for name, value in (("meta.json", meta), ("expected.json", expected)):
        text = json.dumps(value, ensure_ascii=False, indent=2) + "\n"
        (folder / name).write_text(text, encoding="utf-8")
    return folder
