"""A parser for tests (PROVNEWS_PARSERS): the post family's, raising on the page whose URL path is
$PROVNEWS_TEST_CRASH_PATH, as a parser bug would."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from crawler.parsers import ArticleFields
from crawler.parsers.post import PostParser
from crawler.site_selectors import Selectors


class CrashingParser(PostParser):
    def parse(self, html: str, url: str, selectors: Selectors | None = None) -> ArticleFields:
        if urlsplit(url).path == os.environ.get("PROVNEWS_TEST_CRASH_PATH"):
            raise ZeroDivisionError("a parser bug, for the test")
        return super().parse(html, url, selectors)
