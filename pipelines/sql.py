"""Small dialect helpers shared by the storage modules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from pipelines.db import Article
from pipelines.rows import since_bound, until_bound

DateLike = str | date | datetime | None

T = TypeVar("T")


def upsert_statement(conn: Connection, table: Table | Any) -> Any:
    """`INSERT` of the connection's dialect, which offers `.on_conflict_do_update()` and `.excluded`."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"provnews storage supports SQLite and PostgreSQL, not {conn.dialect.name}")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Slices of at most `size` items (keeps IN lists under SQLite's bound-parameter limit)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def article_filters(
    site: str | None, since: DateLike = None, until: DateLike = None
) -> list[ColumnElement[bool]]:
    """WHERE terms for a site and a published_at range (a bare `until` date includes that whole day)."""
    terms: list[ColumnElement[bool]] = []
    if site is not None:
        terms.append(Article.site_id == site)
    if (start := since_bound(since)) is not None:
        terms.append(Article.published_at >= start)
    if (end := until_bound(until)) is not None:
        terms.append(Article.published_at < end)
    return terms
