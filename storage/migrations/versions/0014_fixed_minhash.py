"""Near-duplicate signatures from fixed hashes: every stored signature, band key and cluster again.

Signatures used to hash each shingle as CPython hashes a tuple of ints, and band keys with `hash()`
itself: values that a Python release may change. `storage.neardup` now hashes bytes with BLAKE2b and
the xxHash64 mixing, so the stored values are recomputed: the band keys are emptied, then every article
is signed and clustered again in id order, 500 at a time (`storage.clusters.backfill`), as at insert.

Downgrade keeps the new values: the earlier code cannot recompute its own, and reads these as
signatures like any other (its new articles then rarely join the clusters of older ones).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    from provnews.storage.clusters import backfill

    conn = op.get_bind()
    conn.exec_driver_sql("DELETE FROM near_dup_keys")
    backfill(conn)


def downgrade() -> None:
    pass
