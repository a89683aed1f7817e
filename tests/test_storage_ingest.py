"""Bulk ingest (the next batch prepared while the current one is written) and the PostgreSQL writer's
handling of a URL that another writer stored between the lookup and the write, on both engines."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from provnews.storage import bulk as bulk_module
from provnews.storage.api import Storage
from provnews.storage.engine import SQLITE_CACHE_KIB
from provnews.storage.models import utcnow
from provnews.storage.prepared import prepare_articles
from provnews.storage.search import search
from provnews.storage.write_postgresql import write_postgresql
from tests.test_storage_clusters import OTHER, STORY, wire_copy

MakeArticle = Callable[..., dict[str, Any]]


def _state(storage: Storage) -> list[tuple[Any, ...]]:
    """Every article (URL, title, text, versions), the first URL of its cluster and its band key count."""
    with storage.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.canonical_url, a.title, a.text, a.versions, c.canonical_url AS cluster_of,"
                " (SELECT count(*) FROM near_dup_keys k WHERE k.article_id = a.id) AS keys"
                " FROM articles a JOIN articles c ON c.id = a.cluster_id ORDER BY a.canonical_url"
            )
        )
        # JSON comes back as text from SQLite and parsed from PostgreSQL.
        return [
            (*row[:3], json.loads(row[3]) if isinstance(row[3], str) else row[3], *row[4:]) for row in rows
        ]


@dataclass
class _RecordingSource:
    """A batch given as a `bulk.RowSource`: it notes the process that read its rows."""

    batch: list[dict[str, Any]]
    read_by: int | None = None

    def rows(self) -> list[dict[str, Any]]:
        self.read_by = os.getpid()
        return self.batch


def test_row_sources_are_read_by_the_preparing_process(db_url: str, make_article: MakeArticle) -> None:
    """A `RowSource` crosses to the preparing process unread; it comes back to `on_loaded`, in order,
    as it was after reading, and plain batches may sit between sources."""
    sources = [_RecordingSource([make_article(n), make_article(n + 1)]) for n in (1, 3, 5)]
    loaded: list[Any] = []
    with Storage.open(db_url) as storage:
        batches = [sources[0], [make_article(7)], sources[1], sources[2]]
        assert storage.ingest(iter(batches), on_loaded=loaded.append).new == 7
        assert storage.count_articles() == 7
    assert [source.batch for source in loaded] == [source.batch for source in sources]
    readers = {source.read_by for source in loaded}
    assert len(readers) == 1 and os.getpid() not in readers and None not in readers
    assert all(source.read_by is None for source in sources)  # the caller's objects were not read


def test_a_single_row_source_is_read_in_process(db_url: str, make_article: MakeArticle) -> None:
    source = _RecordingSource([make_article(1)])
    loaded: list[Any] = []
    with Storage.open(db_url) as storage:
        assert storage.ingest([source], on_loaded=loaded.append).new == 1
    assert loaded == [source] and source.read_by == os.getpid()


def test_ingest_stores_what_upserts_store(db_url: str, make_article: MakeArticle, tmp_path: Any) -> None:
    batches = [
        [make_article(n, text=f"{STORY} {n}") for n in range(1, 4)],
        [make_article(4, text=wire_copy(STORY)), make_article(5, text=OTHER), make_article(1, text=OTHER)],
        [make_article(6, text=wire_copy(OTHER)), make_article(2, text=f"{STORY} 2")],  # 2 is unchanged
    ]
    with Storage.open(db_url) as bulk:
        result = bulk.ingest(iter(batches))
        assert (result.new, result.updated, result.unchanged) == (6, 1, 1)
        one, *_, five, six = result.new_ids
        assert {hit.id for hit in search(bulk, "hoang anh pleiku")} == {one, five, six}
        ingested = _state(bulk)
    with Storage.open(f"sqlite:///{tmp_path / 'one-by-one.sqlite3'}") as single:
        for batch in batches:
            single.upsert_articles(batch)
        assert _state(single) == ingested
    clusters = {key: cluster for key, *_, cluster, _keys in ingested}
    assert (
        clusters["https://baotest.vn/tin-4.html"] == "https://baotest.vn/tin-1.html"
    )  # joined 1-3 before 1 changed
    assert (
        clusters["https://baotest.vn/tin-6.html"]
        == clusters["https://baotest.vn/tin-1.html"]
        == "https://baotest.vn/tin-5.html"
    )


def test_ingest_stops_at_a_failing_batch_and_keeps_the_earlier_ones(
    storage: Storage, make_article: MakeArticle
) -> None:
    def batches() -> Any:
        yield [make_article(1), make_article(2)]
        yield [make_article(3), {"url": "https://baotest.vn/x.html", "site_id": "baotest", "title": "x"}]
        yield [make_article(4)]

    with pytest.raises(ValueError, match="lacks 'text'"):
        storage.ingest(batches())
    assert storage.count_articles() == 2


class _KillsTheWorker:
    """A value whose unpickling ends the process that unpickles it: the preparing worker dies."""

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        return os._exit, (3,)


def test_a_dead_preparing_process_stops_the_ingest_and_keeps_what_was_written(
    storage: Storage, make_article: MakeArticle
) -> None:
    def batches() -> Any:
        yield [make_article(1)]
        yield [make_article(2)]
        yield [make_article(3) | {"extra": _KillsTheWorker()}]
        yield [make_article(4)]

    with pytest.raises(BrokenProcessPool):
        storage.ingest(batches())
    with storage.engine.connect() as conn:
        stored = conn.execute(text("SELECT canonical_url FROM articles ORDER BY id")).scalars().all()
    assert stored == ["https://baotest.vn/tin-1.html", "https://baotest.vn/tin-2.html"]


def test_batches_queued_after_a_failing_write_are_not_written(
    storage: Storage, make_article: MakeArticle, monkeypatch: Any
) -> None:
    """Batches are prepared ahead of the writer: when a write fails in the database, the ones queued
    behind it are dropped, the ones before it are committed, and the error is the failing write's."""
    real_write = bulk_module.write_articles
    doomed = "https://baotest.vn/tin-3.html"
    all_queued = threading.Event()

    def failing_write(conn: Any, batch: Any, **kwargs: Any) -> Any:
        result = real_write(conn, batch, **kwargs)  # written, then undone by the batch's savepoint
        if any(v["canonical_url"] == doomed for v in batch.values.values()):
            assert all_queued.wait(30)  # batches 4-6 are queued behind this one
            raise RuntimeError("disk I/O error (injected)")
        return result

    monkeypatch.setattr(bulk_module, "write_articles", failing_write)

    def batches() -> Any:
        for n in range(1, 7):
            yield [make_article(n)]
        all_queued.set()

    with pytest.raises(RuntimeError, match="injected"):
        storage.ingest(batches())
    with storage.engine.connect() as conn:
        stored = conn.execute(text("SELECT canonical_url FROM articles ORDER BY id")).scalars().all()
    assert stored == ["https://baotest.vn/tin-1.html", "https://baotest.vn/tin-2.html"]


