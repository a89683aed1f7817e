"""The crawl's DNS resolver (TWISTED_DNS_RESOLVER): Scrapy's caching resolver, plus a check of every
address it returns, cached ones included, before any connection is made (see `crawler.politeness.addresses`).

Twisted asks the reactor's resolver for IP literals too (`HostnameEndpoint`), so `http://10.0.0.1/`
is refused here as well; a literal is checked without a lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer

from provnews.crawler.politeness.addresses import (
    AddressRefused,
    address_refusal,
    allowed_private_hosts,
    is_ip_literal,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.base import ReactorBase
    from twisted.internet.defer import Deferred


class GuardedResolver(CachingThreadedResolver):
    def __init__(
        self, reactor: ReactorBase, cache_size: int, timeout: float, allowed: frozenset[str] = frozenset()
    ) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.allowed = allowed

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.allowed = allowed_private_hosts(crawler.settings.get("PROVNEWS_ALLOW_PRIVATE_HOSTS"))
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        if is_ip_literal(name):
            try:
                return defer.succeed(self._checked(name.strip("[]"), name))
            except AddressRefused:
                return defer.fail()
        return super().getHostByName(name, timeout).addCallback(self._checked, name)

    def _checked(self, address: Any, name: str) -> Any:
        if name.lower().strip("[]") in self.allowed:
            return address
        refusal = address_refusal(str(address))
        if refusal:
            raise AddressRefused(f"{name} is a {refusal}, not allowed by PROVNEWS_ALLOW_PRIVATE_HOSTS")
        return address
