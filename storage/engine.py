"""Engine construction with the per-dialect settings provnews relies on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

WRITE_OPTION = "provnews_write"
# SQLite page cache per connection, in KiB (the default is 2 MB).
SQLITE_CACHE_KIB = 64 * 1024
# WAL size (pages of 4 KB) at which a committing connection copies the WAL into the database file.
SQLITE_CHECKPOINT_PAGES = 16384


def normalise_url(url: str) -> str:
    """A bare path means a SQLite file; `postgresql://` means psycopg 3 (SQLAlchemy defaults to psycopg2)."""
    if "://" not in url:
        url = f"sqlite:///{url}"
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # URI filenames: leave them to SQLite
        return None
    return Path(database)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        # Stale pooled connections after a server restart would otherwise fail the first statement.
        return create_engine(url, pool_pre_ping=True)
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module: it would not begin before DDL and cannot
    # BEGIN IMMEDIATE. `_sqlite_begin` emits BEGIN instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer; NORMAL is durable at checkpoints and ~5x faster than FULL;
    # busy_timeout lets concurrent writers wait instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # 64 MB of page cache: the url_key, date and near-duplicate indexes are written at random places,
    # and a million articles' indexes no longer fit the default cache.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    # Checkpoint the WAL every 64 MB instead of every 4 MB: a batch of articles writes several MB, so the
    # default copied (and synced) the WAL into the database after nearly every commit.
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Write transactions take the write lock up front, so they wait on busy_timeout at BEGIN rather than
    # failing on lock upgrade half-way (a deferred reader cannot be retried by the busy handler).
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions are write transactions (BEGIN IMMEDIATE on SQLite)."""
    return engine.execution_options(**{WRITE_OPTION: True})