def test_postgresql_writer_keeps_the_row_another_writer_stored_first(
    pg_database: str, make_article: MakeArticle
) -> None:
    """The race, made deterministic: the batch is written as if its lookup had not seen a row that is
    in fact stored (another writer stored it in between). The stored row keeps its id; the batch's
    copy of it joins its cluster; no band key points at an id that was planned but never written."""
    with Storage.open(pg_database) as storage:
        first = storage.upsert_articles([make_article(1, text=STORY)]).new_ids[0]
        batch = prepare_articles(
            [make_article(1, text=STORY + " (sửa)"), make_article(2, text=wire_copy(STORY))], "postgresql"
        )
        now = {"versions": [], "first_seen_at": utcnow(), "updated_at": utcnow()}
        with storage._writer.begin() as conn:
            ids = write_postgresql(conn, batch, {key: dict(now) for key in batch.values}, {}, refresh=False)
        key_1, key_2 = batch.values
        assert ids[key_1] == first
        copy = storage.get_article(ids[key_2])
        assert copy is not None and copy["cluster_id"] == first
        assert storage.get_article(first)["text"].endswith("(sửa)")  # type: ignore[index]
        with storage.engine.connect() as conn:
            orphans = conn.execute(
                text(
                    "SELECT count(*) FROM near_dup_keys k LEFT JOIN articles a ON a.id = k.article_id"
                    " WHERE a.id IS NULL"
                )
            ).scalar_one()
            dangling = conn.execute(
                text(
                    "SELECT count(*) FROM articles a LEFT JOIN articles c ON c.id = a.cluster_id"
                    " WHERE c.id IS NULL"
                )
            ).scalar_one()
        assert orphans == dangling == 0


def test_ingest_groups_batches_into_transactions(
    tmp_path: Any, make_article: MakeArticle, monkeypatch: Any
) -> None:
    """Committed every `commit_every` articles: a reader sees whole groups, never part of one; at the
    end everything is committed and the bulk connection's larger page cache is given back."""
    monkeypatch.setattr(bulk_module, "COMMIT_SECONDS", 600.0)  # a slow machine must not commit early
    url = f"sqlite:///{tmp_path / 'bulk.sqlite3'}"
    seen: list[int] = []
    with Storage.open(url) as storage, Storage.open(url) as reader:

        def batches() -> Any:
            for start in range(1, 11, 2):
                seen.append(reader.count_articles())
                yield [make_article(start), make_article(start + 1)]

        assert storage.ingest(batches(), commit_every=4).new == 10
        assert reader.count_articles() == 10
        assert all(count % 4 == 0 for count in seen), seen  # whole groups only
        with storage.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB


def test_a_group_is_committed_after_commit_seconds_whatever_its_size(
    tmp_path: Any, make_article: MakeArticle, monkeypatch: Any
) -> None:
    """Other writers wait for SQLite's lock only up to their busy timeout: a slow group is committed
    after COMMIT_SECONDS even when it holds fewer than `commit_every` articles."""
    monkeypatch.setattr(bulk_module, "COMMIT_SECONDS", 0.0)
    # Each batch written before the next is read.
    monkeypatch.setattr(bulk_module, "AHEAD", 0)
    monkeypatch.setattr(bulk_module, "PREPARE_AHEAD", 0)
    url = f"sqlite:///{tmp_path / 'slow.sqlite3'}"
    seen: list[int] = []
    with Storage.open(url) as storage, Storage.open(url) as reader:

        def batches() -> Any:
            for n in range(1, 5):
                seen.append(reader.count_articles())
                yield [make_article(n)]

        storage.ingest(batches(), commit_every=1000)
    # Each batch committed as soon as it was written (the first two are read before either is written:
    # the second one decides whether a preparing process is started).
    assert seen == [0, 0, 2, 3]
