"""Schema creation, revision checks and the Alembic migrations themselves."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from provnews.storage import migrate, neardup
from provnews.storage.api import SchemaOutOfDate, Storage
from provnews.storage.engine import normalise_url
from provnews.storage.models import Base
from provnews.storage.rows import sha1_hex

TABLES = {"sites", "articles", "url_state", "crawl_runs", "alembic_version", "near_dup_keys"}
HEAD = migrate.head_revision()


def test_new_database_is_created_at_head(db_url: str) -> None:
    with Storage.open(db_url) as storage:
        assert storage.current_revision() == storage.head_revision() == HEAD
        names = set(inspect(storage.engine).get_table_names())
        assert names >= TABLES
        if storage.engine.dialect.name == "sqlite":
            assert "articles_fts" in names
            assert Path(storage.engine.url.database or "").is_file()  # parent folder was created
        else:
            columns = {c["name"] for c in inspect(storage.engine).get_columns("articles")}
            assert {"title_folded", "sapo_folded", "body_folded", "search_vector"} <= columns


def test_migration_matches_models(storage: Storage) -> None:
    """The hand-written revision creates exactly what the models declare (besides the search index)."""
    search_extras = {
        "title_folded",
        "sapo_folded",
        "body_folded",
        "search_vector",
        "ix_articles_search_vector",
        "published_month",  # SQLite only: generated, for browsing
        # PostgreSQL only (migration 0008): filter indexes for search
        "ix_articles_province",
        "ix_articles_province_old",
        "ix_articles_section",
        "ix_articles_published",
        "ix_articles_authors",
    }
    with storage.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    unexpected = []
    for diff in diffs:
        flat = str(diff)
        if "articles_fts" in flat or "alembic_version" in flat or any(x in flat for x in search_extras):
            continue
        unexpected.append(diff)
    assert unexpected == []


def test_new_database_without_upgrade_is_out_of_date(db_url: str) -> None:
    with pytest.raises(SchemaOutOfDate, match="provnews db upgrade"):
        Storage.open(db_url, upgrade=False)


def test_unknown_old_revision_is_out_of_date(db_url: str) -> None:
    Storage.open(db_url).close()
    storage = Storage(db_url)
    with storage.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    storage.close()
    with pytest.raises(SchemaOutOfDate) as caught:
        Storage.open(db_url)
    message = str(caught.value)
    assert "0000" in message and f"needs {HEAD}" in message and "`provnews db upgrade`" in message
    assert caught.value.current == "0000" and caught.value.head == HEAD


def test_tables_without_revision_are_not_silently_migrated(db_url: str) -> None:
    storage = Storage.open(db_url)
    command.stamp(migrate.alembic_config(storage.engine), "base")
    storage.close()
    with pytest.raises(SchemaOutOfDate, match=rf"<none>.*{HEAD}.*provnews db upgrade"):
        Storage.open(db_url)


def test_downgrade_to_base_and_upgrade_again(db_url: str) -> None:
    storage = Storage.open(db_url)
    migrate.downgrade(storage.engine, "base")
    assert storage.current_revision() is None
    assert migrate.is_empty(storage.engine)
    storage.upgrade()
    storage.upgrade()  # idempotent at head
    assert storage.current_revision() == HEAD
    storage.close()
    Storage.open(db_url).close()


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    with Storage.open(str(tmp_path / "plain-path.sqlite3")) as storage, storage.engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    assert pragma == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 5000, "foreign_keys": 1}


def test_url_normalisation() -> None:
    assert normalise_url("data/x.sqlite3") == "sqlite:///data/x.sqlite3"
    assert normalise_url("postgresql://u:p%40ss@db/provnews").startswith("postgresql+psycopg://u:p%40ss@db/")
    assert normalise_url("postgresql+psycopg://db/provnews") == "postgresql+psycopg://db/provnews"


def _row(n: int, text_: str) -> dict[str, object]:
    return {"url": f"https://old.vn/new-{n}.html", "site_id": "old", "title": f"Mới {n}", "text": text_}


def _revisions() -> list[str]:
    """Every revision from the first to head."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def _insert_0001_article(engine: Engine, n: int, url: str, text_: str) -> None:
    """An article row as revision 0001 stored it (raw SQL: the models describe head, not 0001)."""
    now = datetime(2024, 5, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sites (id, name, province, base_url, family, status, updated_at) "
                "SELECT 'old', 'Old', 'Tỉnh', 'https://old.vn/', 'post', 'active', :now "
                "WHERE NOT EXISTS (SELECT 1 FROM sites WHERE id = 'old')"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO articles (site_id, url, canonical_url, url_key, title, text, authors, tags,"
                " images, language, family, fallback, content_hash, word_count, versions, first_seen_at,"
                " updated_at) VALUES ('old', :url, :url, :key, :title, :text, '[]', '[]', '[]', 'vi',"
                " 'post', false, 'h', 1, '[]', :now, :now)"
            ),
            {"url": url, "key": sha1_hex(url), "title": f"Bài {n}", "text": text_, "now": now},
        )


