"""URLs that robots.txt keeps the crawler from get their own status, `robots_denied`, instead of
`not_article`: `runs show` reports them as what they are, and the crawler checks them again when they
are listed again (robots.txt may have changed), where a page that is not an article is never fetched
again. Rows already marked with the robots.txt reason move to the new status.

Revision ID: 0006
Revises: 0005
Create Date: 2025-05-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

OLD = ("discovered", "stored", "not_article", "failed", "gone")
NEW = (*OLD, "robots_denied")
REASON = "robots.txt disallows it"  # the reason the crawler wrote with not_article


def _check(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def _replace_check(statuses: tuple[str, ...]) -> None:
    # SQLite cannot alter a constraint: batch mode copies the table (foreign keys are off meanwhile).
    with op.batch_alter_table("url_state") as batch:
        batch.drop_constraint("ck_url_state_status", type_="check")
        batch.create_check_constraint("ck_url_state_status", _check(statuses))


def upgrade() -> None:
    _replace_check(NEW)
    url_state = sa.table("url_state", sa.column("status"), sa.column("reason"))
    op.execute(
        url_state.update()
        .where(url_state.c.status == "not_article", url_state.c.reason == REASON)
        .values(status="robots_denied")
    )


def downgrade() -> None:
    url_state = sa.table("url_state", sa.column("status"), sa.column("reason"))
    op.execute(
        url_state.update()
        .where(url_state.c.status == "robots_denied")
        .values(status="not_article", reason=REASON)
    )
    _replace_check(OLD)
