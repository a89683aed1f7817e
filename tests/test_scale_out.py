"""Scale-out, with real parts: crawl workers (real `provnews crawl` processes) divide the sites of a
replica between them through their claims in one database; one worker killed with kill -9 leaves its
sites to the others, which take them up from the URL states: every article stored exactly once, every
site crawled, one request at a time per site, and the run rows tell who crawled what."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage
from provnews.storage.models import Article, CrawlRun, SiteLockRow, utcnow
from tests.fault_proxy import Fault, FaultProxy
from tests.helpers import BIN, LOOPBACK_ENV, assert_run_balances, run, wait_for
from tests.paths import REPO

BASES = ("baogialai", "baolaocai", "baocantho")
TWELVE = [*BASES, *(f"{base}-{n}" for n in (2, 3, 4) for base in BASES)]


def registry(replica: ReplicaServer, path: Path) -> Path:
    """One request at a time per site (as config/sites.toml has it), no delay."""
    path.write_text(replica.sites_toml().replace("concurrency = 4", "concurrency = 1"), encoding="utf-8")
    return path


def worker(
    db: str, sites_file: Path, log: Path, *settings: str, sites: tuple[str, ...] = ()
) -> subprocess.Popen[str]:
    args = [str(BIN / "provnews"), "--db", db, "crawl", *sites, "--sites-file", str(sites_file)]
    for setting in settings:
        args += ["-s", setting]
    return subprocess.Popen(
        args,
        cwd=REPO,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **LOOPBACK_ENV, "PROVNEWS_PROGRESS": "0"},
    )


def stored_urls(db: str) -> Counter[str]:
    with Storage.open(db) as storage, storage.engine.connect() as conn:
        return Counter(conn.execute(select(Article.canonical_url)).scalars())


def runs_by_pid(db: str) -> dict[int, dict[str, Any]]:
    with Storage.open(db) as storage:
        return {int(r["pid"]): r for r in storage.runs(limit=50)}


@pytest.fixture
def replica() -> Iterator[ReplicaServer]:
    # Each answer takes 20 ms, so that two requests made at once to a site would overlap and be seen.
    with ReplicaServer(TWELVE, articles_per_site=12, seed=5, latency=0.02) as server:
        yield server


def test_three_workers_share_twelve_sites_and_survive_a_kill(
    replica: ReplicaServer, pg_database: str, tmp_path: Path
) -> None:
    db = pg_database
    Storage.open(db).close()  # the schema, before the fleet starts (`provnews db upgrade`)
    sites_file = registry(replica, tmp_path / "sites.toml")
    settings = (
        "PROVNEWS_SITES_PER_WORKER=2",
        "PROVNEWS_LOCK_HEARTBEAT=0.5",
        "PROVNEWS_LOCK_STALE=5",
        "PROVNEWS_RUN_SAVE_INTERVAL=1",
        "PROVNEWS_STORE_FLUSH_SECONDS=1",
    )
    started = utcnow()
    logs = [tmp_path / f"worker{n}.log" for n in range(3)]
    workers = [worker(db, sites_file, log, *settings) for log in logs]
    victim, survivors = workers[0], workers[1:]
    try:
        # The victim is killed in the middle of a site: it holds claims and has stored articles.
        watcher = Storage.open(db)

        def victim_mid_site() -> bool:
            if victim.poll() is not None:
                return True  # (it ended by itself: the assertion below says so)
            run_row = next((r for r in watcher.runs(limit=10) if r["pid"] == victim.pid), None)
            if run_row is None:
                return False
            with watcher.engine.connect() as conn:
                by_victim = select(Article.id).where(Article.run_id == run_row["id"]).limit(1)
                mine = conn.execute(by_victim).first()
            return mine is not None and any(h.pid == victim.pid for h in watcher.site_locks())

        wait_for(victim_mid_site, timeout=180)
        assert victim.poll() is None, logs[0].read_text()[-3000:]
        orphaned = {h.site_id for h in watcher.site_locks() if h.pid == victim.pid}
        watcher.close()
        assert orphaned
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        for n, proc in enumerate(survivors, start=1):
            assert proc.wait(timeout=600) == 0, logs[n].read_text()[-4000:]
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    # Every article of the replica stored exactly once, nothing else stored.
    stored = stored_urls(db)
    truth = set(replica.ground_truth())
    assert set(stored) == truth
    assert [url for url, n in stored.items() if n != 1] == []
    # The replica never saw two requests at once from the fleet on one site.
    concurrency = replica.max_concurrency()
    assert set(concurrency) == set(TWELVE)
    assert set(concurrency.values()) == {1}, concurrency

    # The run rows tell who crawled what: the survivors' claims and the killed worker's sites.
    by_pid = runs_by_pid(db)
    killed = by_pid[victim.pid]
    assert killed["outcome"] == "failed" and killed["stats"]["finish_reason"] == "crashed"
    assert orphaned <= set(killed["sites"])
    crawled: dict[str, list[int]] = {}
    taken_over: dict[str, str] = {}
    for proc in survivors:
        row = by_pid[proc.pid]
        assert row["outcome"] == "finished", row["stats"].get("sites")
        claims = row["stats"]["claims"]
        assert set(claims) == set(row["sites"]) and row["sites"]
        for site_id, claim in claims.items():
            crawled.setdefault(site_id, []).append(proc.pid)
            assert claim["how"] == "completed" and claim["released_at"] >= claim["claimed_at"]
            if "taken_over_from" in claim:
                taken_over[site_id] = claim["taken_over_from"]
        assert_run_balances(db, row["id"])
    # each site crawled to its end by one survivor (none twice), the victim's by a survivor that took
    # its claim over
    assert set(crawled) | set(killed["sites"]) == set(TWELVE)
    assert all(len(pids) == 1 for pids in crawled.values()), crawled
    assert set(taken_over) == orphaned
    assert all(f"pid {victim.pid} on " in holder for holder in taken_over.values())
    # and every claim of the round is released as completed
    with Storage.open(db) as storage, storage.engine.connect() as conn:
        rows = conn.execute(
            select(SiteLockRow.site_id, SiteLockRow.released_at, SiteLockRow.completed_at)
        ).all()
        runs_left = conn.execute(select(CrawlRun.id).where(CrawlRun.outcome == "running")).all()
    assert {r.site_id for r in rows} == set(TWELVE)
    assert all(
        r.released_at is not None and r.completed_at is not None and r.completed_at >= started for r in rows
    )
    assert runs_left == []
    listed = run(["provnews", "--db", db, "workers", "--all"])
    assert listed.returncode == 0 and listed.stdout.count(" completed ") == 12, listed.stdout


def test_one_worker_crawls_its_sites_a_few_at_a_time(replica: ReplicaServer, tmp_path: Path) -> None:
    """PROVNEWS_SITES_PER_WORKER=1: one process crawls the sites one after another, claiming the next
    when one is done, and its run row records them all, with the times of each claim."""
    sites_file = registry(replica, tmp_path / "sites.toml")
    db = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    result = run(
        [
            *("provnews", "--db", db, "crawl", *BASES, "--sites-file", str(sites_file)),
            *("-s", "PROVNEWS_SITES_PER_WORKER=1", "-s", "PROVNEWS_STORE_FLUSH_SECONDS=0"),
        ]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"crawled 3 site(s): {', '.join(BASES)}" in result.stdout
    run_row = assert_run_balances(db)
    assert run_row["sites"] == list(BASES)
    claims = run_row["stats"]["claims"]
    spans = sorted((c["claimed_at"], c["released_at"]) for c in claims.values())
    assert all(c["how"] == "completed" for c in claims.values())
    # one at a time: each site claimed once the one before was released
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1)), spans
    assert set(stored_urls(db)) == set(replica.ground_truth(BASES[0])) | set(
        replica.ground_truth(BASES[1])
    ) | set(replica.ground_truth(BASES[2]))
    # one request at a time per site, its registry's delay being 0 (Scrapy let a site's queue go at once)
    assert {site: replica.max_concurrency()[site] for site in BASES} == dict.fromkeys(BASES, 1)
    shown = run(["provnews", "--db", db, "runs", "show", str(run_row["id"])]).stdout
    assert "claims (sites this worker crawled" in shown and shown.count("  completed") == 3
    # A worker started within PROVNEWS_SITE_MIN_INTERVAL of those completions leaves the sites alone.
    crawl = ["provnews", "--db", db, "crawl", *BASES, "--sites-file", str(sites_file)]
    recent = run([*crawl, "-s", "PROVNEWS_SITE_MIN_INTERVAL=3600"])
    assert recent.returncode == 3, recent.stderr[-3000:]
    assert "not started, nothing to claim: baogialai was crawled at " in recent.stderr
    with Storage.open(db) as storage:
        assert len(storage.runs()) == 1
    # without it, the next round crawls them again
    again = run(crawl)
    assert again.returncode == 0 and "crawled 3 site(s)" in again.stdout, again.stderr[-3000:]


def test_a_worker_whose_claim_was_taken_over_stops_that_site(replica: ReplicaServer, tmp_path: Path) -> None:
    """A worker that went without heartbeat for longer than the stale timeout finds its claim taken
    over: it stops the site at once (the other worker crawls it now) instead of crawling it too."""
    release = threading.Event()
    proxy = FaultProxy(replica.base_url("baogialai"))
    held = proxy.add(Fault(r"-post\d+\.html$", hold=release))
    sites_file = registry(replica, tmp_path / "sites.toml")
    sites_file.write_text(
        sites_file.read_text().replace(replica.base_url("baogialai"), proxy.base_url), encoding="utf-8"
    )
    db = f"sqlite:///{tmp_path / 'lost.sqlite3'}"
    Storage.open(db).close()
    log = tmp_path / "worker.log"
    with proxy:
        proc = worker(
            db, sites_file, log, "PROVNEWS_LOCK_HEARTBEAT=0.5", "DOWNLOAD_TIMEOUT=300", sites=("baogialai",)
        )
        try:
            with Storage.open(db) as storage:
                wait_for(lambda: held.held > 0 and [h.site_id for h in storage.site_locks()] == ["baogialai"])
                # another worker, on another host, finds the claim stale and takes the site over
                with storage.engine.begin() as conn:
                    old = utcnow() - timedelta(seconds=700)
                    conn.execute(
                        update(SiteLockRow).where(SiteLockRow.site_id == "baogialai").values(heartbeat_at=old)
                    )
                taken = storage.claim_sites(["baogialai"], 4242, "crawl-b", 600)
                assert taken.claimed == ["baogialai"] and taken.taken_over["baogialai"].pid == proc.pid
            wait_for(lambda: "its claim was taken over by another worker" in log.read_text(), timeout=60)
            release.set()
            assert proc.wait(timeout=120) in (0, 4), log.read_text()[-3000:]
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    with Storage.open(db) as storage:
        (holder,) = [h for h in storage.site_locks() if h.site_id == "baogialai"]
        run_row = storage.runs(limit=1)[0]
    assert (holder.pid, holder.hostname) == (4242, "crawl-b")  # the other worker's claim stays
    assert run_row["stats"]["claims"]["baogialai"]["how"] == "lost"
    assert_run_balances(db, run_row["id"])
