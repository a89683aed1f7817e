"""URL normalisation: one article, one URL, whatever tracking parameters, host alias, AMP variant,
scheme or trailing slash it came with."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|zarsrc|_ga|_gl|mc_cid|mc_eid|gidzl|igshid"
    r"|ref_src|cmpid|ocid)$",
    re.I,
)
# Query parameters that only ask for the AMP rendering of the same article.
_AMP_PARAMS = re.compile(r"^(amp|outputtype|output)$", re.I)
_AMP_VALUES = ("", "1", "true", "amp")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Hosts that serve the same pages as the bare domain.
_HOST_PREFIXES = ("www.", "m.", "amp.", "mobile.")


# Characters no URL may carry raw (controls, bidi formatting): percent-encoded, as browsers send them.
_UNSAFE_IN_URL = re.compile("[\x00-\x20\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _percent_encode(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8"))


def printable_url(url: str) -> str:
    """The URL with controls, spaces and bidi formatting characters percent-encoded, nothing else changed."""
    return _UNSAFE_IN_URL.sub(_percent_encode, url.strip())


def _strip_amp(path: str) -> str:
    """/amp/x.html, /x.html/amp, /x/amp/, /x.amp.html and /x.amp → the regular article path."""
    path = re.sub(r"^/amp(?=/)", "", path, flags=re.I)
    path = re.sub(r"(\.html?)/amp/?$", r"\1", path, flags=re.I)
    path = re.sub(r"/amp/?$", "/", path, flags=re.I)
    path = re.sub(r"\.amp(?=\.html?$)", "", path, flags=re.I)
    path = re.sub(r"(?<=[^/])\.amp$", "", path, flags=re.I)
    return path or "/"


def _bare(host: str) -> str:
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix) :]
    return host


# Not w3lib's `canonicalize_url` (it sorts the query arguments: stored articles' identity keys would
# change) nor `url_query_cleaner` (exact names where tracking is a pattern, `utm_*`; raw pieces kept where
# the stored form re-encodes them, `q=a b` → `q=a+b`), nor courlan's `normalize_url` (sorts the query and
# drops blank parameters). Each would give stored articles new keys, hence duplicates.
def normalize_url(
    url: str,
    *,
    canonical_host: str | None = None,
    aliases: Iterable[str] = (),
    canonical_scheme: str | None = None,
) -> str:
    """Lower-case scheme and host; drop default ports, fragments, tracking parameters and AMP markers;
    percent-encode controls, spaces and bidi formatting characters.
    With `canonical_host`, alias hosts (the listed ones, and
    www./m./amp. forms of the same domain) become the canonical host, and `canonical_scheme` (the site's,
    e.g. "https") replaces the scheme of the site's URLs."""
    parts = urlsplit(printable_url(url))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and _DEFAULT_PORTS.get(scheme) == port:
        port = None
    netloc = host if port is None else f"{host}:{port}"
    if canonical_host:
        canonical = canonical_host.lower()
        alias_set = {a.lower() for a in aliases}
        if netloc in alias_set or (port is None and _bare(host) == _bare(canonical)):
            netloc = canonical
        if canonical_scheme and netloc == canonical and scheme in _DEFAULT_PORTS:
            scheme = canonical_scheme.lower()
    params = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING.match(k) and not (_AMP_PARAMS.match(k) and v.lower() in _AMP_VALUES)
    ]
    # The trailing slash stays: some servers answer only one form. `url_identity` ignores it.
    path = _strip_amp(parts.path or "/")
    return urlunsplit((scheme, netloc, path, urlencode(params), ""))


def url_identity(url: str) -> str:
    """The article's identity key: sha1 of its canonical URL, counting http and https as one scheme
    and `/x/` as `/x` (the URL itself must keep its form to stay fetchable)."""
    parts = urlsplit(url)
    scheme = "https" if parts.scheme.lower() in _DEFAULT_PORTS else parts.scheme
    path = parts.path.rstrip("/") or "/"
    return hashlib.sha1(urlunsplit((scheme, parts.netloc, path, parts.query, "")).encode("utf-8")).hexdigest()


def host_of(url: str) -> str:
    """host[:port] of a URL, lower-case, without a default port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or _DEFAULT_PORTS.get(parts.scheme.lower()) == port:
        return host
    return f"{host}:{port}"
