"""Running the news spider in-process, as `provnews crawl` and `provnews demo` do."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from provnews.crawler.spiders.news import NewsSpider


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("provnews.crawler.settings", priority="project")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def run_crawl(
    site_ids: Iterable[str] = (),
    *,
    sites_file: str | None = None,
    max_articles: int | None = None,
    since: str | None = None,
    until: str | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Crawl the given sites (all active ones when empty) and return the final Scrapy stats."""
    process = CrawlerProcess(project_settings(settings))
    crawler = process.create_crawler(NewsSpider)
    process.crawl(
        crawler,
        site=",".join(site_ids) or None,
        sites_file=sites_file,
        max_articles=max_articles,
        since=since,
        until=until,
    )
    process.start()
    return dict(crawler.stats.get_stats()) if crawler.stats else {}
