"""`provnews browse`: Datasette started on a real SQLite database and queried over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from provnews.crawler.cli import cli
from provnews.storage.api import Storage

MakeArticle = Callable[..., dict[str, Any]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_browse_serves_search_and_facets(tmp_path: Path, make_article: MakeArticle) -> None:
    db_file = tmp_path / "provnews.sqlite3"
    with Storage.open(f"sqlite:///{db_file}") as storage:
        storage.upsert_articles(
            [
                make_article(1, title="Hà Nội mở rộng đường", province="Hà Nội"),
                make_article(2, site_id="baogialai", title="Gia Lai đón khách", province="Gia Lai"),
                make_article(
                    3, site_id="baogialai", title="Tin khác", published_at="2024-06-02T09:00:00+07:00"
                ),
            ]
        )
    port = free_port()
    command = [sys.executable, "-c", "from provnews.crawler.cli import main; main()"]
    proc = subprocess.Popen(
        [*command, "--db", f"sqlite:///{db_file}", "browse", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}/provnews"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get_json(f"{base}.json")
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "Datasette did not start within 60 s"
                time.sleep(0.3)
        query = urllib.parse.urlencode({"_search": "ha noi", "_shape": "objects"})
        found = get_json(f"{base}/articles.json?{query}")
        assert [row["title"] for row in found["rows"]] == ["Hà Nội mở rộng đường"]
        facets = get_json(f"{base}/articles.json?_extra=facet_results")["facet_results"]
        if "results" in facets:  # newer Datasette nests the facets
            facets = facets["results"]
        assert set(facets) >= {"site_id", "province", "published_month"}
        sites = {item["value"]: item["count"] for item in facets["site_id"]["results"]}
        assert sites == {"baotest": 1, "baogialai": 2}
        months = {item["value"]: item["count"] for item in facets["published_month"]["results"]}
        assert months == {"2024-05": 2, "2024-06": 1}
        database = get_json(f"{base}.json")
        tables = {t["name"]: t["hidden"] for t in database["tables"]}
        assert tables["articles"] is False and tables["near_dup_keys"] is True
        assert database["views"] == []  # the full-text index's helper view is not offered
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_browse_refuses_postgresql() -> None:
    result = CliRunner().invoke(cli, ["--db", "postgresql+psycopg://u@/db?host=/nowhere", "browse"])
    assert result.exit_code == 1 and "SQLite database file" in result.output
