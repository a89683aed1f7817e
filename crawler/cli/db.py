"""`provnews db`: schema management."""

from __future__ import annotations

import click

from crawler.cli.common import db_url, echo
from pipelines.storage import Storage


@click.group()
def db() -> None:
    """Database schema commands (Alembic migrations)."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Create the schema or bring it up to the latest revision."""
    storage = Storage(db_url(ctx))
    try:
        before = storage.current_revision()
        storage.upgrade()
        echo(f"database {db_url(ctx)}: {before or 'empty'} -> {storage.current_revision()}")
    finally:
        storage.close()


@db.command()
@click.pass_context
def revision(ctx: click.Context) -> None:
    """Print the schema revision of the database and the latest one."""
    storage = Storage(db_url(ctx))
    try:
        echo(f"current: {storage.current_revision() or 'none'}\nhead: {storage.head_revision()}")
    finally:
        storage.close()
