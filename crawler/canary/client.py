"""The canary's HTTP: a plain blocking client that keeps the site's delay between requests, and the
robots.txt of a host read as RFC 9309 says."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from protego import Protego
from scrapy.utils.gz import gunzip

from provnews.crawler.canary.report import SourceCheck
from provnews.crawler.politeness.addresses import allowed_private_hosts, host_refusal

MAX_BYTES = 16 * 1024 * 1024


@dataclass
class Fetched:
    url: str
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    final_url: str | None = None
    error: str | None = None  # network failure: no HTTP status at all
    headers: dict[str, str] = field(default_factory=dict)  # the response's, as received

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def problem(self) -> str:
        return self.error or f"HTTP {self.status}"


class AddressRefusedError(urllib.error.URLError):
    """The URL's host (or a redirect's) is on an address the crawl must not reach."""


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are followed only to hosts on public addresses (or allowed by name), as in a crawl."""

    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        refusal = host_refusal(urlsplit(newurl).hostname or "", self.allowed)
        if refusal is not None:
            raise AddressRefusedError(f"redirect to {newurl} refused: {refusal}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Client:
    """A blocking HTTP GET client keeping `delay` seconds between requests (one site, one client).
    Like the crawl, it connects to no private, loopback, link-local or reserved address, first or after
    a redirect, unless the host is named in `allowed_hosts` (default: $PROVNEWS_ALLOW_PRIVATE_HOSTS)."""

    def __init__(
        self, user_agent: str, timeout: float = 20.0, delay: float = 0.0, allowed_hosts: str | None = None
    ) -> None:
        self.user_agent = user_agent
        self.timeout = timeout
        self.delay = delay
        self._last = 0.0
        allowed = (
            allowed_hosts if allowed_hosts is not None else os.environ.get("PROVNEWS_ALLOW_PRIVATE_HOSTS")
        )
        self.allowed = allowed_private_hosts(allowed)
        self._opener = urllib.request.build_opener(_GuardedRedirects(self.allowed))

    def get(self, url: str) -> Fetched:
        wait = self._last + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            refusal = host_refusal(urlsplit(url).hostname or "", self.allowed)
            if refusal is not None:
                raise AddressRefusedError(refusal)
            request = urllib.request.Request(url, headers={"User-Agent": self.user_agent, "Accept": "*/*"})
            with self._opener.open(request, timeout=self.timeout) as response:
                return self._read(url, response, response.status)
        except urllib.error.HTTPError as exc:  # a status the server chose: keep it (and its body)
            try:
                return self._read(url, exc, exc.code)
            finally:
                exc.close()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return Fetched(url, error=f"unreachable: {_network_reason(exc)}")
        finally:
            self._last = time.monotonic()

    def _read(self, url: str, response: Any, status: int) -> Fetched:
        try:
            body = response.read(MAX_BYTES + 1)
        except OSError as exc:
            return Fetched(url, status, error=f"read failed: {_network_reason(exc)}")
        if len(body) > MAX_BYTES:
            return Fetched(url, status, error=f"larger than {MAX_BYTES} bytes")
        headers = response.headers
        if (headers.get("Content-Encoding") or "").lower() in ("gzip", "x-gzip"):
            try:
                body = gunzip(body, max_size=MAX_BYTES)
            except Exception as exc:  # a broken gzip stream is a server fault: report it
                return Fetched(url, status, error=f"bad gzip body: {exc}")
        received = {name: value for name, value in headers.items()}
        return Fetched(url, status, body, headers.get("Content-Type"), response.geturl(), headers=received)


def _network_reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, TimeoutError):
        return "timed out"
    return getattr(reason, "strerror", None) or str(reason)


class Robots:
    """robots.txt of one host, read per RFC 9309: 4xx allows everything; 5xx or no answer disallows."""

    def __init__(self, fetched: Fetched) -> None:
        self.check = SourceCheck("robots.txt", fetched.url, True, fetched.status)
        self.parser: Protego | None = None
        self.allow_all = False
        if fetched.error or fetched.status is None or fetched.status >= 500:
            self.check.ok = False
            self.check.reason = f"{fetched.problem()}; RFC 9309: everything is disallowed"
        elif fetched.status >= 400:
            self.allow_all = True
            self.check.reason = f"HTTP {fetched.status}: no robots.txt, everything allowed"
        else:
            self.parser = Protego.parse(fetched.body.decode("utf-8", "replace"))

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.allow_all:
            return True
        return self.parser is not None and bool(self.parser.can_fetch(url, user_agent))
