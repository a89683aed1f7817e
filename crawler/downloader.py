"""Scrapy's downloader, except that a stopping crawl does not wait for the requests queued behind a
site's delay.

The engine hands up to CONCURRENT_REQUESTS requests to the downloader, which keeps those of a site in
its slot until the site's delay lets each go. On SIGTERM or Ctrl-C Scrapy's engine stops taking new
requests but waits for all of those, so a stop took up to 16 times a site's delay (72 s at 4 s,
measured). Here, once the engine is stopping, a slot's queued requests fail with `IgnoreRequest`
instead of being fetched: the spider leaves their URLs as they were, for the next run, and only the
transfers already under way are finished.
"""

from __future__ import annotations

import logging

from scrapy.core.downloader import Downloader, Slot
from scrapy.exceptions import IgnoreRequest
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)


class StoppingDownloader(Downloader):
    def _process_queue(self, slot: Slot) -> None:
        engine = self.crawler.engine
        if engine is not None and not engine.running and slot.queue:
            dropped = len(slot.queue)
            while slot.queue:
                _request, deferred = slot.queue.popleft()
                deferred.errback(Failure(IgnoreRequest("the crawl is stopping")))
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("provnews/stop/requests_left", dropped)
            logger.info("stopping: %d queued request(s) left for the next run", dropped)
            return
        super()._process_queue(slot)
