"""The `url_state` table: what the crawler learnt about each URL (discovered, stored, failed...)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, or_, select

from provnews.crawler.discovery.urls import url_identity
from provnews.storage.models import URL_STATUSES, Article, UrlState, utcnow
from provnews.storage.rows import sha1_hex, to_utc
from provnews.storage.sql import chunks, upsert_statement


class UrlMark(NamedTuple):
    url: str
    site_id: str | None
    status: str
    reason: str | None = None
    article_id: int | None = None
    lastmod: str | datetime | None = None
    discovered_date: str | datetime | None = None  # the publication date discovery saw
    discovered_date_source: str | None = None


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
        if mark.status == "discovered":  # (an outcome never carries one: kept as discovery wrote it)
            rows[key]["discovered_date"] = to_utc(mark.discovered_date)
            rows[key]["discovered_date_source"] = (
                mark.discovered_date_source if mark.discovered_date else None
            )
    _link_articles(
        conn, [row for row in rows.values() if row["status"] == "stored" and not row["article_id"]]
    )
    table = UrlState.__table__
    discovered = [row for row in rows.values() if row["status"] == "discovered"]
    fetched = [row for row in rows.values() if row["status"] != "discovered"]
    if discovered:
        stmt = upsert_statement(conn, table)
        refreshed = ("lastmod", "discovered_date", "discovered_date_source")
        set_new = {name: func.coalesce(stmt.excluded[name], table.c[name]) for name in refreshed}
        for part in chunks(discovered, 1000):  # one statement per thousand: bounded whatever a sitemap holds
            conn.execute(stmt.on_conflict_do_update(index_elements=["url_key"], set_=set_new), list(part))
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


_INFO_COLUMNS = (UrlState.url, UrlState.status, UrlState.attempts, UrlState.lastmod, UrlState.updated_at)


def site_states(conn: Connection, site_id: str) -> dict[str, UrlInfo]:
    """URL -> UrlInfo for every URL of a site in url_state."""
    query = select(*_INFO_COLUMNS).where(UrlState.site_id == site_id)
    return {
        url: UrlInfo(status, attempts or 0, lastmod, updated)
        for url, status, attempts, lastmod, updated in conn.execute(query)
    }


def url_infos(conn: Connection, urls: Iterable[str]) -> dict[str, UrlInfo]:
    """URL -> UrlInfo for those of these URLs that url_state knows (one query per 500)."""
    by_key = {sha1_hex(url): url for url in urls}
    found: dict[str, UrlInfo] = {}
    for keys in chunks(list(by_key), 500):
        query = select(UrlState.url_key, *_INFO_COLUMNS[1:]).where(UrlState.url_key.in_(keys))
        for key, status, attempts, lastmod, updated in conn.execute(query):
            found[by_key[key]] = UrlInfo(status, attempts or 0, lastmod, updated)
    return found


def stored_among(conn: Connection, urls: Iterable[str]) -> set[str]:
    """Those of these URLs that are the fetched or the canonical URL of a stored article."""
    wanted = list(dict.fromkeys(urls))
    found: set[str] = set()
    for part in chunks(wanted, 500):
        by_identity = {url_identity(url): url for url in part}
        query = select(Article.url, Article.url_key).where(
            or_(Article.url.in_(part), Article.url_key.in_(list(by_identity)))
        )
        for url, url_key in conn.execute(query):
            found.add(url)
            if url_key in by_identity:
                found.add(by_identity[url_key])
    return found & set(wanted)


class PendingUrl(NamedTuple):
    """A URL an earlier run met and did not finish (see `pending_page`)."""

    url_key: str
    url: str
    info: UrlInfo
    discovered_date: datetime | None
    discovered_date_source: str | None


PENDING_STATUSES = ("discovered", "failed", "robots_denied")


def pending_page(conn: Connection, site_id: str, after: str, limit: int) -> list[PendingUrl]:
    """Up to `limit` URLs of a site left discovered, failed or refused by robots.txt, by url_key after
    `after`: resume reads them page by page as the crawl takes them, never all at once."""
    query = (
        select(UrlState.url_key, *_INFO_COLUMNS, UrlState.discovered_date, UrlState.discovered_date_source)
        .where(UrlState.site_id == site_id, UrlState.status.in_(PENDING_STATUSES), UrlState.url_key > after)
        .order_by(UrlState.url_key)
        .limit(limit)
    )
    return [
        PendingUrl(key, url, UrlInfo(status, attempts or 0, lastmod, updated), date, source)
        for key, url, status, attempts, lastmod, updated, date, source in conn.execute(query)
    ]
