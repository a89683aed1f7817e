"""Crash safety: `provnews crawl` killed with SIGKILL at random moments, then run again, stores every
article of the replica exactly once and loses no URL; SIGTERM stops cleanly and promptly and records
"interrupted"."""

from __future__ import annotations

import os
import random
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage
from provnews.storage.models import Article, UrlState
from tests.helpers import BIN, LOOPBACK_ENV, assert_run_balances, run, wait_for
from tests.paths import REPO

ARTICLE_PATH = r"-(post|a)\d+\.html$"


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(sites=["baogialai", "baocantho"], articles_per_site=40, seed=23) as server:
        yield server


def slow_registry(replica: ReplicaServer, path: Path, delay: float = 0.08) -> Path:
    """The replica's registry, one request at a time per site with a small delay: a crawl of several
    seconds, so that kills land in every phase (discovery, fetching, storing)."""
    text = replica.sites_toml().replace("delay = 0\n", f"delay = {delay}\n")
    path.write_text(text.replace("concurrency = 4\n", "concurrency = 1\n"), encoding="utf-8")
    return path


def crawl_command(db: str, sites_file: Path) -> list[str]:
    return [
        str(BIN / "provnews"),
        "--db",
        db,
        "crawl",
        "--sites-file",
        str(sites_file),
        "-s",
        "PROVNEWS_STORE_BATCH=4",
        "-s",
        "DOWNLOAD_DELAY_JITTER=0",
    ]


def start(db: str, sites_file: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        crawl_command(db, sites_file),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **LOOPBACK_ENV, "PROVNEWS_PROGRESS": "0"},
    )


def run_started(db: str, pid: int) -> bool:
    """Whether the process has recorded its run (the crawl has started: discovery is under way)."""
    with Storage.open(db) as storage:
        return any(r["pid"] == pid and r["outcome"] == "running" for r in storage.runs(limit=3))


def discovered(db: str) -> int:
    with Storage.open(db) as storage, storage.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(UrlState)).scalar_one())


def article_count(db: str) -> int:
    with Storage.open(db) as storage:
        return storage.count_articles()


def test_repeated_kill_9_loses_nothing_and_duplicates_nothing(replica: ReplicaServer, tmp_path: Path) -> None:
    sites_file = slow_registry(replica, tmp_path / "sites.toml")
    db = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    Storage.open(db).close()
    rng = random.Random(20251)
    progress = []
    for kill in range(4):
        proc = start(db, sites_file)
        before = article_count(db)
        # Kills land in every phase, each when the crawl is seen in it (not after a guessed time):
        # just started, URLs discovered, then while articles are being stored.
        if kill == 0:
            wait_for(lambda pid=proc.pid: run_started(db, pid), what="the run row")
        elif kill == 1:
            wait_for(lambda: discovered(db) >= 20, what="20 URLs discovered")
        else:
            more = rng.randint(1, 8)
            target = before + more
            wait_for(lambda target=target: article_count(db) >= target, what=f"{more} more articles stored")
        assert proc.poll() is None, "the crawl ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)  # reaped, as cron or systemd would: its pid is gone
        assert proc.returncode == -signal.SIGKILL
        with Storage.open(db) as storage:
            progress.append(storage.count_articles())
    final = run(["provnews", *crawl_command(db, sites_file)[1:]])
    assert final.returncode == 0, final.stderr[-3000:]
    # after the kills, the next run's accounts balance: what the killed runs left is met and settled
    assert assert_run_balances(db)["stats"]["outcomes"]["met"] > 0

    truth = replica.ground_truth()
    with Storage.open(db) as storage:
        assert storage.count_articles() == len(truth) == 80
        assert {a["canonical_url"] for a in storage.iter_articles()} == set(truth)
        with storage.engine.connect() as conn:
            # exactly once: one row per canonical URL (also enforced by the unique key)
            per_url = conn.execute(
                select(Article.canonical_url, func.count()).group_by(Article.canonical_url)
            )
            assert all(n == 1 for _, n in per_url)
            states = dict(conn.execute(select(UrlState.url, UrlState.status)).all())
            assert storage.site_locks() == []  # no claim held (released claims stay as rows)
        # no URL lost: every article is "stored" in url_state, nothing is left half-way
        assert all(states.get(url) == "stored" for url in truth), [
            u for u in truth if states.get(u) != "stored"
        ]
        assert "discovered" not in states.values()
        assert "failed" not in states.values()
        runs = storage.runs(limit=10)
    # the killed runs were found dead and closed as crashed; the last one finished
    assert runs[0]["outcome"] == "finished"
    crashed = [r for r in runs[1:] if r["stats"].get("finish_reason") == "crashed"]
    assert [r["outcome"] for r in runs[1:]] == ["failed"] * len(runs[1:])
    assert len(crashed) == len(runs) - 1 >= 3
    # the kills did land while work was going on
    assert progress[-1] > 0 and progress[0] < 80, progress


def test_sigterm_finishes_in_flight_items_and_records_interrupted(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    sites_file = slow_registry(replica, tmp_path / "sites.toml", delay=0.15)
    db = f"sqlite:///{tmp_path / 'term.sqlite3'}"
    Storage.open(db).close()
    proc = start(db, sites_file)
    # wait until articles are being fetched (some stored), then ask it to stop
    wait_for(lambda: article_count(db) >= 4, what="4 articles stored")
    served = {site: len(replica.request_log(site)) for site in replica.site_ids}
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 5, err[-3000:]  # interrupted
    assert "finish reason:     shutdown" in out
    # the URLs it had not taken up are pending ("stopped"), and the accounts balance
    interrupted = assert_run_balances(db)
    assert interrupted["stats"]["outcomes"]["pending"] > 0
    # Only the transfers under way were finished: the requests queued behind each site's delay (up to
    # CONCURRENT_REQUESTS of them) were left for the next run, not fetched first.
    late = {site: len(replica.request_log(site)) - served[site] for site in replica.site_ids}
    assert all(count <= 2 for count in late.values()), late
    with Storage.open(db) as storage:
        run_row = storage.runs(limit=1)[0]
        assert run_row["outcome"] == "interrupted"
        stored = storage.count_articles()
        assert run_row["stats"]["articles_new"] == stored < 80
        with storage.engine.connect() as conn:
            states = dict(conn.execute(select(UrlState.url, UrlState.status)).all())
            assert storage.site_locks() == []  # no claim held (released claims stay as rows)
    # every article whose page was parsed was flushed: stored rows and "stored" states agree
    truth = replica.ground_truth()
    assert sum(states.get(url) == "stored" for url in truth) == stored
    # the next run takes up what was left, without fetching a stored article again
    replica.clear_log()
    again = run(["provnews", *crawl_command(db, sites_file)[1:]])
    assert again.returncode == 0, again.stderr[-3000:]
    assert_run_balances(db)
    with Storage.open(db) as storage:
        assert storage.count_articles() == 80
    stored_paths = {url.split("/", 3)[-1] for url, status in states.items() if status == "stored"}
    refetched = [
        path
        for site in replica.site_ids
        for _, path, _ in replica.request_log(site)
        if path.lstrip("/") in stored_paths
    ]
    assert refetched == []
