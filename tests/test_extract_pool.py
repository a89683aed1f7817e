"""Extraction in a pool of worker processes, awaited while the crawl goes on (issue 14): a page that
hangs one worker stops neither the downloads nor the other workers, and the limits still hold. Real
crawls of the replica through the fault proxy (which logs each request with its time), with a test
parser (tests/slow_parser.py) that hangs on the first page it parses and logs every parse."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from provnews.crawler.extraction.limits import ExtractionLimitExceeded, LimitedExtractor
from provnews.crawler.parsers import PARSERS
from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage
from tests.fault_proxy import FaultProxy
from tests.helpers import assert_run_balances, run
from tests.paths import FIXTURES, REPO

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
    # the hung page was the first parsed: whatever is stored before its deadline was extracted meanwhile
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
    when = datetime.fromisoformat(value)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


GIALAI = FIXTURES / "sites" / "baogialai" / "post-glo-figcaption"
GIALAI_TITLE = "Gia Lai bàn giải pháp liên kết sản xuất cà phê bền vững"


@pytest.fixture
def parsers_restored() -> Iterator[None]:
    """LimitedExtractor installs PROVNEWS_PARSERS in this process too: put the real parsers back."""
    saved = dict(PARSERS)
    yield
    PARSERS.clear()
    PARSERS.update(saved)


@pytest.mark.timeout(120)
def test_the_pool_replaces_a_hung_and_a_dead_worker_while_the_other_pages_go_on(
    parsers_restored: None,
) -> None:
    """Two workers: one dies on a page (extract_crashed, a new worker takes its place); then one hangs
    on a page (killed at the deadline: extract_timeout) while the other extracts the other pages,
    before the hung page's deadline; and the pool works on afterwards."""
    body = (GIALAI / "page.html").read_bytes()
    timeout = 4.0
    done: dict[str, float] = {}

    async def page(extractor: LimitedExtractor, url: str) -> object:
        try:
            return (await extractor.extract_async(body, url, "post")).title
        except ExtractionLimitExceeded as exc:
            return exc.reason
        finally:
            done[url] = time.monotonic()

    async def crawl(extractor: LimitedExtractor, urls: list[str]) -> list[object]:
        return await asyncio.gather(*(page(extractor, url) for url in urls))

    parsers = {"post": "tests.crashing_parser:DyingParser"}
    with LimitedExtractor(timeout=timeout, parsers=parsers, workers=2) as extractor:
        others = [f"https://baogialai.vn/a{i}.html" for i in range(8)]
        dead = asyncio.run(crawl(extractor, ["https://baogialai.vn/die.html", *others]))
        assert dead == ["extract_crashed", *[GIALAI_TITLE] * len(others)]
        asyncio.run(crawl(extractor, others[:2]))  # both workers running (started at once)
        started = time.monotonic()
        hung = asyncio.run(crawl(extractor, ["https://baogialai.vn/hang.html", *others]))
        assert hung == ["extract_timeout", *[GIALAI_TITLE] * len(others)]
        assert max(done[url] for url in others) < started + timeout - 0.5, (started, done)
        assert done["https://baogialai.vn/hang.html"] >= started + timeout
        assert extractor.running <= 2  # the hung and the dead workers are gone, not left running
        assert asyncio.run(crawl(extractor, others[:2])) == [GIALAI_TITLE] * 2
    assert extractor.running == 0


def test_the_pool_has_one_worker_per_core_unless_told(parsers_restored: None) -> None:
    assert LimitedExtractor(workers=0).workers == (os.cpu_count() or 1)
    assert LimitedExtractor(workers=3).workers == 3
    with pytest.raises(ValueError, match="extraction workers: -1"):
        LimitedExtractor(workers=-1)
