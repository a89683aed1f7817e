"""PostgreSQL: LZ4 instead of pglz for the article columns that are stored compressed (TOAST): the texts,
their folded copies and the `search_vector`.

Profiled in the server during a bulk ingest, pglz compression took 17% of its time, the server process
being what bounds PostgreSQL's ingest; LZ4 compresses several times faster, and is read back faster by
searches. Applies to values written from now on (existing ones stay readable as they are). Needs
PostgreSQL 14 built with LZ4 (Debian's and the official images are); on any other server nothing
changes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

COLUMNS = ("title", "sapo", "text", "title_folded", "sapo_folded", "body_folded", "search_vector")


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    query = "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    return bool(bind.execute(text(query)).scalar())


def _set(method: str) -> None:
    clauses = ", ".join(f"ALTER COLUMN {name} SET COMPRESSION {method}" for name in COLUMNS)
    op.execute(f"ALTER TABLE articles {clauses}")


def upgrade() -> None:
    if _lz4_available():
        _set("lz4")


def downgrade() -> None:
    if _lz4_available():
        _set("default")
