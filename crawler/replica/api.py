"""`ReplicaServer`: the public face of the replica (start/stop, URLs, registry, ground truth)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from types import TracebackType
from urllib.parse import urlsplit

from provnews.crawler.replica.content import nfc
from provnews.crawler.replica.render import esc
from provnews.crawler.replica.server import SiteRuntime
from provnews.crawler.replica.sitegen import (
    DEFAULT_SITES,
    SECTIONS,
    SPECS,
    VN_TZ,
    Block,
    SiteModel,
    build_site,
    ground_truth,
    is_replica_site,
    spec_for,
)

ARTICLE_PATTERNS = {"post": r"-post\d+\.html$", "a-id": r"-a\d+\.html$"}
PAGINATION = {"post": "?page={n}", "a-id": "?p={n}"}


class ReplicaServer:
    """Generated provincial news sites served on 127.0.0.1 (or one loopback address each), one port
    per site.

    >>> with ReplicaServer(articles_per_site=10) as replica:
    ...     url = replica.base_url("baolaocai")
    """

    def __init__(
        self,
        sites: list[str] | None = None,
        articles_per_site: int = 24,
        seed: int = 7,
        host: str = "127.0.0.1",
        port_base: int | None = None,
        feed_size: int = 10,
        undated: bool = False,
        news_sitemap: bool = False,
        latency: float = 0.0,
        hosts: list[str] | None = None,
    ) -> None:
        """`hosts`: one loopback address per site, in order (`127.0.0.2`, ...), instead of `host` for
        all, so that each site is its own host, as for a crawler's per-host politeness; `feed_size`:
        items per RSS feed; `undated`: article pages carry no date anywhere (discovery alone can date
        them); `news_sitemap`: sitemaps carry Google News publication dates; `latency`: seconds each
        answer takes (so that requests a crawler makes at once to a site overlap, and
        `max_concurrency` sees them). A site id may also be a numbered copy of one ("baogialai-2")."""
        self.site_ids = list(sites or DEFAULT_SITES)
        self.latency = latency
        unknown = [s for s in self.site_ids if not is_replica_site(s)]
        if unknown:
            raise ValueError(f"unknown replica site(s) {unknown}; known: {sorted(SPECS)}")
        if articles_per_site < 2:
            raise ValueError("articles_per_site must be at least 2")
        self.articles_per_site = articles_per_site
        self.seed = seed
        if hosts is not None and len(hosts) != len(self.site_ids):
            raise ValueError(f"{len(hosts)} hosts for {len(self.site_ids)} sites")
        self.hosts = list(hosts) if hosts is not None else [host] * len(self.site_ids)
        self.host = host
        self.port_base = port_base
        self.models: dict[str, SiteModel] = {s: build_site(s, articles_per_site, seed) for s in self.site_ids}
        for model in self.models.values():
            model.feed_size, model.undated, model.news_sitemap = feed_size, undated, news_sitemap
        self._runtimes: dict[str, SiteRuntime] = {}

    # ---- lifecycle ----------------------------------------------------------------------------
    def start(self) -> ReplicaServer:
        if self._runtimes:
            return self
        try:
            for index, site_id in enumerate(self.site_ids):
                port = 0 if self.port_base is None else self.port_base + index
                self._runtimes[site_id] = SiteRuntime(
                    self.models[site_id], self.hosts[index], port, self.latency
                )
        except OSError:
            self.stop()
            raise
        for runtime in self._runtimes.values():
            runtime.thread.start()
        return self

    def stop(self) -> None:
        runtimes, self._runtimes = self._runtimes, {}
        for runtime in runtimes.values():
            if runtime.thread.is_alive():
                runtime.httpd.shutdown()
            runtime.httpd.server_close()
            if runtime.thread.is_alive():
                runtime.thread.join(timeout=5)

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _runtime(self, site_id: str) -> SiteRuntime:
        if site_id not in self.models:
            raise KeyError(f"unknown replica site {site_id!r}; serving: {self.site_ids}")
        if site_id not in self._runtimes:
            raise RuntimeError("the replica is not running; call start() or use it as a context manager")
        return self._runtimes[site_id]

    # ---- information --------------------------------------------------------------------------
    def base_url(self, site_id: str) -> str:
        return self._runtime(site_id).base_url

    def sites_toml(
        self, *, sitemaps: bool = True, feeds: bool = True, listings: tuple[str, ...] | None = None
    ) -> str:
        """A site registry (config/sites.toml format) for the running replica; `sitemaps=False` makes
        listing-only sites, `feeds=False` sites without feeds, `listings` the section slugs listed
        (default: all)."""
        slugs = listings if listings is not None else tuple(slug for slug, _ in SECTIONS)
        blocks = []
        for site_id in self.site_ids:
            spec, base = spec_for(site_id), self.base_url(site_id)
            feed = "rss/home.rss" if spec.family == "post" else "rss/cate/thoi-su/"
            lines = [
                "[[site]]",
                f"id = {_q(site_id)}",
                f"name = {_q(spec.name)}",
                f"province = {_q(spec.province)}",
                f"base_url = {_q(base)}",
                f"family = {_q(spec.family)}",
                f"feeds = [{_q(base + feed)}]" if feeds else "feeds = []",
                f"sitemaps = [{_q(base + 'sitemap.xml')}]" if sitemaps else "sitemaps = []",
                "listings = [" + ", ".join(_q(f"{base}{slug}/") for slug in slugs) + "]",
                f"pagination = {_q(PAGINATION[spec.family])}",
                "max_listing_pages = 10",
                f"article_pattern = {_q(ARTICLE_PATTERNS[spec.family])}",
            ]
            if spec.dateline:
                lines.append(f"dateline = {_q(spec.dateline)}")
            lines += [
                "delay = 0",
                "concurrency = 4",
                f"note = {_q('local replica (provnews.crawler.replica), seed ' + str(self.seed))}",
            ]
            blocks.append("\n".join(lines))
        return (
            "# Generated by provnews.crawler.replica for the running replica servers.\n\n"
            + "\n\n".join(blocks)
            + "\n"
        )

    def ground_truth(self, site_id: str | None = None) -> dict[str, dict[str, object]]:
        """Canonical article URL -> the fields a correct extractor returns for that page."""
        out: dict[str, dict[str, object]] = {}
        for sid in [site_id] if site_id else self.site_ids:
            runtime = self._runtime(sid)
            with runtime.lock:
                for art in runtime.model.articles:
                    entry = ground_truth(runtime.model, art, runtime.base_url)
                    out[str(entry["url"])] = entry
        return out

    def forbidden_urls(self, site_id: str) -> list[str]:
        """Article-pattern URLs disallowed by robots.txt (linked from a listing, never to be fetched)."""
        runtime = self._runtime(site_id)
        return [runtime.base + runtime.model.private.path(runtime.model.family)]

    def request_log(self, site_id: str) -> list[tuple[str, str, int]]:
        runtime = self._runtime(site_id)
        with runtime.log_lock:
            return list(runtime.log)

    def max_concurrency(self) -> dict[str, int]:
        """Per site, the most requests it was answering at one moment since it started."""
        out = {}
        for site_id, runtime in self._runtimes.items():
            out[site_id] = runtime.in_flight.most
        return out

    def clear_log(self) -> None:
        for runtime in self._runtimes.values():
            with runtime.log_lock:
                runtime.log.clear()

    # ---- mutations ----------------------------------------------------------------------------
    def update_article(self, site_id: str, url: str, new_paragraph: str) -> None:
        """Append a paragraph to an article's body (before the byline) and bump its modified time."""
        runtime = self._runtime(site_id)
        path = urlsplit(url).path or url
        text = " ".join(nfc(new_paragraph).split())
        if not text:
            raise ValueError("new_paragraph is empty")
        with runtime.lock:
            model = runtime.model
            art = next((a for a in model.articles if a.path(model.family) == path), None)
            if art is None:
                raise KeyError(f"no article {url!r} on replica site {site_id!r}")
            tag = next((b.tag for b in art.blocks if b.kind == "p"), "p")
            art.blocks.append(Block("p", text=text, html=esc(text), tag=tag))
            now = datetime.now(VN_TZ).replace(microsecond=0)
            if model.family == "a-id":
                now = now.replace(second=0)
            art.modified = max(now, art.modified + timedelta(minutes=1))

    def redesign(self, site_id: str, at: datetime | None) -> None:
        """Serve the site in two template versions: articles published from ``at`` on with version 2,
        older ones (its archive) with version 1, as after a site's redesign; None undoes it."""
        runtime = self._runtime(site_id)
        with runtime.lock:
            runtime.model.redesigned_at = at

    def set_crawl_delay(self, site_id: str, seconds: float | None) -> None:
        """Announce a Crawl-delay in the site's robots.txt (None: no such line, the default)."""
        runtime = self._runtime(site_id)
        with runtime.lock:
            runtime.model.crawl_delay = seconds

    def set_template_version(self, site_id: str, version: int) -> None:
        """Version 2 renames the article body container class (breaks the family's body selector)."""
        if version not in (1, 2):
            raise ValueError("template version must be 1 or 2")
        runtime = self._runtime(site_id)
        with runtime.lock:
            runtime.model.template_version = version


def _q(value: str) -> str:
    """A TOML basic string (JSON string syntax is a subset for these values)."""
    return json.dumps(value, ensure_ascii=False)
