"""The exception a pipeline drops an item with: `Dropped(reason, detail)`, a Scrapy `DropItem` that says
why as a stats key (`provnews/dropped/<reason>`, or `provnews/errors/<reason>` for a failure) and an
outcome reason, so that whoever handles `item_dropped` reads `.reason` instead of parsing the message."""

from __future__ import annotations

from scrapy.exceptions import DropItem

from provnews.crawler.runs.accounting import reason_key


class Dropped(DropItem):
    def __init__(self, reason: str, detail: str = "", message: str | None = None) -> None:
        self.reason = reason_key(reason)
        self.detail = detail
        super().__init__(message or self.record)

    @property
    def record(self) -> str:
        """The text kept in the URL's state: the reason, then the detail."""
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


def drop_reason(exc: BaseException) -> str:
    """Why an item was dropped: the `reason` of a `Dropped`; for any other exception its type."""
    return exc.reason if isinstance(exc, Dropped) else reason_key(type(exc).__name__)
