"""ExtractPipeline: page bytes → article fields, with the site's family parser.

An asynchronous pipeline: each page is extracted in a pool of worker processes (PROVNEWS_EXTRACT_WORKERS)
while the reactor goes on downloading; Scrapy's scraper slot bounds the pages held meanwhile."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.utils.reactor import is_asyncio_reactor_installed

from provnews.crawler.discovery.sources import date_in_url
from provnews.crawler.extensions.crawl_registry import crawl_sites
from provnews.crawler.extraction.extract import day_of
from provnews.crawler.extraction.limits import ExtractionError, ExtractionLimitExceeded, LimitedExtractor
from provnews.crawler.items import ArticleItem, PageItem
from provnews.crawler.parsers import NotAnArticle
from provnews.crawler.parsers.fields import ArticleFields
from provnews.crawler.sites.registry import Site
from provnews.pipelines.dropped import Dropped

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def date_from_discovery(fields: ArticleFields, item: PageItem) -> None:
    """Date a page that gives no date of its own with what discovery saw: a publication date (news
    sitemap, feed, listing item) first, then a day in the URL, then the sitemap or feed lastmod (a
    change date, which is only an upper bound of the publication)."""
    candidates = (
        (item.discovered_date, f"discovery:{item.discovered_date_source or 'unknown'}"),
        (date_in_url(item.url), "discovery:url"),
        (item.lastmod, "discovery:lastmod"),
    )
    for value, source in candidates:
        if value:
            fields.published_at, fields.date_source = value, source
            return


class ExtractPipeline:
    def __init__(
        self,
        crawler: Crawler,
        sites: dict[str, Site],
        max_bytes: int,
        keep_html: bool,
        timeout: float = 5.0,
        parsers: dict[str, str] | None = None,
        workers: int = 0,
    ) -> None:
        self.crawler = crawler
        self.sites = sites
        self.max_bytes = max_bytes
        self.keep_html = keep_html
        # Pages run in a pool of reused worker processes (0: one per core), each replaced when it
        # overruns the time limit or dies.
        self.extractor = LimitedExtractor(
            timeout=timeout, max_bytes=max_bytes, parsers=parsers, workers=workers
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(
            crawler,
            crawl_sites(crawler),
            crawler.settings.getint("PROVNEWS_MAX_PAGE_BYTES"),
            crawler.settings.getbool("PROVNEWS_KEEP_HTML"),
            crawler.settings.getfloat("PROVNEWS_EXTRACT_TIMEOUT", 5.0),
            crawler.settings.getdict("PROVNEWS_PARSERS"),
            crawler.settings.getint("PROVNEWS_EXTRACT_WORKERS"),
        )

    def open_spider(self) -> None:
        if not is_asyncio_reactor_installed():  # the pool is awaited on the asyncio loop
            raise RuntimeError("ExtractPipeline needs Scrapy's asyncio reactor (TWISTED_REACTOR)")

    def close_spider(self) -> None:
        self.extractor.close()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        site = self.sites.get(item.site_id)
        family = site.family if site else "generic"
        stats = self.crawler.stats
        assert stats is not None
        try:
            fields = await self.extractor.extract_async(
                item.body, item.url, family, item.content_type, site, day_of(item.lastmod)
            )
        except ExtractionLimitExceeded as exc:  # page_too_large, extract_timeout, extract_crashed
            raise Dropped(exc.reason, f"{exc.detail}: {item.url}") from exc
        except NotAnArticle as exc:
            raise Dropped("not_article", f"{exc.reason}: {item.url}") from exc
        except ValueError as exc:  # undecodable or oversized after decompression
            raise Dropped("undecodable", f"{exc}: {item.url}") from exc
        except ExtractionError as exc:  # a parser bug: logged in full; the URL fails, with attempts
            logger.error("%s: the %s parser raised on %s\n%s", item.site_id, family, item.url, exc.trace)
            raise Dropped("extract_error", f"{exc}: {item.url}") from exc
        if not fields.published_at:
            date_from_discovery(fields, item)
        if fields.fallback:
            stats.inc_value("provnews/extract/fallback")
            stats.inc_value(f"provnews/extract/fallback/{item.site_id}")
            logger.warning(
                "%s: family selectors found nothing, whole-page fallback: %s", item.site_id, item.url
            )
        stats.inc_value("provnews/extract/ok")
        return ArticleItem(
            fields=fields,
            site_id=item.site_id,
            province=site.province if site else None,
            province_old=site.province_old if site else None,
            raw_html=item.body if self.keep_html else None,
            fetched_at=item.fetched_at,
            extra={"lastmod": item.lastmod} if item.lastmod else {},
            requested_url=item.requested_url,
        )
