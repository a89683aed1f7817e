"""Listing walks and discovery dates.

`listing_walks` remembers, per listing, the next page of its walk to the oldest page and when a walk
was completed: a walk interrupted by a kill, a stop or `--max-articles` resumes there on the next run,
and the stop-at-nothing-new rule only applies to a listing whose walk has been completed once.

`url_state.discovered_date` (and its source) keep the publication date that discovery saw (news
sitemap, feed, listing item) for a URL not fetched yet, so that a page resumed in a later run that
gives no date of its own is still dated.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "listing_walks",
        sa.Column("url_key", sa.String(40), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("next_page", sa.Integer(), nullable=False),
        sa.Column("completed_at", TS),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_listing_walks_site_id", "listing_walks", ["site_id"])
    with op.batch_alter_table("url_state") as batch:
        batch.add_column(sa.Column("discovered_date", TS))
        batch.add_column(sa.Column("discovered_date_source", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("url_state") as batch:
        batch.drop_column("discovered_date_source")
        batch.drop_column("discovered_date")
    op.drop_index("ix_listing_walks_site_id", table_name="listing_walks")
    op.drop_table("listing_walks")
