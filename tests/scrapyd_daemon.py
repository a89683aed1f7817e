"""Real scrapyd daemons on 127.0.0.1 for the tests, and the project deployed to them as an egg built
from this checkout (scrapyd-deploy)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.helpers import BIN, wait_for
from tests.paths import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api(base: str, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(base + endpoint, data=body, timeout=30) as answer:
        return dict(json.loads(answer.read()))


def _answers(base: str, proc: subprocess.Popen[bytes], out: Path) -> bool:
    assert proc.poll() is None, out.read_text()
    try:
        return api(base, "daemonstatus.json")["status"] == "ok"
    except OSError:
        return False


@contextmanager
def scrapyd_daemon(home: Path, max_proc: int = 1) -> Iterator[str]:
    """A scrapyd with its files in `home` (made here), running provnews eggs with
    `crawler.scrapyd.runner`; yields its base URL once it answers."""
    home.mkdir(parents=True)
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\n"
        f"logs_dir = {home / 'logs'}\n"
        f"dbs_dir = {home / 'dbs'}\n"
        "items_dir =\n"
        f"max_proc = {max_proc}\n"
        "poll_interval = 0.2\n"
        "runner = provnews.crawler.scrapyd.runner\n",
        encoding="utf-8",
    )
    out = home / "scrapyd.out"
    with out.open("w") as log:
        proc = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}/"
        try:
            wait_for(lambda: _answers(base, proc, out), timeout=30, what=f"scrapyd on port {port}")
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def deploy(scrapyd: str, config_home: Path, egg: Path | None = None) -> dict[str, Any]:
    """scrapyd-deploy to this scrapyd (project provnews, version r1): the given egg, or one built from
    this checkout. scrapyd-deploy reads its targets from scrapy.cfg files, the user's one included
    ($XDG_CONFIG_HOME), where the target is written."""
    config_home.mkdir(parents=True, exist_ok=True)
    (config_home / "scrapy.cfg").write_text(
        f"[deploy:test]\nurl = {scrapyd}\nproject = provnews\n", encoding="utf-8"
    )
    deployed = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "test", "--version", "r1", *(["--egg", str(egg)] if egg else [])],
        cwd=REPO,
        env={**os.environ, "XDG_CONFIG_HOME": str(config_home)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    return dict(json.loads(deployed.stdout))


def build_egg(egg: Path) -> Path:
    """The project's egg, built from this checkout (scrapyd-deploy --build-egg)."""
    built = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "--build-egg", str(egg)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert built.returncode == 0 and egg.is_file(), built.stderr[-3000:]
    return egg


def finished_jobs(scrapyd: str) -> set[str]:
    return {job["id"] for job in api(scrapyd, "listjobs.json?project=provnews")["finished"]}


def wait_finished(scrapyd: str, job_ids: set[str], timeout: float = 300) -> None:
    """Wait until scrapyd lists these jobs as finished."""
    wait_for(lambda: job_ids <= finished_jobs(scrapyd), timeout=timeout, what=f"jobs {job_ids} on {scrapyd}")
