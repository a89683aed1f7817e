"""The `provnews` commands, on a database filled by a real crawl of the replica."""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from provnews.crawler.cli import cli
from provnews.crawler.replica import ReplicaServer
from provnews.storage.api import Storage
from tests.helpers import BIN, assert_run_balances, run
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
    assert code == 1  # the listing is not an article: its error line, then status 1
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
    assert code == 1
    missing, ok = (json.loads(line) for line in out.splitlines())
    assert "cannot read" in missing["error"]
    assert ok["site"] == "baolaocai"


# -- search, show, stats, export --------------------------------------------------------------
def test_search_is_accent_insensitive_with_snippets(db: str) -> None:
    with Storage.open(db) as storage:
        article = next(storage.iter_articles(site="baogialai"))
    word = article["title"].split()[0]
    from provnews.storage.folding import fold_for_search

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
    assert result.exit_code == 2 and "unknown site 'nosuchsite'" in result.output
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
    assert not (tmp_path / "demo-sites.toml").exists()  # the replica's registry died with its ports


def test_stats_filters_by_province_and_site(db: str) -> None:
    code, out = invoke("--db", db, "stats", "--province", "Cần Thơ", "--runs", "0")
    assert code == 0
    assert "baocantho" in out and "baogialai" not in out and "baolaocai" not in out
    code, out = invoke("--db", db, "stats", "--site", "baolaocai", "--runs", "0")
    assert "baolaocai" in out and "baocantho" not in out
    code, out = invoke("--db", db, "stats", "--since", "2099-01-01")
    assert "no articles match these filters" in out
    code, out = invoke("--db", db, "stats", "--site", "nosuch", "--runs", "0")
    assert code == 2 and "Invalid value for '--site': unknown site 'nosuch'" in out


def test_extract_refuses_an_unknown_family(tmp_path: Path) -> None:
    code, out = invoke("extract", "--family", "nosuch", str(shared_file(CANTHO)))
    assert code == 2 and "'nosuch' is not one of" in out


# -- the first hour of a new user (issue 13) ------------------------------------------------------
HEAVY = ("scrapy", "twisted", "sqlalchemy", "alembic", "trafilatura", "pydantic", "lxml", "numpy")


def test_help_imports_no_heavy_module() -> None:
    """`provnews --help` loads click and the command table only: a budget of modules, none heavy."""
    probe = (
        "import sys; before = set(sys.modules); from provnews.crawler.cli import cli\n"
        "try: cli(['--help'], prog_name='provnews')\n"
        "except SystemExit: pass\n"
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = done.stdout.splitlines()[-1].split()
    assert "provnews.crawler.cli" in loaded and "click" in loaded
    assert not [m for m in loaded if m.split(".")[0] in HEAVY], loaded
    assert len(loaded) < 100, f"{len(loaded)} modules imported for --help"


def test_global_options_work_after_the_command(db: str, tmp_path: Path) -> None:
    code, out = invoke("stats", "--db", db, "--runs", "0")
    assert code == 0 and "baocantho" in out
    # after the command wins over before it, like the last of repeated options
    code, out = invoke("--db", f"sqlite:///{tmp_path / 'nope.sqlite3'}", "stats", "--db", db)
    assert code == 0 and "baocantho" in out
    code, out = invoke("runs", "--db", db)
    assert code == 0 and "finished" in out


READ_ONLY = [
    ["search", "x"],
    ["show", "1"],
    ["stats"],
    ["export", "--format", "jsonl", "--out", "OUT"],
    ["runs"],
    ["runs", "show", "1"],
    ["health"],
    ["db", "revision"],
]


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: " ".join(c[:2]))
def test_read_only_commands_never_create_a_database(command: list[str], tmp_path: Path) -> None:
    path = tmp_path / "typo" / "provnews.sqlite3"
    args = [a.replace("OUT", str(tmp_path / "out.jsonl")) for a in command]
    for url in (f"sqlite:///{path}", "nonsense", f"sqlite:///{tmp_path}"):
        result = CliRunner().invoke(cli, ["--db", url, *args])
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"Error: no database at {url}") and result.output.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # neither the file nor its folder


