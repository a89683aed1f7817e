"""Keeping the full-text index in step with `articles` (folded text written by Python on both engines).

SQLite: `articles_fts` is an external-content FTS5 table over the view `articles_fts_source` (migration
0004), which shows each article's title, sapo and text with đ → d, the only folding the unicode61
tokenizer (remove_diacritics 2) does not do itself. The index holds no second copy of the text. A row
is removed from the index by rowid *before* the article row changes (FTS5 reads the indexed text back
through the view), and inserted with the same folded values the view shows.

PostgreSQL: the folded columns are written with the row (`storage.write_postgresql`), and the
generated, weighted `search_vector` (migration 0001) follows from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, bindparam, text

from provnews.storage.folding import fold_for_search
from provnews.storage.sql import chunks, sqlite_insert_many


def fold_d(text: str) -> str:
    """SQLite's folding before indexing; the view `articles_fts_source` applies the same in SQL."""
    return text.replace("đ", "d").replace("Đ", "D")


def index_fold(dialect: str) -> Callable[[str], str]:
    """How text is folded before it is indexed. SQLite's unicode61 tokenizer (remove_diacritics 2)
    strips every diacritic itself, in C, but đ has no decomposition: Python only maps đ → d, which is
    ~20x cheaper than folding in Python and gives the same tokens. PostgreSQL's 'simple' config does
    no folding, so Python folds everything there."""
    return fold_d if dialect == "sqlite" else fold_for_search


def insert_into_index(
    conn: Connection, rows: Sequence[tuple[int, str | bytes, str | bytes, str | bytes]]
) -> None:
    """SQLite: index (id, title, sapo, text) rows folded with `fold_d` that are not indexed yet; the
    texts may be UTF-8 bytes (`prepared.PreparedBatch`), indexed as the TEXT they encode."""
    sqlite_insert_many(
        conn,
        "INSERT INTO articles_fts (rowid, title, sapo, text)",
        rows,
        "(?, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))",
    )


def delete_from_index(conn: Connection, ids: Sequence[int]) -> None:
    """SQLite: remove articles from the index; call it while their rows still hold the indexed text."""
    stmt = text("DELETE FROM articles_fts WHERE rowid IN :ids").bindparams(bindparam("ids", expanding=True))
    for part in chunks(ids, 500):
        conn.execute(stmt, {"ids": list(part)})
