"""The SQLite writer of an article batch: plain DB-API statements, one executemany per table."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from sqlalchemy import Connection

from provnews.storage.clusters import plan_clusters, save_keys
from provnews.storage.fts import delete_from_index, insert_into_index
from provnews.storage.models import Article
from provnews.storage.prepared import PreparedBatch
from provnews.storage.rows import sqlite_row
from provnews.storage.sql import sqlite_insert_many

# Columns an update may change: id, url_key and first_seen_at are the article's identity.
UPDATABLE = tuple(
    c.name for c in Article.__table__.columns if c.name not in ("id", "url_key", "first_seen_at")
)


def write_sqlite(
    conn: Connection, batch: PreparedBatch, to_write: dict[str, dict[str, Any]], existing: dict[str, Any]
) -> dict[str, int]:
    """Write `to_write` ({url_key: versions and times}) of `batch`; returns {url_key: id}. The caller's
    transaction holds SQLite's write lock (BEGIN IMMEDIATE, or a deferred one that fails rather than
    interleave), so the rows looked up are the rows updated: new articles get their ids up front, their
    cluster is computed before the row is written, and each row is written once."""
    next_id = conn.exec_driver_sql(_NEXT_ID).scalar_one()
    ids: dict[str, int] = {}
    for key in to_write:
        if key in existing:
            ids[key] = existing[key].id
        else:
            ids[key], next_id = next_id, next_id + 1
    # External-content FTS5: a row is removed with the text it was indexed with, so before the update.
    delete_from_index(conn, [ids[key] for key in to_write if key in existing])
    clusters, keys = plan_clusters(conn, batch.signed(to_write, ids, existing))
    inserts, updates = [], []
    for key, extra in to_write.items():
        id_ = ids[key]
        row = batch.sqlite_rows[key] | sqlite_row(extra | {"id": id_, "cluster_id": clusters[id_]})
        if key in existing:
            updates.append((*_updatable(row), id_))
        else:
            inserts.append(row)
    insert_rows(conn, inserts)
    if updates:
        conn.exec_driver_sql(_UPDATE, updates)
    insert_into_index(conn, [(ids[key], *batch.folded[key]) for key in to_write])
    save_keys(conn, keys)
    return ids


def insert_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert new `articles` rows (driver-ready columns, `text` as UTF-8 bytes) in multi-row INSERTs."""
    sqlite_insert_many(conn, _INSERT, [_insertable(row) for row in rows], _INSERT_ROW)


_NEXT_ID = (
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'articles'), 0),"
    " coalesce((SELECT max(id) FROM articles), 0)) + 1"
)
_INSERT_COLUMNS = tuple(c.name for c in Article.__table__.columns)
_insertable = itemgetter(*_INSERT_COLUMNS)
_updatable = itemgetter(*UPDATABLE)
_INSERT = f"INSERT INTO articles ({', '.join(_INSERT_COLUMNS)})"
_INSERT_ROW = "(" + ", ".join("CAST(? AS TEXT)" if c == "text" else "?" for c in _INSERT_COLUMNS) + ")"
_UPDATE = (
    "UPDATE articles SET "
    + ", ".join(f"{name} = CAST(? AS TEXT)" if name == "text" else f"{name} = ?" for name in UPDATABLE)
    + " WHERE id = ?"
)