def test_expected_failures_are_one_line(tmp_path: Path) -> None:
    def one_line(args: list[str], status: int, text: str) -> None:
        result = subprocess.run(
            [str(BIN / "provnews"), *args], capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == status, result.stderr
        lines = result.stderr.splitlines()
        # a runtime failure is one line; a usage error is click's usage message ending in one Error line
        assert len(lines) == 1 if status == 1 else lines[0].startswith("Usage: "), result.stderr
        assert lines[-1].startswith("Error: ") and text in lines[-1], result.stderr

    folder = f"sqlite:///{tmp_path}"
    one_line(["db", "revision", "--db", folder], 1, "Error: no database at")
    one_line(["db", "upgrade", "--db", folder], 1, "Error: cannot upgrade the database")
    closed = f"postgresql+psycopg://provnews@127.0.0.1:{free_port()}/provnews?connect_timeout=5"
    one_line(["db", "upgrade", "--db", closed], 1, "Error: cannot upgrade the database postgresql")
    one_line(["stats", "--db", closed], 1, "Error: cannot open the database postgresql")
    # a database that cannot be written: refused before anything runs
    path = tmp_path / "ro.sqlite3"
    Storage.open(f"sqlite:///{path}").close()
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    one_line(["crawl", "--db", read_only, "baocantho"], 1, "Error: cannot write to the database")
    articles = tmp_path / "a.jsonl"
    articles.write_text('{"url": "https://baocantho.com.vn/a.html"}\n', encoding="utf-8")
    one_line(["import", "--db", read_only, str(articles)], 1, "Error: cannot write to the database")
    # settings are checked before Scrapy starts
    db = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    one_line(
        ["crawl", "--db", db, "-s", "PROVNEWS_STORE_BATCH=abc"], 2, "PROVNEWS_STORE_BATCH must be an integer"
    )
    one_line(["crawl", "--db", db, "-s", "PROVNEWS_KEEP_HTML=yes please"], 2, "must be 0 or 1")
    one_line(["crawl", "--db", db, "-s", "PROVNEWS_NO_SUCH=1"], 2, "unknown provnews setting")
    one_line(["crawl", "--db", db, "baocantho", "nosuch"], 2, "unknown site 'nosuch'")
    assert not (tmp_path / "c.sqlite3").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_search_filters_fold_and_refuse_unknown_names(db: str) -> None:
    code, plain = invoke("--db", db, "stats", "--province", "Cần Thơ", "--runs", "0")
    for spelling in ("can tho", "CAN THO", "cần thơ", "Can Tho"):
        code, out = invoke("--db", db, "stats", "--province", spelling, "--runs", "0")
        assert code == 0 and out == plain, spelling
    code, out = invoke("--db", db, "stats", "--site", "BaoCanTho", "--runs", "0")
    assert code == 0 and out == plain
    code, out = invoke("--db", db, "search", "a", "--province", "Can Thoo")
    assert code == 2 and "unknown province 'Can Thoo'; did you mean 'Cần Thơ'?" in out
    code, out = invoke("--db", db, "export", "--format", "jsonl", "--out", "-", "--site", "nosuch")
    assert code == 2 and "unknown site 'nosuch'" in out
    for command in (["search", "a"], ["stats"], ["export", "--format", "jsonl", "--out", "-"]):
        code, out = invoke("--db", db, *command, "--since", "2024-02-01", "--until", "2024-01-01")
        assert code == 2 and "Invalid value for '--until': 2024-01-01 is before --since 2024-02-01" in out


def test_search_for_a_word_starting_with_a_dash(db: str) -> None:
    with Storage.open(db) as storage:
        title = next(storage.iter_articles(site="baocantho"))["title"]
    word = title.split()[-1]
    code, out = invoke("--db", db, "search", "--json", "--", f"-{word}")
    assert code == 0
    assert title in [json.loads(line)["title"] for line in out.splitlines()]


def test_show_finds_an_article_by_any_form_of_its_url(db: str, replica: ReplicaServer) -> None:
    url, expected = next(iter(replica.ground_truth("baocantho").items()))
    parts = urlsplit(url)
    www = parts._replace(netloc="www." + parts.netloc)
    forms = [
        f"{url}?utm_source=facebook&fbclid=abc",
        urlunsplit(www),
        urlunsplit(parts._replace(scheme="https" if parts.scheme == "http" else "http")),
        url + "#comments",
    ]
    for form in forms:
        code, out = invoke("--db", db, "show", form, "--json")
        assert code == 0, (form, out)
        assert json.loads(out)["title"] == expected["title"]


def test_export_to_standard_output_without_bom(db: str, tmp_path: Path) -> None:
    code, out = invoke("--db", db, "export", "--format", "jsonl", "--out", "-", "--site", "baocantho")
    assert code == 0
    assert len([json.loads(line) for line in out.splitlines() if line.startswith("{")]) == 6
    result = CliRunner().invoke(cli, ["--db", db, "export", "--format", "csv", "--out", "-"])
    assert result.stdout.startswith("id,site_id,") and "exported 18 article(s)" in result.stderr
    plain, excel = tmp_path / "plain.csv", tmp_path / "excel.csv"
    assert invoke("--db", db, "export", "--format", "csv", "--out", str(plain))[0] == 0
    assert invoke("--db", db, "export", "--format", "csv", "--out", str(excel), "--excel")[0] == 0
    assert plain.read_bytes().startswith(b"id,") and excel.read_bytes().startswith(b"\xef\xbb\xbfid,")
    code, out = invoke("--db", db, "export", "--format", "parquet", "--out", "-")
    assert code == 2 and "parquet cannot go to standard output" in out
    code, out = invoke("--db", db, "export", "--format", "jsonl", "--out", "-", "--excel")
    assert code == 2 and "a byte-order mark is for CSV, not jsonl" in out


def test_export_into_a_closed_pipe_ends_quietly(db: str) -> None:
    """`provnews export --out - | head -1`: status 0 and nothing on stderr once the reader is gone."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(
        write_end, fcntl.F_SETPIPE_SZ, 4096
    )  # a page: the export cannot finish before the reader stops
    proc = subprocess.Popen(
        [str(BIN / "provnews"), "--db", db, "export", "--format", "jsonl", "--out", "-"],
        stdout=write_end,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        assert json.loads(reader.readline())["site_id"]
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and err == ""


def test_every_option_has_help_text() -> None:
    def walk(command: click.Command, path: str) -> list[str]:
        missing = [
            f"{path} {param.opts[0]}"
            for param in command.params
            if isinstance(param, click.Option) and not param.help and not param.hidden
        ]
        assert command.help, f"{path} has no help"
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                missing += walk(sub, f"{path} {name}")
        return missing

    assert walk(cli, "provnews") == []


def test_scrapy_does_not_open_its_telnet_console() -> None:
    from provnews.crawler.runs.runner import project_settings

    assert project_settings().getbool("TELNETCONSOLE_ENABLED") is False


def test_import_refuses_unknown_sites_and_non_web_urls(tmp_path: Path) -> None:
    good = {"site_id": "baocantho", "title": "Tin", "text": "Nội dung bài viết."}
    lines = [
        {**good, "url": "https://baocantho.com.vn/a.html"},
        {**good, "url": "https://baocantho.com.vn/b.html", "site_id": "baokhongco"},
        {**good, "url": "file:///etc/passwd"},
        {**good, "url": "javascript:alert(1)"},
        {**good, "url": "https://baocantho.com.vn/c.html", "canonical_url": "ftp://x/c.html"},
    ]
    source = tmp_path / "a.jsonl"
    source.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    code, out = invoke("--db", f"sqlite:///{tmp_path / 'i.sqlite3'}", "import", str(source))
    assert code == 1
    assert "1 new" in out and "4 skipped" in out
    assert "skipped: bad_url: 2" in out and "unknown_site: 1" in out and "bad_canonical_url: 1" in out


def test_scrapy_crawl_checks_the_spider_arguments_first(tmp_path: Path) -> None:
    for argument, status, text in (
        ("site=nosuch", 2, "error: unknown site 'nosuch'"),
        ("since=2024-13-01", 2, "error: since: expected a date YYYY-MM-DD"),
        (f"sites_file={tmp_path / 'none.toml'}", 1, "Error: "),
    ):
        result = run(
            ["scrapy", "crawl", "news", "-a", argument, "-s", f"PROVNEWS_DB_URL=sqlite:///{tmp_path}/x"]
        )
        assert result.returncode == status, result.stderr[-2000:]
        assert "Traceback" not in result.stderr and text in result.stderr.splitlines()[-1], result.stderr[
            -2000:
        ]
    assert list(tmp_path.iterdir()) == []


@given(
    host=st.sampled_from(["baocantho.com.vn", "www.baocantho.com.vn", "m.baocantho.com.vn"]),
    scheme=st.sampled_from(["http", "https", "HTTPS"]),
    tracking=st.lists(
        st.tuples(
            st.sampled_from(["utm_source", "utm_medium", "fbclid", "gclid", "zarsrc"]),
            st.text("abc1", max_size=5),
        ),
        max_size=3,
    ),
    fragment=st.text("abcxyz-", max_size=6),
)
def test_a_pasted_link_normalises_to_the_stored_identity(
    host: str, scheme: str, tracking: list[tuple[str, str]], fragment: str
) -> None:
    from provnews.crawler.cli.query import url_candidates
    from provnews.crawler.discovery.urls import url_identity

    stored = "https://baocantho.com.vn/tin-a196670.html?id=3"
    query = "&".join(["id=3", *(f"{k}={v}" for k, v in tracking)])
    pasted = f"{scheme}://{host}/tin-a196670.html?{query}" + (f"#{fragment}" if fragment else "")
    assert url_identity(stored) in {url_identity(c) for c in url_candidates(pasted)}


def read_only_url(url: str) -> str:
    """The same database through a connection that cannot write."""
    if url.startswith("sqlite:///"):
        return f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    read_only = make_url(url).update_query_dict({"options": "-c default_transaction_read_only=on"})
    return read_only.render_as_string(hide_password=False)


def test_writing_commands_refuse_a_read_only_database_on_both_engines(db_url: str, tmp_path: Path) -> None:
    Storage.open(db_url).close()
    articles = tmp_path / "a.jsonl"
    line = {"url": "https://baocantho.com.vn/a.html", "site_id": "baocantho", "title": "T", "text": "Bài."}
    articles.write_text(json.dumps(line) + "\n", encoding="utf-8")
    for args in (["import", str(articles)], ["crawl", "baocantho"]):
        result = CliRunner().invoke(cli, ["--db", read_only_url(db_url), *args])
        assert result.exit_code == 1, result.output
        assert (
            result.output.startswith("Error: cannot write to the database") and result.output.count("\n") == 1
        )
    with Storage.open(db_url) as storage:
        assert storage.count_articles() == 0 and storage.runs() == []
