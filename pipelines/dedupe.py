"""DedupePipeline: one item per canonical URL within a crawl (the store upserts across crawls)."""

from __future__ import annotations

from typing import Any

from provnews.crawler.items import ArticleItem
from provnews.pipelines.dropped import Dropped


class DedupePipeline:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            key = item.fields.canonical_url
            if key in self.seen:
                raise Dropped("duplicate", f"{item.url} is {key}")
            self.seen.add(key)
        return item
