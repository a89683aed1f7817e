"""DedupePipeline: one item per canonical URL within a crawl (the store upserts across crawls)."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from crawler.items import ArticleItem


class DedupePipeline:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            key = item.fields.canonical_url
            if key in self.seen:
                raise DropItem(f"duplicate: {item.url} is {key}")
            self.seen.add(key)
        return item
