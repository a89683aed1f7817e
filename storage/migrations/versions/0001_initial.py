"""Initial schema: sites, crawl_runs, articles, url_state and the full-text index.

SQLite gets an FTS5 table `articles_fts` (rowid = articles.id) holding accent-folded title, sapo and text;
PostgreSQL gets folded text columns and a generated, weighted `search_vector` with a GIN index.
Both are filled by the storage layer, which folds in Python (see `storage.folding`).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

# Frozen copies of the types at this revision; later model changes must not alter this migration.
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)

SEARCH_VECTOR = (
    "setweight(to_tsvector('simple', coalesce(title_folded, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(sapo_folded, '')), 'B') || "
    "setweight(to_tsvector('simple', coalesce(body_folded, '')), 'C')"
)


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("base_url", sa.Text, nullable=False),
        sa.Column("family", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("sites", JSON, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("stats", JSON, nullable=False),
        sa.Column("pid", sa.Integer),
        sa.Column("hostname", sa.Text),
        sa.CheckConstraint(
            "outcome IN ('running', 'finished', 'interrupted', 'failed')", name="ck_crawl_runs_outcome"
        ),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("canonical_url", sa.Text, nullable=False),
        sa.Column("url_key", sa.String(40), nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("sapo", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("byline", sa.Text),
        sa.Column("authors", JSON, nullable=False),
        sa.Column("published_at", TS),
        sa.Column("modified_at", TS),
        sa.Column("date_source", sa.String(32)),
        sa.Column("section", sa.Text),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("images", JSON, nullable=False),
        sa.Column("dateline", sa.Text),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("family", sa.String(32), nullable=False),
        sa.Column("fallback", sa.Boolean, nullable=False),
        sa.Column("province", sa.Text),
        sa.Column("province_old", sa.Text),
        sa.Column("content_hash", sa.String(40), nullable=False),
        sa.Column("word_count", sa.Integer, nullable=False),
        sa.Column("raw_html", sa.LargeBinary),
        sa.Column("versions", JSON, nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("crawl_runs.id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_articles_site_published", "articles", ["site_id", "published_at"])
    op.create_index("ix_articles_content_hash", "articles", ["content_hash"])
    op.create_index("ix_articles_url", "articles", ["url"])
    op.create_table(
        "url_state",
        sa.Column("url_key", sa.String(40), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("site_id", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("lastmod", TS),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id")),
        sa.CheckConstraint(
            "status IN ('discovered', 'stored', 'not_article', 'failed', 'gone')", name="ck_url_state_status"
        ),
    )
    op.create_index("ix_url_state_site_status", "url_state", ["site_id", "status"])

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # A plain (not external-content) FTS5 table: it must hold the *folded* text, which articles lacks.
        # remove_diacritics 2 is a second safety net; the real folding (incl. đ→d) happens in Python.
        op.execute(
            "CREATE VIRTUAL TABLE articles_fts USING fts5("
            "title, sapo, text, tokenize='unicode61 remove_diacritics 2')"
        )
    elif dialect == "postgresql":
        for column in ("title_folded", "sapo_folded", "body_folded"):
            op.add_column("articles", sa.Column(column, sa.Text))
        generated = f"GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED"
        op.execute(f"ALTER TABLE articles ADD COLUMN search_vector tsvector {generated}")
        op.create_index("ix_articles_search_vector", "articles", ["search_vector"], postgresql_using="gin")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS articles_fts")
    op.drop_table("url_state")
    op.drop_table("articles")
    op.drop_table("crawl_runs")
    op.drop_table("sites")
