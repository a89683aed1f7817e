"""Keeping the full-text index in step with `articles` (folded text written by Python on both engines).

SQLite: `articles_fts` is an external-content FTS5 table over the view `articles_fts_source` (migration
0004), which shows each article's title, sapo and text with đ → d, the only folding the unicode61
tokenizer (remove_diacritics 2) does not do itself. The index holds no second copy of the text. A row
is removed from the index by rowid *before* the article row changes (FTS5 reads the indexed text back
through the view), and inserted with the same folded values the view shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, column, table, text

from pipelines.folding import fold_for_search

# Folded columns that exist on PostgreSQL only (created by the migration, not part of the ORM model).
_PG_ARTICLES = table(
    "articles", column("id"), column("title_folded"), column("sapo_folded"), column("body_folded")
)


def fold_d(text: str) -> str:
    """SQLite's folding before indexing; the view `articles_fts_source` applies the same in SQL."""
    return text.replace("đ", "d").replace("Đ", "D")


def index_fold(dialect: str) -> Callable[[str], str]:
    """How text is folded before it is indexed. SQLite's unicode61 tokenizer (remove_diacritics 2)
    strips every diacritic itself, in C, but đ has no decomposition: Python only maps đ → d, which is
    ~20x cheaper than folding in Python and gives the same tokens. PostgreSQL's 'simple' config does
    no folding, so Python folds everything there."""
    return fold_d if dialect == "sqlite" else fold_for_search


def index_articles(conn: Connection, articles: Iterable[tuple[int, str, str | None, str]]) -> None:
    """(Re)index (id, title, sapo, text) tuples inside the caller's transaction. On SQLite the tuples
    must be the articles as stored (an indexed row is removed through the view, then re-added)."""
    rows = list(articles)
    if conn.dialect.name == "sqlite":
        delete_from_index(conn, [id_ for id_, *_ in rows])
        insert_into_index(conn, [(i, fold_d(t), fold_d(s or ""), fold_d(b)) for i, t, s, b in rows])
        return
    index_folded(
        conn,
        [
            {
                "id": id_,
                "title": fold_for_search(title),
                "sapo": fold_for_search(sapo or ""),
                "body": fold_for_search(body),
            }
            for id_, title, sapo, body in rows
        ],
    )


def insert_into_index(conn: Connection, rows: Sequence[tuple[int, str, str, str]]) -> None:
    """SQLite: index (id, title, sapo, text) rows folded with `fold_d` that are not indexed yet."""
    if rows:
        insert = "INSERT INTO articles_fts (rowid, title, sapo, text) VALUES (?, ?, ?, ?)"
        conn.exec_driver_sql(insert, list(rows))


def delete_from_index(conn: Connection, ids: Sequence[int]) -> None:
    """SQLite: remove articles from the index; call it while their rows still hold the indexed text."""
    stmt = text("DELETE FROM articles_fts WHERE rowid IN :ids").bindparams(bindparam("ids", expanding=True))
    for start in range(0, len(ids), 500):
        conn.execute(stmt, {"ids": list(ids[start : start + 500])})


def index_folded(conn: Connection, folded: list[dict[str, Any]]) -> None:
    """PostgreSQL: set the folded columns (dicts with id, title, sapo and body already folded), from
    which the generated `search_vector` follows."""
    if not folded:
        return
    if conn.dialect.name != "postgresql":
        raise NotImplementedError(f"folded columns exist on PostgreSQL only, not {conn.dialect.name}")
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


def rebuild_index(conn: Connection, batch: int = 500) -> int:
    """Re-fold every article into the index (after a change to the folding rules); returns the count."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
        return int(conn.exec_driver_sql("SELECT count(*) FROM articles").scalar_one())
    query = text("SELECT id, title, sapo, text FROM articles WHERE id > :last ORDER BY id LIMIT :batch")
    count, last = 0, 0
    while rows := [tuple(row) for row in conn.execute(query, {"last": last, "batch": batch})]:
        index_articles(conn, rows)
        count, last = count + len(rows), rows[-1][0]
    return count
