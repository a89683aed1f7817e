"""Idempotent batch writes of sites and articles, keyed on `sites.id` and `articles.url_key`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, select

from pipelines import neardup
from pipelines.clusters import Signed, assign_clusters, plan_clusters, save_keys
from pipelines.db import Article, SiteRow, utcnow
from pipelines.fts import delete_from_index, fold_d, index_fold, index_folded, insert_into_index
from pipelines.rows import article_values, sqlite_row
from pipelines.sql import chunks, upsert_statement

# Columns an update may change; id, url_key and first_seen_at are the article's identity, and the
# cluster is set by `assign_clusters` after the write.
_UPDATABLE = tuple(
    c.name
    for c in Article.__table__.columns
    if c.name not in ("id", "url_key", "first_seen_at", "cluster_id")
)


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
    """Ids of the articles a batch created, changed (new content hash) and left as they were."""

    new_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    unchanged_ids: list[int] = field(default_factory=list)

    @property
    def new(self) -> int:
        return len(self.new_ids)

    @property
    def updated(self) -> int:
        return len(self.updated_ids)

    @property
    def unchanged(self) -> int:
        return len(self.unchanged_ids)


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
    batch: dict[str, dict[str, Any]] = {}
    for row in rows:
        values = article_values(row)
        batch[values["url_key"]] = values  # the same canonical URL twice in a batch: the last one wins
    result = UpsertResult()
    if not batch:
        return result
    _ensure_sites(conn, batch.values())
    existing: dict[str, Any] = {}
    for keys in chunks(list(batch), 500):
        query = select(Article.url_key, Article.id, Article.content_hash, Article.versions, Article.minhash)
        existing.update({row.url_key: row for row in conn.execute(query.where(Article.url_key.in_(keys)))})
    now = utcnow()
    to_write = []
    for key, values in batch.items():
        old = existing.get(key)
        same_text = old is not None and old.content_hash == values["content_hash"]
        if same_text and not refresh:
            result.unchanged_ids.append(existing[key].id)
            continue
        earlier = [] if old is None else list(old.versions or [])
        versions = earlier if old is None or same_text else [*earlier, old.content_hash]
        to_write.append(values | {"versions": versions, "first_seen_at": now, "updated_at": now})
    if not to_write:
        return result
    signatures = neardup.signatures([v["text"] for v in to_write])
    for values, sig in zip(to_write, signatures, strict=True):
        values["minhash"] = neardup.pack(sig) if sig else None
    if conn.dialect.name == "sqlite":
        ids = _write_sqlite(conn, to_write, signatures, existing)
    else:
        ids = _write_generic(conn, to_write, signatures, existing, refresh)
    for values in to_write:
        key = values["url_key"]
        (result.updated_ids if key in existing else result.new_ids).append(ids[key])
    return result


def _write_generic(
    conn: Connection,
    to_write: list[dict[str, Any]],
    signatures: list[list[int] | None],
    existing: dict[str, Any],
    refresh: bool,
) -> dict[str, int]:
    """Upsert through SQLAlchemy (PostgreSQL: concurrent writers are possible, ON CONFLICT settles
    them), then index and cluster the rows; returns {url_key: id}."""
    stmt = upsert_statement(conn, Article.__table__)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["url_key"],
            set_={name: stmt.excluded[name] for name in _UPDATABLE},
            # A concurrent writer that already stored this very content must not add a bogus version.
            where=None if refresh else Article.__table__.c.content_hash != stmt.excluded.content_hash,
        ),
        to_write,
    )
    ids: dict[str, int] = {}
    for keys in chunks([v["url_key"] for v in to_write], 500):
        query = select(Article.url_key, Article.id).where(Article.url_key.in_(keys))
        ids.update({key: id_ for key, id_ in conn.execute(query)})
    fold = index_fold(conn.dialect.name)
    index_folded(
        conn,
        [
            {"id": ids[v["url_key"]], "title": fold(v["title"]), "sapo": fold(v["sapo"] or "")}
            | {"body": fold(v["text"])}
            for v in to_write
        ],
    )
    assign_clusters(
        conn,
        _signed(to_write, signatures, existing, ids),
    )
    return ids


def _write_sqlite(
    conn: Connection,
    to_write: list[dict[str, Any]],
    signatures: list[list[int] | None],
    existing: dict[str, Any],
) -> dict[str, int]:
    """The same writes through the DB-API driver, one executemany per table. The caller's transaction
    holds SQLite's write lock (BEGIN IMMEDIATE, or a deferred one that fails rather than interleave), so
    the rows looked up are the rows updated: new articles get their ids up front, their cluster is
    computed before the row is written, and each row is written once."""
    next_id = conn.exec_driver_sql(_NEXT_ID).scalar_one()
    ids: dict[str, int] = {}
    for values in to_write:
        key = values["url_key"]
        if key in existing:
            ids[key] = existing[key].id
        else:
            ids[key], next_id = next_id, next_id + 1
    changed = [ids[v["url_key"]] for v in to_write if v["url_key"] in existing]
    # External-content FTS5: a row is removed with the text it was indexed with, so before the update.
    delete_from_index(conn, changed)
    clusters, keys = plan_clusters(
        conn,
        _signed(to_write, signatures, existing, ids),
    )
    inserts, updates = [], []
    for values in to_write:
        id_ = ids[values["url_key"]]
        row = sqlite_row(values | {"id": id_, "cluster_id": clusters[id_]})
        if values["url_key"] in existing:
            updates.append((*(row[name] for name in _UPDATE_COLUMNS), id_))
        else:
            inserts.append(tuple(row[name] for name in _INSERT_COLUMNS))
    if inserts:
        conn.exec_driver_sql(_INSERT, inserts)
    if updates:
        conn.exec_driver_sql(_UPDATE, updates)
    insert_into_index(
        conn,
        [
            (ids[v["url_key"]], fold_d(v["title"]), fold_d(v["sapo"] or ""), fold_d(v["text"]))
            for v in to_write
        ],
    )
    save_keys(conn, keys)
    return ids


_NEXT_ID = (
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'articles'), 0),"
    " coalesce((SELECT max(id) FROM articles), 0)) + 1"
)
_INSERT_COLUMNS = tuple(c.name for c in Article.__table__.columns)
_INSERT = (
    f"INSERT INTO articles ({', '.join(_INSERT_COLUMNS)}) VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})"
)
_UPDATE_COLUMNS = (*_UPDATABLE, "cluster_id")
_UPDATE = f"UPDATE articles SET {', '.join(f'{name} = ?' for name in _UPDATE_COLUMNS)} WHERE id = ?"


def _signed(
    to_write: list[dict[str, Any]],
    signatures: list[list[int] | None],
    existing: dict[str, Any],
    ids: dict[str, int],
) -> list[Signed]:
    """The written articles with their new signature and, for updates, the one stored before."""
    signed = []
    for values, sig in zip(to_write, signatures, strict=True):
        old = existing.get(values["url_key"])
        signed.append(Signed(ids[values["url_key"]], sig, _old_sig(old.minhash) if old is not None else None))
    return signed


def _old_sig(blob: bytes | None) -> list[int] | None:
    return neardup.unpack(blob) if blob else None
