"""Idempotent batch writes of sites and articles, keyed on `sites.id` and `articles.url_key`.

An article batch is prepared without the database (`storage.prepared`), then compared with what is
stored and written by the engine's writer (`write_sqlite`, `write_postgresql`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from sqlalchemy import Connection, select

from provnews.storage.models import Article, SiteRow, utcnow
from provnews.storage.prepared import PreparedBatch, prepare_articles
from provnews.storage.sql import bound_list, chunks, in_bound_list, upsert_statement
from provnews.storage.write_postgresql import write_postgresql
from provnews.storage.write_sqlite import write_sqlite


class SiteLike(Protocol):
    """What storage reads from a registry `Site` (read-only, so frozen models and Literals fit)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def province(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    @property
    def family(self) -> str: ...
    @property
    def status(self) -> str: ...


@dataclass
class UpsertResult:
    """Ids of the articles a batch created, changed (new content hash) and left as they were; the
    (url, database message) of those it refused (a bulk ingest bisects a failing batch)."""

    new_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    unchanged_ids: list[int] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    @property
    def new(self) -> int:
        return len(self.new_ids)

    @property
    def updated(self) -> int:
        return len(self.updated_ids)

    @property
    def unchanged(self) -> int:
        return len(self.unchanged_ids)

    def add(self, other: UpsertResult) -> None:
        self.new_ids += other.new_ids
        self.updated_ids += other.updated_ids
        self.unchanged_ids += other.unchanged_ids
        self.refused += other.refused


def upsert_sites(conn: Connection, sites: Iterable[SiteLike]) -> int:
    now = utcnow()
    rows = {
        s.id: {
            "id": s.id,
            "name": s.name,
            "province": s.province,
            "base_url": s.base_url,
            "family": s.family,
            "status": s.status,
            "updated_at": now,
        }
        for s in sites
    }
    if rows:
        stmt = upsert_statement(conn, SiteRow.__table__)
        names = ("name", "province", "base_url", "family", "status", "updated_at")
        set_ = {name: stmt.excluded[name] for name in names}
        conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=set_), list(rows.values()))
    return len(rows)


def _ensure_sites(conn: Connection, values: Iterable[dict[str, Any]]) -> None:
    """Stub rows for site ids not in `sites` yet, so the foreign key holds; the registry fills them in."""
    stubs = {
        v["site_id"]: {
            "id": v["site_id"],
            "name": v["site_id"],
            "province": v["province"] or "",
            "base_url": "",
            "family": v["family"],
            "status": "unknown",
            "updated_at": utcnow(),
        }
        for v in values
    }
    conn.execute(upsert_statement(conn, SiteRow.__table__).on_conflict_do_nothing(), list(stubs.values()))


def upsert_articles(
    conn: Connection, rows: Iterable[Mapping[str, Any]], *, refresh: bool = False
) -> UpsertResult:
    """Insert new articles, update changed ones in place and reindex both, within the caller's transaction.

    A changed text adds the previous content hash to `versions`. With `refresh` (re-extraction), rows
    whose text is unchanged are rewritten too (new metadata), without adding a version."""
    return write_articles(conn, prepare_articles(rows, conn.dialect.name), refresh=refresh)


def write_articles(conn: Connection, batch: PreparedBatch, *, refresh: bool = False) -> UpsertResult:
    """`upsert_articles` of a prepared batch: the part that reads and writes the database."""
    result = UpsertResult()
    if not batch.values:
        return result
    _ensure_sites(conn, batch.values.values())
    existing = stored_state(conn, list(batch.values))
    now = utcnow()
    to_write: dict[str, dict[str, Any]] = {}
    for key, values in batch.values.items():
        old = existing.get(key)
        same_text = old is not None and old.content_hash == values["content_hash"]
        if same_text and not refresh:
            result.unchanged_ids.append(existing[key].id)
            continue
        earlier = [] if old is None else list(old.versions or [])
        versions = earlier if old is None or same_text else [*earlier, old.content_hash]
        to_write[key] = {"versions": versions, "first_seen_at": now, "updated_at": now}
    if not to_write:
        return result
    if conn.dialect.name == "sqlite":
        ids = write_sqlite(conn, batch, to_write, existing)
    else:
        ids = write_postgresql(conn, batch, to_write, existing, refresh)
    for key in to_write:
        (result.updated_ids if key in existing else result.new_ids).append(ids[key])
    return result


def stored_state(conn: Connection, url_keys: list[str]) -> dict[str, Any]:
    """{url_key: (url_key, id, content_hash, versions, minhash)} of the stored ones among `url_keys`."""
    existing: dict[str, Any] = {}
    stored = _stored_query(conn.dialect.name)
    for keys in chunks(url_keys, 8192):
        existing.update({row.url_key: row for row in conn.execute(stored, {"keys": bound_list(conn, keys)})})
    return existing


@cache
def _stored_query(dialect: str) -> Any:
    """The stored state of a batch's articles; the url_key list is one parameter (`sql.in_bound_list`)."""
    columns = (Article.url_key, Article.id, Article.content_hash, Article.versions, Article.minhash)
    return select(*columns).where(in_bound_list(Article.url_key, "keys", dialect))
