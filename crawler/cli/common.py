"""Helpers shared by the commands: the database URL, opening storage with clear errors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click

from crawler.terminal import terminal_safe
from pipelines.migrate import SchemaOutOfDate
from pipelines.storage import Storage

DEFAULT_DB_URL = "sqlite:///data/provnews.sqlite3"
DB_OPTION_HELP = f"Database URL (SQLAlchemy). Default: $PROVNEWS_DB_URL or {DEFAULT_DB_URL}."


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """click.echo, with stored text made safe for a terminal (every command prints through this)."""
    click.echo(terminal_safe(str(message)), err=err, nl=nl)


def db_url(ctx: click.Context) -> str:
    obj = ctx.find_root().obj or {}
    return obj.get("db_url") or os.environ.get("PROVNEWS_DB_URL") or DEFAULT_DB_URL


@contextmanager
def open_storage(ctx: click.Context) -> Iterator[Storage]:
    """Storage for a command; an out-of-date schema or unreachable database is a clean error."""
    try:
        storage = Storage.open(db_url(ctx))
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:  # e.g. a database server that is down: say so, no traceback
        raise click.ClickException(f"cannot open the database {db_url(ctx)}: {exc}") from exc
    try:
        yield storage
    finally:
        storage.close()
