"""Local replica of Vietnamese provincial news sites, served on 127.0.0.1, with ground truth.

`ReplicaServer` serves generated sites of the "post" family (baogialai, baolaocai) and the "a-id"
family (baocantho), each on its own port: robots.txt, sitemap index with monthly gzip sitemaps, RSS,
paginated listings, tag and category pages, and article pages with realistic clutter. Article text
is original generated Vietnamese; `ground_truth()` gives the fields a correct extractor returns.
"""

from __future__ import annotations

from provnews.crawler.replica.api import ReplicaServer
from provnews.crawler.replica.sitegen import DEFAULT_SITES, SPECS

__all__ = ["DEFAULT_SITES", "SPECS", "ReplicaServer"]
