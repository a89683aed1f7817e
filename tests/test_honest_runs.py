"""Runs that tell the truth: a crawl with no network fails (non-zero exit, one line per site, no
traceback), a crawl where some sites fail is partial, `health` counts network failures and never takes
a failed run for a successful one, a crashing parser fails its URL with attempts (capped), a page
cancelled for its size is a final outcome. Every run's accounts balance (`assert_run_balances`)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage
from provnews.storage.locks import HOSTNAME
from provnews.storage.models import UrlState
from tests.fault_proxy import Fault, FaultProxy
from tests.helpers import LOOPBACK_ENV, assert_run_balances, run
from tests.paths import REPO, REQUIRE_SERVICES, missing

SITE = "baogialai"


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(sites=[SITE], articles_per_site=4, seed=61) as server:
        yield server


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then closed: connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable_sites() -> str:
    """Two sites that cannot be reached without sending any traffic beyond loopback: a closed loopback
    port, and a host under the reserved .invalid TLD, which never resolves."""
    return "".join(
        f"""
[[site]]
id = "{site_id}"
name = "Báo {site_id}"
province = "Gia Lai"
base_url = "{base}"
family = "post"
feeds = ["rss/home.rss"]
sitemaps = ["sitemap.xml"]
listings = ["thoi-su/"]
article_pattern = '-post\\d+\\.html$'
delay = 0
"""
        for site_id, base in (
            ("baorefused", f"http://127.0.0.1:{closed_port()}/"),
            ("baonodns", "http://baonodns.invalid/"),
        )
    )


def crawl(db: str, sites_file: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    settings = ["-s", "RETRY_TIMES=0", "-s", "PROVNEWS_RETRY_BACKOFF=0", "-s", "DOWNLOAD_DELAY_JITTER=0"]
    result = run(
        ["provnews", "--db", db, "crawl", "--sites-file", str(sites_file), *settings, *args], env=env
    )
    return result.returncode, result.stdout, result.stderr


def test_a_crawl_without_network_fails_with_one_line_per_site(db_url: str, tmp_path: Path) -> None:
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(unreachable_sites(), encoding="utf-8")
    code, out, err = crawl(db_url, sites_file)
    assert code == 1, err[-3000:]
    lines = err.splitlines()
    assert len(lines) == 2 and "Traceback" not in err, err
    assert "baorefused: failed: unreachable: connection refused" in lines[0], err
    assert "baonodns: failed: unreachable: DNS lookup failed" in lines[1], err
    assert "outcome:           failed" in out
    run_row = assert_run_balances(db_url)
    assert run_row["outcome"] == "failed"
    assert {s: a["status"] for s, a in run_row["stats"]["sites"].items()} == {
        "baorefused": "failed",
        "baonodns": "failed",
    }
    listed = run(["provnews", "--db", db_url, "runs"]).stdout.splitlines()
    assert listed[1].split()[4] == "failed"
    # health: no successful run, the failure said, every request failed
    health = run(["provnews", "--db", db_url, "health", "--json", "baorefused", "baonodns"])
    assert health.returncode == 1
    report = {site["site"]: site for site in json.loads(health.stdout)["sites"]}
    for site_id, why in (("baorefused", "connection refused"), ("baonodns", "DNS lookup failed")):
        assert report[site_id]["last_successful_run"] is None
        assert report[site_id]["failure_rate"] == 1.0
        assert f"last run failed: unreachable: {why}" in report[site_id]["problems"]


def test_a_crawl_where_some_sites_fail_is_partial_and_health_tells_them_apart(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(replica.sites_toml() + unreachable_sites(), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'partial.sqlite3'}"
    code, out, err = crawl(db, sites_file, SITE, "baonodns")
    assert code == 4, err[-3000:]
    assert "outcome:           partial" in out
    assert [line for line in err.splitlines() if "failed:" in line] == err.splitlines()
    run_row = assert_run_balances(db)
    assert run_row["outcome"] == "partial"
    assert run_row["stats"]["sites"][SITE]["stored"] == {"new": 4}
    health = json.loads(run(["provnews", "--db", db, "health", "--json", SITE, "baonodns"]).stdout)
    report = {site["site"]: site for site in health["sites"]}
    assert report[SITE]["last_successful_run"] == run_row["id"] and report[SITE]["problems"] == []
    assert report["baonodns"]["last_successful_run"] is None


def states(db: str) -> dict[str, tuple[str, int, str | None]]:
    with Storage.open(db) as storage, storage.engine.connect() as conn:
        rows = conn.execute(select(UrlState.url, UrlState.status, UrlState.attempts, UrlState.reason))
        return {urlsplit(url).path: (status, attempts, reason) for url, status, attempts, reason in rows}


def test_a_crashing_parser_fails_the_url_with_attempts_up_to_the_limit(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(replica.sites_toml(), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    target = sorted(urlsplit(url).path for url in replica.ground_truth(SITE))[0]
    env = {"PYTHONPATH": str(REPO), "PROVNEWS_TEST_CRASH_PATH": target}
    parsers = json.dumps({"post": "tests.crashing_parser:CrashingParser"})
    settings = ("-s", f"PROVNEWS_PARSERS={parsers}", "-s", "PROVNEWS_MAX_ATTEMPTS=2")
    fetched = []
    for attempt in (1, 2, 3):
        replica.clear_log()
        code, _out, err = crawl(db, sites_file, *settings, env=env)
        assert code == 0, err[-3000:]
        fetched.append(sum(path == target for _, path, _ in replica.request_log(SITE)))
        account = assert_run_balances(db)["stats"]["sites"][SITE]
        status, attempts, reason = states(db)[target]
        assert (status, attempts) == ("failed", min(attempt, 2)), (status, attempts, reason)
        assert reason is not None and reason.startswith("extract_error: ZeroDivisionError"), reason
        if attempt < 3:
            assert account["failed"] == {"extract_error": 1}, account
            # an unexpected error: its traceback is in the log
            assert "Traceback" in err and "ZeroDivisionError: a parser bug, for the test" in err
    # fetched on the first two runs, then given up (PROVNEWS_MAX_ATTEMPTS=2)
    assert fetched == [1, 1, 0]
    with Storage.open(db) as storage:
        assert storage.count_articles() == 3


def test_a_page_cancelled_for_its_size_is_a_final_outcome(replica: ReplicaServer, tmp_path: Path) -> None:
    with FaultProxy(replica.base_url(SITE)) as proxy:
        target = sorted(urlsplit(url).path for url in replica.ground_truth(SITE))[0]
        pattern = "^" + re.escape(target) + "$"
        proxy.add(
            Fault(pattern, 200, body=b"<html>" + b"x" * 3_000_000, headers={"Content-Type": "text/html"})
        )
        sites_file = tmp_path / "sites.toml"
        sites_file.write_text(
            replica.sites_toml().replace(replica.base_url(SITE), proxy.base_url), encoding="utf-8"
        )
        db = f"sqlite:///{tmp_path / 'size.sqlite3'}"
        for _ in range(2):
            code, _out, err = crawl(db, sites_file, "-s", "DOWNLOAD_MAXSIZE=1000000")
            assert code == 0, err[-3000:]
            assert_run_balances(db)
        # fetched once: the second run does not ask for it again
        assert len(proxy.hits(pattern)) == 1
        status, _attempts, reason = states(db)[target]
        assert status == "not_article" and (reason or "").startswith("page_too_large"), reason
        with Storage.open(db) as storage:
            first = storage.runs(limit=2)[1]
        assert first["stats"]["sites"][SITE]["dropped"].get("page_too_large") == 1


def test_a_new_lock_is_taken_not_taken_over(storage: Storage) -> None:
    """On PostgreSQL every crawl warned that it took over a lock left by its own pid."""
    assert storage.acquire_site_locks(["baoa", "baob"], os.getpid(), HOSTNAME, 600) == (
        ["baoa", "baob"],
        {},
        {},
    )


@pytest.fixture(scope="module")
def bigger_replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(sites=["baogialai", "baocantho"], articles_per_site=40, seed=67) as server:
        yield server


def crawl_in_small_filesystem(db_file: Path, sites_file: Path, room_kib: int) -> tuple[int, str, str]:
    """`provnews crawl` with the database on a tmpfs with `room_kib` KiB free beyond the database,
    mounted in a private mount namespace (`unshare`: no root needed where user namespaces are allowed);
    the database files are copied back to `db_file`'s folder when the crawl has ended."""
    probe = subprocess.run(
        ["unshare", "--mount", "--map-root-user", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:  # no user namespaces (or no unshare): no small filesystem to fill
        missing(f"cannot mount a tmpfs in a user namespace: {probe.stderr.strip()}", REQUIRE_SERVICES)
    size = sum(p.stat().st_size for p in db_file.parent.glob(db_file.name + "*")) // 1024 + room_kib
    small = db_file.parent / "small"
    small.mkdir()
    script = (
        'mount -t tmpfs -o size="$SIZE"k tmpfs "$SMALL" && cp "$DB"* "$SMALL"/ || exit 99\n'
        '"$PROVNEWS" --db "sqlite:///$SMALL/$NAME" crawl --sites-file "$SITES" -s PROVNEWS_STORE_BATCH=4\n'
        "rc=$?\n"
        'rm -f "$DB"*; cp "$SMALL"/"$NAME"* "$(dirname "$DB")"/; exit $rc\n'
    )
    env = {
        "SIZE": str(size),
        "SMALL": str(small),
        "DB": str(db_file),
        "NAME": db_file.name,
        "SITES": str(sites_file),
        "PROVNEWS": str(Path(sys.executable).parent / "provnews"),
        "PROVNEWS_PROGRESS": "0",
    }
    result = subprocess.run(
        ["unshare", "--mount", "--map-root-user", "sh", "-c", script],
        env={**os.environ, **LOOPBACK_ENV, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 99, result.stderr
    return result.returncode, result.stdout, result.stderr


def test_a_full_disk_fails_the_run_cleanly_and_the_next_run_recovers(
    bigger_replica: ReplicaServer, tmp_path: Path
) -> None:
    """A real full filesystem (SQLite): the run ends failed, "disk full", non-zero exit, no traceback;
    what was committed is intact; the next run, with room, stores every article exactly once."""
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(bigger_replica.sites_toml(), encoding="utf-8")
    db_file = tmp_path / "db" / "full.sqlite3"
    db = f"sqlite:///{db_file}"
    Storage.open(db).close()  # the schema, created with room to spare
    code, out, err = crawl_in_small_filesystem(db_file, sites_file, room_kib=1100)
    assert code == 1, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert "disk full, the crawl stops" in err and "outcome:           failed (disk full)" in out
    run_row = assert_run_balances(db)
    assert run_row["outcome"] == "failed" and run_row["stats"]["failure"] == "disk full"
    assert run_row["stats"]["finish_reason"] == "disk_full"
    with Storage.open(db) as storage, storage.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        kept = storage.count_articles()
        stored_states = [s for (s,) in conn.execute(select(UrlState.status)) if s == "stored"]
    assert 0 < kept < 80, kept
    assert len(stored_states) == kept == run_row["stats"]["articles_new"]
    code, _out, err = crawl(db, sites_file)
    assert code == 0, err[-3000:]
    assert_run_balances(db)
    with Storage.open(db) as storage:
        assert storage.count_articles() == 80
        assert {a["canonical_url"] for a in storage.iter_articles()} == set(bigger_replica.ground_truth())


FULL_AFTER_4 = """
CREATE FUNCTION provnews_test_full() RETURNS trigger AS $$
BEGIN
  IF (SELECT count(*) FROM articles) >= 4 THEN
    RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER provnews_test_full BEFORE INSERT ON articles
  FOR EACH ROW EXECUTE FUNCTION provnews_test_full();
"""


def test_a_full_disk_on_postgresql_fails_the_run_cleanly(
    bigger_replica: ReplicaServer, pg_database: str, tmp_path: Path
) -> None:
    """PostgreSQL's own disk_full error (SQLSTATE 53100, raised by the server from a trigger once 4
    articles are stored, since a server's disk cannot be filled from a test without root)."""
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(bigger_replica.sites_toml(), encoding="utf-8")
    with Storage.open(pg_database) as storage, storage.engine.begin() as conn:
        conn.exec_driver_sql(FULL_AFTER_4)
    # (one site, so that the trigger's count of 4 stored articles is the run's)
    code, out, err = crawl(pg_database, sites_file, "baogialai", "-s", "PROVNEWS_STORE_BATCH=2")
    assert code == 1, err[-3000:]
    assert "Traceback" not in err and "outcome:           failed (disk full)" in out, err[-3000:]
    run_row = assert_run_balances(pg_database)
    assert run_row["stats"]["failure"] == "disk full"
    with Storage.open(pg_database) as storage:
        assert storage.count_articles() == 4
        with storage.engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER provnews_test_full ON articles")
    code, _out, err = crawl(pg_database, sites_file, "baogialai")
    assert code == 0, err[-3000:]
    assert_run_balances(pg_database)
    with Storage.open(pg_database) as storage:
        assert storage.count_articles() == 40
