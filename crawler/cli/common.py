"""Helpers shared by the commands: the database URL, opening storage with clear errors, and turning
expected failures into one `Error: …` line."""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from provnews.crawler.sites.registry import Site
    from provnews.storage import Shard, Storage

DEFAULT_DB_URL = "sqlite:///data/provnews.sqlite3"
DB_OPTION_HELP = f"Database URL (SQLAlchemy). Default: $PROVNEWS_DB_URL or {DEFAULT_DB_URL}."


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """click.echo, with stored text made safe for a terminal (every command prints through this)."""
    from provnews.crawler.text.terminal import (
        terminal_safe,  # here: the commands start without loading text rules
    )

    click.echo(terminal_safe(str(message)), err=err, nl=nl)


def remember_db_url(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """`--db` before or after the command: the last one given wins."""
    if value is not None:
        ctx.find_root().ensure_object(dict)["db_url"] = value


db_option = click.option(
    "--db",
    "db_url",
    metavar="URL",
    help=DB_OPTION_HELP,
    callback=remember_db_url,
    expose_value=False,
)


class ShardParam(click.ParamType):
    """`--shard I/N`, checked (0 <= I < N) with a clear message."""

    name = "I/N"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> Shard:
        from provnews.storage import Shard, ShardError

        if isinstance(value, Shard):
            return value
        try:
            return Shard.parse(str(value))
        except ShardError as exc:
            self.fail(str(exc), param, ctx)


def shard_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--shard I/N` for a command that N processes may share; `what` says what the shards split."""
    return click.option(
        "--shard",
        type=ShardParam(),
        default=None,
        help=f"Take shard I of N (0 <= I < N): N processes given 0/N … N-1/N split {what} without overlap.",
    )


def db_url(ctx: click.Context) -> str:
    obj = ctx.find_root().obj or {}
    return obj.get("db_url") or os.environ.get("PROVNEWS_DB_URL") or DEFAULT_DB_URL


def missing_database(url: str) -> str | None:
    """Why `url` names no existing SQLite database file (None when it may exist: a server database,
    or a file that is there). Checked before connecting, which would create the file."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from provnews.storage import sqlite_file

    try:
        make_url(url)
    except ArgumentError:
        return f"no database at {url} (not a database URL)"
    path = sqlite_file(url)
    if path is None or path.is_file():
        return None
    if path.is_dir():
        return f"no database at {url} ({path} is a folder)"
    return f"no database at {url}"


@contextmanager
def open_storage(ctx: click.Context, *, create: bool = False) -> Iterator[Storage]:
    """Storage for a command. Only commands that write (`create`) make a new database, and check that
    they can write; the others fail with `no database at URL`. An out-of-date schema or an unreachable
    server is one clean line."""
    from provnews.storage import SchemaOutOfDate, Storage

    url = db_url(ctx)
    if not create and (reason := missing_database(url)):
        raise click.ClickException(f"{reason}; a crawl, an import or `provnews db upgrade` creates it")
    try:
        storage = Storage.open(url, upgrade=create)
    except SchemaOutOfDate as exc:
        if exc.current is None and not create:
            raise click.ClickException(f"no database at {url} (no provnews schema in it)") from exc
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:  # e.g. a database server that is down: say so, no traceback
        raise click.ClickException(f"cannot open the database {url}: {first_line(exc)}") from exc
    try:
        if create:
            check_writable(storage, url)
        yield storage
    finally:
        storage.close()


def first_line(exc: BaseException) -> str:
    """An exception's message without SQLAlchemy's statement dump and background link."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _is_database_error(exc: BaseException) -> bool:
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, errors.SQLAlchemyError)


@contextmanager
def expected_failures() -> Iterator[None]:
    """A closed output pipe ends quietly with status 0; a database or file system failure is one
    `Error: …` line with status 1, never a traceback."""
    try:
        yield
    except BrokenPipeError:
        quiet_broken_pipe()
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise click.ClickException(f"{where}{exc.strerror or exc}") from exc
    except Exception as exc:
        if _is_database_error(exc):
            raise click.ClickException(f"database error: {first_line(exc)}") from exc
        raise


def quiet_broken_pipe() -> None:
    """The reader went away (`| head`): stop writing, and let Python's exit flush into /dev/null."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file descriptor (a test runner's buffer)
        pass
    raise click.exceptions.Exit(0)


def check_writable(storage: Storage, url: str) -> None:
    """Fail before any work when the database cannot be written (a read-only file or connection)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from provnews.storage import writer

    try:
        with writer(storage.engine).connect() as conn, conn.begin() as transaction:
            conn.execute(text("UPDATE alembic_version SET version_num = version_num WHERE 1 = 0"))
            transaction.rollback()
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot write to the database {url}: {first_line(exc)}") from exc


def load_registry(path: str | None = None) -> list[Site]:
    """The site registry; a faulty one is a runtime error naming the site and key (exit 1)."""
    from provnews.crawler.sites.registry import RegistryError, load_sites

    try:
        return load_sites(path)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc


def check_site_ids(site_ids: Iterable[str], registry: list[Site], known: Iterable[str] = ()) -> None:
    """An id in neither the registry nor `known` is a usage error (exit 2), with the closest ids."""
    ids = {s.id for s in registry} | set(known)
    for site_id in (part.strip() for given in site_ids for part in given.split(",")):
        if site_id and site_id not in ids:
            close = difflib.get_close_matches(site_id, sorted(ids), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else "; `provnews sites` lists them"
            raise click.UsageError(f"unknown site {site_id!r}{hint}")
