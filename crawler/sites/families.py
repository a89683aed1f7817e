"""Which parser a page gets: the registry's family for the page's host, else a guess from its URL."""

from __future__ import annotations

import re

from provnews.crawler.discovery.urls import host_of
from provnews.crawler.sites.registry import Site

# URL shapes of the CMS families (vietnamese-sites.md §2.1), most specific first.
URL_FAMILIES = (
    ("legacy", re.compile(r"\.aspx$|/viewer\.aspx$")),
    ("one-off", re.compile(r"-postid\d+\.bbg$")),
    ("post", re.compile(r"-post\d+\.html$")),
    ("a-id", re.compile(r"-a\d+\.html$")),
    ("yyyymm", re.compile(r"/\d{6}/[^/]+-[0-9a-f]{5,}/?$")),
    ("htm-id", re.compile(r"-\d+\.htm$")),
    ("html-id", re.compile(r"-\d+\.html$")),
)


def site_for_url(url: str, sites: list[Site]) -> Site | None:
    host = host_of(url)
    for site in sites:
        if host == site.domain or host in site.aliases:
            return site
    return None


def family_for_url(url: str, sites: list[Site]) -> str:
    site = site_for_url(url, sites)
    if site is not None:
        return site.family
    path = url.split("?", 1)[0]
    for family, pattern in URL_FAMILIES:
        if pattern.search(path):
            return family
    return "generic"
