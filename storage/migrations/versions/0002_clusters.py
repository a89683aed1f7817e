"""Near-duplicate clusters, scheme-insensitive URL keys and a month column for browsing.

- articles.cluster_id, articles.minhash and the near_dup_keys lookup table (storage.neardup);
- url_key becomes `crawler.discovery.urls.url_identity(canonical_url)` (http/https and a trailing slash no
longer
  make two rows); an existing row whose new key is taken by another keeps its old key;
- SQLite: a virtual generated `published_month` (Vietnam time) for Datasette facets.

Existing articles are signed and clustered here, with the code of this release.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

MONTH = "strftime('%Y-%m', published_at, '+7 hours')"


def upgrade() -> None:
    from provnews.crawler.discovery.urls import url_identity
    from provnews.storage.clusters import backfill

    conn = op.get_bind()
    op.add_column("articles", sa.Column("cluster_id", sa.Integer))
    op.add_column("articles", sa.Column("minhash", sa.LargeBinary))
    op.create_index("ix_articles_cluster", "articles", ["cluster_id"])
    op.create_table(
        "near_dup_keys",
        sa.Column("key", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column(
            "article_id", sa.Integer, sa.ForeignKey("articles.id"), primary_key=True, autoincrement=False
        ),
        sqlite_with_rowid=False,
    )
    if conn.dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE articles ADD COLUMN published_month TEXT GENERATED ALWAYS AS ({MONTH}) VIRTUAL"
        )

    articles = sa.table("articles", sa.column("id"), sa.column("url_key"), sa.column("canonical_url"))
    taken = {key for (key,) in conn.execute(sa.select(articles.c.url_key))}
    for id_, key, canonical in conn.execute(sa.select(articles).order_by(articles.c.id)).all():
        new = url_identity(canonical)
        if new != key and new not in taken:
            conn.execute(articles.update().where(articles.c.id == id_).values(url_key=new))
            taken.add(new)
    backfill(conn)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE articles DROP COLUMN published_month")
    op.drop_table("near_dup_keys")
    op.drop_index("ix_articles_cluster", "articles")
    op.drop_column("articles", "minhash")
    op.drop_column("articles", "cluster_id")
