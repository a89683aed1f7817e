"""The crawl state of one run of the news spider: what the database remembers of every URL met (see
`pipelines.urlstate`) and what this run has done with it so far.

- a URL found for the first time is recorded as "discovered" (one write per discovery page) before it
  is requested, so a run killed at any moment leaves it for the next run, which requests it first;
- stored articles are not fetched again unless their sitemap lastmod (or feed date) says they changed;
- failed URLs are retried in later runs with back-off, up to `max_attempts`;
- the HTTP validators (ETag, Last-Modified) of discovery pages are kept for conditional requests, but
  only after a complete, clean run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pipelines.disk import is_disk_full
from pipelines.rows import to_utc
from pipelines.storage import Storage, UrlMark
from pipelines.urlstate import UrlInfo
from pipelines.validators import Validators


class StatsCounter(Protocol):
    def __call__(self, key: str, n: int = 1) -> None: ...


class CrawlState:
    """URL states of the crawled sites, loaded at start and written back as the run goes; `count`
    receives the stats keys (without the `provnews/` prefix)."""

    def __init__(self, count: StatsCounter, *, backfill: bool = False) -> None:
        self.count = count
        self.backfill = backfill  # a backfill neither sends nor keeps validators
        self.storage: Storage | None = None  # opened by the spider once it has its settings
        self.max_attempts = 5
        self.retry_backoff = 900.0  # seconds before the first retry; doubled after each failure
        self.states: dict[str, dict[str, UrlInfo]] = {}  # site id -> URL -> what earlier runs left
        self.stored: set[str] = set()
        self.seen: set[str] = set()  # requested, or settled, in this run
        self.skipped: set[str] = set()  # stored and unchanged so far in this run (counted once)
        self.lastmods: dict[str, str] = {}  # article URL -> newest sitemap/feed date seen in this run
        self.redirected: dict[str, str] = {}  # final URL -> the URL requested (its url_state key)
        self.validators: dict[str, Validators] = {}  # read by ConditionalRequestsMiddleware
        self.new_validators: dict[str, Validators] = {}
        self.unclean_sites: set[str] = set()  # discovery failed somewhere: keep no validators
        self._discovered: list[UrlMark] = []  # new URLs not written yet
        self.disk_full: BaseException | None = None  # set when a write found the disk full

    # -- start -----------------------------------------------------------------------------------
    def load(self, site_id: str) -> None:
        assert self.storage is not None
        self.states[site_id] = self.storage.site_url_states(site_id)
        self.stored |= self.storage.stored_urls(site_id)
        if not self.backfill:
            self.validators.update(self.storage.validators([site_id]))

    def resume(self, site_id: str) -> Iterator[str]:
        """URLs met before and not done: never fetched (a crash, a stop, --max-articles), failed and
        due, or refused by robots.txt (which may allow them now, and is asked before any fetch); each
        is marked seen and counted as it is taken."""
        now = datetime.now(UTC)
        for url, info in self.states[site_id].items():
            if info.status == "robots_denied":
                self.count("discovery/robots_recheck")
            elif info.status == "discovered" or (info.status == "failed" and self._due(info, now)):
                self.count("discovery/articles_pending")
            else:
                continue
            self.seen.add(url)
            yield url

    def _due(self, info: UrlInfo, now: datetime) -> bool:
        if info.attempts >= self.max_attempts:
            return False
        wait = self.retry_backoff * 2 ** max(info.attempts - 1, 0)
        return now - info.updated_at >= timedelta(seconds=wait)

    # -- discovery -------------------------------------------------------------------------------
    def admit(self, site_id: str, url: str, lastmod: str | None) -> bool:
        """Whether an article URL found by discovery is worth a request in this run. A new URL is kept
        for `record_discovered`, which must run before its request is made."""
        if lastmod and lastmod > self.lastmods.get(url, ""):
            self.lastmods[url] = lastmod
        if url in self.seen:
            return False
        states = self.states.setdefault(site_id, {})
        info = states.get(url)
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
        self.seen.add(url)
        if info is None:
            self._discovered.append(UrlMark(url, site_id, "discovered", lastmod=lastmod))
            states[url] = UrlInfo("discovered", 0, None, datetime.now(UTC))
        elif info.status == "stored":
            self.count("discovery/refetch_modified")
        elif info.status == "failed" and not self._due(info, datetime.now(UTC)):
            self.count("discovery/skipped_failed")
            return False
        elif info.status in ("not_article", "gone"):
            self.count(f"discovery/skipped_{info.status}")
            return False
        return True

    def record_discovered(self) -> None:
        """Write the URLs admitted for the first time since the last call (one write per discovery page)."""
        if not self._discovered:
            return
        assert self.storage is not None
        discovered, self._discovered = self._discovered, []
        try:
            self.storage.mark_urls(discovered)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self.disk_full = exc
            return
        self.count("discovery/new_urls", len(discovered))

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
        if self.storage is not None and self.disk_full is None:
            try:
                self.storage.mark_url(url, site_id, status, reason=reason)
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                self.disk_full = exc
        self.count(f"urls/{status}")

    # -- end ---------------------------------------------------------------------------------------
    def close(self, reason: str, site_ids: Iterable[str]) -> None:
        """Keep the validators of discovery pages only after a complete, clean run: a 304 next time
        then safely means "nothing new", because everything those pages led to was taken."""
        if self.storage is None:
            return
        try:
            if reason == "finished" and not self.backfill and self.disk_full is None:
                clean = set(site_ids) - self.unclean_sites
                kept = [v for v in self.new_validators.values() if v.site_id in clean]
                if kept:
                    self.storage.save_validators(kept)
        finally:
            self.storage.close()


def changed(lastmod: str | None, info: UrlInfo) -> bool:
    """Whether a stored article changed since it was stored, by its sitemap or feed date."""
    modified = to_utc(lastmod)
    if modified is None:
        return False
    # Without a stored lastmod, compare with when it was stored (the site's clock against ours).
    return modified > (info.lastmod or info.updated_at)
