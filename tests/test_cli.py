"""The `provnews` commands, on a database filled by a real crawl of the replica."""

from __future__ import annotations

import gzip
import json
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.replica import ReplicaServer
from pipelines.storage import Storage
from tests.helpers import assert_run_balances, run
from tests.paths import shared_file
from tests.test_encoding import to_cp1258

LAOCAI = "baolaocai.vn/song-dep-tu-nhung-dieu-gian-di-post404649.html"
CANTHO = (
    "baocantho.com.vn/"
    "tap-trung-trien-khai-cac-dot-thanh-tra-kiem-tra-co-trong-tam-trong-diem-nhat-la-cac-linh-vuc-co-ng-a196670.html"
)


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(articles_per_site=6, seed=5) as server:
        yield server


@pytest.fixture(scope="module")
def db(replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("cli")
    sites_file = tmp / "sites.toml"
    sites_file.write_text(replica.sites_toml(), encoding="utf-8")
    url = f"sqlite:///{tmp / 'cli.sqlite3'}"
    result = run(["provnews", "--db", url, "crawl", "--sites-file", str(sites_file)])
    assert result.returncode == 0, result.stderr[-3000:]
    return url


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


COMMANDS = [
    [],
    ["crawl"],
    ["demo"],
    ["extract"],
    ["search"],
    ["show"],
    ["export"],
    ["stats"],
    ["db"],
    ["db", "upgrade"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "provnews")
def test_every_command_has_help(command: list[str]) -> None:
    code, out = invoke(*command, "--help")
    assert code == 0
    assert "Usage:" in out and "--help" in out


# -- extract ------------------------------------------------------------------------------------
def test_extract_real_pages_one_json_line_each_in_input_order(tmp_path: Path) -> None:
    gz = tmp_path / "laocai.html.gz"
    gz.write_bytes(gzip.compress(shared_file(LAOCAI).read_bytes()))
    not_article = tmp_path / "listing.html"
    shutil.copy(shared_file("baocantho.com.vn/thoi-su.listing.html"), not_article)
    code, out = invoke("extract", str(shared_file(CANTHO)), str(not_article), str(gz))
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [Path(x["file"]).name for x in lines] == [Path(CANTHO).name, "listing.html", "laocai.html.gz"]
    cantho, listing, laocai = lines
    for key in (
        "url",
        "canonical_url",
        "site",
        "title",
        "sapo",
        "text",
        "authors",
        "published_at",
        "modified_at",
        "section",
        "tags",
        "images",
        "dateline",
        "language",
    ):
        assert key in cantho and key in laocai
    assert cantho["site"] == "baocantho" and cantho["dateline"] == "CTO"
    assert cantho["published_at"] == "2026-01-08T18:21:00+07:00"
    assert cantho["text"].endswith("\n\nTin, ảnh: P.Y")
    assert laocai["authors"] == ["Anh Dũng"] and laocai["title"] == "Sống đẹp từ những điều giản dị"
    assert set(listing) == {"file", "url", "error"} and "not an article" in listing["error"]


def test_extract_honours_meta_charset_and_bom(tmp_path: Path) -> None:
    body = "<p>" + "Người dân phấn khởi đón Tết. " * 12 + "</p>"
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1258">'
        '<meta property="article:published_time" content="2025-01-02T08:00:00+07:00">'
        "<title>Đón Tết</title></head><body><article><h1>Đón Tết</h1>" + body + "</article></body></html>"
    )
    page = tmp_path / "cp1258.html"
    page.write_bytes(to_cp1258(html))
    bom = tmp_path / "bom.html"
    bom.write_bytes(b"\xef\xbb\xbf" + html.replace("windows-1258", "utf-8").encode("utf-8"))
    code, out = invoke("extract", "--url", "https://bao.vn/don-tet.html", str(page), str(bom))
    assert code == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["title"] == second["title"] == "Đón Tết"
    assert "Người dân phấn khởi đón Tết." in first["text"]
    assert first["text"] == second["text"]
    assert unicodedata.is_normalized("NFC", first["text"])


def test_extract_missing_file_is_an_error_line(tmp_path: Path) -> None:
    code, out = invoke("extract", str(tmp_path / "nope.html"), str(shared_file(LAOCAI)))
    assert code == 0
    missing, ok = (json.loads(line) for line in out.splitlines())
    assert "cannot read" in missing["error"]
    assert ok["site"] == "baolaocai"


# -- search, show, stats, export --------------------------------------------------------------
def test_search_is_accent_insensitive_with_snippets(db: str) -> None:
    with Storage.open(db) as storage:
        article = next(storage.iter_articles(site="baogialai"))
    word = article["title"].split()[0]
    from pipelines.folding import fold_for_search

    code, out = invoke("--db", db, "search", fold_for_search(word), "--site", "baogialai", "--limit", "50")
    assert code == 0
    assert article["title"] in out
    code, out = invoke("--db", db, "search", fold_for_search(word), "--json", "--site", "baogialai")
    hits = [json.loads(line) for line in out.splitlines()]
    assert hits and all(h["site_id"] == "baogialai" for h in hits)
    assert {"id", "title", "url", "published_at", "snippet", "score"} <= set(hits[0])


def test_search_since_filter_and_hostile_input(db: str) -> None:
    code, out = invoke("--db", db, "search", "a", "--since", "2099-01-01")
    assert code == 0 and "no articles found" in out
    for query in ['"unbalanced', "-du", "title:du", "NEAR OR", "'; DROP TABLE articles; --"]:
        result = CliRunner().invoke(cli, ["--db", db, "search", "--", query])
        assert result.exit_code in (0, 1), query
        assert "Traceback" not in result.output
    with Storage.open(db) as storage:
        assert storage.count_articles() == 18


def test_show_by_id_and_by_url(db: str, replica: ReplicaServer) -> None:
    url, expected = next(iter(replica.ground_truth("baocantho").items()))
    code, out = invoke("--db", db, "show", url)
    assert code == 0
    assert out.startswith(expected["title"] + "\n")
    assert expected["text"] in out
    assert "dateline:  CTO" in out
    code, out = invoke("--db", db, "show", url, "--json")
    as_json = json.loads(out)
    assert as_json["text"] == expected["text"]
    code, by_id = invoke("--db", db, "show", str(as_json["id"]), "--json")
    assert json.loads(by_id) == as_json
    result = CliRunner().invoke(cli, ["--db", db, "show", "999999"])
    assert result.exit_code == 1 and "no article 999999" in result.output


def test_stats_lists_sites_months_and_runs(db: str) -> None:
    code, out = invoke("--db", db, "stats")
    assert code == 0
    assert "baogialai" in out and "baocantho" in out
    assert "total" in out and "18" in out
    assert "last runs:" in out and "finished" in out


def test_export_jsonl_and_corpus(db: str, tmp_path: Path, replica: ReplicaServer) -> None:
    out_file = tmp_path / "out" / "articles.jsonl"
    code, out = invoke("--db", db, "export", "--format", "jsonl", "--out", str(out_file))
    assert code == 0 and "exported 18" in out
    rows = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 18 and "raw_html" not in rows[0]
    corpus = tmp_path / "corpus"
    code, out = invoke(
        "--db", db, "export", "--format", "corpus", "--out", str(corpus), "--site", "baocantho"
    )
    assert code == 0 and "exported 6" in out
    files = sorted(corpus.rglob("*.txt"))
    assert len(files) == 6
    truth = {v["title"]: v for v in replica.ground_truth("baocantho").values()}
    by_id = {r["id"]: r for r in rows}
    for path in files:
        row = by_id[int(path.stem)]
        expected = truth[row["title"]]
        month = expected["published_at"][:7]
        assert path.relative_to(corpus).parts == ("baocantho", month, path.name)
        assert path.read_text(encoding="utf-8") == f" date {month} " + expected["text"]


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'db.sqlite3'}"
    code, out = invoke("--db", url, "db", "upgrade")
    assert code == 0 and "empty ->" in out
    code, out = invoke("--db", url, "db", "revision")
    assert "current: " in out and "current: none" not in out


