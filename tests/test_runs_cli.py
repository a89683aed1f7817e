"""Run history, health and locks: `provnews runs`, `provnews runs show`, `provnews health`, one crawl
per site at a time (a clear refusal, no stale lock after a crash), progress only when asked or on a TTY."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage
from provnews.storage.locks import HOSTNAME
from provnews.storage.models import CrawlRun, SiteLockRow
from tests.fault_proxy import Fault, FaultProxy
from tests.helpers import BIN, LOOPBACK_ENV, assert_run_balances, run, wait_for
from tests.paths import REPO


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(sites=["baogialai", "baocantho"], articles_per_site=4, seed=53) as server:
        yield server


def registry(replica: ReplicaServer, path: Path, delay: float = 0.0) -> Path:
    text = (
        replica.sites_toml()
        .replace("delay = 0\n", f"delay = {delay}\n")
        .replace("concurrency = 4", "concurrency = 1")
    )
    path.write_text(text, encoding="utf-8")
    return path


def provnews(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run(["provnews", "--db", db, *args])


def test_runs_list_show_and_health(replica: ReplicaServer, tmp_path: Path) -> None:
    sites_file = registry(replica, tmp_path / "sites.toml")
    db = f"sqlite:///{tmp_path / 'runs.sqlite3'}"
    first = provnews(
        db,
        "crawl",
        "baogialai",
        "--sites-file",
        str(sites_file),
        "-s",
        "PROVNEWS_PROGRESS=1",
        "-s",
        "PROVNEWS_PROGRESS_INTERVAL=0.2",
    )
    assert first.returncode == 0, first.stderr[-3000:]
    assert "baogialai" in first.stderr and "pages/s" in first.stderr  # progress, asked for
    second = provnews(db, "crawl", "baogialai", "--sites-file", str(sites_file))
    assert second.returncode == 0
    assert "pages/s" not in second.stderr  # not a terminal: quiet

    listed = provnews(db, "runs")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == [
        "id",
        "started",
        "(+07:00)",
        "took",
        "outcome",
        "pages",
        "new",
        "upd",
        "drop",
        "fail",
        "pend",
        "sites",
    ]
    cells = [row.split() for row in rows]
    assert [c[0] for c in cells] == ["2", "1"]
    assert [c[4] for c in cells] == ["finished", "finished"]
    assert [c[6] for c in cells] == ["0", "4"]  # new articles: none the second time
    assert all(c[-1] == "baogialai" for c in cells)

    shown = provnews(db, "runs", "show", "1")
    assert shown.returncode == 0, shown.stderr
    assert "run 1: finished" in shown.stdout
    assert "articles:  4 new, 0 updated" in shown.stdout
    assert "urls:      robots_denied 1" in shown.stdout  # the page robots.txt keeps us from
    # one source of truth: the crawl's summary and `runs show` print the same robots.txt count
    summary_robots = next(x for x in first.stdout.splitlines() if "robots.txt:" in x).split(":", 1)[1]
    shown_robots = next(x for x in shown.stdout.splitlines() if "robots:" in x).split(":", 1)[1]
    assert (
        summary_robots.strip()
        == shown_robots.strip()
        == ("1 denied by its rules, 0 not asked (robots.txt unreachable)")
    )
    balance = [x.split() for x in shown.stdout.splitlines() if x.split()[:1] == ["baogialai"]][-1]
    assert balance == ["baogialai", "5", "=", "4", "+", "1", "+", "0", "+", "0", "ok"]
    # drop, fail, pend: the page robots.txt disallows is checked again on each run (it may change)
    assert [c[8:11] for c in cells] == [["1", "0", "0"], ["1", "0", "0"]]
    for run_id in (1, 2):
        assert_run_balances(db, run_id)
    second_run = json.loads(provnews(db, "runs", "--json", "--limit", "1").stdout)
    assert second_run["id"] == 2 and second_run["stats"]["not_modified"] > 0
    assert second_run["stats"]["sites"]["baogialai"]["new"] == 0
    missing = provnews(db, "runs", "show", "99")
    assert missing.returncode == 1 and "no crawl run 99" in missing.stderr

    # health: the crawled site is fine; the registry's other site was never crawled
    healthy = provnews(db, "health", "baogialai", "--json")
    assert healthy.returncode == 0, healthy.stderr
    report = json.loads(healthy.stdout)
    assert report["ok"] is True
    (site,) = report["sites"]
    assert site["articles"] == 4 and site["last_successful_run"] == 2 and site["new_last_7_days"] == 4
    assert sum(site["new_per_day"].values()) == 4 and len(site["new_per_day"]) == 28
    assert site["url_states"] == {"robots_denied": 1, "stored": 4}
    table = provnews(db, "health", "--sites-file", str(sites_file))
    assert table.returncode == 1  # a cron job alerts
    by_site = {line.split()[0]: line for line in table.stdout.splitlines()[1:-1]}
    assert by_site["baogialai"].endswith("OK")
    assert "ATTENTION: no successful run" in by_site["baocantho"]
    assert table.stdout.splitlines()[-1] == "2 site(s), 1 need(s) attention"
    typo = provnews(db, "health", "baogialai", "baogialia", "--sites-file", str(sites_file))
    assert typo.returncode == 2 and "unknown site 'baogialia'; did you mean baogialai?" in typo.stderr


def lock_count(db: str) -> int:
    """Sites held now (a released claim stays as a row: its last holder and completion)."""
    with Storage.open(db) as storage, storage.engine.connect() as conn:
        query = select(func.count()).select_from(SiteLockRow).where(SiteLockRow.released_at.is_(None))
        return int(conn.execute(query).scalar_one())


def test_a_site_is_crawled_by_one_run_at_a_time(replica: ReplicaServer, tmp_path: Path) -> None:
    # The first crawl's article pages are held back by a proxy until the test has made its checks:
    # it holds its lock in a known state, however slow or fast the machine.
    release = threading.Event()
    proxy = FaultProxy(replica.base_url("baogialai"))
    held = proxy.add(Fault(r"-post\d+\.html$", hold=release))
    held_registry = tmp_path / "held.toml"
    held_registry.write_text(
        registry(replica, tmp_path / "direct.toml")
        .read_text()
        .replace(replica.base_url("baogialai"), proxy.base_url),
        encoding="utf-8",
    )
    db = f"sqlite:///{tmp_path / 'lock.sqlite3'}"
    Storage.open(db).close()
    proxy.__enter__()
    holder = subprocess.Popen(
        [
            *(str(BIN / "provnews"), "--db", db, "crawl", "baogialai"),
            *("--sites-file", str(held_registry), "-s", "DOWNLOAD_TIMEOUT=300"),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **LOOPBACK_ENV, "PROVNEWS_PROGRESS": "0"},
    )
    slow = registry(replica, tmp_path / "slow.toml")
    try:
        wait_for(lambda: lock_count(db) == 1 and held.held > 0, timeout=120)
        refused = provnews(db, "crawl", "baogialai", "--sites-file", str(slow))
        assert refused.returncode == 3
        assert "not started" in refused.stderr and f"pid {holder.pid} on {HOSTNAME}" in refused.stderr
        # with several sites, the locked one is skipped and the others are crawled
        fast = registry(replica, tmp_path / "fast.toml")
        partly = provnews(db, "crawl", "baogialai", "baocantho", "--sites-file", str(fast))
        assert partly.returncode == 0, partly.stderr[-3000:]
        assert f"baogialai: skipped, another crawl holds it (run 1, pid {holder.pid}" in partly.stderr
        notice = f"scale-out needs PostgreSQL: another crawl (pid {holder.pid} on {HOSTNAME}) works on"
        assert notice in partly.stderr and notice in refused.stderr
        assert "crawled 1 site(s): baocantho" in partly.stdout
        assert holder.poll() is None and lock_count(db) == 1  # still held, still waiting
        release.set()
        _out, err = holder.communicate(timeout=120)
    finally:
        release.set()
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        proxy.__exit__()
    assert holder.returncode == 0, err[-3000:]
    assert lock_count(db) == 0
    with Storage.open(db) as storage:
        assert dict(storage.article_counts_by_site()) == {"baogialai": 4, "baocantho": 4}
        runs = storage.runs()
    assert sorted(r["sites"][0] for r in runs) == ["baocantho", "baogialai"]  # the refused run left no row
    assert next(r for r in runs if r["sites"] == ["baocantho"])["stats"]["sites_skipped_locked"] == 1
    for run_row in runs:
        assert_run_balances(db, run_row["id"])


def test_a_lock_and_a_run_left_by_a_dead_process_are_taken_over(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    sites_file = registry(replica, tmp_path / "sites.toml")
    db = f"sqlite:///{tmp_path / 'stale.sqlite3'}"
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs
    with Storage.open(db) as storage:
        run_id = storage.start_run("provnews crawl", ["baocantho"])
        with storage.engine.begin() as conn:
            conn.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(pid=gone.pid))
        acquired, _refused, _stale = storage.acquire_site_locks(["baocantho"], gone.pid, HOSTNAME, 600)
        assert acquired == ["baocantho"]
    result = provnews(db, "crawl", "baocantho", "--sites-file", str(sites_file))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "took over the lock left by a run that is gone" in result.stderr
    assert_run_balances(db)
    assert lock_count(db) == 0
    listed = provnews(db, "runs").stdout.splitlines()
    assert listed[1].split()[4] == "finished" and listed[2].split()[4] == "crashed"
    shown = provnews(db, "runs", "show", str(run_id)).stdout
    assert (
        "run 1: crashed" in shown
        and f"process {gone.pid} on {HOSTNAME} ended without closing the run" in shown
    )
