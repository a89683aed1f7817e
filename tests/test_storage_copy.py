"""PostgreSQL writes article batches and their band keys through COPY into staging tables, merged by one
statement per table (`storage.pgcopy`). Whatever a text holds (tabs, backslashes, newlines, quotes,
COPY's own markers, astral characters) is stored as given and indexed; a value refused while COPied
costs only its own article; the large columns are compressed with LZ4 (migration 0012)."""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from provnews.storage.api import Storage, StoreEntry, UrlMark
from provnews.storage.folding import fold_for_search
from provnews.storage.upsert import upsert_articles
from provnews.storage.write_postgresql import STAGE

# What COPY's text format must escape or could mistake for its markers, and characters beyond the BMP.
SPECIAL = [
    "\t",
    "\\",
    "\n",
    "\r",
    "\r\n",
    '"',
    "'",
    "\\N",
    "\\.",
    "\\.\n",
    "\\t",
    ",",
    "|",
    "😀",
    "\U0001d54f",
]
copy_text = st.lists(
    st.one_of(
        st.sampled_from(SPECIAL),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8),
    ),
    min_size=1,
    max_size=12,
).map("".join)
_numbers = itertools.count()


def _stored(storage: Storage, url: str) -> dict[str, Any]:
    found = storage.get_article(url)
    assert found is not None
    return found


@settings(
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    title=copy_text.filter(bool),
    body=copy_text.filter(bool),
    other=copy_text,
    names=st.lists(copy_text, max_size=3),
)
def test_generated_text_is_stored_as_given_and_updated_in_place(
    storage: Storage,
    make_article: Callable[..., dict[str, Any]],
    title: str,
    body: str,
    other: str,
    names: list[str],
) -> None:
    n = next(_numbers)
    url = f"https://baotest.vn/copy-{n}.html"
    row = make_article(
        n,
        url=url,
        canonical_url=url,
        title=title,
        text=body,
        sapo=other,
        byline=other,
        section=other,
        authors=names,
        tags=names,
        images=[{"url": other, "caption": other}],
    )
    assert storage.upsert_articles([row]).new == 1
    first = _stored(storage, url)
    assert first["title"] == unicodedata.normalize("NFC", title)
    assert first["text"] == unicodedata.normalize("NFC", body)
    assert (first["sapo"], first["byline"], first["section"]) == (other, other, other)
    assert first["authors"] == names and first["tags"] == names
    assert first["images"] == [{"url": other, "caption": other}]
    if storage.engine.dialect.name == "postgresql":
        with storage.engine.connect() as conn:
            folded = conn.execute(
                text("SELECT title_folded, sapo_folded, body_folded FROM articles WHERE id = :id"),
                {"id": first["id"]},
            ).one()
        assert tuple(folded) == (
            fold_for_search(first["title"]),
            fold_for_search(other),
            fold_for_search(first["text"]),
        )
    assert storage.upsert_articles([row]).unchanged == 1
    changed = dict(row, text=body + " đổi")
    assert storage.upsert_articles([changed]).updated_ids == [first["id"]]
    after = _stored(storage, url)
    assert after["first_seen_at"] == first["first_seen_at"]
    assert after["versions"] == [first["content_hash"]]
    assert after["text"] == unicodedata.normalize("NFC", body + " đổi")


def test_a_value_refused_by_copy_costs_only_its_article(
    pg_database: str, make_article: Callable[..., dict[str, Any]]
) -> None:
    """Failed before the COPY errors were given SQLAlchemy's classes: psycopg's own DataError (a NUL,
    refused as the row is written to the COPY stream) was not taken for the row's fault, and stopped
    the ingest. The refused article is the only one of its batch, so the staging table created in its
    savepoint is rolled back with it and made again for the next batch."""
    rows = [make_article(n) for n in range(12)]
    rows[0]["text"] = "Nội dung\x00 bài"  # refused by psycopg while COPied
    rows[7]["authors"] = [float("nan")]  # NaN is not JSON: refused by the server during the COPY
    with Storage.open(pg_database) as storage:
        result = storage.ingest([rows[:1], rows[1:6], rows[6:]], commit_every=100)
        assert result.new == 10
        refused = dict(result.refused)
        assert set(refused) == {rows[0]["url"], rows[7]["url"]}
        assert refused[rows[0]["url"]].startswith("DataError") and "NUL" in refused[rows[0]["url"]]
        assert "json" in refused[rows[7]["url"]].lower()
        assert storage.count_articles() == 10
        # The crawl's store path shares the writer: the refused article's URL is marked failed.
        outcome = storage.store_entries(
            [StoreEntry(r, [UrlMark(r["url"], "baotest", "stored")]) for r in rows]
        )
        assert [r.entry.row["url"] for r in outcome.refused] == [rows[0]["url"], rows[7]["url"]]
        assert outcome.result.unchanged == 10
        assert storage.site_url_states("baotest")[rows[7]["url"]].status == "failed"


def test_staged_rows_do_not_outlive_their_batch(pg_database: str, make_article: Callable[..., Any]) -> None:
    """Several batches share a transaction and a connection's staging table: each merge sees only its
    own batch, and the commit leaves the table empty."""
    count = text(f"SELECT count(*) FROM {STAGE}")
    with Storage.open(pg_database) as storage, storage.engine.connect() as conn:
        with conn.begin():
            assert upsert_articles(conn, [make_article(n) for n in range(3)]).new == 3
            assert conn.execute(count).scalar() == 3
            again = upsert_articles(conn, [make_article(n) for n in range(2, 5)])
            assert (again.unchanged, again.new, conn.execute(count).scalar()) == (1, 2, 2)
        assert conn.execute(count).scalar() == 0
        conn.rollback()
        assert storage.count_articles() == 5


def test_large_columns_are_compressed_with_lz4(pg_database: str, make_article: Callable[..., Any]) -> None:
    with Storage.open(pg_database) as storage:
        with storage.engine.connect() as conn:
            lz4 = conn.execute(
                text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
            ).scalar()
        if not lz4:
            pytest.skip("this PostgreSQL server was built without LZ4")
        body = " ".join(f"Nội dung bài số {i}." for i in range(3_000))
        storage.upsert_articles([make_article(1, text=body)])
        with storage.engine.connect() as conn:
            methods = conn.execute(
                text(
                    "SELECT pg_column_compression(text), pg_column_compression(body_folded),"
                    " pg_column_compression(search_vector) FROM articles"
                )
            ).one()
    assert tuple(methods) == ("lz4", "lz4", "lz4")
