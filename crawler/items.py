"""Items passed from the spider to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field

from provnews.crawler.parsers.fields import ArticleFields


@dataclass
class PageItem:
    """A fetched article page, before extraction: the bytes as served."""

    url: str
    site_id: str
    body: bytes
    content_type: str | None = None
    fetched_at: str | None = None
    lastmod: str | None = None
    requested_url: str | None = None  # the URL the run set out to fetch (its outcome's key)
    discovered_date: str | None = None  # the publication date discovery saw (sitemap, feed, listing)
    discovered_date_source: str | None = None


@dataclass
class ArticleItem:
    """An extracted article with its provenance, on its way to storage."""

    fields: ArticleFields
    site_id: str
    province: str | None = None
    province_old: str | None = None
    raw_html: bytes | None = None
    fetched_at: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    requested_url: str | None = None

    @property
    def url(self) -> str:
        return self.fields.url
