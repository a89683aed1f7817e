"""Keeping the full-text index in step with `articles` (folded text written by Python on both engines)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, column, table, text

from pipelines.folding import fold_for_search

# Folded columns that exist on PostgreSQL only (created by the migration, not part of the ORM model).
_PG_ARTICLES = table(
    "articles", column("id"), column("title_folded"), column("sapo_folded"), column("body_folded")
)


def index_articles(conn: Connection, articles: Iterable[tuple[int, str, str | None, str]]) -> None:
    """(Re)index (id, title, sapo, text) tuples inside the caller's transaction."""
    folded: list[dict[str, Any]] = [
        {
            "id": id_,
            "title": fold_for_search(title),
            "sapo": fold_for_search(sapo or ""),
            "body": fold_for_search(body),
        }
        for id_, title, sapo, body in articles
    ]
    index_folded(conn, folded)


def _fold_d(text: str) -> str:
    return text.replace("đ", "d").replace("Đ", "D")


def index_fold(dialect: str) -> Callable[[str], str]:
    """How text is folded before it is indexed. SQLite's unicode61 tokenizer (remove_diacritics 2)
    strips every diacritic itself, in C, but đ has no decomposition: Python only maps đ → d, which is
    ~20x cheaper than folding in Python and gives the same tokens. PostgreSQL's 'simple' config does
    no folding, so Python folds everything there."""
    return _fold_d if dialect == "sqlite" else fold_for_search


def index_folded(conn: Connection, folded: list[dict[str, Any]]) -> None:
    """(Re)index rows already folded: dicts with id, title, sapo and body."""
    if not folded:
        return
    if conn.dialect.name == "sqlite":
        _delete_sqlite(conn, [row["id"] for row in folded])
        insert = "INSERT INTO articles_fts(rowid, title, sapo, text) VALUES (:id, :title, :sapo, :body)"
        conn.execute(text(insert), folded)
    elif conn.dialect.name == "postgresql":
        stmt = (
            _PG_ARTICLES.update()
            .where(_PG_ARTICLES.c.id == bindparam("b_id"))
            .values(
                title_folded=bindparam("b_title"),
                sapo_folded=bindparam("b_sapo"),
                body_folded=bindparam("b_body"),
            )
        )
        conn.execute(stmt, [{f"b_{k}": v for k, v in row.items()} for row in folded])
    else:
        raise NotImplementedError(f"full-text search is not implemented for {conn.dialect.name}")


def _delete_sqlite(conn: Connection, ids: Sequence[int]) -> None:
    stmt = text("DELETE FROM articles_fts WHERE rowid IN :ids").bindparams(bindparam("ids", expanding=True))
    for start in range(0, len(ids), 500):
        conn.execute(stmt, {"ids": list(ids[start : start + 500])})


def rebuild_index(conn: Connection, batch: int = 500) -> int:
    """Re-fold every article into the index (after a change to the folding rules); returns the count."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("DELETE FROM articles_fts"))
    query = text("SELECT id, title, sapo, text FROM articles WHERE id > :last ORDER BY id LIMIT :batch")
    count, last = 0, 0
    while rows := [tuple(row) for row in conn.execute(query, {"last": last, "batch": batch})]:
        index_articles(conn, rows)
        count, last = count + len(rows), rows[-1][0]
    return count
