"""`Storage`: the one API through which provnews reads and writes its database (SQLite or PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, and_, exists, func, literal_column, or_, select, true
from sqlalchemy.orm import aliased

from provnews.crawler.discovery.urls import url_identity
from provnews.storage import bulk, health, listing_walks, locks, migrate, runs, urlstate, validators
from provnews.storage.bisect import Refused, store_bisected
from provnews.storage.engine import make_engine, writer
from provnews.storage.listing_walks import WalkState
from provnews.storage.migrate import SchemaOutOfDate
from provnews.storage.models import Article, SiteRow
from provnews.storage.rows import public_dict
from provnews.storage.shard import Shard
from provnews.storage.sql import DateLike, article_filters
from provnews.storage.upsert import SiteLike, UpsertResult, upsert_articles, upsert_sites
from provnews.storage.urlstate import PendingUrl, UrlInfo, UrlMark
from provnews.storage.validators import Validators

logger = logging.getLogger(__name__)
__all__ = ["SchemaOutOfDate", "Storage", "StoreEntry", "StoreOutcome", "UpsertResult", "UrlMark"]

_COLUMNS = [c for c in Article.__table__.columns if c.name not in ("raw_html", "minhash")]
_WITH_HTML = [c for c in Article.__table__.columns if c.name != "minhash"]


class StoreEntry(NamedTuple):
    """One article row and the URL states that are written with it."""

    row: Mapping[str, Any]
    marks: Sequence[UrlMark] = ()


@dataclass
class StoreOutcome:
    """What `Storage.store_entries` stored, and the entries the database refused (with its message),
    whose URLs are marked failed (`store_error: ...`) so that a later run tries them again."""

    result: UpsertResult = field(default_factory=UpsertResult)
    refused: list[Refused[StoreEntry]] = field(default_factory=list)
    transactions: int = 0


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

    def upsert_articles(self, rows: Iterable[Mapping[str, Any]], *, refresh: bool = False) -> UpsertResult:
        """Store a batch in one transaction; same canonical URL + same text hash is a no-op (unless
        `refresh`: re-extracted metadata is written, no version added). New and changed articles are
        indexed for search and placed in their near-duplicate cluster."""
        with self._writer.begin() as conn:
            return upsert_articles(conn, rows, refresh=refresh)

    def ingest(
        self,
        batches: Iterable[bulk.Batch],
        *,
        refresh: bool = False,
        commit_every: int = bulk.COMMIT_EVERY,
        on_loaded: Callable[[bulk.RowSource], None] | None = None,
    ) -> UpsertResult:
        """Bulk `upsert_articles` for many batches: batches are prepared in a worker process while
        earlier ones are written, and committed together every `commit_every` articles (see
        `storage.bulk`). A batch may be a `bulk.RowSource` that the worker reads itself; `on_loaded`
        gets each one back once read. A batch the database refuses because of its rows is bisected:
        its good articles are stored, the refused ones listed in `UpsertResult.refused`; any other
        failure stops the ingest, and the batches before it are stored. The worker is started with
        multiprocessing's "spawn": a script that calls this must guard its entry point with
        `if __name__ == "__main__":`, and the rows must be picklable (plain dicts are)."""
        return bulk.ingest(
            self._writer, batches, refresh=refresh, commit_every=commit_every, on_loaded=on_loaded
        )

    def cluster_of(self, article_id: int) -> list[dict[str, Any]]:
        """The articles of `article_id`'s near-duplicate cluster (itself included), first stored first."""
        cluster = select(Article.cluster_id).where(Article.id == article_id).scalar_subquery()
        query = select(*_COLUMNS).where(Article.cluster_id == cluster).order_by(Article.id)
        with self._read() as conn:
            return [public_dict(row) for row in conn.execute(query).mappings()]

    def site_families(self) -> dict[str, str]:
        """site id → CMS family, from the stored site rows."""
        with self._read() as conn:
            return {id_: family for id_, family in conn.execute(select(SiteRow.id, SiteRow.family))}

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

    def save_listing_walk(self, site_id: str, url: str, next_page: int, complete: bool) -> None:
        with self._writer.begin() as conn:
            listing_walks.save(conn, site_id, url, next_page, complete)

    def start_run(self, command: str, sites: list[str]) -> int:
        with self._writer.begin() as conn:
            return runs.start_run(conn, command, sites)

    def finish_run(
        self, run_id: int, outcome: str, stats: dict[str, Any], sites: list[str] | None = None
    ) -> None:
        with self._writer.begin() as conn:
            runs.finish_run(conn, run_id, outcome, stats, sites)

    def store_batch(
        self, rows: Iterable[Mapping[str, Any]], marks: Iterable[UrlMark | Mapping[str, Any]]
    ) -> UpsertResult:
        """Articles and their URL states in one transaction: a URL is "stored" only with its article."""
        checked = [urlstate.as_mark(mark) for mark in marks]
        with self._writer.begin() as conn:
            result = upsert_articles(conn, rows)
            urlstate.mark_urls(conn, checked)
            return result

    def store_entries(self, entries: Sequence[StoreEntry]) -> StoreOutcome:
        """`store_batch` of the entries, which never loses the batch to one bad row: a batch that fails
        because of its data is bisected (`storage.bisect`), every good entry is stored, and the URLs
        of each refused one are marked failed with the database's message; that counts as an attempt,
        so a URL that can never be stored stops being retried after PROVNEWS_MAX_ATTEMPTS. Errors of
        the database itself (unreachable, full, locked) are raised."""
        outcome = StoreOutcome()
        bisected = store_bisected(
            lambda part: self.store_batch([e.row for e in part], [m for e in part for m in e.marks]), entries
        )
        for part in bisected.results:
            outcome.result.add(part)
        outcome.refused, outcome.transactions = bisected.refused, bisected.transactions
        failed = [
            mark._replace(status="failed", reason=f"store_error: {refused.error}", article_id=None)
            for refused in outcome.refused
            for mark in refused.entry.marks
        ]
        # A URL that the database refuses even as a URL state is left as it was (its entry is counted),
        # and so are all of them if the database fails meanwhile: the stored entries stay reported.
        try:
            store_bisected(self.mark_urls, failed)
        except Exception as exc:
            logger.warning("could not mark %d refused URLs failed: %s", len(failed), exc)
        return outcome

    def save_validators(self, rows: Iterable[Validators]) -> int:
        with self._writer.begin() as conn:
            return validators.save(conn, rows)

    def acquire_site_locks(
        self, site_ids: list[str], pid: int, hostname: str, stale_after: float
    ) -> tuple[list[str], dict[str, locks.LockHolder], dict[str, locks.LockHolder]]:
        """(acquired, refused site -> live holder, taken over -> stale holder); see `storage.locks`."""
        with self._writer.begin() as conn:
            return locks.acquire(conn, site_ids, pid, hostname, stale_after)

    def heartbeat_site_locks(
        self, site_ids: list[str], pid: int, hostname: str, run_id: int | None = None
    ) -> int:
        with self._writer.begin() as conn:
            return locks.heartbeat(conn, site_ids, pid, hostname, run_id)

    def claim_sites(
        self,
        site_ids: list[str],
        pid: int,
        hostname: str,
        stale_after: float,
        *,
        limit: int | None = None,
        round_start: datetime | None = None,
        run_id: int | None = None,
    ) -> locks.Claimed:
        """Claim up to `limit` of these sites for this worker; see `storage.locks.claim`."""
        with self._writer.begin() as conn:
            return locks.claim(
                conn,
                site_ids,
                pid,
                hostname,
                stale_after,
                limit=limit,
                round_start=round_start,
                run_id=run_id,
            )

    def release_site_locks(
        self, site_ids: list[str], pid: int, hostname: str, *, completed: bool = False
    ) -> int:
        with self._writer.begin() as conn:
            return locks.release(conn, site_ids, pid, hostname, completed=completed)

    def reap_stale_runs(self, stale_after: float) -> list[int]:
        """Runs left "running" by a dead process become failed/crashed; returns their ids."""
        with self._writer.begin() as conn:
            held = locks.holders(conn)

            def alive(pid: int | None, hostname: str | None) -> bool:
                if pid is None:
                    return False
                if hostname == locks.HOSTNAME:
                    return pid_alive_here(pid)
                return any(
                    h.pid == pid and h.hostname == hostname and locks.holder_alive(h, stale_after)
                    for h in held
                )

            return runs.reap_stale_runs(conn, alive)

    def save_run_progress(self, run_id: int, stats: dict[str, Any], sites: list[str] | None = None) -> None:
        with self._writer.begin() as conn:
            runs.save_progress(conn, run_id, stats, sites)

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

    def site_url_states(self, site_id: str) -> dict[str, UrlInfo]:
        """URL -> (status, attempts, lastmod, updated_at) of every URL of a site the crawler has met."""
        with self._read() as conn:
            return urlstate.site_states(conn, site_id)

    def url_infos(self, urls: Iterable[str]) -> dict[str, UrlInfo]:
        """URL -> (status, attempts, lastmod, updated_at) of those of these URLs met before."""
        with self._read() as conn:
            return urlstate.url_infos(conn, urls)

    def stored_among(self, urls: Iterable[str]) -> set[str]:
        """Those of these URLs that are the fetched or canonical URL of a stored article."""
        with self._read() as conn:
            return urlstate.stored_among(conn, urls)

    def pending_urls(self, site_id: str, after: str = "", limit: int = 500) -> list[PendingUrl]:
        """One page of the URLs of a site that earlier runs left unfinished, after url_key `after`."""
        with self._read() as conn:
            return urlstate.pending_page(conn, site_id, after, limit)

    def listing_walks(self, site_id: str) -> dict[str, WalkState]:
        with self._read() as conn:
            return listing_walks.load(conn, site_id)

    def validators(self, site_ids: Iterable[str]) -> dict[str, Validators]:
        with self._read() as conn:
            return validators.load(conn, site_ids)

    def site_locks(self, *, include_released: bool = False) -> list[locks.LockHolder]:
        """The held site claims (with `include_released`, also the last holder of every other site)."""
        with self._read() as conn:
            return locks.holders(conn, include_released=include_released)

    def site_health(
        self, site_ids: list[str] | None = None, days: int = 28, silent_days: int = 3
    ) -> list[dict[str, Any]]:
        with self._read() as conn:
            return health.site_health(conn, site_ids, days, silent_days)

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        with self._read() as conn:
            return runs.list_runs(conn, limit)

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        with self._read() as conn:
            return runs.get_run(conn, run_id)

    def get_article(self, id_or_url: str | int, *, include_html: bool = False) -> dict[str, Any] | None:
        """An article by id, fetched URL or canonical URL; times as +07:00 ISO strings."""
        columns = _WITH_HTML if include_html else _COLUMNS
        if isinstance(id_or_url, int) or id_or_url.isdigit():
            where: ColumnElement[bool] = Article.id == int(id_or_url)
        else:
            where = or_(Article.url_key == url_identity(id_or_url), Article.url == id_or_url)
        with self._read() as conn:
            row = conn.execute(select(*columns).where(where).order_by(Article.id).limit(1)).mappings().first()
        return None if row is None else public_dict(row)

    def iter_articles(
        self,
        site: str | None = None,
        since: DateLike = None,
        until: DateLike = None,
        batch: int = 500,
        *,
        province: str | None = None,
        section: str | None = None,
        author: str | None = None,
        dedup: bool = False,
        include_html: bool = False,
        shard: Shard | None = None,
    ) -> Iterator[dict[str, Any]]:
        """All matching articles ordered by site, published_at (undated last), id, in constant memory:
        each batch is a short keyset query, so no cursor or transaction stays open between batches.
        `dedup` keeps one article per near-duplicate cluster: the first (lowest id) that matches.
        `shard` keeps the articles of one shard (by id) of those."""
        dialect = self.engine.dialect.name
        options: dict[str, Any] = {
            "province": province,
            "section": section,
            "author": author,
            "dialect": dialect,
        }
        terms = article_filters(site, since, until, **options)
        if dedup:
            other = aliased(Article)
            earlier = [other.cluster_id == Article.cluster_id, other.id < Article.id]
            earlier += article_filters(site, since, until, **options, table=other)
            terms.append(~exists(select(other.id).where(*earlier)))
        if shard is not None:
            terms.append(shard.id_term(Article.id))
        columns = _WITH_HTML if include_html else _COLUMNS
        base = select(*columns).where(*terms)
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

    def stats_by_site_month(
        self, site: str | None = None, since: DateLike = None, until: DateLike = None, **options: Any
    ) -> list[tuple[str, str | None, int]]:
        """(site_id, 'YYYY-MM' in Vietnam time, count) by site then month; undated last, as month None.
        Takes the filters of `iter_articles` (site, since, until, province, section, author)."""
        with self._read() as conn:
            terms = article_filters(site, since, until, **options, dialect=conn.dialect.name)
            if conn.dialect.name == "postgresql":
                local = func.timezone(literal_column("INTERVAL '+07:00'"), Article.published_at)
                month: ColumnElement[str] = func.to_char(local, "YYYY-MM")
            else:
                month = func.strftime("%Y-%m", Article.published_at, "+7 hours")
            query = (
                select(Article.site_id, month.label("month"), func.count())
                .where(*terms)
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


def pid_alive_here(pid: int) -> bool:
    """A run of this host is alive while its process is, unless that process is this one (pid reuse)."""
    import os

    return pid != os.getpid() and locks.pid_alive(pid)
