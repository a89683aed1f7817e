"""NormalizePipeline: one canonical URL per article, on the site's canonical host; every field within
its bound (`pipelines.bounds`): a value cut is counted as `provnews/normalize/truncated/<field>`, an
article whose URL or text is beyond reason is dropped with that reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from crawler.items import ArticleItem
from crawler.registry import Site, load_sites
from crawler.text import clean_text
from crawler.urls import host_of, normalize_url
from pipelines.bounds import bound_fields

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def normalize_article(item: ArticleItem, site: Site | None) -> ArticleItem:
    """Canonical URL normalised (tracking parameters, aliases, default ports); a canonical URL that
    points off the site is not trusted; title, sapo and byline cleaned."""
    f = item.fields
    host = site.domain if site else None
    aliases = site.aliases if site else []
    f.url = normalize_url(f.url, canonical_host=host, aliases=aliases)
    canonical = normalize_url(f.canonical_url or f.url, canonical_host=host, aliases=aliases)
    if site and host_of(canonical) not in (site.domain, *site.aliases):
        canonical = f.url
    f.canonical_url = canonical
    f.title = clean_text(f.title)
    f.sapo = clean_text(f.sapo) if f.sapo else None
    f.byline = clean_text(f.byline) if f.byline else None
    return item


class NormalizePipeline:
    def __init__(self, sites: dict[str, Site], crawler: Crawler | None = None) -> None:
        self.sites = sites
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        sites = {s.id: s for s in load_sites(crawler.settings.get("PROVNEWS_SITES_FILE") or None)}
        sites.update({s.id: s for s in getattr(crawler.spider, "sites", [])})
        return cls(sites, crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        normalize_article(item, self.sites.get(item.site_id))
        bounded = bound_fields(vars(item.fields))
        stats = self.crawler.stats if self.crawler is not None else None
        if stats is not None:
            for kind, counts in (("truncated", bounded.truncated), ("repaired", bounded.repaired)):
                for name, n in counts.items():
                    stats.inc_value(f"provnews/normalize/{kind}/{name}", n)
        if bounded.drop:
            raise DropItem(f"{bounded.drop}: {item.url[:200]}")
        return item