@pytest.mark.parametrize("start", _revisions()[:-1])
def test_upgrade_from_every_earlier_revision_keeps_data(db_url: str, start: str) -> None:
    storage = Storage(db_url)
    storage.upgrade(start)
    assert storage.current_revision() == start
    story = " ".join(f"câu chuyện số {i} về tỉnh Gia Lai hôm nay" for i in range(30))
    if start == "0001":
        _insert_0001_article(storage.engine, 1, "http://old.vn/a.html", "(GLO) - " + story)
        _insert_0001_article(
            storage.engine, 2, "https://old.vn/b.html/", "(TTXVN) - " + story + " Theo TTXVN"
        )
    storage.close()
    with pytest.raises(SchemaOutOfDate, match="provnews db upgrade"):
        Storage.open(db_url, upgrade=False)
    storage = Storage(db_url)
    storage.upgrade()
    assert storage.current_revision() == HEAD
    storage.close()
    with Storage.open(db_url, upgrade=False) as upgraded:
        if start == "0001":
            first, second = upgraded.get_article(1), upgraded.get_article(2)
            assert first is not None and second is not None
            # Scheme-insensitive keys: the https form finds the article stored under http.
            assert upgraded.get_article("https://old.vn/a.html")["id"] == 1  # type: ignore[index]
            assert upgraded.get_article("https://old.vn/b.html")["id"] == 2  # type: ignore[index]
            assert first["cluster_id"] == second["cluster_id"] == 1  # backfilled near-duplicate cluster
        # The upgraded schema takes new writes, clustered and searchable.
        new_id = upgraded.upsert_articles([_row(10, story)]).new_ids[0]
        new = upgraded.get_article(new_id)
        assert new is not None and new["cluster_id"] == (1 if start == "0001" else new_id)
        assert upgraded.count_articles() == (3 if start == "0001" else 1)


