"""AutoThrottle that never goes below a site's own delay from the registry.

Scrapy's AutoThrottle clamps every slot to the global DOWNLOAD_DELAY, so it would speed a slow site
up to the global floor; here each slot's floor is its DOWNLOAD_SLOTS delay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.extensions.throttle import AutoThrottle

if TYPE_CHECKING:
    from scrapy.core.downloader import Slot
    from scrapy.http import Request, Response
    from scrapy.spiders import Spider


class SiteAutoThrottle(AutoThrottle):
    def _response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        key, slot = self._get_slot(request, spider)
        if slot is None or key is None:
            return
        # The downloader's per-slot settings: the registry's delay, raised by a robots.txt Crawl-delay.
        engine = self.crawler.engine
        per_slot = engine.downloader.per_slot_settings if engine is not None else {}
        floor = float(per_slot.get(key, {}).get("delay", self.mindelay))
        self._floor = floor
        super()._response_downloaded(response, request, spider)

    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        super()._adjust_delay(slot, latency, response)
        slot.delay = max(slot.delay, getattr(self, "_floor", self.mindelay))
