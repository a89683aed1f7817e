"""The `listing_walks` table: how far the walk of each listing to its oldest page has gone."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, select

from provnews.storage.models import ListingWalk, utcnow
from provnews.storage.rows import sha1_hex
from provnews.storage.sql import upsert_statement


class WalkState(NamedTuple):
    next_page: int  # the first page not walked yet
    completed_at: datetime | None  # when a walk last reached the end of the listing


def load(conn: Connection, site_id: str) -> dict[str, WalkState]:
    """Listing URL -> its walk, for the listings of a site walked before."""
    table = ListingWalk.__table__
    query = select(table.c.url, table.c.next_page, table.c.completed_at).where(table.c.site_id == site_id)
    return {url: WalkState(next_page, completed) for url, next_page, completed in conn.execute(query)}


def save(conn: Connection, site_id: str, url: str, next_page: int, complete: bool) -> None:
    """Record the walk's progress; a completed walk starts again from page 1 and keeps its completion
    time until the next completion."""
    table = ListingWalk.__table__
    now = utcnow()
    row = {
        "url_key": sha1_hex(url),
        "url": url,
        "site_id": site_id,
        "next_page": 1 if complete else next_page,
        "completed_at": now if complete else None,
        "updated_at": now,
    }
    stmt = upsert_statement(conn, table)
    set_ = {"next_page": stmt.excluded.next_page, "updated_at": stmt.excluded.updated_at}
    if complete:
        set_["completed_at"] = stmt.excluded.completed_at
    conn.execute(stmt.on_conflict_do_update(index_elements=["url_key"], set_=set_), [row])
