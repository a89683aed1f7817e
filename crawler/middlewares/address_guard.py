"""No request to an address the crawl must not reach (private, loopback, link-local, reserved; see
`crawler.politeness.addresses`), counted as `provnews/dropped/address_refused` with the reason.

The connection itself is guarded by `crawler.politeness.resolver.GuardedResolver` (TWISTED_DNS_RESOLVER),
which refuses such addresses before connecting; but Twisted turns any failed lookup into a bare
"no results for hostname lookup". So each request's host is asked of that resolver here first (the
answer is cached for the connection), which keeps the reason and spares the retries a DNS failure gets.
Runs first (before robots.txt), so no robots.txt of such a host is asked for either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object
from twisted.internet.error import DNSLookupError

from provnews.crawler.politeness.addresses import AddressRefused
from provnews.crawler.politeness.resolver import GuardedResolver

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class RefusedAddress(IgnoreRequest):
    """The request's host resolves to an address the crawl must not connect to."""


class AddressGuardMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        resolver = load_object(crawler.settings["TWISTED_DNS_RESOLVER"])
        if not (isinstance(resolver, type) and issubclass(resolver, GuardedResolver)):
            raise NotConfigured(
                "TWISTED_DNS_RESOLVER is not provnews.crawler.politeness.resolver.GuardedResolver"
            )
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        from twisted.internet import reactor  # its resolver is installed when the crawl starts

        resolver = getattr(reactor, "resolver", None)
        host = urlparse_cached(request).hostname
        if not host or not isinstance(resolver, GuardedResolver):
            return
        try:
            await maybe_deferred_to_future(resolver.getHostByName(host))
        except AddressRefused as exc:
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("provnews/dropped/address_refused")
            raise RefusedAddress(f"address_refused: {exc.args[0] if exc.args else exc}") from exc
        except DNSLookupError:
            return  # an ordinary DNS failure: the download fails and is counted as usual
