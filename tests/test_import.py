"""`provnews import`: a JSON Lines export of one database stored into another (SQLite → either engine),
with bad lines skipped and counted."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from provnews.crawler.cli import cli
from provnews.storage.api import Storage
from provnews.storage.importer import ImportReport, JsonlChunk, parse_line, read_chunks
from provnews.storage.search import search
from tests.paths import FIXTURES
from tests.test_storage_clusters import STORY, wire_copy

MakeArticle = Callable[..., dict[str, Any]]
COMPARED = ("site_id", "canonical_url", "title", "sapo", "text", "authors", "published_at", "section", "tags")


REGISTRY = FIXTURES / "import-sites.toml"  # sites a, b and baotest


def provnews(*args: str) -> Any:
    return CliRunner().invoke(
        cli, list(args), catch_exceptions=False, env={"PROVNEWS_SITES_FILE": str(REGISTRY)}
    )


def test_export_then_import_into_another_database(
    db_url: str, tmp_path: Path, make_article: MakeArticle
) -> None:
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    with Storage.open(source) as storage:
        for _ in range(3):  # the source's run ids do not exist in the target
            run_id = storage.start_run("provnews crawl", ["a"])
        storage.upsert_articles(
            [
                make_article(1, text=STORY, site_id="a", run_id=run_id),
                make_article(2, text=wire_copy(STORY), site_id="b", published_at=None),
                make_article(3, text="Một bài khác hẳn về Đà Lạt.", authors=["Lê C", "Trần D"]),
            ]
        )
        originals = sorted(storage.iter_articles(), key=lambda a: a["canonical_url"])
    dump = tmp_path / "dump.jsonl"
    assert provnews("--db", source, "export", "--format", "jsonl", "--out", str(dump)).exit_code == 0

    result = provnews("--db", db_url, "import", str(dump))
    assert result.exit_code == 0, result.output
    assert "read 3 article line(s): 3 new, 0 updated, 0 unchanged, 0 skipped" in result.output
    with Storage.open(db_url) as target:
        imported = sorted(target.iter_articles(), key=lambda a: a["canonical_url"])
        assert [{k: a[k] for k in COMPARED} for a in imported] == [
            {k: a[k] for k in COMPARED} for a in originals
        ]
        assert imported[0]["cluster_id"] == imported[1]["cluster_id"] != imported[2]["cluster_id"]
        assert [hit.title for hit in search(target, "da lat")] == ["Tin số 3"]
    again = provnews("--db", db_url, "import", str(dump))
    assert "0 new, 0 updated, 3 unchanged" in again.output  # idempotent


def test_bad_lines_are_skipped_counted_and_fail_the_exit_status(db_url: str, tmp_path: Path) -> None:
    good = {"url": "https://a.vn/1.html", "site_id": "a", "title": "Tin", "text": "Nội dung bài."}
    lines = [
        json.dumps(good, ensure_ascii=False),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({**good, "url": "https://a.vn/2.html", "text": ""}),
        json.dumps({**good, "url": "https://a.vn/3.html", "published_at": "ngày 7-9"}),
        json.dumps({**good, "url": "https://a.vn/5.html", "site_id": "../../escape"}),
        "",
        json.dumps({**good, "url": "https://a.vn/4.html", "title": "Tin 4"}),
    ]
    source = tmp_path / "mixed.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = provnews("--db", db_url, "import", str(source))
    assert result.exit_code == 1
    assert "read 7 article line(s): 2 new, 0 updated, 0 unchanged, 5 skipped" in result.output
    reasons = ("not_json: 1", "not_an_object: 1", "missing_text: 1", "bad_published_at: 1", "bad_site_id: 1")
    for reason in reasons:
        assert f"skipped: {reason}" in result.output
    assert f"e.g. {source}:2: not_json" in result.output
    with Storage.open(db_url) as target:
        assert target.count_articles() == 2


def test_a_line_that_is_not_utf8_is_skipped_alone(db_url: str, tmp_path: Path) -> None:
    rows = [
        {"url": f"https://a.vn/{n}.html", "site_id": "a", "title": f"Tin {n}", "text": "Nội dung."}
        for n in (1, 2)
    ]
    broken = tmp_path / "latin1.jsonl"  # its second line is Windows-1252 text, not UTF-8
    good = [json.dumps(row, ensure_ascii=False).encode() for row in rows]
    broken.write_bytes(
        good[0] + b'\n{"title": "Tin \xe0\xe1"}\n' + good[1].replace(b"/2.html", b"/3.html") + b"\n"
    )
    fine = tmp_path / "fine.jsonl"
    fine.write_text(json.dumps(rows[1], ensure_ascii=False) + "\n", encoding="utf-8")
    result = provnews("--db", db_url, "import", "--batch", "1", str(broken), str(fine))
    assert result.exit_code == 1
    assert "read 4 article line(s): 3 new, 0 updated, 0 unchanged, 1 skipped" in result.output
    assert f"e.g. {broken}:2: not_utf8" in result.output
    with Storage.open(db_url) as target:
        assert target.count_articles() == 3


def test_files_are_cut_into_chunks_of_article_lines(tmp_path: Path) -> None:
    """Chunks hold `batch` non-blank lines and know their first line number: parsing them one by one
    gives the rows and report (line numbers included) of parsing the whole file at once."""
    good = [
        json.dumps({"url": f"https://a.vn/{n}.html", "site_id": "a", "title": f"Tin {n}", "text": "Bài."})
        for n in range(1, 6)
    ]
    source = tmp_path / "mixed.jsonl"
    lines = [good[0], "", good[1], "{not json", "   ", good[2], good[3], '{"url": 1}', good[4]]
    source.write_bytes("\r\n".join(lines).encode())  # CRLF line ends, no final one
    chunks = list(read_chunks([source], batch=2))
    assert [c.first_line for c in chunks] == [1, 4, 7, 9]  # 2 non-blank lines each, blank ones between
    spans = [c.span for c in chunks if c.span]
    assert [start for start, _ in spans] == [0, *(end for _, end in spans[:-1])]
    assert len(spans) == 4 and spans[-1][1] == source.stat().st_size
    rows, report = [], ImportReport()
    for chunk in chunks:
        rows += chunk.rows()
        report.add(chunk.report)
    whole = JsonlChunk(source, 1, data=source.read_bytes())
    assert rows == whole.rows() and [row["url"] for row in rows] == [
        f"https://a.vn/{n}.html" for n in range(1, 6)
    ]
    assert report == whole.report and whole.data == b""  # parsed: it goes back with its report only
    assert report.read == 7 and report.examples == [f"{source}:4: not_json", f"{source}:8: missing_url"]


def test_import_reads_a_pipe(db_url: str, tmp_path: Path) -> None:
    """Files are read once, in order, by the importing process: a named pipe (what a shell's
    `<(zcat dump.jsonl.gz)` gives) works, its lines parsed by the preparing process."""
    pipe = tmp_path / "dump.jsonl"
    os.mkfifo(pipe)
    rows = [
        {"url": f"https://a.vn/{n}.html", "site_id": "a", "title": f"Tin {n}", "text": f"Nội dung {n}."}
        for n in range(1, 6)
    ]

    def feed() -> None:
        with pipe.open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)

    writer = threading.Thread(target=feed)
    writer.start()
    result = provnews("--db", db_url, "import", "--batch", "2", str(pipe))
    writer.join()
    assert result.exit_code == 0, result.output
    assert "read 5 article line(s): 5 new" in result.output
    with Storage.open(db_url) as target:
        assert target.count_articles() == 5


@given(
    scheme=st.from_regex(r"[a-zA-Z][a-zA-Z0-9+.-]{0,9}", fullmatch=True).filter(
        lambda s: s.lower() not in ("http", "https")
    ),
    rest=st.text(min_size=0, max_size=30),
)
def test_a_url_that_is_not_http_is_never_imported(scheme: str, rest: str) -> None:
    line = {"site_id": "a", "title": "Tin", "text": "Nội dung.", "url": f"{scheme}:{rest}"}
    assert parse_line(json.dumps(line), frozenset({"a"})) == (None, "bad_url")
    web = {**line, "url": "https://a.vn/1.html", "canonical_url": f"{scheme}://a.vn/{rest}"}
    assert parse_line(json.dumps(web), frozenset({"a"})) == (None, "bad_canonical_url")


@given(site_id=st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True))
def test_only_known_sites_are_imported(site_id: str) -> None:
    line = json.dumps({"site_id": site_id, "title": "Tin", "text": "Nội dung.", "url": "https://a.vn/1.html"})
    row, reason = parse_line(line, frozenset({"a"}))
    assert (row is not None, reason) == ((True, "") if site_id == "a" else (False, "unknown_site"))
