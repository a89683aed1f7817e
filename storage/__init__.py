"""provnews' storage, one public API: `Storage` (SQLite or PostgreSQL by URL) and the few functions
and types the crawl, the item pipelines and the CLI need beside it. Engines, schema and migrations,
writers, search, clusters, exports, import, runs and URL state live in the submodules; code outside
this package imports from here only (tests/test_layers.py). Names load on first use, so a light
command that needs one helper does not import SQLAlchemy."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provnews.storage.api import Storage, StoreEntry, StoreOutcome, UrlMark
    from provnews.storage.bisect import describe
    from provnews.storage.bounds import bound_fields
    from provnews.storage.bulk import RowSource
    from provnews.storage.disk import free_reserve, is_disk_full, make_reserve, stop_crawl
    from provnews.storage.engine import make_engine, sqlite_file, writer
    from provnews.storage.exporters import FORMATS, STREAM_WRITERS, WRITERS, ExportError, write_csv
    from provnews.storage.folding import fold_for_search
    from provnews.storage.importer import ImportReport, JsonlChunk, read_chunks
    from provnews.storage.listing_walks import WalkState
    from provnews.storage.locks import HOSTNAME, Claimed, LockHolder, holder_alive
    from provnews.storage.migrate import SchemaOutOfDate, current_revision, head_revision
    from provnews.storage.models import utcnow
    from provnews.storage.rows import article_values, to_utc, to_vn_iso
    from provnews.storage.search import SearchError
    from provnews.storage.search import search as search_articles
    from provnews.storage.shard import Shard, ShardError
    from provnews.storage.sql import DateLike
    from provnews.storage.urlstate import PendingUrl, UrlInfo
    from provnews.storage.validators import Validators

_EXPORTS = {
    "Claimed": ("locks", "Claimed"),
    "DateLike": ("sql", "DateLike"),
    "ExportError": ("exporters", "ExportError"),
    "FORMATS": ("exporters", "FORMATS"),
    "HOSTNAME": ("locks", "HOSTNAME"),
    "ImportReport": ("importer", "ImportReport"),
    "JsonlChunk": ("importer", "JsonlChunk"),
    "LockHolder": ("locks", "LockHolder"),
    "PendingUrl": ("urlstate", "PendingUrl"),
    "RowSource": ("bulk", "RowSource"),
    "STREAM_WRITERS": ("exporters", "STREAM_WRITERS"),
    "SchemaOutOfDate": ("migrate", "SchemaOutOfDate"),
    "SearchError": ("search", "SearchError"),
    "Shard": ("shard", "Shard"),
    "ShardError": ("shard", "ShardError"),
    "Storage": ("api", "Storage"),
    "StoreEntry": ("api", "StoreEntry"),
    "StoreOutcome": ("api", "StoreOutcome"),
    "UrlInfo": ("urlstate", "UrlInfo"),
    "UrlMark": ("api", "UrlMark"),
    "Validators": ("validators", "Validators"),
    "WRITERS": ("exporters", "WRITERS"),
    "WalkState": ("listing_walks", "WalkState"),
    "article_values": ("rows", "article_values"),
    "bound_fields": ("bounds", "bound_fields"),
    "current_revision": ("migrate", "current_revision"),
    "describe": ("bisect", "describe"),
    "fold_for_search": ("folding", "fold_for_search"),
    "free_reserve": ("disk", "free_reserve"),
    "head_revision": ("migrate", "head_revision"),
    "holder_alive": ("locks", "holder_alive"),
    "is_disk_full": ("disk", "is_disk_full"),
    "make_engine": ("engine", "make_engine"),
    "make_reserve": ("disk", "make_reserve"),
    "read_chunks": ("importer", "read_chunks"),
    "search_articles": ("search", "search"),
    "sqlite_file": ("engine", "sqlite_file"),
    "stop_crawl": ("disk", "stop_crawl"),
    "to_utc": ("rows", "to_utc"),
    "to_vn_iso": ("rows", "to_vn_iso"),
    "utcnow": ("models", "utcnow"),
    "write_csv": ("exporters", "write_csv"),
    "writer": ("engine", "writer"),
}
__all__ = [
    "FORMATS",
    "HOSTNAME",
    "STREAM_WRITERS",
    "WRITERS",
    "Claimed",
    "DateLike",
    "ExportError",
    "ImportReport",
    "JsonlChunk",
    "LockHolder",
    "PendingUrl",
    "RowSource",
    "SchemaOutOfDate",
    "SearchError",
    "Shard",
    "ShardError",
    "Storage",
    "StoreEntry",
    "StoreOutcome",
    "UrlInfo",
    "UrlMark",
    "Validators",
    "WalkState",
    "article_values",
    "bound_fields",
    "current_revision",
    "describe",
    "fold_for_search",
    "free_reserve",
    "head_revision",
    "holder_alive",
    "is_disk_full",
    "make_engine",
    "make_reserve",
    "read_chunks",
    "search_articles",
    "sqlite_file",
    "stop_crawl",
    "to_utc",
    "to_vn_iso",
    "utcnow",
    "write_csv",
    "writer",
]


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    globals()[name] = value
    return value
