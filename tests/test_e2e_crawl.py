"""End to end: the real spider and pipelines crawl the local replica into SQLite; a second crawl adds
nothing and fetches no article page again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage
from tests.helpers import assert_run_balances, run

COMPARED = (
    "canonical_url",
    "title",
    "sapo",
    "text",
    "byline",
    "authors",
    "published_at",
    "modified_at",
    "section",
    "tags",
    "dateline",
    "language",
)


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(articles_per_site=10, seed=11) as server:
        yield server


@pytest.fixture(scope="module")
def crawled(replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two crawls of the replica with `provnews crawl`, the request logs of each."""
    tmp = tmp_path_factory.mktemp("e2e")
    sites_file = tmp / "sites.toml"
    sites_file.write_text(replica.sites_toml(), encoding="utf-8")
    db = f"sqlite:///{tmp / 'corpus.sqlite3'}"
    replica.clear_log()
    first = run(["provnews", "--db", db, "crawl", "--sites-file", str(sites_file)])
    logs1 = {s: replica.request_log(s) for s in replica.site_ids}
    replica.clear_log()
    second = run(["provnews", "--db", db, "crawl", "--sites-file", str(sites_file)])
    logs2 = {s: replica.request_log(s) for s in replica.site_ids}
    return {
        "db": db,
        "first": first,
        "second": second,
        "logs1": logs1,
        "logs2": logs2,
        "sites_file": sites_file,
    }


def article_paths(replica: ReplicaServer, site_id: str) -> set[str]:
    base = replica.base_url(site_id).rstrip("/")
    return {url.removeprefix(base) for url in replica.ground_truth(site_id)}


def test_first_crawl_succeeds(crawled: dict) -> None:
    result = crawled["first"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "articles new:      30" in result.stdout
    run_row = assert_run_balances(crawled["db"], 1)
    assert run_row["outcome"] == "finished"
    # each site: its 10 articles stored, the page robots.txt disallows dropped, nothing else
    for site_id, account in run_row["stats"]["sites"].items():
        assert (account["met"], account["stored"], account["dropped"]) == (
            11,
            {"new": 10},
            {"robots_denied": 1},
        ), site_id
        assert account["failed"] == account["pending"] == {} and account["status"] == "ok"
        line = next(x for x in result.stdout.splitlines() if x.split()[:1] == [site_id])
        assert line.split() == [site_id, "11", "=", "10", "+", "1", "+", "0", "+", "0", "ok"]


def test_every_article_stored_exactly_once_and_equal_to_ground_truth(
    crawled: dict, replica: ReplicaServer
) -> None:
    truth = replica.ground_truth()
    with Storage.open(crawled["db"]) as storage:
        assert storage.count_articles() == len(truth) == 30
        for url, expected in truth.items():
            stored = storage.get_article(url)
            assert stored is not None, url
            for field in COMPARED:
                assert stored[field] == expected[field], (url, field)
            assert [{"url": i["url"], "caption": i["caption"]} for i in stored["images"]] == expected[
                "images"
            ]
        rows = list(storage.iter_articles())
        assert len({r["canonical_url"] for r in rows}) == len(rows)


def test_articles_carry_site_and_province(crawled: dict) -> None:
    with Storage.open(crawled["db"]) as storage:
        by_site = dict(storage.article_counts_by_site())
        assert by_site == {"baogialai": 10, "baolaocai": 10, "baocantho": 10}
        sample = next(storage.iter_articles(site="baocantho"))
        assert sample["province"] == "Cần Thơ"
        assert sample["family"] == "a-id"


def test_robots_txt_is_obeyed(crawled: dict, replica: ReplicaServer) -> None:
    for site_id in replica.site_ids:
        paths = [path for _, path, _ in crawled["logs1"][site_id]]
        assert "/robots.txt" in paths
        assert not any(p.startswith("/private/") for p in paths)


def test_each_article_page_fetched_once(crawled: dict, replica: ReplicaServer) -> None:
    for site_id in replica.site_ids:
        fetched = [
            path for _, path, _ in crawled["logs1"][site_id] if re.search(r"-(post|a)\d+\.html$", path)
        ]
        assert sorted(fetched) == sorted(article_paths(replica, site_id))


def test_second_crawl_adds_nothing_and_fetches_no_article_page(crawled: dict, replica: ReplicaServer) -> None:
    result = crawled["second"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "articles new:      0" in result.stdout
    for site_id in replica.site_ids:
        paths = {path for _, path, _ in crawled["logs2"][site_id]}
        assert paths, "the second crawl still reads robots.txt and the discovery sources"
        assert not paths & article_paths(replica, site_id)
    with Storage.open(crawled["db"]) as storage:
        assert storage.count_articles() == 30
        runs = storage.runs()
        assert [r["outcome"] for r in runs] == ["finished", "finished"]
        assert runs[0]["stats"]["articles_new"] == 0
        assert runs[1]["stats"]["articles_new"] == 30
    assert assert_run_balances(crawled["db"], 2)["outcome"] == "finished"


def test_scrapy_crawl_news_works_from_the_repository_root(replica: ReplicaServer, tmp_path: Path) -> None:
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(replica.sites_toml(), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'scrapy.sqlite3'}"
    env = {"PROVNEWS_DB_URL": db, "PROVNEWS_SITES_FILE": str(sites_file)}
    listed = run(["scrapy", "list"], env=env)
    assert listed.returncode == 0 and listed.stdout.split() == ["news"], listed.stderr[-2000:]
    result = run(["scrapy", "crawl", "news", "-a", "site=baocantho"], env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    with Storage.open(db) as storage:
        assert dict(storage.article_counts_by_site()) == {"baocantho": 10}
    assert assert_run_balances(db)["outcome"] == "finished"


def test_max_articles_limits_new_articles_per_site(replica: ReplicaServer, tmp_path: Path) -> None:
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(replica.sites_toml(), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'limited.sqlite3'}"
    result = run(
        ["provnews", "--db", db, "crawl", "baogialai", "--sites-file", str(sites_file), "--max-articles", "3"]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with Storage.open(db) as storage:
        assert dict(storage.article_counts_by_site()) == {"baogialai": 3}
    account = assert_run_balances(db)["stats"]["sites"]["baogialai"]
    # the articles over the limit are met and left for the next run, not lost from the accounts
    assert account["stored"] == {"new": 3} and account["pending"]["limit_reached"] >= 7, account
