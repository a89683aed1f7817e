"""Site claims: the `site_locks` rows stay after their holder lets go.

`released_at` (null while a worker holds the site) and `completed_at` (the end of its last complete
crawl) make the table the work queue of the crawl workers: a worker claims a requested site that
nobody holds and nobody completed since the worker started, so that N workers divide the sites
between them (see `storage.locks`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("site_locks") as batch:
        batch.add_column(sa.Column("released_at", TS))
        batch.add_column(sa.Column("completed_at", TS))


def downgrade() -> None:
    # The released rows were not kept before: only held claims are locks.
    op.execute("DELETE FROM site_locks WHERE released_at IS NOT NULL")
    with op.batch_alter_table("site_locks") as batch:
        batch.drop_column("completed_at")
        batch.drop_column("released_at")
