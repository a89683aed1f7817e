"""SQLite: article rows keep their small columns first and the large ones (text, stored page) last.

SQLite stores a row's columns in table order and moves what does not fit in the first page to a chain
of overflow pages, which must be read in order to reach any column after them. With `text` in the
middle and `raw_html`, `cluster_id` and `minhash` added at the end, every filter on the date, province
or section and every near-duplicate lookup walked the whole text and stored page of each row it
touched. The table is rebuilt with identity, dates, filters, cluster and signature first, then the
URLs and short text fields, then `text`, then `raw_html`. Same columns, types, ids and constraints; the
full-text index (rowids = ids) is kept as it is. The index on `content_hash`, which no query uses (exact
copies are found through the url_key and the near-duplicate clusters), is dropped on both engines.

The copy rewrites the articles once (about 5 minutes per million articles here).

Revision ID: 0005
Revises: 0004
Create Date: 2025-05-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

MONTH = "strftime('%Y-%m', published_at, '+7 hours')"
# (name, declaration) in the new order: small and filtered columns first, large ones last.
COLUMNS = [
    ("id", "INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT"),
    ("site_id", "VARCHAR(64) NOT NULL"),
    ("url_key", "VARCHAR(40) NOT NULL"),
    ("published_at", "DATETIME"),
    ("province", "TEXT"),
    ("province_old", "TEXT"),
    ("section", "TEXT"),
    ("cluster_id", "INTEGER"),
    ("content_hash", "VARCHAR(40) NOT NULL"),
    ("run_id", "INTEGER"),
    ("first_seen_at", "DATETIME NOT NULL"),
    ("updated_at", "DATETIME NOT NULL"),
    ("modified_at", "DATETIME"),
    ("date_source", "VARCHAR(32)"),
    ("language", "VARCHAR(8) NOT NULL"),
    ("family", "VARCHAR(32) NOT NULL"),
    ("fallback", "BOOLEAN NOT NULL"),
    ("word_count", "INTEGER NOT NULL"),
    ("authors", "JSON NOT NULL"),
    ("versions", "JSON NOT NULL"),
    ("minhash", "BLOB"),
    ("url", "TEXT NOT NULL"),
    ("canonical_url", "TEXT NOT NULL"),
    ("title", "TEXT NOT NULL"),
    ("byline", "TEXT"),
    ("dateline", "TEXT"),
    ("tags", "JSON NOT NULL"),
    ("images", "JSON NOT NULL"),
    ("sapo", "TEXT"),
    ("text", "TEXT NOT NULL"),
    ("raw_html", "BLOB"),
]
CONSTRAINTS = [
    "FOREIGN KEY (site_id) REFERENCES sites (id)",
    "UNIQUE (url_key)",
    "FOREIGN KEY (run_id) REFERENCES crawl_runs (id)",
]
INDEXES = {
    "ix_articles_site_published": "site_id, published_at",
    "ix_articles_url": "url",
    "ix_articles_cluster": "cluster_id",
}
FTS_VIEW = (
    "SELECT id, replace(replace(title, 'đ', 'd'), 'Đ', 'D') AS title,"
    " replace(replace(coalesce(sapo, ''), 'đ', 'd'), 'Đ', 'D') AS sapo,"
    " replace(replace(text, 'đ', 'd'), 'Đ', 'D') AS text FROM articles"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_index("ix_articles_content_hash", "articles")
        return
    _rebuild(COLUMNS, INDEXES)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.create_index("ix_articles_content_hash", "articles", ["content_hash"])
        return
    # The layout does not change behaviour: a downgrade keeps it and only restores the index.
    op.create_index("ix_articles_content_hash", "articles", ["content_hash"])


def _rebuild(columns: list[tuple[str, str]], indexes: dict[str, str]) -> None:
    """SQLite's documented table rebuild (create, copy, drop, rename) inside the migration's
    transaction; `storage.migrate` runs it with foreign keys off and checks them before the commit
    (with them on, the drop would delete every row first and count each reference as a violation)."""
    conn = op.get_bind()
    names = ", ".join(name for name, _ in columns)
    month = f"published_month TEXT GENERATED ALWAYS AS ({MONTH}) VIRTUAL"
    parts = [f"{name} {kind}" for name, kind in columns] + [month, *CONSTRAINTS]
    op.execute("CREATE TABLE articles_new (\n    " + ",\n    ".join(parts) + "\n)")
    op.execute(f"INSERT INTO articles_new ({names}) SELECT {names} FROM articles ORDER BY id")
    sequence = conn.execute(sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'articles'")).scalar()
    op.execute("DROP VIEW articles_fts_source")
    op.execute("DROP TABLE articles")
    op.execute("ALTER TABLE articles_new RENAME TO articles")
    if sequence is not None:
        op.execute(f"UPDATE sqlite_sequence SET seq = max(seq, {int(sequence)}) WHERE name = 'articles'")
    for name, columns_ in indexes.items():
        op.execute(f"CREATE INDEX {name} ON articles ({columns_})")
    op.execute(f"CREATE VIEW articles_fts_source AS {FTS_VIEW}")
