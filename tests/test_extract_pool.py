"""Extraction in a pool of worker processes, awaited while the crawl goes on (issue 14): a page that
hangs one worker stops neither the downloads nor the other workers, and the limits still hold. Real
crawls of the replica through the fault proxy (which logs each request with its time), with a test
parser (tests/slow_parser.py) that hangs on the first page it parses and logs every parse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.replica import ReplicaServer
from pipelines.storage import Storage
from tests.fault_proxy import FaultProxy
from tests.helpers import assert_run_balances, run
from tests.paths import REPO

SITE = "baogialai"
ARTICLE = r"-post\d+\.html$"
TIMEOUT = 3.0  # PROVNEWS_EXTRACT_TIMEOUT: how long the hung page holds its worker


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(sites=[SITE], articles_per_site=40, seed=53) as server:
        yield server


@pytest.fixture
def proxy(replica: ReplicaServer) -> Iterator[FaultProxy]:
    # a little latency, one request at a time: fetching the site's articles takes longer than TIMEOUT
    with FaultProxy(replica.base_url(SITE), latency=0.08) as server:
        yield server


def crawl_with_a_hung_page(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path, workers: int
) -> tuple[str, list[dict[str, Any]]]:
    """Crawl the site through the proxy with `workers` extraction workers; the database URL and the
    parse log (events in order of time)."""
    sites_file = tmp_path / "sites.toml"
    text = replica.sites_toml().replace(replica.base_url(SITE), proxy.base_url)
    sites_file.write_text(text.replace("concurrency = 4", "concurrency = 1"), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'pool.sqlite3'}"
    log = tmp_path / "parses.jsonl"
    parsers = json.dumps({"post": "tests.slow_parser:SlowParser"})
    settings = {
        "PROVNEWS_PARSERS": parsers,
        "PROVNEWS_EXTRACT_TIMEOUT": str(TIMEOUT),
        "PROVNEWS_EXTRACT_WORKERS": str(workers),
        "PROVNEWS_STORE_BATCH": "1",  # each article written as soon as it reaches the store
        "DOWNLOAD_DELAY_JITTER": "0",
    }
    result = run(
        ["provnews", "--db", db, "crawl", "--sites-file", str(sites_file)]
        + [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")],
        env={"PYTHONPATH": str(REPO), "PROVNEWS_TEST_PARSE_LOG": str(log), "PROVNEWS_PROGRESS": "0"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    events = sorted((json.loads(line) for line in log.read_text().splitlines()), key=lambda e: e["mono"])
    return db, events


def hung(events: list[dict[str, Any]]) -> dict[str, Any]:
    (event,) = [e for e in events if e["event"] == "hang"]
    return event


def test_the_downloads_go_on_while_the_only_worker_is_hung(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    """One worker, hung for TIMEOUT seconds: the crawl keeps fetching articles meanwhile (the old
    pipeline waited on the worker in the reactor thread, so nothing was fetched), then drops the page
    as extract_timeout and stores all the others."""
    db, events = crawl_with_a_hung_page(replica, proxy, tmp_path, workers=1)
    start = hung(events)["mono"]
    fetched_meanwhile = [h for h in proxy.hits(ARTICLE) if start < h.at < start + TIMEOUT - 0.2]
    # one request was in flight at most when the reactor would have stalled; at 0.08 s each, many more
    assert len(fetched_meanwhile) >= 5, len(fetched_meanwhile)
    assert_dropped_only_the_hung_page(db, replica, hung(events))


def test_other_workers_extract_and_store_while_one_is_hung(
    replica: ReplicaServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    """Two workers: while one hangs on a page, the other extracts pages at the same time (another
    process, during the hang), and they are stored before the hung page times out."""
    db, events = crawl_with_a_hung_page(replica, proxy, tmp_path, workers=2)
    hang = hung(events)
    during = [e for e in events if e["event"] == "end" and hang["mono"] < e["mono"] < hang["mono"] + TIMEOUT]
    assert len(during) >= 3, events
    assert {e["pid"] for e in during} - {hang["pid"]}, "the other pages were parsed by another worker"
    deadline = hang["wall"] + TIMEOUT
    with Storage.open(db) as storage:
        stored_before = [
            a for a in storage.iter_articles() if _timestamp(a["first_seen_at"]) < deadline - 0.2
        ]
    assert len(stored_before) >= 3, len(stored_before)
    assert_dropped_only_the_hung_page(db, replica, hung(events))


def assert_dropped_only_the_hung_page(db: str, replica: ReplicaServer, hang: dict[str, Any]) -> None:
    account = assert_run_balances(db)["stats"]["sites"][SITE]
    assert account["dropped"].get("extract_timeout") == 1, account
    with Storage.open(db) as storage:
        stored = {urlsplit(a["url"]).path for a in storage.iter_articles()}
    assert stored == {urlsplit(url).path for url in replica.ground_truth(SITE)} - {hang["path"]}


def _timestamp(value: str) -> float:
    from datetime import datetime

    when = datetime.fromisoformat(value)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
