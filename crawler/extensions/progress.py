"""Live progress per site on a terminal: pages, new and updated articles, pages per second.

On by default only when stderr is a terminal (PROVNEWS_PROGRESS=auto); 1 forces it on, 0 off. Cron,
systemd and Scrapyd runs are not attached to a terminal, so their output stays a quiet log."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.spiders import Spider


class Progress:
    def __init__(self, crawler: Crawler, interval: float, out: TextIO) -> None:
        self.crawler = crawler
        self.interval = interval
        self.out = out
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None
        self.spider: Spider | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        mode = str(crawler.settings.get("PROVNEWS_PROGRESS", "auto")).lower()
        if mode in ("0", "false", "no", "off") or (mode == "auto" and not sys.stderr.isatty()):
            raise NotConfigured  # no message: Scrapy would log one warning per quiet run
        ext = cls(crawler, crawler.settings.getfloat("PROVNEWS_PROGRESS_INTERVAL", 5.0), sys.stderr)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.started = time.monotonic()
        self.spider = spider  # its sites grow as the run claims more
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.report()

    def lines(self) -> list[str]:
        stats: dict[str, Any] = self.crawler.stats.get_stats() if self.crawler.stats else {}
        elapsed = max(time.monotonic() - self.started, 1e-6)
        out = []
        for site_id in [s.id for s in getattr(self.spider, "sites", [])]:

            def get(key: str, site_id: str = site_id) -> int:
                return int(stats.get(f"provnews/site/{site_id}/{key}", 0))

            pages = get("pages")
            out.append(
                f"[{elapsed:5.0f}s] {site_id:<16} {pages:6d} pages {get('new'):5d} new "
                f"{get('updated'):4d} updated {get('not_modified'):4d} unchanged sources "
                f"{pages / elapsed:6.1f} pages/s"
            )
        return out

    def report(self) -> None:
        for line in self.lines():
            self.out.write(line + "\n")
        self.out.flush()
