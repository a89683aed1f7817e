"""Scrapyd for real: scrapyd daemons on 127.0.0.1, the project deployed with scrapyd-deploy (an egg
built from this checkout), `news` scheduled for replica sites through the HTTP API, directly or with
`provnews schedule` over two nodes, and the articles in the database."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage
from provnews.storage.models import Article
from tests.helpers import BIN, assert_run_balances
from tests.paths import REPO
from tests.scrapyd_daemon import (
    api,
    build_egg,
    deploy,
    finished_jobs,
    free_port,
    scrapyd_daemon,
    wait_finished,
)


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[str]:
    with scrapyd_daemon(tmp_path / "scrapyd") as base:
        yield base


@pytest.fixture(scope="module")
def egg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_egg(tmp_path_factory.mktemp("egg") / "provnews.egg")


def test_deploy_schedule_and_find_the_articles(scrapyd: str, tmp_path: Path) -> None:
    answer = deploy(scrapyd, tmp_path / "xdg")
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
        wait_finished(scrapyd, {job["jobid"]}, timeout=120)
        truth = replica.ground_truth()
    with Storage.open(db) as storage:
        stored = {a["canonical_url"] for a in storage.iter_articles()}
        (run_row,) = storage.runs()
    assert stored == set(truth)
    assert run_row["outcome"] == "finished" and run_row["sites"] == ["baocantho"]
    assert run_row["stats"]["articles_new"] == 5


def schedule(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "provnews"), *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


JOB_LINE = re.compile(r"^(\S+)  job (\w+)  (\S+)$")


def test_schedule_spreads_the_sites_over_two_nodes(egg: Path, tmp_path: Path, pg_database: str) -> None:
    with (
        scrapyd_daemon(tmp_path / "node-a") as node_a,
        scrapyd_daemon(tmp_path / "node-b") as node_b,
        ReplicaServer(sites=["baocantho", "baogialai", "baolaocai"], articles_per_site=4, seed=15) as replica,
    ):
        for node in (node_a, node_b):
            assert deploy(node, tmp_path / "xdg", egg)["status"] == "ok"
        sites_file = tmp_path / "sites.toml"
        sites_file.write_text(replica.sites_toml(), encoding="utf-8")
        args = ["--db", pg_database, "schedule", "--sites-file", str(sites_file), "--jobs-per-node", "2"]
        args += ["-s", f"PROVNEWS_ALLOW_PRIVATE_HOSTS={replica.host}"]
        planned = schedule(*args, "--scrapyd", node_a, node_b, "--dry-run")
        assert planned.returncode == 0, planned.stderr
        assert planned.stdout.splitlines() == [
            f"{node_a}  (not sent)  baocantho",
            f"{node_b}  (not sent)  baogialai",
            f"{node_a}  (not sent)  baolaocai",
        ]
        assert not finished_jobs(node_a) and not api(node_a, "listjobs.json?project=provnews")["pending"]

        sent = schedule(*args, "--scrapyd", node_a, node_b)
        assert sent.returncode == 0, sent.stderr
        jobs = [JOB_LINE.fullmatch(line) for line in sent.stdout.splitlines()]
        assert all(jobs), sent.stdout
        by_node: dict[str, set[str]] = {node_a: set(), node_b: set()}
        sites_of_job = {}
        for match in jobs:
            assert match is not None
            by_node[match[1]].add(match[2])
            sites_of_job[match[2]] = match[3].split(",")
        assert [len(ids) for ids in by_node.values()] == [2, 1]
        for node, ids in by_node.items():  # each node ran its own jobs
            wait_finished(node, ids)
            assert finished_jobs(node) == ids
        truth = replica.ground_truth()
    with Storage.open(pg_database) as storage:
        stored = [a["canonical_url"] for a in storage.iter_articles()]
        with storage.engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(Article)).scalar_one()
        run_rows = storage.runs()
    assert sorted(stored) == sorted(truth) and rows == len(truth) == 12  # all stored, each once
    # One run per job, each on the job's sites, recorded with the node and job id; none overlap.
    assert sorted(tuple(r["sites"]) for r in run_rows) == sorted(tuple(s) for s in sites_of_job.values())
    for run_row in run_rows:
        job_id = next(j for j, sites in sites_of_job.items() if sites == run_row["sites"])
        node = next(n for n, ids in by_node.items() if job_id in ids)
        assert run_row["command"].startswith(f"scrapyd {node} job {job_id}:"), run_row["command"]
        assert run_row["outcome"] == "finished", run_row
        assert_run_balances(pg_database, run_row["id"])


def test_schedule_sends_nothing_when_a_node_does_not_answer(scrapyd: str, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/"
    result = schedule("schedule", "--scrapyd", scrapyd, dead, "baogialai", "baocantho")
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"provnews schedule: {dead}: unreachable:") for line in lines), lines
    assert "nothing sent" in result.stderr
    jobs = api(scrapyd, "listjobs.json")
    assert jobs["pending"] == jobs["running"] == jobs["finished"] == []


def test_schedule_names_the_jobs_sent_when_a_node_refuses_one(
    egg: Path, scrapyd: str, tmp_path: Path
) -> None:
    """One node has the project, the other has not: the first's job is sent and named, the second's
    refusal is one line with its sites, and the exit status is 1."""
    with scrapyd_daemon(tmp_path / "empty") as empty:
        deploy(scrapyd, tmp_path / "xdg", egg)
        db = f"sqlite:///{tmp_path / 'one.sqlite3'}"
        with ReplicaServer(sites=["baocantho", "baogialai"], articles_per_site=2, seed=3) as replica:
            sites_file = tmp_path / "sites.toml"
            sites_file.write_text(replica.sites_toml(), encoding="utf-8")
            allow = f"PROVNEWS_ALLOW_PRIVATE_HOSTS={replica.host}"
            args = ["--sites-file", str(sites_file), "-s", allow, "--scrapyd", scrapyd, empty]
            result = schedule("--db", db, "schedule", *args)
            assert result.returncode == 1, result.stderr
            (line,) = result.stdout.splitlines()
            match = JOB_LINE.fullmatch(line)
            assert match and match[1] == scrapyd and match[3] == "baocantho", line
            errors = result.stderr.splitlines()
            assert errors[0].startswith(
                f"provnews schedule: {empty}: job not sent: Scrapyd refused schedule.json"
            )
            assert errors[0].endswith("(sites baogialai)")
            assert errors[1] == "provnews schedule: 1 of 2 job(s) sent; not scheduled: baogialai"
            wait_finished(scrapyd, {match[2]}, timeout=120)
    with Storage.open(db) as storage:
        assert {a["site_id"] for a in storage.iter_articles()} == {"baocantho"}
