"""SQLAlchemy 2 models of the provnews database (the schema itself is created by Alembic migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

URL_STATUSES = ("discovered", "stored", "not_article", "failed", "gone", "robots_denied")
RUN_OUTCOMES = ("running", "finished", "partial", "interrupted", "failed")

# JSON on SQLite, JSONB on PostgreSQL (smaller, indexable if ever needed).
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as naive UTC.
    A naive datetime handed in is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


class SiteRow(Base):
    """A site from the registry (or a stub created when an article arrives for an unknown site id)."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    province: Mapped[str] = mapped_column(Text)
    base_url: Mapped[str] = mapped_column(Text)
    family: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlRun(Base):
    """One `provnews` command that crawled; `stats` holds its counters."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('running', 'finished', 'partial', 'interrupted', 'failed')",
            name="ck_crawl_runs_outcome",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    command: Mapped[str] = mapped_column(Text)
    sites: Mapped[list[Any]] = mapped_column(default=list)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    pid: Mapped[int | None]
    hostname: Mapped[str | None] = mapped_column(Text)


class Article(Base):
    """One stored article, deduplicated on `url_key` = sha1(canonical_url)."""

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_site_published", "site_id", "published_at"),
        Index("ix_articles_url", "url"),  # `show URL` with the fetched (non-canonical) URL
        Index("ix_articles_cluster", "cluster_id"),
        # AUTOINCREMENT on SQLite: ids are never reused, so an FTS rowid can never point at a newer article.
        {"sqlite_autoincrement": True},
    )

    # Column order matters on SQLite (migration 0005): the small columns that filters, clustering and
    # listings read come first; the large ones last, where reading a row's start never reaches them.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    url_key: Mapped[str] = mapped_column(String(40), unique=True)
    published_at: Mapped[datetime | None]
    province: Mapped[str | None] = mapped_column(Text)
    province_old: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(Text)
    # Near-duplicate cluster: the id of the cluster's first article (its own id when it has no copy).
    cluster_id: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime | None]
    date_source: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(Text, default="vi")
    family: Mapped[str] = mapped_column(Text, default="generic")
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    authors: Mapped[list[Any]] = mapped_column(default=list)
    versions: Mapped[list[Any]] = mapped_column(default=list)  # earlier content hashes, oldest first
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)  # storage.neardup signature
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    byline: Mapped[str | None] = mapped_column(Text)
    dateline: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    images: Mapped[list[Any]] = mapped_column(default=list)
    sapo: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    raw_html: Mapped[bytes | None] = mapped_column(LargeBinary)  # zlib-compressed by the storage layer


class NearDupKey(Base):
    """MinHash band keys of the articles (see `storage.neardup`): the candidate lookup for clustering."""

    __tablename__ = "near_dup_keys"
    # WITHOUT ROWID: the primary key is the table, so each key costs one B-tree entry.
    __table_args__ = ({"sqlite_with_rowid": False},)

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True, autoincrement=False)


class UrlState(Base):
    """What the crawler knows about one URL, keyed on sha1(url)."""

    __tablename__ = "url_state"
    __table_args__ = (
        CheckConstraint(
            "status IN ('discovered', 'stored', 'not_article', 'failed', 'gone', 'robots_denied')",
            name="ck_url_state_status",
        ),
        Index("ix_url_state_site_status", "site_id", "status"),
    )

    url_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    site_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    lastmod: Mapped[datetime | None]
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    # The publication date discovery saw (news sitemap, feed, listing item), for pages that give none.
    discovered_date: Mapped[datetime | None]
    discovered_date_source: Mapped[str | None] = mapped_column(Text)


class SourceState(Base):
    """HTTP validators of a discovery page (feed, sitemap, listing page) for conditional requests."""

    __tablename__ = "source_state"

    url_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    site_id: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class ListingWalk(Base):
    """How far the walk of one listing (all its pages, oldest included) has gone, and whether it ended."""

    __tablename__ = "listing_walks"

    url_key: Mapped[str] = mapped_column(String(40), primary_key=True)  # sha1 of the listing URL
    url: Mapped[str] = mapped_column(Text)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    next_page: Mapped[int] = mapped_column(Integer, default=1)
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SiteLockRow(Base):
    """A site's claim: which worker process holds it (or last held it), since when, when it last said
    it was alive, and when a crawl of it last completed. Held while `released_at` is null."""

    __tablename__ = "site_locks"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(Integer)
    pid: Mapped[int] = mapped_column(Integer)
    hostname: Mapped[str] = mapped_column(Text)
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
