"""`Storage`: the one API through which provnews reads and writes its database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, literal_column, or_, select, true

from pipelines import migrate, runs, urlstate
from pipelines.db import Article
from pipelines.engine import make_engine, writer
from pipelines.migrate import SchemaOutOfDate
from pipelines.rows import public_dict, sha1_hex
from pipelines.sql import DateLike, article_filters
from pipelines.upsert import SiteLike, UpsertResult, upsert_articles, upsert_sites
from pipelines.urlstate import UrlMark

__all__ = ["SchemaOutOfDate", "Storage", "UpsertResult", "UrlMark"]

_COLUMNS = [c for c in Article.__table__.columns if c.name != "raw_html"]


class Storage:
    """Articles, sites, URL states and crawl runs in one database; every write is one transaction."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._writer = writer(self.engine)

    @classmethod
    def open(cls, url: str, upgrade: bool = True) -> Storage:
        """Connect and check the schema: a new, empty database is migrated to head (when `upgrade`),
        an existing one that is not at head raises SchemaOutOfDate naming `provnews db upgrade`."""
        storage = cls(url)
        try:
            if upgrade and migrate.is_empty(storage.engine):
                storage.upgrade()
            migrate.check_schema(storage.engine)
        except BaseException:
            storage.close()
            raise
        return storage

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------------
    def upgrade(self, revision: str = "head") -> None:
        migrate.upgrade(self.engine, revision)

    def current_revision(self) -> str | None:
        return migrate.current_revision(self.engine)

    @staticmethod
    def head_revision() -> str | None:
        return migrate.head_revision()

    # -- writes ------------------------------------------------------------------------------------
    def upsert_sites(self, sites: Iterable[SiteLike]) -> int:
        with self._writer.begin() as conn:
            return upsert_sites(conn, sites)

    def upsert_articles(self, rows: Iterable[Mapping[str, Any]]) -> UpsertResult:
        """Store a batch in one transaction; same canonical URL + same text hash is a no-op."""
        with self._writer.begin() as conn:
            return upsert_articles(conn, rows)

    def mark_url(
        self,
        url: str,
        site_id: str | None,
        status: str,
        reason: str | None = None,
        article_id: int | None = None,
        lastmod: str | datetime | None = None,
    ) -> None:
        self.mark_urls([UrlMark(url, site_id, status, reason, article_id, lastmod)])

    def mark_urls(self, marks: Iterable[UrlMark | Mapping[str, Any] | tuple[Any, ...]]) -> int:
        """Bulk `mark_url`: UrlMark tuples, plain tuples in the same order, or dicts with those keys."""
        checked = [urlstate.as_mark(mark) for mark in marks]
        with self._writer.begin() as conn:
            return urlstate.mark_urls(conn, checked)

    def start_run(self, command: str, sites: list[str]) -> int:
        with self._writer.begin() as conn:
            return runs.start_run(conn, command, sites)

    def finish_run(self, run_id: int, outcome: str, stats: dict[str, Any]) -> None:
        with self._writer.begin() as conn:
            runs.finish_run(conn, run_id, outcome, stats)

    # -- reads -------------------------------------------------------------------------------------
    def _read(self) -> Connection:
        return self.engine.connect()

    def url_status(self, urls: Iterable[str]) -> dict[str, str]:
        with self._read() as conn:
            return urlstate.url_status(conn, urls)

    def stored_urls(self, site_id: str | None = None) -> set[str]:
        """The fetched and canonical URL of every stored article (for the spider's incremental skip)."""
        query = select(Article.url, Article.canonical_url)
        if site_id is not None:
            query = query.where(Article.site_id == site_id)
        with self._read() as conn:
            return {url for row in conn.execute(query) for url in row}

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        with self._read() as conn:
            return runs.list_runs(conn, limit)

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        with self._read() as conn:
            return runs.get_run(conn, run_id)

    def get_article(self, id_or_url: str | int, *, include_html: bool = False) -> dict[str, Any] | None:
        """An article by id, fetched URL or canonical URL; times as +07:00 ISO strings."""
        columns = list(Article.__table__.columns) if include_html else _COLUMNS
        if isinstance(id_or_url, int) or id_or_url.isdigit():
            where: ColumnElement[bool] = Article.id == int(id_or_url)
        else:
            where = or_(Article.url_key == sha1_hex(id_or_url), Article.url == id_or_url)
        with self._read() as conn:
            row = conn.execute(select(*columns).where(where).order_by(Article.id).limit(1)).mappings().first()
        return None if row is None else public_dict(row)

    def iter_articles(
        self, site: str | None = None, since: DateLike = None, until: DateLike = None, batch: int = 500
    ) -> Iterator[dict[str, Any]]:
        """All matching articles ordered by site, published_at (undated last), id, in constant memory:
        each batch is a short keyset query, so no cursor or transaction stays open between batches."""
        base = select(*_COLUMNS).where(*article_filters(site, since, until))
        after: ColumnElement[bool] = true()
        while True:
            query = base.where(after).order_by(Article.site_id, Article.published_at.nulls_last(), Article.id)
            with self._read() as conn:
                rows = list(conn.execute(query.limit(batch)).mappings())
            yield from (public_dict(row) for row in rows)
            if len(rows) < batch:
                return
            last = rows[-1]
            after = _after(last["site_id"], last["published_at"], last["id"])

    def count_articles(self, site: str | None = None) -> int:
        with self._read() as conn:
            query = select(func.count()).select_from(Article).where(*article_filters(site))
            return int(conn.execute(query).scalar_one())

    def article_counts_by_site(self) -> list[tuple[str, int]]:
        """(site_id, count) for every site with articles, by site id."""
        query = select(Article.site_id, func.count()).group_by(Article.site_id).order_by(Article.site_id)
        with self._read() as conn:
            return [(site, int(n)) for site, n in conn.execute(query)]

    def stats_by_site_month(self) -> list[tuple[str, str | None, int]]:
        """(site_id, 'YYYY-MM' in Vietnam time, count) by site then month; undated last, as month None."""
        with self._read() as conn:
            if conn.dialect.name == "postgresql":
                local = func.timezone(literal_column("INTERVAL '+07:00'"), Article.published_at)
                month: ColumnElement[str] = func.to_char(local, "YYYY-MM")
            else:
                month = func.strftime("%Y-%m", Article.published_at, "+7 hours")
            query = (
                select(Article.site_id, month.label("month"), func.count())
                .group_by(Article.site_id, month)
                .order_by(Article.site_id, month.nulls_last())
            )
            return [(site, m, int(n)) for site, m, n in conn.execute(query)]


def _after(site_id: str, published_at: datetime | None, id_: int) -> ColumnElement[bool]:
    """Rows after (site_id, published_at, id) in the order site_id, published_at NULLS LAST, id."""
    if published_at is None:
        same_site = and_(Article.published_at.is_(None), Article.id > id_)
    else:
        same_site = or_(
            Article.published_at > published_at,
            Article.published_at.is_(None),
            and_(Article.published_at == published_at, Article.id > id_),
        )
    return or_(Article.site_id > site_id, and_(Article.site_id == site_id, same_site))
