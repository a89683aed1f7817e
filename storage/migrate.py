"""Programmatic Alembic: the migration scripts ship inside the package, no alembic.ini needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, inspect, text

from provnews.storage.engine import writer

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
UPGRADE_COMMAND = "provnews db upgrade"
_PG_LOCK_KEY = 0x70726F766E6577  # "provnew": any constant shared by all provnews processes


class SchemaOutOfDate(RuntimeError):
    """The database schema is not the revision this code needs; the message says what to run."""

    def __init__(self, current: str | None, head: str | None, *, unknown: bool = False) -> None:
        message = (
            f"the database schema is at revision {current or '<none>'}, this provnews needs {head}; "
            f"run `{UPGRADE_COMMAND}`"
        )
        if unknown:
            message += f" (revision {current} is unknown here: was the database written by a newer provnews?)"
        super().__init__(message)
        self.current = current
        self.head = head


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at the packaged scripts (and at `engine`'s URL for the CLI)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        # '%' must be doubled for configparser interpolation (URL-encoded passwords).
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(False).replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_empty(engine: Engine) -> bool:
    """True when the database has no tables besides Alembic's own bookkeeping."""
    return not set(inspect(engine).get_table_names()) - {"alembic_version"}


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the migrations up to `revision` in one transaction on the engine's own connection."""
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, "downgrade", revision)


def _run(engine: Engine, action: str, revision: str) -> None:
    config = alembic_config(engine)
    # Two processes opening a new database at once must not both create the schema: take the write
    # lock (SQLite BEGIN IMMEDIATE) or an advisory lock (PostgreSQL) before Alembic reads the revision.
    with writer(engine).connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite's way to rebuild a table that others reference (a revision may): foreign keys off
            # for the migration, which only a connection outside a transaction can switch, and every
            # key checked before the commit instead.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
                config.attributes["connection"] = conn
                getattr(command, action)(config, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(
                            f"the migration broke foreign keys (table, rowid, parent): {broken[:5]}"
                        )
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutOfDate unless the database is at the head revision."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        known = current is None or scripts.get_revision(current) is not None
    except CommandError:
        known = False
    raise SchemaOutOfDate(current, head, unknown=not known)
