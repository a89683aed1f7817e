"""URL normalisation: one article, one URL, whatever tracking parameters or host alias it came with."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|zarsrc|_ga|mc_cid|mc_eid|gidzl)$", re.I)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_url(url: str, *, canonical_host: str | None = None, aliases: Iterable[str] = ()) -> str:
    """Lower-case scheme and host, drop default ports, fragments and tracking parameters; map alias
    hosts (www., m.) onto the canonical host, keeping the canonical host's scheme."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and _DEFAULT_PORTS.get(scheme) == port:
        port = None
    netloc = host if port is None else f"{host}:{port}"
    if canonical_host:
        alias_set = {a.lower() for a in aliases}
        if netloc in alias_set:
            netloc = canonical_host.lower()
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    )
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, query, ""))


def host_of(url: str) -> str:
    """host[:port] of a URL, lower-case, without a default port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or _DEFAULT_PORTS.get(parts.scheme.lower()) == port:
        return host
    return f"{host}:{port}"
