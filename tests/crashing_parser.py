"""Parsers for tests (PROVNEWS_PARSERS): the post family's, raising on the page whose URL path is
$PROVNEWS_TEST_CRASH_PATH, as a parser bug would."""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit

from provnews.crawler.parsers import ArticleFields
from provnews.crawler.parsers.post import PostParser
from provnews.crawler.sites.selectors import Selectors


class CrashingParser(PostParser):
    def parse(self, html: str, url: str, selectors: Selectors | None = None) -> ArticleFields:
        if urlsplit(url).path == os.environ.get("PROVNEWS_TEST_CRASH_PATH"):
            raise ZeroDivisionError("a parser bug, for the test")
        return super().parse(html, url, selectors)


class DyingParser(PostParser):
    """The post family's, but its process exits at once on a page whose URL path ends in /die.html
    (as a crash in C code or the OOM killer would end it) and hangs on /hang.html."""

    def parse(self, html: str, url: str, selectors: Selectors | None = None) -> ArticleFields:
        path = urlsplit(url).path
        if path.endswith("/die.html"):
            os._exit(1)
        if path.endswith("/hang.html"):
            time.sleep(600)
        return super().parse(html, url, selectors)
