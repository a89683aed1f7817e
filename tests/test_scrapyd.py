"""The Scrapyd round trip: a real scrapyd on 127.0.0.1, the project deployed with scrapyd-deploy (an egg
built from this checkout), `news` scheduled for a replica site through the HTTP API, the articles in
the database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.replica import ReplicaServer
from pipelines.storage import Storage
from tests.helpers import BIN
from tests.paths import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api(base: str, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(base + endpoint, data=body, timeout=30) as answer:
        return dict(json.loads(answer.read()))


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\n"
        f"logs_dir = {home / 'logs'}\n"
        f"dbs_dir = {home / 'dbs'}\n"
        "items_dir =\n"
        "max_proc = 1\n"
        "poll_interval = 0.2\n"
        "runner = crawler.scrapyd_runner\n",
        encoding="utf-8",
    )
    log = (home / "scrapyd.out").open("w")
    proc = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if api(base, "daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (home / "scrapyd.out").read_text()
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_deploy_schedule_and_find_the_articles(scrapyd: str, tmp_path: Path) -> None:
    # scrapyd-deploy reads the target from scrapy.cfg files, the user's one included ($XDG_CONFIG_HOME)
    xdg = tmp_path / "xdg"
    xdg.mkdir()
    (xdg / "scrapy.cfg").write_text(f"[deploy:test]\nurl = {scrapyd}\nproject = provnews\n", encoding="utf-8")
    deployed = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "test", "--version", "r1"],
        cwd=REPO,
        env={**os.environ, "XDG_CONFIG_HOME": str(xdg)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    answer = json.loads(deployed.stdout)
    assert answer["status"] == "ok" and answer["spiders"] == 1, answer
    assert api(scrapyd, "listspiders.json?project=provnews")["spiders"] == ["news"]

    with ReplicaServer(sites=["baocantho"], articles_per_site=5, seed=61) as replica:
        sites_file = tmp_path / "sites.toml"
        sites_file.write_text(replica.sites_toml(), encoding="utf-8")
        db = f"sqlite:///{tmp_path / 'scrapyd.sqlite3'}"
        job = api(
            scrapyd,
            "schedule.json",
            [
                ("project", "provnews"),
                ("spider", "news"),
                ("site", "baocantho"),
                ("setting", f"PROVNEWS_DB_URL={db}"),
                ("setting", f"PROVNEWS_SITES_FILE={sites_file}"),
                ("setting", f"PROVNEWS_ALLOW_PRIVATE_HOSTS={replica.host}"),
            ],
        )
        assert job["status"] == "ok", job
        deadline = time.monotonic() + 120
        while True:
            jobs = api(scrapyd, "listjobs.json?project=provnews")
            if any(j["id"] == job["jobid"] for j in jobs["finished"]):
                break
            assert time.monotonic() < deadline, jobs
            time.sleep(0.5)
        truth = replica.ground_truth()
    with Storage.open(db) as storage:
        stored = {a["canonical_url"] for a in storage.iter_articles()}
        (run_row,) = storage.runs()
    assert stored == set(truth)
    assert run_row["outcome"] == "finished" and run_row["sites"] == ["baocantho"]
    assert run_row["stats"]["articles_new"] == 5
