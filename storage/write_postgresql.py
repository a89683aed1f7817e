"""The PostgreSQL writer of an article batch: the rows are COPied into a staging table and merged by one
`INSERT ... SELECT ... ON CONFLICT` that writes each row complete (folded text for the generated
`search_vector`, near-duplicate cluster included), so no row is written twice; every later version of
a row would re-index its text in the GIN index. See `storage.pgcopy`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, MetaData, Table, Text, select, table, text, true
from sqlalchemy.dialects import postgresql

from provnews.storage import pgcopy
from provnews.storage.clusters import assign_clusters, plan_clusters, save_keys
from provnews.storage.models import Article
from provnews.storage.prepared import PreparedBatch

FOLDED = ("title_folded", "sapo_folded", "body_folded")
# `articles` as PostgreSQL has it: the model's columns plus the folded text (migration 0001).
_TABLE = Table(
    "articles",
    MetaData(),
    *(Column(c.name, c.type, primary_key=c.primary_key) for c in Article.__table__.columns),
    *(Column(name, Text) for name in FOLDED),
)
_COLUMNS = tuple(c.name for c in _TABLE.columns)
_JSON = frozenset(c.name for c in Article.__table__.columns if isinstance(c.type, JSON))
_UPDATABLE = tuple(name for name in _COLUMNS if name not in ("id", "url_key", "first_seen_at"))
_NEW_IDS = text("SELECT nextval(pg_get_serial_sequence('articles', 'id')) FROM generate_series(1, :n)")
STAGE = "provnews_articles_stage"
# The staging table has the columns, types and compression methods (migration 0012) of `articles`,
# without its indexes and generated `search_vector` expression: a value compressed as it is COPied in is
# stored in `articles` as it is, not compressed again.
_STAGE_DEFINITION = "(LIKE articles INCLUDING COMPRESSION)"


def _merge(refresh: bool) -> Any:
    """The staged rows into `articles`: new url_keys inserted, stored ones updated in place (all but
    id, url_key and first_seen_at), returning (url_key, id) of the rows written."""
    staged = table(STAGE, *(Column(name) for name in _COLUMNS))
    # WHERE true: without it PostgreSQL's parser reads "FROM stage ON CONFLICT" as the start of a join.
    insert = postgresql.insert(_TABLE).from_select(_COLUMNS, select(*staged.c).where(true()))
    upsert = insert.on_conflict_do_update(
        index_elements=["url_key"],
        set_={name: insert.excluded[name] for name in _UPDATABLE},
        # A concurrent writer that already stored this very content must not add a bogus version.
        where=None if refresh else _TABLE.c.content_hash != insert.excluded.content_hash,
    )
    return upsert.returning(_TABLE.c.url_key, _TABLE.c.id)


_MERGES = {refresh: _merge(refresh) for refresh in (False, True)}


def write_postgresql(
    conn: Connection,
    batch: PreparedBatch,
    to_write: dict[str, dict[str, Any]],
    existing: dict[str, Any],
    refresh: bool,
) -> dict[str, int]:
    """Write `to_write` ({url_key: versions and times}) of `batch`; returns {url_key: id}.

    New articles take their ids from the sequence up front, so their cluster is planned before the
    write. Another writer may store one of the same URLs meanwhile: ON CONFLICT then keeps that row
    (and its id), and those few articles are clustered again once written."""
    new_keys = [key for key in to_write if key not in existing]
    ids = {key: existing[key].id for key in to_write if key in existing}
    if new_keys:
        ids.update(zip(new_keys, conn.execute(_NEW_IDS, {"n": len(new_keys)}).scalars(), strict=True))
    clusters, keys = plan_clusters(conn, batch.signed(to_write, ids, existing))

    def rows() -> Iterator[list[Any]]:
        for key, extra in to_write.items():
            id_ = ids[key]
            folded = dict(zip(FOLDED, batch.folded[key], strict=True))
            values = batch.values[key] | extra | folded | {"id": id_, "cluster_id": clusters[id_]}
            yield [_copy_value(name, values.get(name)) for name in _COLUMNS]

    pgcopy.stage(conn, STAGE, _stage_definition(conn))
    pgcopy.copy_rows(conn, STAGE, _COLUMNS, rows())
    written = {key: id_ for key, id_ in conn.execute(_MERGES[refresh])}
    raced = {ids[key]: key for key in to_write if written.get(key) != ids[key]}
    save_keys(conn, {id_: ks for id_, ks in keys.items() if id_ not in raced})
    if raced:
        _recluster(conn, batch, ids, raced)
    return ids


def _stage_definition(conn: Connection) -> str:
    """Before PostgreSQL 14 there were no compression methods to copy."""
    version = conn.dialect.server_version_info or (0,)
    return _STAGE_DEFINITION if version >= (14,) else "(LIKE articles)"


def _copy_value(name: str, value: Any) -> Any:
    """A column value as COPY takes it, stored as SQLAlchemy would store it: JSON as its text, a naive
    datetime as UTC (`db.UTCDateTime`)."""
    if value is None:
        return None
    if name in _JSON:
        return "[]" if value == [] else json.dumps(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _recluster(conn: Connection, batch: PreparedBatch, ids: dict[str, int], raced: dict[int, str]) -> None:
    """Articles another writer stored first ({planned id: url_key}): their row kept its id, or was left
    as it was. Cluster them under their real id and move any batch copy planned to join the old one."""
    query = select(_TABLE.c.url_key, _TABLE.c.id).where(_TABLE.c.url_key.in_(list(raced.values())))
    actual = {key: id_ for key, id_ in conn.execute(query)}
    ids.update(actual)
    clusters = assign_clusters(conn, batch.signed(list(actual), ids, {}))
    move = text("UPDATE articles SET cluster_id = :cluster WHERE cluster_id = :planned")
    for planned, key in raced.items():
        if planned != actual[key]:
            conn.execute(move, {"cluster": clusters[actual[key]], "planned": planned})
