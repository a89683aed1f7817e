"""SQLite: the full-text index no longer stores a second copy of the articles' text.

`articles_fts` becomes an external-content FTS5 table over the view `articles_fts_source`, which shows
title, sapo and text with đ → d (the folding the unicode61 tokenizer does not do; it strips the other
diacritics itself, see `storage.fts`). Same tokens, same queries, same bm25 ranking; the database is
about half the size and ingest faster. The index is rebuilt from the stored articles. Its merge policy is
tuned for bulk ingest (see `FTS_SETTINGS`). PostgreSQL is unchanged.

Revision ID: 0004
Revises: 0003
Create Date: 2025-04-01
"""

from __future__ import annotations

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

TOKENIZE = "tokenize='unicode61 remove_diacritics 2'"


def _fold(column: str) -> str:
    return f"replace(replace({column}, 'đ', 'd'), 'Đ', 'D')"


SAPO = "coalesce(sapo, '')"
FOLDED = f"SELECT id, {_fold('title')} AS title, {_fold(SAPO)} AS sapo, {_fold('text')} AS text FROM articles"
# FTS5 merge policy (stored in the index's config): merge 8 segments of a level at a time instead of 4,
# which halves the rewriting of index data during bulk ingest; queries read a few more segments.
FTS_SETTINGS = {"automerge": 8}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE articles_fts")
    op.execute(f"CREATE VIEW articles_fts_source AS {FOLDED}")
    op.execute(
        "CREATE VIRTUAL TABLE articles_fts USING fts5(title, sapo, text, "
        f"content='articles_fts_source', content_rowid='id', {TOKENIZE})"
    )
    for name, value in FTS_SETTINGS.items():
        op.execute(f"INSERT INTO articles_fts (articles_fts, rank) VALUES ('{name}', {value})")
    op.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE articles_fts")
    op.execute("DROP VIEW articles_fts_source")
    op.execute(f"CREATE VIRTUAL TABLE articles_fts USING fts5(title, sapo, text, {TOKENIZE})")
    op.execute(f"INSERT INTO articles_fts (rowid, title, sapo, text) {FOLDED}")