def test_0005_rebuild_keeps_every_row_reference_and_index(db_url: str, make_article: Any) -> None:
    """0005 rebuilds `articles` on SQLite (new column order): ids, values, stored pages, URL states,
    band keys, the id sequence and the full-text index all survive; PostgreSQL only loses an index."""
    from provnews.storage.search import search

    story = " ".join(f"câu chuyện số {i} về đường phố Gia Lai hôm nay" for i in range(30))
    storage = Storage(db_url)
    storage.upgrade("0004")
    rows = [
        make_article(n, text=f"(TTXVN) - {story} bản {n}", raw_html=f"<html>trang {n}</html>")
        for n in (1, 2, 3)
    ]
    ids = storage.store_batch(rows, [(rows[0]["url"], "baotest", "stored", None, 1)]).new_ids
    storage.upsert_articles([make_article(3, text="Bài đã sửa về Đà Lạt, " + story)])  # a version
    with storage.engine.begin() as conn:
        conn.execute(text("DELETE FROM near_dup_keys WHERE article_id = 3"))
        conn.execute(text("DELETE FROM articles WHERE id = 3"))  # the sequence stays at 3
    before = _dump(storage.engine)
    storage.upgrade()
    after = _dump(storage.engine)
    assert after == before
    assert ids == [1, 2, 3]
    with storage.engine.connect() as conn:
        indexes = {i["name"] for i in inspect(conn).get_indexes("articles")}
        assert "ix_articles_content_hash" not in indexes
        assert {"ix_articles_site_published", "ix_articles_url", "ix_articles_cluster"} <= indexes
        if conn.dialect.name == "sqlite":
            names = [c["name"] for c in inspect(conn).get_columns("articles")]
            assert (
                names.index("minhash") < names.index("title") < names.index("text") < names.index("raw_html")
            )
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    storage.close()
    with Storage.open(db_url, upgrade=False) as upgraded:
        assert {hit.id for hit in search(upgraded, "duong pho gia lai")} == {1, 2}
        (new,) = upgraded.upsert_articles([make_article(4, text=f"(TTXVN) - {story} bản 4")]).new_ids
        assert new > 3  # never reuses the deleted id 3
        assert upgraded.get_article(new)["cluster_id"] == 1  # type: ignore[index]


URL_STATE_0003 = (
    "url_key, url, site_id, status, attempts, reason, lastmod, first_seen_at, updated_at, article_id"
)


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every articles column by name, URL states and band keys, in a stable order."""
    with engine.connect() as conn:
        columns = sorted(c["name"] for c in inspect(conn).get_columns("articles"))
        return {
            "articles": [
                tuple(r) for r in conn.execute(text(f"SELECT {', '.join(columns)} FROM articles ORDER BY id"))
            ],
            # the columns of every revision since 0003 (0009 adds the discovery date, empty here)
            "url_state": [
                tuple(r)
                for r in conn.execute(text(f"SELECT {URL_STATE_0003} FROM url_state ORDER BY url_key"))
            ],
            "keys": [
                tuple(r) for r in conn.execute(text("SELECT * FROM near_dup_keys ORDER BY key, article_id"))
            ],
        }


def test_0006_moves_robots_refusals_to_their_own_status(db_url: str) -> None:
    storage = Storage(db_url)
    storage.upgrade("0005")
    refused, plain = "https://old.vn/private/1.html", "https://old.vn/tag/x.html"
    storage.mark_urls(
        [(refused, None, "not_article", "robots.txt disallows it"), (plain, None, "not_article")]
    )
    storage.upgrade()
    assert storage.url_status([refused, plain]) == {refused: "robots_denied", plain: "not_article"}
    storage.mark_url("https://old.vn/private/2.html", None, "robots_denied", "robots.txt disallows it")
    migrate.downgrade(storage.engine, "0005")  # and back: the old constraint holds again
    assert set(storage.url_status([refused, "https://old.vn/private/2.html"]).values()) == {"not_article"}
    with pytest.raises(IntegrityError):
        storage.mark_url("https://old.vn/private/3.html", None, "robots_denied")
    storage.close()


def test_0007_sets_the_full_text_merge_policy(tmp_path: Path) -> None:
    """SQLite keeps FTS5 settings in the index's config table; the migration changes them both ways."""

    def settings(storage: Storage) -> dict[str, int]:
        with storage.engine.connect() as conn:
            return dict(conn.execute(text("SELECT k, v FROM articles_fts_config WHERE k != 'version'")).all())

    storage = Storage(f"sqlite:///{tmp_path / 'fts.sqlite3'}")
    storage.upgrade("0006")
    assert settings(storage) == {"automerge": 8}
    storage.upgrade()
    assert settings(storage) == {"automerge": 16, "hashsize": 64 * 1024 * 1024}
    migrate.downgrade(storage.engine, "0006")
    assert settings(storage) == {"automerge": 8, "hashsize": 1024 * 1024}
    storage.close()


