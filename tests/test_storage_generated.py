"""Storage with generated article fields on both engines: long strings, odd Unicode (NUL, lone
surrogates, controls, bidi overrides, astral and combining characters), empty values, huge lists.
Whatever a field holds, a batch is never lost: unbounded values are stored or refused alone, and values
within their bounds (`storage.bounds`) are always stored, as they were bounded."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scrapy.utils.test import get_crawler

from provnews.crawler.items import ArticleItem
from provnews.crawler.parsers.fields import ArticleFields, Image
from provnews.pipelines.normalize import NormalizePipeline
from provnews.pipelines.store import StorePipeline
from provnews.storage import bounds
from provnews.storage.api import Storage, StoreEntry, UrlMark
from provnews.storage.importer import JsonlChunk
from provnews.storage.prepared import prepare_articles

ODD = [
    "\x00",
    "\ud800",
    "\udfff",
    "\u202e",
    "\u009b",
    "\x1b[31m",
    "\ufeff",
    "\U0001d54f",
    "o\u0300",
    "\n",
    " ",
]
SETTINGS = settings(
    max_examples=30,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
_numbers = itertools.count()


def incompressible(length: int, rng: random.Random) -> str:
    """Text that PostgreSQL cannot compress into an index entry of 8 kB (random, partly multibyte)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzơưăâđêôệ😀 "
    return "".join(rng.choice(alphabet) for _ in range(length))


short_text = st.lists(st.one_of(st.text(max_size=6), st.sampled_from(ODD)), max_size=8).map("".join)
long_text = st.one_of(
    st.builds(
        lambda c, n: c * n, st.sampled_from(["a", "ệ", "😀", "\x00", "\ud800"]), st.integers(300, 30_000)
    ),
    st.builds(incompressible, st.integers(300, 30_000), st.randoms(use_true_random=False)),
)
value = st.one_of(short_text, long_text, st.just(""))
huge_list = st.one_of(
    st.lists(value, max_size=5),
    st.builds(lambda v, n: [v] * n, short_text, st.integers(100, 5_000)),
)
fields = st.fixed_dictionaries(
    {
        "title": value,
        "text": st.one_of(value, st.builds(lambda v: "Nội dung bài. " * 20 + v, value)),
        "sapo": st.none() | value,
        "byline": st.none() | value,
        "section": st.none() | value,
        "dateline": st.none() | value,
        "date_source": st.none() | value,
        "language": value,
        "family": value,
        "tags": huge_list,
        "authors": huge_list,
        "images": st.lists(
            st.builds(lambda u, c: {"url": u, "caption": c}, value, st.none() | value), max_size=3
        ),
        "path": short_text,
    }
)


def article(make_article: Callable[..., dict[str, Any]], generated: dict[str, Any]) -> dict[str, Any]:
    generated = dict(generated)
    n = next(_numbers)
    url = f"https://baotest.vn/gen-{n}-{generated.pop('path')}.html"
    return make_article(n, url=url, canonical_url=url, **generated)


def entry(row: dict[str, Any]) -> StoreEntry:
    return StoreEntry(row, [UrlMark(row["url"], row["site_id"], "stored")])


@SETTINGS
@given(generated=fields)
def test_a_generated_article_never_costs_the_batch(
    storage: Storage, make_article: Callable[..., dict[str, Any]], generated: dict[str, Any]
) -> None:
    good = [make_article(next(_numbers) + 1_000_000) for _ in range(3)]
    odd = article(make_article, generated)
    outcome = storage.store_entries([entry(good[0]), entry(odd), entry(good[1]), entry(good[2])])
    stored = {row["canonical_url"] for row in good if storage.get_article(row["canonical_url"]) is not None}
    assert stored == {row["canonical_url"] for row in good}
    assert outcome.result.new + outcome.result.updated + outcome.result.unchanged + len(outcome.refused) == 4
    assert all(r.entry.row is odd for r in outcome.refused)


@SETTINGS
@given(generated=fields)
def test_every_bounded_article_is_stored_as_bounded(
    storage: Storage, make_article: Callable[..., dict[str, Any]], generated: dict[str, Any]
) -> None:
    row = article(make_article, generated)
    done = bounds.bound_fields(row)
    assume(done.drop is None and row["title"].strip() and row["text"].strip())
    outcome = storage.store_entries([entry(row)])
    assert outcome.refused == []
    stored = storage.get_article(row["canonical_url"])
    assert stored is not None
    assert stored["title"] == unicodedata.normalize("NFC", row["title"])
    for name in ("section", "byline", "dateline", "date_source", "sapo", "tags", "authors"):
        assert stored[name] == row[name], name
    assert stored["language"] == (row["language"] or "vi")
    for name, bound in bounds.STRING_BOUNDS.items():
        assert stored[name] is None or len(stored[name]) <= bound
    assert len(stored["tags"]) <= bounds.LIST_BOUNDS["tags"][0]


def _fields(n: int, **overrides: Any) -> ArticleFields:
    url = f"https://baotest.vn/bai-{n}.html"
    values: dict[str, Any] = {
        "url": url,
        "canonical_url": url,
        "title": f"Bài {n}",
        "text": "Nội dung bài. " * 20,
        "published_at": "2024-05-01T08:30:00+07:00",
        "section": "Thời sự",
    }
    return ArticleFields(**(values | overrides))


