"""Storage API on real databases: upserts, URL state, runs, reads and exports."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from provnews.crawler.sites.registry import Site
from provnews.storage.api import Storage, UrlMark
from provnews.storage.models import Article, SiteRow, UrlState
from provnews.storage.rows import content_hash

MakeArticle = Callable[..., dict[str, Any]]


def test_upsert_is_idempotent(storage: Storage, make_article: MakeArticle) -> None:
    batch = [make_article(n) for n in range(1, 4)]
    first = storage.upsert_articles(batch)
    assert (first.new, first.updated, first.unchanged) == (3, 0, 0)
    second = storage.upsert_articles(batch)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 3)
    assert sorted(second.unchanged_ids) == sorted(first.new_ids)
    assert storage.count_articles() == 3


def test_same_canonical_url_twice_in_a_batch_is_one_article(
    storage: Storage, make_article: MakeArticle
) -> None:
    result = storage.upsert_articles(
        [make_article(1), make_article(1, url="https://m.baotest.vn/tin-1.html")]
    )
    assert result.new == 1
    assert storage.count_articles() == 1


def test_update_keeps_identity_and_records_old_hash(storage: Storage, make_article: MakeArticle) -> None:
    original = make_article(1)
    new_id = storage.upsert_articles([original]).new_ids[0]
    before = storage.get_article(new_id)
    assert before is not None and before["versions"] == []
    result = storage.upsert_articles([make_article(1, text="Nội dung đã sửa.", title="Tin đã sửa")])
    assert result.updated_ids == [new_id]
    after = storage.get_article(new_id)
    assert after is not None
    assert after["id"] == new_id and after["first_seen_at"] == before["first_seen_at"]
    assert after["title"] == "Tin đã sửa" and after["text"] == "Nội dung đã sửa."
    assert after["content_hash"] == content_hash("Nội dung đã sửa.")
    assert after["versions"] == [before["content_hash"]]
    storage.upsert_articles([make_article(1, text="Lần sửa thứ hai.")])
    latest = storage.get_article(new_id)
    assert latest is not None and latest["versions"] == [before["content_hash"], after["content_hash"]]


def test_article_round_trip(storage: Storage, make_article: MakeArticle) -> None:
    row = make_article(
        1, published_at="2024-05-01T08:30:00+07:00", modified_at=datetime(2024, 5, 2, 1, 0, tzinfo=UTC)
    )
    article_id = storage.upsert_articles([row]).new_ids[0]
    article = storage.get_article(article_id)
    assert article is not None
    assert article["published_at"] == "2024-05-01T08:30:00+07:00"
    assert article["modified_at"] == "2024-05-02T08:00:00+07:00"
    assert article["authors"] == ["Nguyễn Văn A"] and article["tags"] == ["tin"]
    assert article["images"] == [{"url": "https://baotest.vn/a.jpg", "caption": "Ảnh"}]
    assert article["url_key"] and article["word_count"] == len(row["text"].split())
    assert "raw_html" not in article
    with storage.engine.connect() as conn:
        stored = conn.execute(select(Article.published_at, Article.raw_html)).one()
    assert stored.published_at == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)  # UTC, aware
    assert stored.raw_html and stored.raw_html != row["raw_html"]  # compressed
    with_html = storage.get_article(article_id, include_html=True)
    assert with_html is not None and with_html["raw_html"] == row["raw_html"]


def test_get_article_by_id_or_url(storage: Storage, make_article: MakeArticle) -> None:
    article_id = storage.upsert_articles([make_article(7)]).new_ids[0]
    for key in (
        article_id,
        str(article_id),
        "https://baotest.vn/tin-7.html",
        "https://baotest.vn/tin-7.html?utm_source=x",
    ):
        found = storage.get_article(key)
        assert found is not None and found["id"] == article_id
    assert storage.get_article("https://baotest.vn/none.html") is None
    assert storage.get_article(999) is None


def test_sites_and_stub_sites(storage: Storage, make_article: MakeArticle) -> None:
    storage.upsert_articles([make_article(1, site_id="unknown-site")])  # foreign key satisfied by a stub
    site = Site(
        id="unknown-site",
        name="Báo Thử",
        province="Tỉnh Thử",
        base_url="https://baothu.vn",
        family="post",
        article_pattern=r"\.html$",
    )
    assert storage.upsert_sites([site]) == 1
    assert storage.upsert_sites([site]) == 1
    with storage.engine.connect() as conn:
        rows = conn.execute(select(SiteRow.id, SiteRow.name, SiteRow.base_url, SiteRow.status)).all()
    assert [tuple(r) for r in rows] == [("unknown-site", "Báo Thử", "https://baothu.vn/", "active")]


def test_stored_urls(storage: Storage, make_article: MakeArticle) -> None:
    storage.upsert_articles([make_article(1), make_article(2, site_id="other")])
    assert storage.stored_urls("baotest") == {
        "https://baotest.vn/tin-1.html",
        "https://baotest.vn/tin-1.html?utm_source=x",
    }
    assert len(storage.stored_urls()) == 4


def test_url_state(storage: Storage, make_article: MakeArticle) -> None:
    article_id = storage.upsert_articles([make_article(1)]).new_ids[0]
    url, other = "https://baotest.vn/tin-1.html", "https://baotest.vn/tin-2.html"
    storage.mark_urls(
        [UrlMark(url, "baotest", "discovered", lastmod="2024-05-01"), (other, "baotest", "discovered")]
    )
    storage.mark_url(url, "baotest", "stored")  # article_id found from the URL
    storage.mark_urls([{"url": url, "site_id": "baotest", "status": "discovered"}])  # does not demote
    storage.mark_url(other, "baotest", "failed", reason="HTTP 503")
    storage.mark_url(other, "baotest", "failed", reason="timeout")
    assert storage.url_status([url, other, "https://baotest.vn/never"]) == {url: "stored", other: "failed"}
    with storage.engine.connect() as conn:
        rows = {r.url: r for r in conn.execute(select(UrlState))}
    assert rows[url].article_id == article_id and rows[url].attempts == 1
    assert rows[url].lastmod == datetime(2024, 4, 30, 17, 0, tzinfo=UTC)
    assert rows[other].attempts == 2 and rows[other].reason == "timeout"
    with pytest.raises(ValueError, match="unknown url status"):
        storage.mark_url(url, "baotest", "done")


def test_runs(storage: Storage, make_article: MakeArticle) -> None:
    first = storage.start_run("provnews crawl", ["baotest"])
    second = storage.start_run("provnews crawl --all", ["baotest", "other"])
    storage.upsert_articles([make_article(1, run_id=second)])
    stats = {"pages_fetched": 3, "articles_new": 1, "dropped": {"not_article": 2}}
    storage.finish_run(second, "finished", stats)
    run = storage.get_run(second)
    assert run is not None
    assert run["outcome"] == "finished" and run["stats"] == stats and run["sites"] == ["baotest", "other"]
    assert run["started_at"].endswith("+07:00") and run["finished_at"] and run["pid"] and run["hostname"]
    assert [r["id"] for r in storage.runs()] == [second, first]
    assert [r["id"] for r in storage.runs(limit=1)] == [second]
    assert storage.get_run(first)["outcome"] == "running"  # type: ignore[index]
    assert storage.get_run(12345) is None
    with pytest.raises(ValueError):
        storage.finish_run(first, "running", {})
    with pytest.raises(KeyError):
        storage.finish_run(12345, "failed", {})


def _seed_for_listing(storage: Storage, make_article: MakeArticle) -> None:
    rows = [
        make_article(1, site_id="b", published_at="2024-05-03T10:00:00+07:00"),
        make_article(2, site_id="a", published_at=None),
        make_article(3, site_id="a", published_at="2024-05-02T10:00:00+07:00"),
        make_article(4, site_id="a", published_at="2024-06-01T02:00:00+07:00"),  # 31 May in UTC
        make_article(5, site_id="a", published_at="2024-05-02T10:00:00+07:00"),
        make_article(6, site_id="b", published_at="2024-04-30T23:59:00+07:00"),
    ]
    storage.upsert_articles(rows)


@pytest.mark.parametrize("batch", [1, 2, 500])
def test_iter_articles_order_and_paging(storage: Storage, make_article: MakeArticle, batch: int) -> None:
    _seed_for_listing(storage, make_article)
    titles = [a["title"] for a in storage.iter_articles(batch=batch)]
    assert titles == ["Tin số 3", "Tin số 5", "Tin số 4", "Tin số 2", "Tin số 6", "Tin số 1"]


def test_iter_articles_filters(storage: Storage, make_article: MakeArticle) -> None:
    _seed_for_listing(storage, make_article)
    assert [a["title"] for a in storage.iter_articles(site="b")] == ["Tin số 6", "Tin số 1"]
    may = storage.iter_articles(since=date(2024, 5, 1), until="2024-05-31", batch=1)
    assert [a["title"] for a in may] == ["Tin số 3", "Tin số 5", "Tin số 1"]
    june = storage.iter_articles(since="2024-06-01T02:00:00+07:00", until="2024-06-01T02:00:00+07:00")
    assert [a["title"] for a in june] == ["Tin số 4"]
    first = next(storage.iter_articles())
    assert first["published_at"] == "2024-05-02T10:00:00+07:00" and "raw_html" not in first


def test_counts_and_monthly_stats(storage: Storage, make_article: MakeArticle) -> None:
    _seed_for_listing(storage, make_article)
    assert storage.count_articles() == 6 and storage.count_articles("a") == 4
    assert storage.article_counts_by_site() == [("a", 4), ("b", 2)]
    assert storage.stats_by_site_month() == [
        ("a", "2024-05", 2),
        ("a", "2024-06", 1),
        ("a", None, 1),
        ("b", "2024-04", 1),
        ("b", "2024-05", 1),
    ]


def test_naive_times_are_vietnam_time(storage: Storage, make_article: MakeArticle) -> None:
    article_id = storage.upsert_articles([make_article(1, published_at="2024-05-01T08:30:00")]).new_ids[0]
    article = storage.get_article(article_id)
    assert article is not None and article["published_at"] == "2024-05-01T08:30:00+07:00"


def test_missing_required_field_is_rejected(storage: Storage, make_article: MakeArticle) -> None:
    with pytest.raises(ValueError, match="lacks 'text'"):
        storage.upsert_articles([make_article(1, text="")])
    assert storage.count_articles() == 0


def test_concurrent_writers_on_one_sqlite_file(tmp_path: Any, make_article: MakeArticle) -> None:
    """Separate Storage objects (own pools) writing at once: nobody gets "database is locked"."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    Storage.open(url).close()

    def write(worker: int) -> int:
        with Storage.open(url) as storage:
            for batch in range(10):
                rows = [make_article(worker * 1000 + batch * 10 + n, site_id=f"s{worker}") for n in range(5)]
                storage.upsert_articles(rows)
                storage.mark_urls([(row["url"], row["site_id"], "stored") for row in rows])
            return storage.count_articles(f"s{worker}")

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(write, range(4))) == [50, 50, 50, 50]