def test_0008_indexes_the_search_filters_on_postgresql(db_url: str) -> None:
    storage = Storage(db_url)
    storage.upgrade("0007")

    def indexes() -> set[str]:
        return {i["name"] for i in inspect(storage.engine).get_indexes("articles") if i["name"]}

    before = indexes()
    storage.upgrade()
    added = {
        "ix_articles_province",
        "ix_articles_province_old",
        "ix_articles_section",
        "ix_articles_published",
        "ix_articles_authors",
    }
    expected = added if storage.engine.dialect.name == "postgresql" else set()
    assert indexes() - before == expected
    migrate.downgrade(storage.engine, "0007")
    assert indexes() == before
    storage.close()


def _old_style_signature(text_: str) -> list[int]:
    """A signature as releases before 0014 computed it: shingles and band keys through `hash()`."""
    ids = [neardup.word_hash(w) for w in text_.split()[: neardup.MAX_WORDS]]
    shingles = sorted({hash(s) for s in zip(*(ids[i:] for i in range(neardup.SHINGLE)), strict=False)})
    mins = [neardup.EMPTY] * neardup.BINS
    for value in shingles:
        if mins[value % neardup.BINS] == neardup.EMPTY:
            mins[value % neardup.BINS] = value
    return mins


def _old_style_keys(sig: list[int]) -> list[int]:
    rows = neardup.ROWS
    return [hash((b, *sig[b * rows : (b + 1) * rows])) & 0x7FFF_FFFF_FFFF_FFFF for b in range(neardup.BANDS)]


def test_0014_recomputes_signatures_band_keys_and_clusters(db_url: str, make_article: Any) -> None:
    """A database holding old-style signatures and band keys (and clusters made from them) gets this
    release's values: copies of one story cluster again, an unrelated story stays alone."""
    story = " ".join(f"câu chuyện số {i} về đường phố Gia Lai hôm nay" for i in range(30))
    other = " ".join(f"đội bóng thắng trận thứ {i} trên sân Pleiku trước khán giả" for i in range(30))
    texts = {1: f"(TTXVN) - {story}", 2: other, 3: f"(GLO) - {story} Theo TTXVN"}
    storage = Storage(db_url)
    storage.upgrade("0013")
    storage.upsert_articles([make_article(n, text=t) for n, t in texts.items()])
    with storage.engine.begin() as conn:
        conn.execute(text("DELETE FROM near_dup_keys"))
        for id_, text_ in texts.items():
            old = _old_style_signature(text_)
            conn.execute(
                text("UPDATE articles SET minhash = :sig, cluster_id = :cluster WHERE id = :id"),
                {"sig": neardup.pack(old), "cluster": 2, "id": id_},  # all in one (wrong) cluster
            )
            for key in _old_style_keys(old):
                conn.execute(text("INSERT INTO near_dup_keys VALUES (:key, :id)"), {"key": key, "id": id_})
    storage.upgrade()
    assert storage.current_revision() == HEAD
    with storage.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, minhash, cluster_id FROM articles ORDER BY id")).all()
        keys = set(conn.execute(text("SELECT key, article_id FROM near_dup_keys")).all())
    sigs = {id_: neardup.signature(t) for id_, t in texts.items()}
    assert {id_: bytes(blob) for id_, blob, _ in rows} == {i: neardup.pack(s or []) for i, s in sigs.items()}
    assert keys == {(k, id_) for id_, s in sigs.items() for k in neardup.band_keys(s or [])}
    assert {id_: cluster for id_, _, cluster in rows} == {1: 1, 2: 2, 3: 1}
    storage.close()
    with Storage.open(db_url, upgrade=False) as upgraded:  # new copies find the recomputed ones
        (new,) = upgraded.upsert_articles([make_article(4, text=f"{story} (Báo Gia Lai)")]).new_ids
        assert upgraded.get_article(new)["cluster_id"] == 1  # type: ignore[index]
