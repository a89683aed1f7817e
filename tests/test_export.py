"""`provnews export` in every format, with the search filters and --dedup, on both engines; paths are
checked so crafted site ids cannot write outside the target folder."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from provnews.crawler.cli import cli
from provnews.storage.api import Storage
from provnews.storage.exporters import ExportError, corpus_path, safe_segment

MakeArticle = Callable[..., dict[str, Any]]
STORY = " ".join(
    f"Câu {i} của bản tin thông tấn về mùa lúa ở đồng bằng sông Cửu Long năm nay." for i in range(25)
)


@pytest.fixture
def corpus(storage: Storage, make_article: MakeArticle) -> Storage:
    storage.upsert_articles(
        [
            make_article(
                1, site_id="a", text=STORY, published_at="2024-05-01T08:00:00+07:00", raw_html=b"<p>1</p>"
            ),
            make_article(2, site_id="a", section="Kinh tế", published_at="2024-06-01T08:00:00+07:00"),
            make_article(3, site_id="b", text="(TTXVN) - " + STORY, authors=["Lê C"], raw_html=None),
            make_article(4, site_id="b", published_at=None, province="Gia Lai", raw_html="<p>Đà Lạt</p>"),
        ]
    )
    return storage


def export(db_url: str, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--db", db_url, "export", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_jsonl_with_filters_and_dedup(corpus: Storage, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "x" / "all.jsonl"
    result = export(db_url, "--format", "jsonl", "--out", str(out))
    assert result.exit_code == 0 and "exported 4 article(s)" in result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["title"] for r in rows] == ["Tin số 1", "Tin số 2", "Tin số 3", "Tin số 4"]
    assert "raw_html" not in rows[0] and "minhash" not in rows[0] and rows[2]["cluster_id"] == rows[0]["id"]
    assert export(db_url, "--format", "jsonl", "--out", str(out), "--dedup").output.startswith("exported 3")
    assert export(db_url, "--format", "jsonl", "--out", str(out), "--site", "b", "--dedup").output.startswith(
        "exported 2"
    )
    for args, count in [
        (["--section", "Kinh tế"], 1),
        (["--author", "Lê C"], 1),
        (["--province", "Gia Lai"], 1),
        (["--since", "2024-05-15"], 1),
        (["--until", "2024-05-01"], 2),  # undated articles have no date to compare
    ]:
        result = export(db_url, "--format", "jsonl", "--out", str(out), *args)
        assert result.output.startswith(f"exported {count} "), (args, result.output)


def test_csv(corpus: Storage, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    assert export(db_url, "--format", "csv", "--out", str(out), "--site", "b").exit_code == 0
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["title"] for r in rows] == ["Tin số 3", "Tin số 4"]
    assert json.loads(rows[0]["authors"]) == ["Lê C"] and rows[0]["text"].startswith("(TTXVN)")


def test_parquet(corpus: Storage, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "a.parquet"
    assert export(db_url, "--format", "parquet", "--out", str(out)).exit_code == 0
    table = pq.read_table(out)
    assert table.num_rows == 4 and table.column("title").to_pylist()[0] == "Tin số 1"
    first = table.to_pylist()[0]
    assert first["authors"] == ["Nguyễn Văn A"] and first["images"][0]["caption"] == "Ảnh"
    assert first["published_at"].isoformat() == "2024-05-01T08:00:00+07:00"
    assert table.column("published_at").to_pylist()[3] is None


def test_warc(corpus: Storage, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "pages.warc.gz"
    result = export(db_url, "--format", "warc", "--out", str(out))
    assert result.exit_code == 0 and "exported 3 article(s)" in result.output  # one has no stored page
    with gzip.open(out, "rb") as fh:
        assert fh.read(8) == b"WARC/1.1"
    with out.open("rb") as fh:
        records = [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
            for r in ArchiveIterator(fh)
        ]
    assert [r[0] for r in records] == ["warcinfo", *["resource", "metadata"] * 3]
    pages = {uri: body for kind, uri, body in records if kind == "resource"}
    assert pages["https://baotest.vn/tin-1.html?utm_source=x"] == b"<p>1</p>"
    assert pages["https://baotest.vn/tin-4.html?utm_source=x"] == "<p>Đà Lạt</p>".encode()


def test_corpus_layout(corpus: Storage, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    assert export(db_url, "--format", "corpus", "--out", str(out), "--dedup").exit_code == 0
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt"))
    assert files == ["a/2024-05/1.txt", "a/2024-06/2.txt", "b/undated/4.txt"]
    assert (out / "a/2024-05/1.txt").read_text(encoding="utf-8").startswith(" date 2024-05 Câu 0")


def test_crafted_site_ids_stay_inside(tmp_path: Path) -> None:
    root = tmp_path / "out"
    for site in ("../../etc", "/abs/path", "..", "a\\..\\..\\b", "x\x00y", "ở/../.."):
        path = corpus_path(root, {"site_id": site, "id": 7, "published_at": "../2024-05"})
        assert path.is_relative_to(root.resolve()) and path.name == "7.txt"
        assert path.parent.name == "undated"
    assert safe_segment("..") == "_" and "/" not in safe_segment("a/b")
    with pytest.raises(ValueError):
        corpus_path(root, {"site_id": "a", "id": "1/../../x"})
    (tmp_path / "elsewhere").mkdir()
    root.mkdir()
    (root / "a").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ExportError, match="outside"):
        corpus_path(root, {"site_id": "a", "id": 1, "published_at": None})


def test_file_format_into_a_folder_is_refused(corpus: Storage, db_url: str, tmp_path: Path) -> None:
    result = export(db_url, "--format", "csv", "--out", str(tmp_path))
    assert result.exit_code == 1 and "is a folder" in result.output


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet", "warc", "corpus"])
def test_an_unwritable_target_is_a_clear_error(
    corpus: Storage, db_url: str, tmp_path: Path, fmt: str
) -> None:
    """A target under a file (so its folder cannot be made) fails with a one-line error naming the
    path, not a traceback."""
    blocker = tmp_path / "a.csv"
    blocker.write_text("not a folder")
    result = export(db_url, "--format", fmt, "--out", str(blocker / "sub" / "out"))
    assert result.exit_code == 1
    assert "Error: cannot write" in result.output and str(blocker) in result.output
    assert "Traceback" not in result.output
