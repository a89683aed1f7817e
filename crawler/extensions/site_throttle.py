"""AutoThrottle that never goes below a site's own delay from the registry.

Scrapy's AutoThrottle clamps every slot to the global DOWNLOAD_DELAY, so it would speed a slow site up
to the global floor. This extension runs after it on `response_downloaded` (its EXTENSIONS priority is
higher than AutoThrottle's) and raises the slot's delay back to the slot's own: the registry's
(DOWNLOAD_SLOTS), raised by a robots.txt Crawl-delay. Off (NotConfigured) when AutoThrottle is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

from provnews.crawler.politeness.scrapy_private import keep_slot_floor

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response


class SiteAutoThrottle:
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("AUTOTHROTTLE_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteAutoThrottle:
        return cls(crawler)

    def response_downloaded(self, response: Response, request: Request, spider: object = None) -> None:
        key = request.meta.get("download_slot")
        if key is not None:
            keep_slot_floor(self.crawler, key)
