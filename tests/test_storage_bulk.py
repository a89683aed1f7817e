"""The bulk write path (SQLite through the DB-API driver), batch signatures, the external-content index
and the bounded ranking of common words."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from provnews.storage import neardup
from provnews.storage import search as search_module
from provnews.storage.api import Storage
from provnews.storage.models import Article, NearDupKey
from provnews.storage.rows import article_values
from provnews.storage.search import search
from provnews.storage.sql import bound_list, in_bound_list, max_parameters
from provnews.storage.upsert import upsert_articles

MakeArticle = Callable[..., dict[str, Any]]


def test_batch_signatures_equal_single_ones() -> None:
    rng = random.Random(7)
    vocab = ["Hà", "Nội", "đường", "phố", "tỉnh", "Gia", "Lai", "mưa", "to", "x", "1", "(TTXVN)"]
    texts = [" ".join(rng.choices(vocab, k=rng.randint(0, 400))) for _ in range(300)]
    texts += ["", "quá ngắn", " ".join(["lặp"] * 200), " ".join(f"{i % 20}" for i in range(200))]
    texts += [" ".join(str(i) for i in range(n)) for n in (27, 28, 29, 301, 1000)]
    assert neardup.signatures(texts) == [neardup.signature(t) for t in texts]
    assert neardup.signatures_of_words([t.split() for t in texts]) == neardup.signatures(texts)
    assert neardup.signatures([]) == []


def _raw_rows(url: str) -> list[tuple[Any, ...]]:
    storage = Storage(url)
    with storage.engine.connect() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM articles ORDER BY id")]
    storage.close()
    return rows


def test_sqlite_bulk_rows_are_stored_as_sqlalchemy_stores_them(
    tmp_path: Path, make_article: MakeArticle
) -> None:
    rows = [
        make_article(1),
        make_article(2, published_at=None, sapo=None, authors=[], fallback=True, raw_html=None),
        make_article(3, published_at="2024-05-01T08:30:00.123456", tags=["Đà Nẵng", 'a"b']),
    ]
    bulk, orm = f"sqlite:///{tmp_path / 'bulk.sqlite3'}", f"sqlite:///{tmp_path / 'orm.sqlite3'}"
    with Storage.open(bulk) as storage:
        storage.upsert_articles(rows)
        with storage.engine.connect() as conn:
            stored = [
                dict(r) for r in conn.execute(Article.__table__.select().order_by(Article.id)).mappings()
            ]
    with Storage.open(orm) as storage, storage.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sites (id, name, province, base_url, family, status, updated_at) "
                "VALUES ('baotest', 'baotest', '', '', 'post', 'unknown', '2024-01-01')"
            )
        )
        conn.execute(Article.__table__.insert(), stored)  # the same values, through SQLAlchemy's types
    assert _raw_rows(bulk) == _raw_rows(orm)
    assert stored[1]["authors"] == [] and stored[1]["fallback"] is True and stored[1]["published_at"] is None
    assert stored[2]["published_at"] == article_values(rows[2])["published_at"]


def test_full_text_index_stays_in_step_with_updates(tmp_path: Path, make_article: MakeArticle) -> None:
    with Storage.open(f"sqlite:///{tmp_path / 'db.sqlite3'}") as storage:
        first = storage.upsert_articles([make_article(1, text="Đường phố Hà Nội ngập sâu sau mưa.")])
        storage.upsert_articles([make_article(1, text="Gia Lai đón khách du lịch.", title="Tin đổi")])
        storage.upsert_articles([make_article(2, text="Đà Lạt se lạnh.")])
        storage.upsert_articles([make_article(2, title="Tin mới", section="Kinh tế")], refresh=True)
        assert [hit.id for hit in search(storage, "duong pho")] == []
        assert [hit.id for hit in search(storage, "gia lai")] == first.new_ids
        assert [hit.id for hit in search(storage, "tin moi")] != []
        with storage.engine.begin() as conn:
            # Texts are bound as UTF-8 bytes and cast: stored as TEXT, inserted or updated.
            types = conn.exec_driver_sql("SELECT DISTINCT typeof(text), typeof(title) FROM articles").all()
            assert types == [("text", "text")]
            assert _index_entries(conn, "articles_fts") == _reference_entries(conn)
            # A change behind the index's back shows.
            conn.exec_driver_sql("UPDATE articles SET text = 'chữ khác' WHERE id = 1")
            assert _index_entries(conn, "articles_fts") != _reference_entries(conn)


def _index_entries(conn: Any, fts: str) -> list[tuple[Any, ...]]:
    """Every (term, rowid, column, offset) of an FTS5 index."""
    conn.exec_driver_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{fts}_v USING fts5vocab(main, {fts}, instance)"
    )
    return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM temp.{fts}_v ORDER BY 1, 2, 3, 4")]


def _reference_entries(conn: Any) -> list[tuple[Any, ...]]:
    """The entries of an index built afresh from the articles as stored now."""
    conn.exec_driver_sql("DROP TABLE IF EXISTS reference_fts")
    conn.exec_driver_sql(
        "CREATE VIRTUAL TABLE reference_fts USING fts5(title, sapo, text, "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    conn.exec_driver_sql(
        "INSERT INTO reference_fts (rowid, title, sapo, text) SELECT * FROM articles_fts_source"
    )
    return _index_entries(conn, "reference_fts")


def test_common_words_rank_the_newest_matches(
    storage: Storage, make_article: MakeArticle, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.upsert_articles(
        [
            make_article(1, title="Gia Lai Gia Lai", text="Gia Lai.", site_id="a"),
            make_article(2, text="Tin Gia Lai hôm nay.", site_id="b"),
            make_article(3, text="Gia Lai mưa.", site_id="a"),
            make_article(4, text="Gia Lai nắng.", site_id="b"),
            make_article(5, text="Đà Nẵng."),
        ]
    )
    assert search(storage, "gia lai")[0].title == "Gia Lai Gia Lai"  # best bm25, oldest
    monkeypatch.setattr(search_module, "RANK_CANDIDATES", 2)
    newest = [hit.id for hit in search(storage, "gia lai")]
    filtered = [hit.id for hit in search(storage, "gia lai", site="a")]
    assert sorted(newest) == [3, 4] and sorted(filtered) == [1, 3]  # the bound follows the filters


def test_batches_are_written_within_sqlites_parameter_limit(
    tmp_path: Path, make_article: MakeArticle
) -> None:
    """Rows go in as multi-row INSERTs split by the connection's bound-parameter limit (999 in SQLite
    builds before 3.32): a small limit still stores every article, key and index entry."""
    rows = [make_article(n, text=" ".join(f"chữ{n}x{i}" for i in range(60))) for n in range(1, 41)]
    stored = "SELECT id, url, title, text, cluster_id, minhash FROM articles ORDER BY id"
    keys = "SELECT * FROM near_dup_keys ORDER BY key, article_id"
    with Storage.open(f"sqlite:///{tmp_path / 'wide.sqlite3'}") as wide, wide.engine.begin() as conn:
        upsert_articles(conn, rows)
        expected, expected_keys = conn.exec_driver_sql(stored).all(), conn.exec_driver_sql(keys).all()
    assert len(expected_keys) > 100
    with Storage.open(f"sqlite:///{tmp_path / 'narrow.sqlite3'}") as narrow:
        with narrow.engine.begin() as conn:
            driver = conn.connection.driver_connection
            driver.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)  # type: ignore[union-attr]
            assert max_parameters(conn) == 100
            upsert_articles(conn, rows)
            assert conn.exec_driver_sql(stored).all() == expected
            assert conn.exec_driver_sql(keys).all() == expected_keys
        assert [h.id for h in search(narrow, "chữ7x3")] == [7]


def test_a_bound_list_finds_exactly_its_values(storage: Storage, make_article: MakeArticle) -> None:
    """`in_bound_list` (one parameter: a JSON array on SQLite, an array on PostgreSQL) matches the
    listed values exactly: 63-bit band keys stay integers, strings with quotes and accents stay whole."""
    storage.upsert_articles([make_article(1)])
    big = (1 << 63) - 1
    url_keys = ["k'1\"", "khóa-đ", "x"]
    with storage.engine.begin() as conn:
        article_id = conn.execute(select(Article.id)).scalar_one()
        conn.execute(
            NearDupKey.__table__.insert(),
            [{"key": key, "article_id": article_id} for key in (big, big - 1, 7)],
        )
        keys = select(NearDupKey.key).where(in_bound_list(NearDupKey.key, "keys", conn.dialect.name))
        found = conn.execute(keys, {"keys": bound_list(conn, [big, 7, 123])}).scalars().all()
        assert sorted(found) == [7, big]
        conn.execute(update(Article).values(url_key=url_keys[1]))
        same = select(Article.id).where(in_bound_list(Article.url_key, "keys", conn.dialect.name))
        assert conn.execute(same, {"keys": bound_list(conn, url_keys)}).scalars().all() == [article_id]
        assert conn.execute(same, {"keys": bound_list(conn, ["khoa-d", "k'1"])}).scalars().all() == []
