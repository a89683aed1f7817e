"""Idempotent batch writes of sites and articles, keyed on `sites.id` and `articles.url_key`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, select

from pipelines import neardup
from pipelines.clusters import Signed, assign_clusters
from pipelines.db import Article, SiteRow, utcnow
from pipelines.fts import index_fold, index_folded
from pipelines.rows import article_values
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
    signatures: dict[str, list[int] | None] = {}
    for key, values in batch.items():
        old = existing.get(key)
        same_text = old is not None and old.content_hash == values["content_hash"]
        if same_text and not refresh:
            result.unchanged_ids.append(existing[key].id)
            continue
        earlier = [] if old is None else list(old.versions or [])
        versions = earlier if old is None or same_text else [*earlier, old.content_hash]
        signatures[key] = sig = neardup.signature(values["text"])
        minhash = neardup.pack(sig) if sig else None
        to_write.append(
            values | {"versions": versions, "first_seen_at": now, "updated_at": now, "minhash": minhash}
        )
    if not to_write:
        return result
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
    written = {v["url_key"]: v for v in to_write}
    ids: dict[str, int] = {}
    for keys in chunks(list(written), 500):
        query = select(Article.url_key, Article.id).where(Article.url_key.in_(keys))
        ids.update({key: id_ for key, id_ in conn.execute(query)})
    for key in written:
        (result.updated_ids if key in existing else result.new_ids).append(ids[key])
    fold = index_fold(conn.dialect.name)
    index_folded(
        conn,
        [
            {"id": ids[k], "title": fold(v["title"]), "sapo": fold(v["sapo"] or ""), "body": fold(v["text"])}
            for k, v in written.items()
        ],
    )
    assign_clusters(
        conn,
        [
            Signed(ids[k], signatures[k], _old_sig(existing[k].minhash) if k in existing else None)
            for k in written
        ],
    )
    return result


def _old_sig(blob: bytes | None) -> list[int] | None:
    return neardup.unpack(blob) if blob else None
