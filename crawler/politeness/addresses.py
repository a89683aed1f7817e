"""Which network addresses a crawl may connect to.

A registry, sitemap or redirect written by a stranger can point the crawler at the machine's own
network: the cloud metadata service (169.254.169.254), a router, a database on 10.x or 127.0.0.1. Such
addresses (private, loopback, link-local, reserved, multicast, unspecified; IPv6 too, and IPv4 mapped
into IPv6) are refused unless the host name is listed in PROVNEWS_ALLOW_PRIVATE_HOSTS, as the local
replica, `provnews demo` and the tests list 127.0.0.1 and localhost.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable

from twisted.internet.error import DNSLookupError


class AddressRefused(DNSLookupError):
    """A host resolved to an address the crawl must not connect to (raised before any connection)."""


def address_refusal(address: str) -> str | None:
    """Why the crawler must not connect to this IP address, or None when it is a public one."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return f"{address!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return f"{kind.replace('_', '-')} address {ip}"
    if not ip.is_global:  # shared address space (100.64/10) and the like
        return f"non-public address {ip}"
    return None


def allowed_private_hosts(value: str | Iterable[str] | None) -> frozenset[str]:
    """The PROVNEWS_ALLOW_PRIVATE_HOSTS setting: host names separated by commas or spaces."""
    if value is None:
        return frozenset()
    names = re.split(r"[,\s]+", value) if isinstance(value, str) else value
    return frozenset(name.strip().strip("[]").lower() for name in names if name.strip())


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def host_refusal(host: str, allowed: frozenset[str]) -> str | None:
    """Why a blocking client (canary, `sites add`) must not connect to this host, or None: every address
    it resolves to is public, or the host is allowed by name. The crawl checks inside its resolver
    instead (`crawler.politeness.resolver`); a client that resolves again when it connects could in principle
    be answered differently (DNS rebinding), which a live check of a known site accepts."""
    name = host.strip("[]").lower()
    if name in allowed:
        return None
    if is_ip_literal(name):
        refusal = address_refusal(name)
    else:
        try:
            infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return None  # the connection will fail and say why
        refusal = next((r for info in infos if (r := address_refusal(str(info[4][0]))) is not None), None)
    if refusal is None:
        return None
    return f"{name} is a {refusal}, not allowed by PROVNEWS_ALLOW_PRIVATE_HOSTS"
