"""Site claims, the work queue of the crawl workers (`storage.locks`), on SQLite and PostgreSQL: a
site is held by one worker at a time, a site completed in this round is not claimed again, a dead
worker's claim is taken over, workers claiming at once never take the same site; `provnews workers`."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import timedelta

from sqlalchemy import update

from provnews.storage.api import Storage
from provnews.storage.locks import HOSTNAME
from provnews.storage.models import SiteLockRow, utcnow
from tests.helpers import run

SITES = [f"site{i:02d}" for i in range(12)]


def age_heartbeats(storage: Storage, seconds: float) -> None:
    with storage.engine.begin() as conn:
        conn.execute(update(SiteLockRow).values(heartbeat_at=utcnow() - timedelta(seconds=seconds)))


def test_a_worker_claims_up_to_its_limit_and_others_get_the_rest(storage: Storage) -> None:
    start = utcnow()
    first = storage.claim_sites(SITES[:5], 101, "host-a", 600, limit=2, round_start=start)
    assert first.claimed == ["site00", "site01"] and not first.refused
    second = storage.claim_sites(SITES[:5], 102, "host-b", 600, limit=2, round_start=start)
    assert second.claimed == ["site02", "site03"]
    assert set(second.refused) == {"site00", "site01"}
    assert second.refused["site00"].describe().startswith("pid 101 on host-a")
    held = {h.site_id: (h.pid, h.hostname) for h in storage.site_locks()}
    assert held == {
        "site00": (101, "host-a"),
        "site01": (101, "host-a"),
        "site02": (102, "host-b"),
        "site03": (102, "host-b"),
    }


def test_a_site_completed_in_this_round_is_not_claimed_again(storage: Storage) -> None:
    round_start = utcnow()
    storage.claim_sites(["site00", "site01"], 101, "host-a", 600, round_start=round_start)
    assert storage.release_site_locks(["site00"], 101, "host-a", completed=True) == 1
    assert storage.release_site_locks(["site01"], 101, "host-a") == 1  # stopped, not completed
    # a worker of the same round: site00 is done; site01 was let go unfinished and is taken up
    same_round = storage.claim_sites(["site00", "site01"], 102, "host-b", 600, round_start=round_start)
    assert same_round.claimed == ["site01"] and list(same_round.done_elsewhere) == ["site00"]
    # the next round (a worker started after the completion) crawls it again
    later = storage.claim_sites(["site00"], 103, "host-c", 600, round_start=utcnow())
    assert later.claimed == ["site00"] and not later.taken_over
    # released rows stay, with their last holder, for `provnews workers --all`
    everything = {h.site_id: h for h in storage.site_locks(include_released=True)}
    assert set(everything) == {"site00", "site01"} and all(h.held for h in everything.values())
    assert everything["site00"].completed_at is not None and everything["site01"].completed_at is None


def test_a_claim_without_heartbeat_is_taken_over_once(storage: Storage) -> None:
    storage.claim_sites(["site00"], 101, "host-a", 600)
    assert storage.claim_sites(["site00"], 102, "host-b", 600).claimed == []
    age_heartbeats(storage, 700)
    taken = storage.claim_sites(["site00"], 102, "host-b", 600, run_id=7)
    assert taken.claimed == ["site00"] and taken.taken_over["site00"].pid == 101
    # the taken-over claim is fresh: nobody else takes it from the new holder
    assert storage.claim_sites(["site00"], 103, "host-c", 600).claimed == []
    (holder,) = storage.site_locks()
    assert (holder.pid, holder.hostname, holder.run_id) == (102, "host-b", 7)
    # the old holder, back from the dead, can neither beat for it nor release it
    assert storage.heartbeat_site_locks(["site00"], 101, "host-a") == 0
    assert storage.release_site_locks(["site00"], 101, "host-a", completed=True) == 0


def test_a_claim_of_a_dead_process_on_this_host_is_taken_over_at_once(storage: Storage) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    storage.claim_sites(["site00"], gone.pid, HOSTNAME, 600)
    taken = storage.claim_sites(["site00"], 102, "host-b", 600)
    assert taken.claimed == ["site00"] and taken.taken_over["site00"].pid == gone.pid


def test_workers_claiming_at_once_never_take_the_same_site(db_url: str) -> None:
    """Six workers (own connections) claim two sites at a time until none is left, all at once."""
    Storage.open(db_url).close()
    round_start = utcnow()
    taken: dict[int, list[str]] = {}
    errors: list[BaseException] = []
    go = threading.Barrier(6)

    def worker(n: int) -> None:
        mine: list[str] = []
        try:
            with Storage.open(db_url) as storage:
                go.wait()
                while True:
                    claimed = storage.claim_sites(
                        SITES, 1000 + n, f"host-{n}", 600, limit=2, round_start=round_start
                    ).claimed
                    if not claimed:
                        if not storage.site_locks():  # nothing held, nothing claimable: done
                            break
                        if all(h.pid == 1000 + n for h in storage.site_locks()):
                            break
                        continue
                    mine.extend(claimed)
                    storage.release_site_locks(claimed, 1000 + n, f"host-{n}", completed=True)
        except BaseException as exc:  # reported below, with the thread's name
            errors.append(exc)
        taken[n] = mine

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    every = sorted(site for sites in taken.values() for site in sites)
    assert every == SITES  # each site claimed exactly once in the round
    with Storage.open(db_url) as storage:
        assert storage.site_locks() == []
        assert all(h.completed_at is not None for h in storage.site_locks(include_released=True))


def test_workers_command_lists_who_holds_which_site(db_url: str) -> None:
    with Storage.open(db_url) as storage:
        storage.claim_sites(["site00", "site01"], 101, "host-a", 600, run_id=3)
        storage.claim_sites(["site02"], 102, "host-b", 600)
        storage.release_site_locks(["site01"], 101, "host-a", completed=True)
        with storage.engine.begin() as conn:  # host-b has not beaten for 20 minutes
            conn.execute(
                update(SiteLockRow)
                .where(SiteLockRow.hostname == "host-b")
                .values(heartbeat_at=utcnow() - timedelta(minutes=20))
            )
    table = run(["provnews", "--db", db_url, "workers"])
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["site", "state", "worker", "run"]
    by_site = {line.split()[0]: line for line in lines[1:-1]}
    assert set(by_site) == {"site00", "site02"}
    assert by_site["site00"].split()[1:6] == ["crawling", "pid", "101", "on", "host-a"]
    assert " 3 " in by_site["site00"]
    assert by_site["site02"].split()[1] == "stale" and by_site["site02"].endswith("s ago")
    assert 1200 <= int(by_site["site02"].split()[-2].removesuffix("s")) < 1300
    assert lines[-1] == "2 site(s) held by 1 live worker(s)"
    listed = run(["provnews", "--db", db_url, "workers", "--all", "--json"])
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {r["site_id"]: r["state"] for r in rows} == {
        "site00": "crawling",
        "site01": "completed",
        "site02": "stale",
    }
    assert all(r["heartbeat"] and r["since"].endswith("+07:00") for r in rows)
