"""Extracted values in TEXT columns: `articles.date_source`, `articles.language`, `articles.family` and
`sites.family` were VARCHAR(32/8/32). PostgreSQL enforces those lengths, and a family's date source
(`visible:span.pubdate,.pubdate,.date-detail,.post-date`, 53 characters) made the INSERT of its whole
batch fail; SQLite never enforced them. The bounds of extracted values are now set at normalisation
(`storage.bounds`), where a value too long is cut and counted, not in the column types.

The VARCHARs left hold no extracted value: `url_key` and `content_hash` are SHA-1 hex digests (40),
statuses and outcomes come from fixed sets under CHECK constraints (16), and site ids (64) are refused
longer by the registry and by `provnews import` (`crawler.sites.registry.SITE_ID`).

PostgreSQL: VARCHAR to TEXT is binary-coercible, so the table is neither rewritten nor reindexed.
SQLite: only the declared type changes and both types have TEXT affinity, so the rows on disk are the
same; the table definitions are rewritten in place (SQLite's documented `writable_schema` procedure for
changes that leave the stored content as it is), which takes no time whatever the table's size.

Revision ID: 0009
Revises: 0008
Create Date: 2025-07-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

# (table, column, old length)
COLUMNS = (
    ("articles", "date_source", 32),
    ("articles", "language", 8),
    ("articles", "family", 32),
    ("sites", "family", 32),
)


def _sqlite_declare(table: str, replacements: list[tuple[str, str]]) -> None:
    """Rewrite the declared column types of `table` in its CREATE TABLE text."""
    conn = op.get_bind()
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    definition = sql.scalar_one()
    for old, new in replacements:
        if old not in definition:
            raise RuntimeError(f"{table}: expected '{old}' in its definition: {definition}")
        definition = definition.replace(old, new)
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema=ON")
    try:
        conn.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (definition, table)
        )
        # A new schema version makes every connection read the definitions again.
        conn.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    finally:
        conn.exec_driver_sql("PRAGMA writable_schema=OFF")


def _change(to_text: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in ("articles", "sites"):
            pairs = [
                (f"{column} VARCHAR({length})", f"{column} TEXT")
                for name, column, length in COLUMNS
                if name == table
            ]
            _sqlite_declare(table, pairs if to_text else [(new, old) for old, new in pairs])
        return
    for table, column, length in COLUMNS:
        new, old = (sa.Text(), sa.String(length)) if to_text else (sa.String(length), sa.Text())
        # Downgrade: values longer than the old type are cut, as the old schema would have refused them.
        using = None if to_text else f"left({column}, {length})"
        op.alter_column(table, column, type_=new, existing_type=old, postgresql_using=using)


def upgrade() -> None:
    _change(to_text=True)


def downgrade() -> None:
    _change(to_text=False)
