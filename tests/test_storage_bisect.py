"""A batch is never lost to one bad article: every good one is stored, the bad one is counted with the
database's message and its URL marked failed for a later run (both engines; PostgreSQL is where the
lengths and index limits are enforced)."""

from __future__ import annotations

import asyncio
import json
import math
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scrapy.utils.test import get_crawler
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from provnews.crawler.cli import cli
from provnews.crawler.items import ArticleItem
from provnews.crawler.parsers.fields import ArticleFields
from provnews.crawler.replica import ReplicaServer
from provnews.pipelines.store import StorePipeline
from provnews.storage import bounds
from provnews.storage.api import Storage, StoreEntry, UrlMark
from provnews.storage.bisect import caused_by_rows
from provnews.storage.models import UrlState
from tests.helpers import assert_run_balances, run
from tests.paths import REPO
from tests.test_storage_generated import incompressible

# The a-id family's date source: 53 characters, longer than the old VARCHAR(32).
LONG_DATE_SOURCE = "visible:span.pubdate,.pubdate,.date-detail,.post-date"


def url_reason(storage: Storage, url: str) -> str | None:
    with storage.engine.connect() as conn:
        return conn.execute(select(UrlState.reason).where(UrlState.url == url)).scalar_one_or_none()


def entries(rows: list[dict[str, Any]]) -> list[StoreEntry]:
    return [StoreEntry(row, [UrlMark(row["url"], row["site_id"], "stored")]) for row in rows]


def test_a_long_date_source_is_stored_on_both_engines(storage: Storage, make_article: Callable) -> None:
    """Failed before on PostgreSQL: `date_source` was VARCHAR(32), and the batch of 20 was lost."""
    rows = [make_article(n, date_source=LONG_DATE_SOURCE) for n in range(20)]
    result = storage.store_batch(rows, [])
    assert result.new == 20
    assert storage.get_article(rows[0]["canonical_url"])["date_source"] == LONG_DATE_SOURCE  # type: ignore[index]


@pytest.mark.parametrize("position", [0, 7, 19])
def test_one_bad_article_costs_only_itself(storage: Storage, make_article: Callable, position: int) -> None:
    rows = [make_article(n) for n in range(20)]
    rows[position]["published_at"] = "not a date"  # refused while the batch is prepared, on both engines
    outcome = storage.store_entries(entries(rows))
    assert outcome.result.new == 19
    assert outcome.transactions <= 1 + 2 * math.ceil(math.log2(20))  # the failing halves only
    assert [r.entry.row["url"] for r in outcome.refused] == [rows[position]["url"]]
    assert "ValueError" in outcome.refused[0].error
    assert storage.count_articles() == 19
    assert storage.get_article(rows[position]["canonical_url"]) is None
    state = storage.site_url_states("baotest")
    assert state[rows[position]["url"]].status == "failed"
    assert state[rows[position]["url"]].attempts == 1
    assert {state[r["url"]].status for i, r in enumerate(rows) if i != position} == {"stored"}


def test_a_good_batch_is_one_transaction(storage: Storage, make_article: Callable) -> None:
    outcome = storage.store_entries(entries([make_article(n) for n in range(20)]))
    assert (outcome.result.new, outcome.refused, outcome.transactions) == (20, [], 1)


def test_an_over_long_indexed_value_is_refused_alone_on_postgresql(
    pg_database: str, make_article: Callable
) -> None:
    """Failed before: a 20,000-character section exceeds the B-tree row limit of ix_articles_section,
    and the whole batch rolled back."""
    rows = [make_article(n) for n in range(20)]
    rows[11]["section"] = incompressible(20_000, random.Random(1))
    with Storage.open(pg_database) as storage:
        outcome = storage.store_entries(entries(rows))
        assert outcome.result.new == 19
        assert len(outcome.refused) == 1
        assert "index row" in outcome.refused[0].error
        reason = url_reason(storage, rows[11]["url"])
        assert reason is not None and reason.startswith("store_error: ProgramLimitExceeded")
        # The URL is tried again: a second refusal is a second attempt.
        storage.store_entries(entries([rows[11]]))
        assert storage.site_url_states("baotest")[rows[11]["url"]].attempts == 2


