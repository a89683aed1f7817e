"""PostgreSQL bulk writes through COPY: rows are streamed into a temporary staging table with psycopg's
`Cursor.copy` (one round trip, no SQL text or bound parameters per value), then merged into the real
table by one set-based statement (`INSERT ... SELECT ... ON CONFLICT`), which keeps the upsert's
semantics. A multi-row `INSERT ... VALUES` of a 500-article batch bound ~16,500 parameters, each
converted by SQLAlchemy in the writer thread; COPY sends the rows as one stream of text.

The staging tables are per session (`TEMPORARY`) and emptied at each commit (`ON COMMIT DELETE ROWS`)
and before each use, so several batches can share a transaction; one created inside a savepoint that
is rolled back is created again by the next batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def stage(conn: Connection, name: str, definition: str) -> None:
    """Make the empty staging table `name` (`definition`: its columns, "(...)" or "(LIKE table ...)")
    for this session's transaction."""
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} {definition} ON COMMIT DELETE ROWS")
    conn.exec_driver_sql(f"DELETE FROM {name}")


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY `rows` (values in `columns` order: str, int, bool, bytes, datetime, None, JSON as its text)
    into `table`, in the connection's transaction. A value the server refuses (a NUL character, say)
    raises the same SQLAlchemy `DBAPIError` subclass a refused INSERT would (`DataError`...), so a
    failing batch is bisected down to its bad row (`storage.bisect`) as before."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, None, exc, psycopg.Error) from exc
