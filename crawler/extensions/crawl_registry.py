"""The site registry of a crawl, read once: the spider takes the sites asked for from it, and the
pipelines their sites' family, selectors and province (`crawler.get_extension(CrawlRegistry)`).

The registry is the spider's `-a sites_file=` if given, else PROVNEWS_SITES_FILE, else the packaged
one. It is read while the crawler is built (before its settings freeze), so that each site asked for
gets its own download slot with the registry's delay and concurrency (DOWNLOAD_SLOTS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from provnews.crawler.sites.registry import Site, load_sites

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class CrawlRegistry:
    def __init__(self, registry: list[Site], requested: list[Site]) -> None:
        self.sites = {site.id: site for site in registry}
        self.requested = requested  # the sites asked for (`-a site=`), all active ones by default

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRegistry:
        from provnews.crawler.spiders.news import select_sites  # (the spider module imports this one)

        spider = crawler.spider
        sites_file = getattr(spider, "sites_file", None) or crawler.settings.get("PROVNEWS_SITES_FILE")
        registry = load_sites(sites_file or None)
        requested = select_sites(registry, getattr(spider, "site_arg", None))
        # Per-site politeness: each site is its own download slot with the registry's delay.
        slots = {s.id: {"delay": s.delay, "concurrency": s.concurrency} for s in requested}
        crawler.settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        if crawler.stats is not None:
            crawler.stats.inc_value("provnews/registry/loaded")
        return cls(registry, requested)


def crawl_sites(crawler: Crawler) -> dict[str, Site]:
    """The crawl's registry by site id; read from PROVNEWS_SITES_FILE when the crawl has no
    CrawlRegistry (a pipeline used on its own)."""
    registry = crawler.get_extension(CrawlRegistry)
    if registry is not None:
        return registry.sites
    return {s.id: s for s in load_sites(crawler.settings.get("PROVNEWS_SITES_FILE") or None)}
