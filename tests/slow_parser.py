"""A parser for tests (PROVNEWS_PARSERS): the post family's, recording when each page's parse starts and
ends (JSON lines in $PROVNEWS_TEST_PARSE_LOG: event, path, worker pid, monotonic and wall-clock time), and
hanging on the first page any worker parses (as a pathological page would), past the time limit."""

from __future__ import annotations

import json
import os
import time
from urllib.parse import urlsplit

from provnews.crawler.parsers import ArticleFields
from provnews.crawler.parsers.post import PostParser
from provnews.crawler.sites.selectors import Selectors

HANG_SECONDS = 60.0  # far past the crawl's PROVNEWS_EXTRACT_TIMEOUT: the worker is killed first


def _record(event: str, url: str) -> None:
    line = json.dumps(
        {
            "event": event,
            "path": urlsplit(url).path,
            "pid": os.getpid(),
            "mono": time.monotonic(),
            "wall": time.time(),
        }
    )
    with open(os.environ["PROVNEWS_TEST_PARSE_LOG"], "a", encoding="utf-8") as log:
        log.write(line + "\n")  # one short append: lines of several workers do not mix


def _first_page() -> bool:
    """Whether this is the first page parsed by any worker of the crawl (a marker file made once)."""
    try:
        os.close(os.open(os.environ["PROVNEWS_TEST_PARSE_LOG"] + ".hang", os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return False
    return True


class SlowParser(PostParser):
    def parse(self, html: str, url: str, selectors: Selectors | None = None) -> ArticleFields:
        hang = _first_page()
        _record("hang" if hang else "start", url)
        if hang:
            time.sleep(HANG_SECONDS)
        fields = super().parse(html, url, selectors)
        _record("end", url)
        return fields
