"""NormalizePipeline: one canonical URL per article, on the site's canonical host; every field within
its bound (`storage.bounds`): a value cut is counted as `provnews/normalize/truncated/<field>`, an
article whose URL or text is beyond reason is dropped with that reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from provnews.crawler.discovery.urls import host_of, normalize_url, printable_url
from provnews.crawler.extensions.crawl_registry import crawl_sites
from provnews.crawler.items import ArticleItem
from provnews.crawler.sites.registry import Site
from provnews.crawler.text.vietnamese import clean_paragraphs, clean_text
from provnews.pipelines.dropped import Dropped
from provnews.storage import bound_fields

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def normalize_article(item: ArticleItem, site: Site | None) -> ArticleItem:
    """Canonical URL normalised (tracking parameters, aliases, default ports); a canonical URL that
    points off the site is not trusted; every text field cleaned (`clean_text`: no control characters,
    no bidi controls outside right-to-left text), whatever the parser did."""
    f = item.fields
    host = site.domain if site else None
    aliases = site.aliases if site else []
    f.url = normalize_url(f.url, canonical_host=host, aliases=aliases)
    canonical = normalize_url(f.canonical_url or f.url, canonical_host=host, aliases=aliases)
    if site and host_of(canonical) not in (site.domain, *site.aliases):
        canonical = f.url
    f.canonical_url = canonical
    f.title = clean_text(f.title)
    f.text = "\n\n".join(clean_paragraphs(f.text.split("\n")))
    f.sapo = _clean_optional(f.sapo)
    f.byline = _clean_optional(f.byline)
    f.section = _clean_optional(f.section)
    f.dateline = _clean_optional(f.dateline)
    f.authors = clean_paragraphs(f.authors)
    f.tags = clean_paragraphs(f.tags)
    for image in f.images:
        image.url = printable_url(image.url)
        image.caption = _clean_optional(image.caption)
    return item


def _clean_optional(value: str | None) -> str | None:
    return (clean_text(value) or None) if value else None


class NormalizePipeline:
    def __init__(self, sites: dict[str, Site], crawler: Crawler | None = None) -> None:
        self.sites = sites
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawl_sites(crawler), crawler)

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
            raise Dropped(bounded.drop, item.url[:200])
        return item
