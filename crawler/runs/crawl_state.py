"""The crawl state of one run of the news spider: what the database remembers of every URL met (see
`storage.urlstate`) and what this run has done with it so far.

- a URL found for the first time is recorded as "discovered" (one write per discovery page) before it
  is requested, so a run killed at any moment leaves it for the next run, which requests it first;
- what earlier runs knew of a URL is read from the database per discovery page, and the URLs they
  left unfinished are read page by page as the crawl takes them: memory stays flat whatever the
  number of URLs a site has;
- the walk of each listing to its oldest page is recorded page by page, so an interrupted walk goes
  on where it stopped;
- stored articles are not fetched again unless their sitemap lastmod (or feed date) says they changed;
- failed URLs are retried in later runs with back-off, up to `max_attempts`;
- the HTTP validators (ETag, Last-Modified) of discovery pages are kept for conditional requests, but
  only after a complete, clean run.

Writes go to the crawl's writer thread (`crawler.runs.storage_writer`), in order: a page's new URLs are
written before its listing walk's progress, and before their outcomes. A write that finds the disk
full sets `disk_full` and calls `on_disk_full` (the spider stops the crawl). What the database knows
of one discovery page's URLs is read in a thread; the other reads (one page of URLs to resume, a
site's listing walks and validators) are short indexed queries made on the reactor thread. No read
waits on a writer (WAL on SQLite, MVCC on PostgreSQL).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from provnews.crawler.runs.storage_writer import Writer, error_of
from provnews.storage import (
    PendingUrl,
    Storage,
    UrlInfo,
    UrlMark,
    Validators,
    WalkState,
    is_disk_full,
    to_utc,
)

logger = logging.getLogger(__name__)

RESUME_PAGE = 500  # URLs left by earlier runs read per database query


class UrlKeys:
    """A set of URLs kept as 8-byte digests: a few dozen bytes per URL for millions of URLs."""

    def __init__(self) -> None:
        self._keys: set[int] = set()

    @staticmethod
    def _key(url: str) -> int:
        return int.from_bytes(hashlib.blake2b(url.encode("utf-8"), digest_size=8).digest(), "big")

    def add(self, url: str) -> None:
        self._keys.add(self._key(url))

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and self._key(url) in self._keys

    def __len__(self) -> int:
        return len(self._keys)


class StatsCounter(Protocol):
    def __call__(self, key: str, n: int = 1) -> None: ...


class CrawlState:
    """URL states of the crawled sites, read per discovery page (and, for resume, page by page) and
    written back as the run goes; `count` receives the stats keys (without the `provnews/` prefix)."""

    def __init__(self, count: StatsCounter, *, backfill: bool = False) -> None:
        self.count = count
        self.backfill = backfill  # a backfill neither sends nor keeps validators
        # the crawl's storage and its writer (`CrawlStorage`), given by the spider when it opens
        self.storage: Storage | None = None
        self.writer: Writer | None = None
        self.on_disk_full: Callable[[BaseException], None] = lambda exc: None
        self.max_attempts = 5
        self.retry_backoff = 900.0  # seconds before the first retry; doubled after each failure
        # What the database knows of the URLs of the discovery page being admitted (see `prefetch`).
        self.known: dict[str, UrlInfo] = {}
        self.stored: set[str] = set()  # of those, URLs of stored articles that url_state lacks
        self.seen = UrlKeys()  # requested, or settled, in this run
        self.skipped = UrlKeys()  # stored and unchanged so far in this run (counted once)
        self.new_in_run = UrlKeys()  # requested in this run, and met for the first time in it
        self.lastmods: dict[str, str] = {}  # URL requested in this run -> newest sitemap/feed date seen
        # URL requested without a publication date -> the one a later discovery page showed
        self.discovery_dates: dict[str, tuple[str, str]] = {}
        self.redirected: dict[str, str] = {}  # final URL -> the URL requested (its url_state key)
        self.validators: dict[str, Validators] = {}  # read by ConditionalRequestsMiddleware
        self.new_validators: dict[str, Validators] = {}
        self.unclean_sites: set[str] = set()  # discovery failed somewhere: keep no validators
        self._discovered: list[UrlMark] = []  # new URLs not written yet
        self.disk_full: BaseException | None = None  # set when a write found the disk full
        self._new: set[str] = set()  # of the URLs of the page being admitted, those first met now
        self._resume_after: dict[str, str] = {}  # site id -> last url_key read by resume; gone when done

    # -- start -----------------------------------------------------------------------------------
    def load(self, site_id: str) -> None:
        assert self.storage is not None
        self._resume_after.setdefault(site_id, "")
        if not self.backfill:
            self.validators.update(self.storage.validators([site_id]))

    def resume(self, site_id: str, want: int = RESUME_PAGE) -> list[PendingUrl]:
        """Up to `want` URLs met before and not done, read from the database a page at a time: never
        fetched (a crash, a stop, --max-articles), failed and due, or refused by robots.txt (which may
        allow them now, and is asked before any fetch); each is marked seen and counted as it is
        taken. An empty list once the site has none left."""
        assert self.storage is not None
        now = datetime.now(UTC)
        taken: list[PendingUrl] = []
        while len(taken) < want and site_id in self._resume_after:
            page = self.storage.pending_urls(site_id, self._resume_after[site_id], RESUME_PAGE)
            if not page:
                del self._resume_after[site_id]  # nothing left
            for pending in page:
                self._resume_after[site_id] = pending.url_key
                info = pending.info
                if pending.url in self.seen:
                    continue
                if info.status == "robots_denied":
                    self.count("discovery/robots_recheck")
                elif info.status == "discovered" or (info.status == "failed" and self._due(info, now)):
                    self.count("discovery/articles_pending")
                else:
                    continue
                self.seen.add(pending.url)
                taken.append(pending)
                if len(taken) >= want:
                    break
        return taken

    def _due(self, info: UrlInfo, now: datetime) -> bool:
        if info.attempts >= self.max_attempts:
            return False
        wait = self.retry_backoff * 2 ** max(info.attempts - 1, 0)
        return now - info.updated_at >= timedelta(seconds=wait)

    # -- discovery -------------------------------------------------------------------------------
    async def prefetch(self, urls: Iterable[str]) -> None:
        """Read what the database knows of the URLs of one discovery page, for `admit` (which must
        follow in the same turn of the reactor: another page's prefetch replaces it). The read is
        made in a thread of Twisted's pool, not the writer's: it does not queue behind writes."""
        storage = self.storage
        assert storage is not None
        wanted = [url for url in dict.fromkeys(urls) if url not in self.seen]

        def read() -> tuple[dict[str, UrlInfo], set[str]]:
            known = storage.url_infos(wanted)
            return known, storage.stored_among([url for url in wanted if url not in known])

        self.known, self.stored = await maybe_deferred_to_future(deferToThread(read))
        self._new = set()

    def admit(
        self,
        site_id: str,
        url: str,
        lastmod: str | None,
        published: str | None = None,
        date_source: str | None = None,
    ) -> bool:
        """Whether an article URL found by discovery is worth a request in this run (after `prefetch`
        of its page). A new URL is kept, with the publication date discovery saw, for
        `record_discovered`, which must run before its request is made."""
        if lastmod and url in self.lastmods and lastmod > self.lastmods[url]:
            self.lastmods[url] = lastmod
        if url in self.seen:
            return False
        info = self.known.get(url)
        if info is None and url in self.stored:
            self.seen.add(url)
            self.count("discovery/skipped_stored")
            return False
        if info is not None and info.status == "stored" and not changed(lastmod, info):
            # Not marked seen: a sitemap met later in the run may still bring a newer lastmod.
            if url not in self.skipped:
                self.skipped.add(url)
                self.count("discovery/skipped_stored")
            return False
        # An admitted URL is marked seen by `take` when it is requested: one left for a later run by
        # --max-articles costs no memory here (the database holds it).
        if info is None:
            mark = UrlMark(url, site_id, "discovered", None, None, lastmod, published, date_source)
            self._discovered.append(mark)
            self.known[url] = UrlInfo("discovered", 0, None, datetime.now(UTC))
            self._new.add(url)
        elif info.status == "stored":
            self.count("discovery/refetch_modified")
        elif info.status == "failed" and not self._due(info, datetime.now(UTC)):
            self.seen.add(url)
            self.count("discovery/skipped_failed")
            return False
        elif info.status in ("not_article", "gone"):
            self.seen.add(url)
            self.count(f"discovery/skipped_{info.status}")
            return False
        return True

    def take(self, url: str) -> None:
        """An admitted URL is requested in this run."""
        self.seen.add(url)
        if url in self._new:
            self.new_in_run.add(url)

    def record_discovered(self) -> None:
        """Write the URLs admitted for the first time since the last call (one write per discovery page)."""
        if not self._discovered:
            return
        discovered, self._discovered = self._discovered, []
        if self.disk_full is not None:  # not written: the next run finds them again
            return
        assert self.writer is not None
        written = self.writer.mark_urls(discovered)
        written.addCallbacks(lambda _: self.count("discovery/new_urls", len(discovered)), self._write_failed)

    def _write_failed(self, failure: Failure) -> None:
        """A write of URL states failed: a full disk stops the crawl (the URLs stay as they were in the
        database, and the next run takes them up); any other error is logged and counted."""
        exc = error_of(failure)
        if is_disk_full(exc):
            if self.disk_full is None:
                self.disk_full = exc
                self.on_disk_full(exc)
            return
        logger.error("URL states not written: %s", exc)
        self.count("storage/url_state_errors")

    def _write(self, fn: Callable[..., Any], *args: Any, done: Callable[[], None] | None = None) -> None:
        """`fn(*args)` in the writer thread; `done` once it succeeded."""
        if self.disk_full is not None:
            return
        assert self.writer is not None
        written = self.writer.run(fn, *args)
        if done is not None:
            written.addCallback(lambda _: done())
        written.addErrback(self._write_failed)

    # -- listing walks ---------------------------------------------------------------------------
    def listing_walks(self, site_id: str) -> dict[str, WalkState]:
        assert self.storage is not None
        return self.storage.listing_walks(site_id)

    def save_walk(self, site_id: str, listing: str, next_page: int, complete: bool) -> None:
        """Record a listing walk's progress (after its page's URLs were recorded) or its end."""
        assert self.storage is not None
        counted = (lambda: self.count("discovery/listing_walks_completed")) if complete else None
        self._write(self.storage.save_listing_walk, site_id, listing, next_page, complete, done=counted)

    def keep_validators(self, site_id: str, url: str, etag: bytes | None, modified: bytes | None) -> None:
        """Remember a discovery page's ETag / Last-Modified, for `close` to save."""
        if etag or modified:
            self.new_validators[url] = Validators(
                url,
                site_id,
                etag.decode("latin-1") if etag else None,
                modified.decode("latin-1") if modified else None,
            )

    def mark_unclean(self, site_id: str) -> None:
        """A discovery page of the site failed: what it would have led to was not taken."""
        self.unclean_sites.add(site_id)

    # -- fetches ---------------------------------------------------------------------------------
    def mark(self, url: str, site_id: str | None, status: str, reason: str) -> None:
        """Record the outcome of an article request that brought no page to store. On a full disk the
        URL stays as it was (the next run takes it up) and `disk_full` says why."""
        if self.writer is not None and self.disk_full is None:
            self.writer.mark_urls([UrlMark(url, site_id, status, reason)]).addErrback(self._write_failed)
        self.count(f"urls/{status}")

    # -- end ---------------------------------------------------------------------------------------
    def close(self, reason: str, site_ids: Iterable[str]) -> None:
        """Keep the validators of discovery pages only after a complete, clean run: a 304 next time
        then safely means "nothing new", because everything those pages led to was taken."""
        if self.storage is None or self.writer is None:
            return
        if reason == "finished" and not self.backfill and self.disk_full is None:
            clean = set(site_ids) - self.unclean_sites
            kept = [v for v in self.new_validators.values() if v.site_id in clean]
            if kept:
                self._write(self.storage.save_validators, kept)


def changed(lastmod: str | None, info: UrlInfo) -> bool:
    """Whether a stored article changed since it was stored, by its sitemap or feed date."""
    modified = to_utc(lastmod)
    if modified is None:
        return False
    # Without a stored lastmod, compare with when it was stored (the site's clock against ours).
    return modified > (info.lastmod or info.updated_at)
