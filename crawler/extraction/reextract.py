"""Re-extraction: rebuild text and metadata of stored articles from their stored pages with the current
parsers, without fetching anything. Changed articles go through the normal upsert (versions kept)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provnews.crawler.extraction.extract import day_of, extract_page
from provnews.crawler.items import ArticleItem
from provnews.crawler.parsers import NotAnArticle
from provnews.crawler.sites.registry import Site
from provnews.pipelines.dropped import Dropped, drop_reason
from provnews.pipelines.normalize import normalize_article
from provnews.pipelines.validate import problem
from provnews.storage import DateLike, Shard, Storage, article_values, bound_fields, to_utc

# What re-extraction may change besides the text (compared in their stored form).
_COMPARED = (
    "title", "sapo", "byline", "authors", "published_at", "modified_at", "date_source", "section", "tags",
    "images", "dateline", "language", "family", "fallback", "content_hash",
)  # fmt: skip


@dataclass
class ReextractReport:
    examined: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    changed_ids: list[int] = field(default_factory=list)


def rebuild_row(
    article: Mapping[str, Any], family: str, min_text_chars: int = 150, site: Site | None = None
) -> dict[str, Any]:
    """The pipeline row the current parsers make of a stored article's page; raises `Dropped` (with the
    reason a crawl would drop it for) when they make none."""
    raw = article.get("raw_html")
    if not raw:
        raise Dropped("no_stored_page")
    try:
        fields = extract_page(
            raw, article["url"], family, site=site, known_date=day_of(article.get("published_at"))
        )
    except NotAnArticle as exc:
        raise Dropped("not_article", exc.reason) from exc
    except ValueError as exc:
        raise Dropped("undecodable", str(exc)) from exc
    item = normalize_article(ArticleItem(fields=fields, site_id=article["site_id"]), None)
    reason = bound_fields(vars(item.fields)).drop or problem(item.fields, min_text_chars)
    if reason:
        raise Dropped(reason)
    row = item.fields.to_dict()
    # The article keeps its identity and provenance: same URLs, site, province and run.
    for key in ("url", "canonical_url", "site_id", "province", "province_old", "run_id", "raw_html"):
        row[key] = article.get(key)
    return row


def _differs(stored: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    new = article_values(row)
    for key in _COMPARED:
        old = stored.get(key)
        if key in ("published_at", "modified_at"):
            old = to_utc(old)
        if (old or None) != (new[key] or None):
            return True
    return False


def reextract(
    storage: Storage,
    *,
    site: str | None = None,
    since: DateLike = None,
    until: DateLike = None,
    min_text_chars: int = 150,
    batch: int = 100,
    sites: Mapping[str, Site] | None = None,
    shard: Shard | None = None,
) -> ReextractReport:
    """``sites``: registry entries by id, whose selector overrides and template versions apply;
    ``shard``: only the matching articles of that shard."""
    report = ReextractReport()
    families = storage.site_families()
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if pending:
            result = storage.upsert_articles(pending, refresh=True)
            report.changed_ids += result.updated_ids
            pending.clear()

    for article in storage.iter_articles(site, since, until, batch=batch, include_html=True, shard=shard):
        report.examined += 1
        family = families.get(article["site_id"]) or article.get("family") or "generic"
        entry = (sites or {}).get(article["site_id"])
        try:
            row = rebuild_row(
                article, family, min_text_chars, entry if entry and entry.family == family else None
            )
        except (Dropped, ValueError) as exc:  # a ValueError past extraction: a bug, counted by its type
            report.failed += 1
            report.reasons[drop_reason(exc)] += 1
            continue
        if _differs(article, row):
            report.changed += 1
            pending.append(row)
            if len(pending) >= batch:
                flush()
        else:
            report.unchanged += 1
    flush()
    return report
