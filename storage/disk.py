"""A full disk ends the crawl cleanly: what was committed stays, the run is recorded as failed with
"disk full" as its reason, and the URLs not stored yet are taken up by the next run.

Recording that needs a little room, which a full disk does not have (SQLite appends every commit to
its WAL file): a crawl on a SQLite file keeps a reserve file beside it (`<database>-reserve`,
RESERVE_BYTES), which is removed to write the run's end when the disk is full, and made again by the
next crawl that finds room for it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.utils.defer import deferred_from_coro

from provnews.storage.engine import sqlite_file

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

FAILURE = "disk full"
RESERVE_BYTES = 512 * 1024


def reserve_path(url: str) -> Path | None:
    path = sqlite_file(url)
    return None if path is None else path.with_name(path.name + "-reserve")


def make_reserve(url: str) -> None:
    """Keep RESERVE_BYTES of room beside a SQLite database (nothing for PostgreSQL, whose server
    has its own disk), if there is room for it."""
    path = reserve_path(url)
    if path is None or (path.exists() and path.stat().st_size >= RESERVE_BYTES):
        return
    try:
        with path.open("wb") as out:
            out.write(bytes(RESERVE_BYTES))  # written, not sparse: the blocks are really taken
    except OSError:
        path.unlink(missing_ok=True)


def free_reserve(url: str) -> bool:
    """Give the reserve's room back to the filesystem; whether there was one."""
    path = reserve_path(url)
    if path is None or not path.exists():
        return False
    path.unlink()
    return True


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100), or ENOSPC however it is wrapped."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlite_errorcode", None) == 13 or getattr(orig, "sqlstate", None) == "53100":
        return True
    message = str(exc).lower()
    return "database or disk is full" in message or "no space left on device" in message


def stop_crawl(crawler: Crawler, exc: BaseException) -> None:
    """Record the failure (once) and close the spider with reason "disk_full"."""
    stats = crawler.stats
    if stats is None or stats.get_value("provnews/failure") == FAILURE:
        return
    stats.set_value("provnews/failure", FAILURE)
    logger.error("disk full, the crawl stops: %s", str(exc).splitlines()[0])
    engine = crawler.engine
    if engine is not None and engine.running:
        deferred_from_coro(engine.close_spider_async(reason="disk_full"))
