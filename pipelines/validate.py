"""ValidatePipeline: drops what is not an article, with the reason counted in the crawl stats."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from provnews.crawler.items import ArticleItem
from provnews.crawler.parsers.fields import ArticleFields
from provnews.pipelines.dropped import Dropped

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def problem(fields: ArticleFields, min_text_chars: int = 150, *, need_date: bool = True) -> str | None:
    """Why these fields are not a storable article (a short reason code), or None; `need_date=False`
    accepts an article without a date (`provnews extract` shows it with `published_at: null`)."""
    if not fields.title:
        return "no_title"
    if len(fields.text) < min_text_chars:
        return "text_too_short"
    if need_date and not fields.published_at:
        return "no_date"
    if not unicodedata.is_normalized("NFC", fields.text):
        return "text_not_nfc"
    if fields.text.count("\ufffd") > max(2, len(fields.text) // 1000):
        return "mojibake"
    return None


class ValidatePipeline:
    def __init__(self, min_text_chars: int) -> None:
        self.min_text_chars = min_text_chars

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler.settings.getint("PROVNEWS_MIN_TEXT_CHARS"))

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            reason = problem(item.fields, self.min_text_chars)
            if reason:
                raise Dropped(reason, item.url)
        return item