def test_normalisation_bounds_a_huge_section_and_title_which_postgresql_then_stores(db_url: str) -> None:
    """Failed before on PostgreSQL: a 20,000-character `article:section` exceeded the B-tree row limit
    of ix_articles_section and the batch rolled back; a 1 MB title was stored whole on both engines."""
    rng = random.Random(3)
    crawler = get_crawler(settings_dict={"PROVNEWS_DB_URL": db_url, "PROVNEWS_STORE_BATCH": 10})
    normalize = NormalizePipeline({}, crawler)
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    for n in range(10):
        overrides: dict[str, Any] = {}
        if n == 4:
            overrides = {
                "section": incompressible(20_000, rng),
                "title": "Tít " + incompressible(1_000_000, rng),
            }
        if n == 5:
            overrides = {
                "tags": [f"thẻ {i}" for i in range(10_000)],
                "images": [Image("https://baotest.vn/a.jpg")] * 500,
            }
        store.process_item(normalize.process_item(ArticleItem(_fields(n, **overrides), site_id="baotest")))
    asyncio.run(store.close_spider())
    stats = crawler.stats
    assert stats is not None
    assert stats.get_value("provnews/store/new") == 10
    assert stats.get_value("provnews/normalize/truncated/section") == 1
    assert stats.get_value("provnews/normalize/truncated/title") == 1
    assert stats.get_value("provnews/normalize/truncated/tags") == 1
    assert stats.get_value("provnews/normalize/truncated/images") == 1
    with Storage.open(db_url) as storage:
        fourth = storage.get_article("https://baotest.vn/bai-4.html")
        assert fourth is not None
        assert len(fourth["section"]) == bounds.STRING_BOUNDS["section"]
        assert len(fourth["title"]) == bounds.STRING_BOUNDS["title"]
        fifth = storage.get_article("https://baotest.vn/bai-5.html")
        assert fifth is not None and len(fifth["tags"]) == bounds.LIST_BOUNDS["tags"][0]
        assert len(fifth["images"]) == bounds.IMAGES


def test_a_url_beyond_reason_is_dropped_with_its_reason() -> None:
    crawler = get_crawler(settings_dict={})
    normalize = NormalizePipeline({}, crawler)
    long_url = "https://baotest.vn/" + "a" * 3_000 + ".html"
    with pytest.raises(Exception, match="url_too_long"):
        normalize.process_item(
            ArticleItem(_fields(1, url=long_url, canonical_url=long_url), site_id="baotest")
        )


def test_one_site_refused_costs_no_other_site(db_url: str) -> None:
    """Failed before: the flush stopped at the first failing site, and the other site stored 0 of 10."""
    rng = random.Random(5)
    crawler = get_crawler(settings_dict={"PROVNEWS_DB_URL": db_url, "PROVNEWS_STORE_BATCH": 20})
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    for n in range(10):
        # Not normalised: the storage itself must keep the damage to the bad articles. A huge section
        # (refused by PostgreSQL's index, taken by SQLite) and a run that does not exist (both engines).
        section = incompressible(20_000, rng) if n == 0 else "Thời sự"
        date = "not a date" if n == 1 else "2024-05-01T08:30:00+07:00"
        store.process_item(ArticleItem(_fields(n, section=section, published_at=date), site_id="baoa"))
        url = f"https://baob.vn/bai-{n}.html"
        store.process_item(ArticleItem(_fields(n, url=url, canonical_url=url), site_id="baob"))
    asyncio.run(store.close_spider())
    refused = 2 if db_url.startswith("postgresql") else 1
    with Storage.open(db_url) as storage:
        assert dict(storage.article_counts_by_site()) == {"baoa": 10 - refused, "baob": 10}
    assert crawler.stats is not None
    assert crawler.stats.get_value("provnews/site/baoa/failed/store_error") == refused
    assert crawler.stats.get_value("provnews/failed/store_error") == refused


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | value,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
import_line = st.fixed_dictionaries(
    {
        "url": st.one_of(short_text.map(lambda s: "https://baotest.vn/" + s), value, st.just("http://[bad")),
        "site_id": st.sampled_from(["baotest", "a" * 65, "Bad Id"]),
        "title": value,
        "text": value,
    },
    optional={
        name: json_value
        for name in (
            "canonical_url", "sapo", "byline", "section", "dateline", "date_source", "language",
            "family", "province", "tags", "authors", "images", "published_at", "fallback",
        )
    },
)  # fmt: skip


@settings(SETTINGS, max_examples=300)
@given(line=import_line)
def test_an_import_line_is_skipped_with_a_reason_or_prepared(
    line: dict[str, Any], tmp_path_factory: Any
) -> None:
    """A line that `provnews import` takes never fails the preparation of its batch, which would stop
    the whole import: it is skipped with its reason, or it is prepared (on both engines' paths)."""
    path = tmp_path_factory.mktemp("lines") / "line.jsonl"
    path.write_bytes(json.dumps(line).encode("utf-8", "surrogatepass") + b"\n")
    chunk = JsonlChunk(path, 1, span=(0, path.stat().st_size))
    rows = chunk.rows()
    assert len(rows) + sum(chunk.report.skipped.values()) == 1
    for dialect in ("sqlite", "postgresql"):
        assert len(prepare_articles([dict(row) for row in rows], dialect).values) == len(rows)
