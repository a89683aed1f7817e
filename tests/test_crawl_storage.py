"""One storage and one registry per crawl, and database writes off the reactor thread: real crawls of
the replica on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from provnews.crawler.replica import ReplicaServer
from provnews.crawler.sites.registry import DEFAULT_SITES_FILE
from provnews.storage.api import Storage
from provnews.storage.engine import normalise_url
from tests.helpers import BIN, LOOPBACK_ENV, assert_run_balances, run, wait_for
from tests.paths import REPO

OBSERVE = REPO / "tests" / "observe"
CRAWL = ["scrapy", "crawl", "news"]
SAVE_OFTEN = ["-s", "PROVNEWS_RUN_SAVE_INTERVAL=0.2"]  # progress saves during the crawl, too
SMALL_BATCHES = ["-s", "PROVNEWS_STORE_BATCH=2", "-s", "PROVNEWS_STORE_FLUSH_SECONDS=0.2"]


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(articles_per_site=12, seed=5, latency=0.05) as server:
        yield server


def observed(out: Path) -> dict[str, int]:
    """The counts of the crawl process itself (not of the extraction workers it starts)."""
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    crawl = [line for line in lines if not line["worker"] and Path(line["argv"][0]).name == "scrapy"]
    assert len(crawl) == 1, lines
    return crawl[0]


@pytest.mark.parametrize("given_by", ["argument", "environment"])
def test_a_crawl_opens_one_storage_and_reads_the_registry_once(
    db_url: str, given_by: str, replica: ReplicaServer, tmp_path: Path
) -> None:
    """Failed before: the spider, the store pipeline, the site claims and the run recorder each opened
    their own engine (and the run recorder one more per progress save), and the spider, the extract
    and the normalize pipelines each read a registry (the pipelines the packaged one when the spider
    was given `-a sites_file=`)."""
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(replica.sites_toml(), encoding="utf-8")
    out = tmp_path / "observed.jsonl"
    env = {
        "PYTHONPATH": str(OBSERVE),
        "PROVNEWS_OBSERVE_OUT": str(out),
        "PROVNEWS_OBSERVE_REGISTRY": os.pathsep.join([str(sites_file), str(DEFAULT_SITES_FILE)]),
        "PROVNEWS_DB_URL": db_url,
    }
    registry = ["-a", f"sites_file={sites_file}"]
    if given_by == "environment":
        env["PROVNEWS_SITES_FILE"], registry = str(sites_file), []
    result = run(
        [*CRAWL, "-a", "site=baogialai,baocantho", *registry, *SAVE_OFTEN],
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    counts = observed(out)
    assert counts["engines"] == 1, counts
    # one read by `scrapy crawl`'s check of the arguments before Scrapy starts, one by the crawl
    assert counts["registry_reads"] == 2, counts
    with Storage.open(db_url) as storage:
        assert dict(storage.article_counts_by_site()) == {"baogialai": 12, "baocantho": 12}
    run_row = assert_run_balances(db_url)
    assert run_row["outcome"] == "finished"


def test_the_crawl_goes_on_while_a_write_waits_for_the_database(
    pg_database: str, replica: ReplicaServer, tmp_path: Path
) -> None:
    """Failed before: the store pipeline wrote on the reactor thread, so a batch waiting for a lock on
    the articles table stopped every download. Now the pages are all fetched and extracted while the
    table is locked, nothing is stored until it is released, then everything is and the run balances."""
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(replica.sites_toml(), encoding="utf-8")
    Storage.open(pg_database).close()  # the schema, before the lock is taken
    articles = {
        url.removeprefix(replica.base_url("baogialai").rstrip("/"))
        for url in replica.ground_truth("baogialai")
    }
    locker = create_engine(normalise_url(pg_database))
    conn = locker.connect()
    crawl = None
    log = tmp_path / "crawl.log"
    try:
        # SHARE: reads go on (the crawl reads URL states and stored URLs), writes wait.
        conn.execute(text("LOCK TABLE articles IN SHARE MODE"))
        replica.clear_log()
        crawl = subprocess.Popen(
            [
                str(BIN / "provnews"),
                "--db",
                pg_database,
                "crawl",
                "baogialai",
                "--sites-file",
                str(sites_file),
                *SMALL_BATCHES,
            ],
            cwd=REPO,
            env={**os.environ, **LOOPBACK_ENV},
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )

        def fetched() -> set[str]:
            return {path for _method, path, _status in replica.request_log("baogialai")} & articles

        wait_for(lambda: fetched() == articles, timeout=60, what="every article page fetched")
        with Storage.open(pg_database) as storage:
            assert storage.count_articles() == 0  # the writes wait for the lock
        assert crawl.poll() is None  # and the crawl for its writes
    finally:
        conn.rollback()
        conn.close()
        locker.dispose()
        if crawl is not None and crawl.poll() is None:
            try:
                crawl.wait(timeout=120)
            except subprocess.TimeoutExpired:
                crawl.kill()
                crawl.wait()
    assert crawl is not None
    assert crawl.returncode == 0, log.read_text(encoding="utf-8")[-3000:]
    with Storage.open(pg_database) as storage:
        assert dict(storage.article_counts_by_site()) == {"baogialai": 12}
    run_row = assert_run_balances(pg_database)
    assert run_row["outcome"] == "finished"
    assert run_row["stats"]["sites"]["baogialai"]["stored"] == {"new": 12}