def test_database_url_from_environment(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVNEWS_DB_URL", db)
    code, out = invoke("stats")
    assert code == 0 and "baolaocai" in out


# -- crawl and demo -------------------------------------------------------------------------------
def test_crawl_unknown_site_and_bad_registry_are_clear_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path}/x.db", "crawl", "nosuchsite"])
    assert result.exit_code == 1 and "unknown site 'nosuchsite'" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[[site]]\nid = "x"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["crawl", "--sites-file", str(bad)])
    assert result.exit_code == 1 and "site 'x'" in result.output and "key 'name'" in result.output


def test_crawl_passes_settings_through(replica: ReplicaServer, tmp_path: Path) -> None:
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text(replica.sites_toml(), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 's.sqlite3'}"
    # A minimum text length no article reaches: every article is dropped, counted by reason.
    result = run(
        [
            "provnews",
            "--db",
            db,
            "crawl",
            "baolaocai",
            "--sites-file",
            str(sites_file),
            "-s",
            "PROVNEWS_MIN_TEXT_CHARS=100000",
        ]
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "  dropped:           robots_denied 1, text_too_short 6\n" in result.stdout
    assert_run_balances(db)
    with Storage.open(db) as storage:
        assert storage.count_articles() == 0
        assert storage.runs()[0]["stats"]["dropped"] == {"text_too_short": 6}


def test_demo_runs_offline_and_matches_ground_truth(tmp_path: Path) -> None:
    result = run(["provnews", "demo", "--articles", "4", "--db-file", str(tmp_path / "demo.sqlite3")])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ground truth: 12/12 articles match" in result.stdout
    assert "sample search:" in result.stdout
    assert (tmp_path / "demo.sqlite3").exists()


def test_stats_filters_by_province_and_site(db: str) -> None:
    code, out = invoke("--db", db, "stats", "--province", "Cần Thơ", "--runs", "0")
    assert code == 0
    assert "baocantho" in out and "baogialai" not in out and "baolaocai" not in out
    code, out = invoke("--db", db, "stats", "--site", "baolaocai", "--runs", "0")
    assert "baolaocai" in out and "baocantho" not in out
    code, out = invoke("--db", db, "stats", "--since", "2099-01-01")
    assert "no articles match these filters" in out
    code, out = invoke("--db", db, "stats", "--site", "nosuch", "--runs", "0")
    assert code == 0 and out.strip() == "no articles match these filters"


def test_extract_refuses_an_unknown_family(tmp_path: Path) -> None:
    code, out = invoke("extract", "--family", "nosuch", str(shared_file(CANTHO)))
    assert code == 2 and "'nosuch' is not one of" in out
