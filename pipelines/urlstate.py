"""The `url_state` table: what the crawler learnt about each URL (discovered, stored, failed...)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, or_, select

from crawler.urls import url_identity
from pipelines.db import URL_STATUSES, Article, UrlState, utcnow
from pipelines.rows import sha1_hex, to_utc
from pipelines.sql import chunks, upsert_statement


class UrlMark(NamedTuple):
    url: str
    site_id: str | None
    status: str
    reason: str | None = None
    article_id: int | None = None
    lastmod: str | datetime | None = None


def as_mark(item: UrlMark | Mapping[str, Any] | tuple[Any, ...]) -> UrlMark:
    mark = UrlMark(**item) if isinstance(item, Mapping) else UrlMark(*item)
    if mark.status not in URL_STATUSES:
        raise ValueError(f"unknown url status {mark.status!r}; expected one of {', '.join(URL_STATUSES)}")
    return mark


def mark_urls(conn: Connection, marks: Iterable[UrlMark]) -> int:
    """Record URL outcomes; returns how many URLs were written.

    "discovered" never overwrites what is already known about a URL (only refreshes its lastmod);
    any other status replaces the previous one and counts as one more fetch attempt.
    """
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for mark in marks:
        key = sha1_hex(mark.url)
        rows[key] = {
            "url_key": key,
            "url": mark.url,
            "site_id": mark.site_id,
            "status": mark.status,
            "attempts": 0 if mark.status == "discovered" else 1,
            "reason": mark.reason,
            "lastmod": to_utc(mark.lastmod),
            "first_seen_at": now,
            "updated_at": now,
            "article_id": mark.article_id,
        }
    _link_articles(
        conn, [row for row in rows.values() if row["status"] == "stored" and not row["article_id"]]
    )
    table = UrlState.__table__
    discovered = [row for row in rows.values() if row["status"] == "discovered"]
    fetched = [row for row in rows.values() if row["status"] != "discovered"]
    if discovered:
        stmt = upsert_statement(conn, table)
        lastmod = {"lastmod": func.coalesce(stmt.excluded.lastmod, table.c.lastmod)}
        conn.execute(stmt.on_conflict_do_update(index_elements=["url_key"], set_=lastmod), discovered)
    if fetched:
        stmt = upsert_statement(conn, table)
        set_: dict[str, Any] = {name: stmt.excluded[name] for name in ("status", "reason", "updated_at")}
        kept = ("site_id", "lastmod", "article_id")  # not every caller knows them: keep what is known
        set_ |= {name: func.coalesce(stmt.excluded[name], table.c[name]) for name in kept}
        set_["attempts"] = table.c.attempts + 1
        conn.execute(stmt.on_conflict_do_update(index_elements=["url_key"], set_=set_), fetched)
    return len(rows)


def _link_articles(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Fill article_id of "stored" marks from articles whose fetched or canonical URL it is."""
    for part in chunks(rows, 500):
        urls = [row["url"] for row in part]
        query = select(Article.id, Article.url, Article.url_key).where(
            or_(Article.url.in_(urls), Article.url_key.in_([url_identity(row["url"]) for row in part]))
        )
        found: dict[str, int] = {}
        for id_, url, url_key in conn.execute(query):
            found[url] = found[url_key] = id_
        for row in part:
            row["article_id"] = found.get(row["url"]) or found.get(url_identity(row["url"]))


def url_status(conn: Connection, urls: Iterable[str]) -> dict[str, str]:
    by_key = {sha1_hex(url): url for url in urls}
    found: dict[str, str] = {}
    for keys in chunks(list(by_key), 500):
        query = select(UrlState.url_key, UrlState.status).where(UrlState.url_key.in_(keys))
        found.update({by_key[key]: status for key, status in conn.execute(query)})
    return found


class UrlInfo(NamedTuple):
    """What is known of one URL when a run starts (see `site_states`)."""

    status: str
    attempts: int
    lastmod: datetime | None
    updated_at: datetime


def site_states(conn: Connection, site_id: str) -> dict[str, UrlInfo]:
    """URL -> UrlInfo for every URL of a site in url_state."""
    query = select(
        UrlState.url, UrlState.status, UrlState.attempts, UrlState.lastmod, UrlState.updated_at
    ).where(UrlState.site_id == site_id)
    return {
        url: UrlInfo(status, attempts or 0, lastmod, updated)
        for url, status, attempts, lastmod, updated in conn.execute(query)
    }
