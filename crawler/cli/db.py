"""`provnews db`: schema management."""

from __future__ import annotations

import click

from provnews.crawler.cli.common import db_option, db_url, echo, first_line, missing_database


@click.group()
def db() -> None:
    """Database schema commands (Alembic migrations)."""


@db.command()
@db_option
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Create the schema or bring it up to the latest revision."""
    from provnews.storage import Storage

    url = db_url(ctx)
    try:
        storage = Storage(url)
        try:
            before = storage.current_revision()
            storage.upgrade()
            echo(f"database {url}: {before or 'empty'} -> {storage.current_revision()}")
        finally:
            storage.close()
    except Exception as exc:  # a folder, a read-only file, an unreachable server: one line
        if isinstance(exc, click.ClickException):
            raise
        raise click.ClickException(f"cannot upgrade the database {url}: {first_line(exc)}") from exc


@db.command()
@db_option
@click.pass_context
def revision(ctx: click.Context) -> None:
    """Print the schema revision of the database and the latest one (never creates a database)."""
    from provnews.storage import current_revision, head_revision, make_engine

    url = db_url(ctx)
    if reason := missing_database(url):
        raise click.ClickException(reason)
    try:
        engine = make_engine(url)
        try:
            current = current_revision(engine)
        finally:
            engine.dispose()
    except Exception as exc:  # an unreachable server, a file that is not a database
        raise click.ClickException(f"cannot read the database {url}: {first_line(exc)}") from exc
    echo(f"current: {current or 'none'}\nhead: {head_revision()}")
