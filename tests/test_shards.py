"""`--shard I/N`: N processes split `reextract`, `import` and `export` without overlap and together cover
every article exactly once, on both engines (the import shards run at the same time on PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from provnews.crawler.cli import cli
from provnews.crawler.discovery.urls import url_identity
from provnews.crawler.extraction.reextract import reextract
from provnews.storage.api import Storage
from provnews.storage.shard import Shard, ShardError
from tests.helpers import BIN
from tests.paths import REPO
from tests.test_import import REGISTRY as IMPORT_REGISTRY
from tests.test_reextract import stale_row
from tests.test_storage_clusters import STORY, wire_copy

MakeArticle = Callable[..., dict[str, Any]]
N = 3


def provnews(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_partition(parts: list[set[Any]], everything: set[Any]) -> None:
    """The parts are pairwise disjoint and their union is everything."""
    assert set().union(*parts) == everything
    assert sum(len(p) for p in parts) == len(everything), [sorted(p) for p in parts]
    assert all(parts), "a shard got nothing: the test data is too small to show a split"


@pytest.mark.parametrize("dedup", [False, True])
def test_export_shards_cover_every_article_once(
    storage: Storage, db_url: str, make_article: MakeArticle, tmp_path: Path, dedup: bool
) -> None:
    rows = [make_article(n, text=f"Bài {n} có nội dung riêng số {n}.") for n in range(1, 31)]
    # Ten wire copies of one story: one near-duplicate cluster, one article of it kept by --dedup.
    rows += [make_article(n, text=wire_copy(STORY) + f" Bản {n}.") for n in range(31, 41)]
    storage.upsert_articles(rows)
    flags = ["--dedup"] if dedup else []
    everything = {a["canonical_url"] for a in storage.iter_articles(dedup=dedup)}
    assert len(everything) == (31 if dedup else 40)
    parts = []
    for index in range(N):
        out = tmp_path / f"part-{index}.jsonl"
        shard = ["--shard", f"{index}/{N}"]
        result = provnews("--db", db_url, "export", "--format", "jsonl", "--out", str(out), *flags, *shard)
        assert result.exit_code == 0, result.output
        lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert f"shard {index}/{N}: exported {len(lines)} article(s)" in result.output
        assert all(line["id"] % N == index for line in lines)
        parts.append({line["canonical_url"] for line in lines})
    assert_partition(parts, everything)


@pytest.fixture(scope="module")
def replica_pages() -> list[tuple[str, bytes]]:
    from provnews.crawler.replica import ReplicaServer

    with ReplicaServer(sites=["baolaocai"], articles_per_site=12, seed=15) as replica:
        return [(url, urllib.request.urlopen(url, timeout=10).read()) for url in replica.ground_truth()]


def run_shards(db_url: str, *command: str) -> list[tuple[str, int]]:
    """(stdout, exit status) of `provnews --db URL COMMAND --shard I/N` for each I: N processes at once
    on PostgreSQL, as on N machines; one after the other on SQLite (one writer at a time)."""
    commands = [[str(BIN / "provnews"), "--db", db_url, *command, "--shard", f"{i}/{N}"] for i in range(N)]
    if db_url.startswith("postgresql"):
        procs = [subprocess.Popen(c, cwd=REPO, stdout=subprocess.PIPE, text=True) for c in commands]
        return [(p.communicate(timeout=240)[0], p.returncode) for p in procs]
    done = [subprocess.run(c, cwd=REPO, capture_output=True, text=True, timeout=240) for c in commands]
    return [(d.stdout, d.returncode) for d in done]


def test_reextract_shards_cover_every_article_once(
    storage: Storage, db_url: str, make_article: MakeArticle, replica_pages: list[tuple[str, bytes]]
) -> None:
    rows = [stale_row(make_article, n, url, page) for n, (url, page) in enumerate(replica_pages, 1)]
    everything = set(storage.upsert_articles(rows).new_ids)
    # The articles each shard re-extracts (the library call reports their ids).
    parts = []
    for index in range(N):
        report = reextract(storage, shard=Shard(index, N))
        assert report.examined == report.changed == len(report.changed_ids), report
        parts.append(set(report.changed_ids))
    assert_partition(parts, everything)
    assert all(a["title"] != "Tiêu đề cũ" for a in storage.iter_articles())  # each one was rebuilt
    # The command, N processes: stale again, every article rebuilt once, by its shard.
    storage.upsert_articles(rows)
    for index, (output, status) in enumerate(run_shards(db_url, "reextract")):
        size = len(parts[index])
        assert status == 0 and output.startswith(
            f"shard {index}/{N}: examined {size}, changed {size}, unchanged 0, failed 0"
        ), output
    assert all(a["title"] != "Tiêu đề cũ" for a in storage.iter_articles())


def jsonl_lines(make_article: MakeArticle, count: int) -> list[str]:
    lines = []
    for n in range(1, count + 1):
        row = make_article(n, text=f"Bài {n} có nội dung riêng số {n}.")
        row.pop("raw_html")
        lines.append(json.dumps(row, ensure_ascii=False))
    return lines


def test_import_shards_cover_every_article_once(
    db_url: str, make_article: MakeArticle, tmp_path: Path
) -> None:
    lines = jsonl_lines(make_article, 40)
    lines.insert(10, "{not json")  # line 11: reported by one shard only
    lines.append(lines[4])  # article 5 again: the same shard takes both lines
    dump = tmp_path / "dump.jsonl"
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outputs = run_shards(db_url, "import", str(dump), "--batch", "7", "--sites-file", str(IMPORT_REGISTRY))
    bad_shard = 11 % N  # the line number of the bad line decides
    with Storage.open(db_url) as storage:
        stored = [a["canonical_url"] for a in storage.iter_articles()]
    assert sorted(stored) == sorted(
        {json.loads(line)["canonical_url"] for line in lines if line != "{not json"}
    )
    reads = []
    for index, (output, status) in enumerate(outputs):
        read = int(output.split("read ", 1)[1].split(" ", 1)[0])
        elsewhere = int(output.split(f"shard {index}/{N}: ", 1)[1].split(" ", 1)[0])
        assert read + elsewhere == len(lines), output
        reads.append(read)
        assert ("not_json: 1" in output) == (index == bad_shard), output
        assert status == (1 if index == bad_shard else 0), output
    assert sum(reads) == len(lines)
    news = [int(output.split(": ", 1)[1].split(" new", 1)[0].rsplit(" ", 1)[-1]) for output, _ in outputs]
    assert sum(news) == 40 and all(news), outputs


@given(st.lists(st.text(min_size=1), min_size=1, max_size=50), st.integers(1, 8))
def test_every_key_and_line_falls_to_exactly_one_shard(keys: list[str], count: int) -> None:
    shards = [Shard(i, count) for i in range(count)]
    for key in keys:
        assert sum(s.holds_key(url_identity(f"https://a.vn/{key}")) for s in shards) == 1
        assert sum(s.holds_key(key) for s in shards) == 1
    for number in range(1, 20):
        assert sum(s.holds_line(number) for s in shards) == 1


@given(st.text(max_size=12))
def test_any_shard_text_is_taken_or_refused_clearly(text: str) -> None:
    try:
        shard = Shard.parse(text)
    except ShardError as exc:
        assert repr(text) in str(exc)
    else:
        assert 0 <= shard.index < shard.count and Shard.parse(str(shard)) == shard


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3/3", "I must be between 0 and 2"),
        ("-1/3", "expected I/N"),
        ("0/0", "between 1 and 1,000,000"),
        ("0/1000001", "between 1 and 1,000,000"),
        ("1", "expected I/N"),
        ("a/b", "expected I/N"),
    ],
)
def test_a_bad_shard_is_refused_clearly(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ShardError, match=message):
        Shard.parse(text)
    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    for args in (["reextract"], ["export", "--format", "jsonl", "--out", str(tmp_path / "o")]):
        result = provnews("--db", db, *args, "--shard", text)
        assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "o").exists()