def test_errors_of_the_database_itself_are_not_bisected() -> None:
    from sqlalchemy.exc import DataError, OperationalError

    class PgError(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    assert caused_by_rows(ValueError("bad date"))
    assert caused_by_rows(DataError("INSERT", {}, PgError("22001")))  # string data right truncation
    assert caused_by_rows(OperationalError("INSERT", {}, PgError("54000")))  # program limit exceeded
    assert not caused_by_rows(OperationalError("INSERT", {}, PgError("53100")))  # disk full
    assert not caused_by_rows(OperationalError("INSERT", {}, PgError("08006")))  # connection failure
    assert not caused_by_rows(OperationalError("INSERT", {}, Exception("database is locked")))  # SQLite


def test_store_pipeline_counts_the_refused_article_and_stores_the_rest(db_url: str) -> None:
    crawler = get_crawler(settings_dict={"PROVNEWS_DB_URL": db_url, "PROVNEWS_STORE_BATCH": 20})
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()
    stats = crawler.stats
    assert stats is not None
    for n in range(20):
        fields = ArticleFields(
            url=f"https://baotest.vn/tin-{n}.html",
            canonical_url=f"https://baotest.vn/tin-{n}.html",
            title=f"Tin {n}",
            text="Nội dung bài. " * 20,
            published_at="not a date" if n == 5 else "2024-05-01T08:30:00+07:00",
            date_source=LONG_DATE_SOURCE,
        )
        pipeline.process_item(ArticleItem(fields, site_id="baotest"))
    asyncio.run(pipeline.close_spider())  # (its writes are done at once outside a crawl)
    assert stats.get_value("provnews/store/new") == 19
    assert stats.get_value("provnews/failed/store_error") == 1
    assert stats.get_value("provnews/site/baotest/failed/store_error") == 1
    assert "ValueError" in stats.get_value("provnews/store/last_error")
    with Storage.open(db_url) as storage:
        assert storage.count_articles() == 19
        assert storage.site_url_states("baotest")["https://baotest.vn/tin-5.html"].status == "failed"


def test_bulk_ingest_stores_every_good_article_of_a_refused_batch(
    storage: Storage, make_article: Callable
) -> None:
    """Failed before: a batch the database refused stopped the ingest, losing its good articles."""
    rows = [make_article(n) for n in range(30)]
    rows[14]["run_id"] = 424_242  # no such crawl run: the foreign key refuses it, on both engines
    result = storage.ingest([rows[:10], rows[10:20], rows[20:]])
    assert result.new == 29
    assert [url for url, _ in result.refused] == [rows[14]["url"]]
    assert "foreign key" in result.refused[0][1].lower()
    assert storage.count_articles() == 29


def test_import_bounds_each_line_like_a_crawled_article(db_url: str, tmp_path: Path) -> None:
    """Failed before: a 20,000-character section failed the PostgreSQL batch; the 1 MB title, NUL and
    a lone surrogate (a JSON escape) were stored raw or failed the import."""
    lines = [
        {
            "url": f"https://baotest.vn/bai-{n}.html",
            "site_id": "baotest",
            "title": f"Bài {n}",
            "text": "Nội dung bài. " * 20,
        }
        for n in range(5)
    ]
    lines[2] |= {
        "section": incompressible(20_000, random.Random(1)),
        "title": incompressible(1_000_000, random.Random(2)),
        "text": "Có\x00 \ud800" * 30,
    }
    lines[3] |= {"tags": "not a list"}
    dump = tmp_path / "dump.jsonl"
    dump.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    registry = str(REPO / "tests" / "fixtures" / "import-sites.toml")  # knows baotest
    result = CliRunner().invoke(
        cli, ["--db", db_url, "import", "--sites-file", registry, str(dump)], catch_exceptions=False
    )
    assert "4 new, 0 updated, 0 unchanged, 1 skipped" in result.output
    assert "skipped: bad_tags: 1" in result.output
    assert "truncated to its bound: section: 1" in result.output
    assert "truncated to its bound: title: 1" in result.output
    assert "repaired (NUL or lone surrogates): text: 1" in result.output
    with Storage.open(db_url) as storage:
        third = storage.get_article("https://baotest.vn/bai-2.html")
        assert third is not None
        assert len(third["title"]) == bounds.STRING_BOUNDS["title"]
        assert "\x00" not in third["text"] and "\ufffd" in third["text"]


def test_a_crawl_of_the_a_id_family_stores_every_article_on_postgresql(
    pg_database: str, tmp_path: Path
) -> None:
    """The case of the issue, end to end. Failed before: the family's 53-character date source did not fit
    VARCHAR(32); each batch was lost and the run still said finished."""
    with ReplicaServer(sites=["baocantho"], articles_per_site=10, seed=12) as replica:
        sites_file = tmp_path / "sites.toml"
        sites_file.write_text(replica.sites_toml(), encoding="utf-8")
        result = run(["provnews", "--db", pg_database, "crawl", "--sites-file", str(sites_file)])
    assert result.returncode == 0, result.stderr[-3000:]
    with Storage.open(pg_database) as storage:
        assert storage.count_articles() == 10
        assert {a["date_source"] for a in storage.iter_articles()} == {LONG_DATE_SOURCE}


def test_a_locked_database_is_not_bisected(tmp_path: Path, make_article: Callable) -> None:
    """An error of the database itself fails every half alike: it is raised after one attempt, not
    retried for each article (20 articles would wait for SQLite's lock about 10 times)."""
    url = f"sqlite:///{tmp_path / 'locked.sqlite3'}"
    with Storage.open(url) as storage:
        holder = sqlite3.connect(tmp_path / "locked.sqlite3")
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            started = time.monotonic()
            with pytest.raises(OperationalError, match="locked"):
                storage.store_entries(entries([make_article(n) for n in range(20)]))
            assert time.monotonic() - started < 9  # one busy timeout (5 s), not one per half
        finally:
            holder.rollback()
            holder.close()
        assert storage.count_articles() == 0


def refuse_url(db_url: str, url: str) -> None:
    """A trigger that makes the database refuse this one article, as a data error, on either engine."""
    with Storage.open(db_url) as storage, storage.engine.begin() as conn:
        if storage.engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON articles "
                f"WHEN NEW.url = '{url}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
            return
        conn.exec_driver_sql(
            "CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.url = '{url}' THEN RAISE EXCEPTION 'refused by the test' "
            "USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse_one BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION refuse_one()"
        )


def test_a_crawl_with_a_refused_article_stores_the_rest_and_fails_the_site(
    db_url: str, tmp_path: Path
) -> None:
    """The refused article is the site's failure (storage errors), its URL failed with the database's
    message, every other article stored, and the run's accounts balance."""
    with ReplicaServer(sites=["baocantho"], articles_per_site=10, seed=12) as replica:
        refused = sorted(replica.ground_truth("baocantho"))[3]
        refuse_url(db_url, refused)
        sites_file = tmp_path / "sites.toml"
        sites_file.write_text(replica.sites_toml(), encoding="utf-8")
        result = run(["provnews", "--db", db_url, "crawl", "--sites-file", str(sites_file)])
    assert result.returncode == 1, result.stderr[-3000:]
    assert "baocantho: failed: storage errors" in result.stderr
    record = assert_run_balances(db_url)
    assert record["outcome"] == "failed"
    account = record["stats"]["sites"]["baocantho"]
    assert account["failed"] == {"store_error": 1}
    assert sum(account["stored"].values()) == 9
    with Storage.open(db_url) as storage:
        assert storage.count_articles() == 9
        assert "refused by the test" in (url_reason(storage, refused) or "")
