"""Scrapy's RetryMiddleware, polite: it waits before retrying, and the whole site waits with it.

- 429 and 503 with Retry-After (seconds or an HTTP date): the site's download slot pauses that long,
  then the request is retried; a wait beyond PROVNEWS_RETRY_AFTER_MAX is not honoured in this run: the
  site pauses for the maximum and the URL is left for a later run.
- other retryable answers (5xx, 408) and network errors: exponential back-off,
  PROVNEWS_RETRY_BACKOFF_BASE × 2^(retries so far), capped at PROVNEWS_RETRY_AFTER_MAX.
RETRY_TIMES still bounds the retries. Stats: provnews/retry/*.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message

from provnews.crawler.politeness.scrapy_private import hold_slot

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or bad."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class PoliteRetryMiddleware(RetryMiddleware):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteRetryMiddleware:
        mw = super().from_crawler(crawler)
        mw.max_wait = crawler.settings.getfloat("PROVNEWS_RETRY_AFTER_MAX", 120.0)
        mw.backoff_base = crawler.settings.getfloat("PROVNEWS_RETRY_BACKOFF_BASE", 2.0)
        return mw

    max_wait: float
    backoff_base: float

    def process_response(
        self, request: Request, response: Response, spider: object = None
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = None
        if response.status in (429, 503):
            wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is not None:
            if wait > self.max_wait:
                # Too long to wait for in this run: rest the site, leave the URL for a later run.
                self._inc("retry_after_too_long", response.status)
                request.meta["provnews_retry_later"] = "retry_after"  # read by the spider's errback
                self._pause(request, self.max_wait)
                logger.warning(
                    "%s asks to wait %.0f s (Retry-After), more than %.0f s: left for a later run",
                    request.url,
                    wait,
                    self.max_wait,
                )
                return response
            self._inc("retry_after", response.status)
        else:
            wait = self._backoff(request)
        retry = self.retry_request(request, response_status_message(response.status))
        if retry is None:
            return response
        self._pause(request, wait)
        return retry

    def process_exception(
        self, request: Request, exception: Exception, spider: object = None
    ) -> Request | Response | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self.retry_request(request, exception)
        if retry is not None:
            self._pause(request, self._backoff(request))
        return retry

    def retry_request(self, request: Request, reason: str | Exception) -> Request | None:
        """The request again, or None when its retries are spent (Scrapy counts and logs either)."""
        assert self.crawler.spider is not None
        return get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=request.meta.get("give_up_log_level", self.give_up_log_level),
        )

    def _backoff(self, request: Request) -> float:
        return min(self.backoff_base * 2 ** request.meta.get("retry_times", 0), self.max_wait)

    def _pause(self, request: Request, wait: float) -> None:
        """No request to this site before `wait` seconds from now (its download slot waits)."""
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("provnews/retry/pauses")
        stats.max_value("provnews/retry/longest_pause_seconds", round(wait, 3))
        key = request.meta.get("download_slot") or urlparse_cached(request).hostname or ""
        hold_slot(self.crawler, key, wait)

    def _inc(self, what: str, status: int) -> None:
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(f"provnews/retry/{what}/{status}")
