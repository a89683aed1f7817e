"""The accounts of one crawl run: every article URL the run sets out to fetch ("met") ends the run in
exactly one outcome, counted per site and reason in the crawl stats:

- stored: new, updated or unchanged;
- dropped: a final answer that leaves nothing to store (not_article, text_too_short, gone,
  robots_denied, page_too_large, duplicate...);
- failed: it could not be fetched, extracted or stored (dns, connection_refused, timeout, tls,
  http_503, robots_unreachable, extract_error, store_error...); the URL is kept for a later run;
- pending: not taken up in this run (stopped, limit_reached, retry_after), left for a later run.

So `met = stored + dropped + failed + pending` for every site. Reasons are free keys: a component that
settles a URL with a reason of its own needs no change here. Stats keys: `provnews/site/<site>/met`,
`provnews/outcome/<site>/<class>/<reason>`; discovery requests (robots.txt aside) are counted apart,
`provnews/site/<site>/sources/ok` and `provnews/site/<site>/sources/failed/<reason>`.

The verdict on each site and the run's outcome are computed from these counters alone (`site_account`,
`site_verdict`, `run_outcome`), once, into the run row, which the crawl summary, `provnews runs`,
`runs show` and `health` all read.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Protocol

STORED, DROPPED, FAILED, PENDING = "stored", "dropped", "failed", "pending"
CLASSES = (STORED, DROPPED, FAILED, PENDING)

# Failures of the network, not of provnews: expected on a bad day, reported as one line per site.
NETWORK_REASONS = ("dns", "connection_refused", "timeout", "tls", "connection_lost", "truncated")
# Failures that make a site's run a failure by themselves (the data could not be kept).
STORAGE_REASONS = ("store_error", "disk_full")

REASON_TEXT = {
    "dns": "DNS lookup failed",
    "connection_refused": "connection refused",
    "timeout": "timed out",
    "tls": "TLS error",
    "connection_lost": "connection lost",
    "truncated": "truncated answers",
    "robots_unreachable": "robots.txt unreachable",
    "store_error": "storage errors",
    "disk_full": "disk full",
    "extract_error": "parser crashed",
}


def reason_key(text: str) -> str:
    """A reason as a stats key: lower case, letters, digits and underscores."""
    return re.sub(r"[^a-z0-9_]+", "_", text.strip().lower()).strip("_")[:60] or "unknown"


def reason_text(reason: str) -> str:
    if reason.startswith("http_"):
        return f"HTTP {reason[5:]}"
    return REASON_TEXT.get(reason, reason.replace("_", " "))


def failure_reason(exc: BaseException | None) -> str:
    """The reason key of a failed download: dns, connection_refused, timeout, tls, ... or the type."""
    # Scrapy and Twisted are imported here: `provnews runs` reads the accounts without loading them.
    from scrapy.exceptions import (
        CannotResolveHostError,
        DownloadCancelledError,
        DownloadConnectionRefusedError,
        DownloadTimeoutError,
        ResponseDataLossError,
    )
    from twisted.internet import error as tx_error

    if isinstance(exc, (CannotResolveHostError, tx_error.DNSLookupError)):
        return "dns"
    if isinstance(exc, (DownloadConnectionRefusedError, tx_error.ConnectionRefusedError)):
        return "connection_refused"
    if isinstance(exc, (DownloadTimeoutError, tx_error.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(exc, DownloadCancelledError):  # Scrapy cancels a transfer over DOWNLOAD_MAXSIZE
        return "page_too_large"
    if isinstance(exc, ResponseDataLossError):
        return "truncated"
    message = str(exc).lower()
    if any(word in message for word in ("ssl", "tls", "certificate", "handshake")):
        return "tls"
    if isinstance(exc, (tx_error.ConnectionLost, tx_error.ConnectionDone)) or "connection" in message:
        return "connection_lost"
    return reason_key(type(exc).__name__) if exc is not None else "unknown"


def over_size_limit(exc: BaseException | None) -> bool:
    """Whether Scrapy ignored a response for decompressing past DOWNLOAD_MAXSIZE (a compression bomb).
    Its HttpCompressionMiddleware says so only in the IgnoreRequest's message."""
    from scrapy.exceptions import IgnoreRequest

    return isinstance(exc, IgnoreRequest) and "exceeded DOWNLOAD_MAXSIZE" in str(exc)


class CountFn(Protocol):
    def __call__(self, key: str, n: int = 1) -> None: ...


