"""The `source_state` table: ETag and Last-Modified of discovery pages, for conditional requests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import Connection, select

from provnews.storage.models import SourceState, utcnow
from provnews.storage.rows import sha1_hex
from provnews.storage.sql import upsert_statement


class Validators(NamedTuple):
    url: str
    site_id: str | None
    etag: str | None
    last_modified: str | None


def load(conn: Connection, site_ids: Iterable[str]) -> dict[str, Validators]:
    table = SourceState.__table__
    query = select(table.c.url, table.c.site_id, table.c.etag, table.c.last_modified).where(
        table.c.site_id.in_(list(site_ids))
    )
    return {row.url: Validators(*row) for row in conn.execute(query)}


def save(conn: Connection, rows: Iterable[Validators]) -> int:
    now = utcnow()
    values = {
        sha1_hex(v.url): {
            "url_key": sha1_hex(v.url),
            "url": v.url,
            "site_id": v.site_id,
            "etag": v.etag,
            "last_modified": v.last_modified,
            "checked_at": now,
        }
        for v in rows
        if v.etag or v.last_modified
    }
    if values:
        stmt = upsert_statement(conn, SourceState.__table__)
        set_ = {
            name: stmt.excluded[name] for name in ("url", "site_id", "etag", "last_modified", "checked_at")
        }
        conn.execute(stmt.on_conflict_do_update(index_elements=["url_key"], set_=set_), list(values.values()))
    return len(values)
