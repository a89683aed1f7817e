"""A run can end "partial": some of its sites were crawled fine, others failed (unreachable, robots.txt
unreachable, every fetch failed, storage errors). Only the check constraint on the outcome changes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

OLD = ("running", "finished", "interrupted", "failed")
NEW = ("running", "finished", "partial", "interrupted", "failed")


def _replace_check(outcomes: tuple[str, ...]) -> None:
    # SQLite cannot alter a constraint: batch mode copies the table.
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_constraint("ck_crawl_runs_outcome", type_="check")
        batch.create_check_constraint(
            "ck_crawl_runs_outcome", "outcome IN (" + ", ".join(f"'{o}'" for o in outcomes) + ")"
        )


def upgrade() -> None:
    _replace_check(NEW)


def downgrade() -> None:
    op.execute("UPDATE crawl_runs SET outcome = 'failed' WHERE outcome = 'partial'")
    _replace_check(OLD)