class Ledger:
    """The article URLs of a run not settled yet; each is settled once, the first time. `count`
    receives the stats keys without their `provnews/` prefix."""

    def __init__(self, count: CountFn) -> None:
        self.count = count
        self.open: dict[str, str] = {}  # URL -> site id
        self.open_per_site: Counter[str] = Counter()

    def met(self, site_id: str, url: str) -> None:
        if url not in self.open:
            self.open[url] = site_id
            self.open_per_site[site_id] += 1
            self.count(f"site/{site_id}/met")

    def open_for(self, site_id: str) -> int:
        """How many URLs of the site are not settled yet."""
        return self.open_per_site[site_id]

    def _close(self, url: str) -> str | None:
        site_id = self.open.pop(url, None)
        if site_id is not None:
            self.open_per_site[site_id] -= 1
        return site_id

    def settle(self, url: str, outcome: str, reason: str) -> bool:
        """Count the URL's outcome; False when it was not open (settled already, or never met)."""
        site_id = self._close(url)
        if site_id is None:
            return False
        self.count(f"outcome/{site_id}/{outcome}/{reason_key(reason)}")
        return True

    def settle_stored(self, site_id: str, urls: list[str], counts: dict[str, int]) -> None:
        """Settle a committed batch of one site as stored, counted as new, updated and unchanged."""
        left = sum(1 for url in urls if self._close(url) is not None)
        for reason, n in counts.items():
            n = min(n, left)
            left -= n
            if n:
                self.count(f"outcome/{site_id}/stored/{reason}", n)
        if left:  # stored rows the storage did not report per kind (not expected)
            self.count(f"outcome/{site_id}/stored/other", left)

    def open_urls(self, site_id: str) -> list[str]:
        """The URLs of one site still open."""
        if not self.open_per_site[site_id]:
            return []
        return [url for url, site in self.open.items() if site == site_id]

    def settle_site(self, site_id: str, outcome: str, reason: str) -> int:
        """Settle the URLs of one site still open; returns how many."""
        urls = self.open_urls(site_id)
        for url in urls:
            self.settle(url, outcome, reason)
        return len(urls)

    def settle_open(self, outcome: str, reason: str) -> int:
        """Settle every URL still open (the run ends); returns how many."""
        urls = list(self.open)
        for url in urls:
            self.settle(url, outcome, reason)
        return len(urls)


def pending_reason(finish_reason: str) -> str:
    """Why the URLs still open when a run ends were left: a stop, or the reason the run ended."""
    return "stopped" if finish_reason in ("shutdown", "finished") else reason_key(finish_reason)


def site_account(stats: dict[str, Any], site_id: str) -> dict[str, Any]:
    """A site's counters as kept in the run row: met, outcomes by class and reason, sources."""
    outcomes: dict[str, Counter[str]] = {cls: Counter() for cls in CLASSES}
    prefix = f"provnews/outcome/{site_id}/"
    for key, value in stats.items():
        if key.startswith(prefix):
            cls, _, reason = key.removeprefix(prefix).partition("/")
            if cls in outcomes:
                outcomes[cls][reason] += int(value)
    sources_prefix = f"provnews/site/{site_id}/sources/failed/"
    sources_failed = {
        k.removeprefix(sources_prefix): int(v) for k, v in stats.items() if k.startswith(sources_prefix)
    }
    robots_why = stats.get(f"provnews/site/{site_id}/robots_why")
    return {
        "met": int(stats.get(f"provnews/site/{site_id}/met", 0)),
        **{cls: dict(sorted(outcomes[cls].items())) for cls in CLASSES},
        "sources": {
            "ok": int(stats.get(f"provnews/site/{site_id}/sources/ok", 0)),
            "failed": dict(sorted(sources_failed.items())),
        },
        **({"robots_why": robots_why} if robots_why else {}),
    }


def totals(account: dict[str, Any]) -> dict[str, int]:
    """met, stored, dropped, failed and pending of an account: a site's (reason -> count per class) or
    a run's (a count per class)."""

    def total(value: Any) -> int:
        return int(value) if isinstance(value, int) else sum((value or {}).values())

    return {"met": int(account.get("met", 0))} | {cls: total(account.get(cls)) for cls in CLASSES}


def balances(account: dict[str, Any]) -> bool:
    t = totals(account)
    return t["met"] == t[STORED] + t[DROPPED] + t[FAILED] + t[PENDING]


def site_verdict(account: dict[str, Any]) -> tuple[str, str | None]:
    """("ok", None) or ("failed", why): storage errors, robots.txt unreachable, the site unreachable
    (every discovery request failed and no article came back), or every article fetch failed."""
    t = totals(account)
    failed: dict[str, int] = account.get(FAILED) or {}
    sources: dict[str, Any] = account.get("sources") or {}
    sources_failed: dict[str, int] = sources.get("failed") or {}
    storage = {r: n for r, n in failed.items() if r in STORAGE_REASONS}
    if storage:
        return "failed", ", ".join(f"{reason_text(r)} ({n} URLs)" for r, n in storage.items())
    answered = t[STORED] + t[DROPPED] > 0
    robots = failed.get("robots_unreachable", 0) + sources_failed.get("robots_unreachable", 0)
    if robots and not answered:
        why = str(account.get("robots_why") or "no answer")
        if why in NETWORK_REASONS:  # robots.txt is the first request: the host itself did not answer
            return "failed", f"unreachable: {reason_text(why)}"
        return "failed", f"robots.txt unreachable ({reason_text(why)})"
    if sources_failed and not sources.get("ok") and not answered:
        top = max(sources_failed, key=lambda r: sources_failed[r])
        return "failed", f"unreachable: {reason_text(top)}"
    if t[FAILED] and not answered:
        top = max(failed, key=lambda r: failed[r])
        return "failed", f"every fetch failed ({reason_text(top)})"
    return "ok", None


def run_outcome(finish_reason: str | None, site_statuses: list[str], failure: str | None = None) -> str:
    """finished when Scrapy finished and every site is ok; failed when none is; partial otherwise.
    A stop is "interrupted"; anything else Scrapy ends with (memory limit, disk full) is "failed"."""
    if failure:
        return "failed"
    if finish_reason == "shutdown":
        return "interrupted"
    if finish_reason not in ("finished", "closespider_itemcount"):
        return "failed"
    if not site_statuses or all(s == "ok" for s in site_statuses):
        return "finished"
    if all(s != "ok" for s in site_statuses):
        return "failed"
    return "partial"
