"""Search filters (province, section, author, date range) and the `provnews search` command, on both
engines: snippets, --json, and hostile input answered with a message, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner

from provnews.crawler.cli import cli
from provnews.storage.api import Storage
from provnews.storage.search import search

MakeArticle = Callable[..., dict[str, Any]]


@pytest.fixture
def corpus(storage: Storage, make_article: MakeArticle) -> Storage:
    storage.upsert_articles(
        [
            make_article(
                1,
                title="Hà Nội mở rộng đường vành đai",
                text="Thành phố Hà Nội khởi công đường vành đai. Người dân hòa vào niềm vui chung.",
                province="Hà Nội",
                section="Thời sự",
                authors=["Nguyễn Văn A"],
                published_at="2024-03-10T09:00:00+07:00",
            ),
            make_article(
                2,
                site_id="baogialai",
                title="Gia Lai: thuý và hoà",
                text="Chị Thúy ở Gia Lai bán lúa ở chợ gần Hà Nội, hoà mình với mùa vụ.",
                province="Gia Lai",
                province_old="Bình Định",
                section="Kinh tế",
                authors=["Trần Thị B", "Nguyễn Văn A"],
                published_at="2024-05-20T23:30:00+07:00",
            ),
        ]
    )
    return storage


def ids(hits: list[Any]) -> list[int]:
    return [hit.id for hit in hits]


def test_filters(corpus: Storage) -> None:
    assert ids(search(corpus, "ha noi", province="Gia Lai")) == [2]
    assert ids(search(corpus, "ha noi", province="Bình Định")) == [2]  # the pre-2025 province
    assert ids(search(corpus, "ha noi", section="Thời sự")) == [1]
    assert set(ids(search(corpus, "ha noi", author="Nguyễn Văn A"))) == {1, 2}
    assert ids(search(corpus, "ha noi", author="Trần Thị B")) == [2]
    assert ids(search(corpus, "ha noi", author="Trần")) == []
    assert ids(search(corpus, "ha noi", since="2024-05-20", until="2024-05-20")) == [2]  # 23:30 local
    assert ids(search(corpus, "ha noi", until="2024-05-19")) == [1]
    assert ids(search(corpus, "ha noi", site="baogialai", section="Kinh tế")) == [2]


def test_tone_mark_placements_match_each_other(corpus: Storage) -> None:
    assert ids(search(corpus, "thúy")) == [2] and ids(search(corpus, "thuý")) == [2]
    assert ids(search(corpus, "hoà vào")) == [1] and ids(search(corpus, "hòa mình")) == [2]


def run(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", db_url, *args], catch_exceptions=False)


def test_cli_search_text_and_json(corpus: Storage, db_url: str) -> None:
    result = run(db_url, "search", "ha noi", "--province", "Hà Nội")
    assert result.exit_code == 0, result.output
    assert "[1]" in result.output and "[Hà Nội]" in result.output and "baogialai" not in result.output
    result = run(db_url, "search", '"ban lua"', "--json", "--author", "Trần Thị B", "--until", "2024-12-31")
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    hit = json.loads(line)
    assert hit["id"] == 2 and "[bán lúa]" in hit["snippet"] and hit["site_id"] == "baogialai"
    assert set(hit) >= {"id", "site_id", "title", "url", "published_at", "snippet", "score"}
    assert run(db_url, "search", "khong co dau").output.strip() == "no articles found"


@pytest.mark.parametrize(
    "query", ['"unbalanced', "-du", "*", "NEAR(a b)", "a OR b", "'; DROP TABLE articles; --", '""', "title:x"]
)
def test_cli_hostile_queries(corpus: Storage, db_url: str, query: str) -> None:
    result = CliRunner().invoke(cli, ["--db", db_url, "search", "--", query])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code == 0 or result.output.startswith("Error: ")
    assert corpus.count_articles() == 2


def test_cli_bad_date_is_a_usage_error(corpus: Storage, db_url: str) -> None:
    result = CliRunner().invoke(cli, ["--db", db_url, "search", "ha noi", "--since", "10/05/2024"])
    assert result.exit_code == 2 and "Invalid value for '--since'" in result.output


def test_postgresql_id_windows_find_the_same_newest_matches(
    pg_database: str, make_article: MakeArticle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL looks for the newest matches in windows of the newest ids before the whole table;
    the hits are the ones the whole-table query finds, filtered or not, phrase or words."""
    import provnews.storage.search as search_module

    rows = []
    for n in range(1, 41):
        province = "Gia Lai" if n % 3 == 0 else "Huế"
        text = "Mưa lớn ở Đắk Lắk." if n % 2 else "Lắk Đắk nắng, mưa lớn."
        rows.append(make_article(n, title=f"Tin {n}", text=text, province=province))
    rows += [make_article(n, title=f"Khác {n}", text="Trời nắng đẹp.") for n in range(41, 61)]
    queries = [("mua lon", {}), ('"dak lak"', {}), ("mua", {"province": "Gia Lai"}), ("nang", {})]
    monkeypatch.setattr(search_module, "RANK_CANDIDATES", 5)
    with Storage.open(pg_database) as storage:
        storage.upsert_articles(rows)
        monkeypatch.setattr(search_module, "FIRST_WINDOW", 10**9)  # no window: the whole table
        whole = {q: [h.id for h in search(storage, q, limit=50, **f)] for q, f in queries}
        monkeypatch.setattr(search_module, "FIRST_WINDOW", 4)
        windows: list[int] = []
        real_newest = search_module._postgresql_newest

        def counting(conn: Any, match: Any, filters: Any) -> Any:
            found = real_newest(conn, match, filters)
            windows.append(0 if found is None else len(found))
            return found

        monkeypatch.setattr(search_module, "_postgresql_newest", counting)
        windowed = {q: [h.id for h in search(storage, q, limit=50, **f)] for q, f in queries}
    assert windowed == whole
    assert all(len(ids) == 5 for ids in whole.values())
    # Three found their 5 newest matches in a window; the filtered one outgrew the table (its matches
    # are sparse among the newest ids) and was answered from the whole table.
    assert windows == [5, 5, 0, 5]


def test_postgresql_filtered_windows_find_what_the_whole_table_finds(
    pg_database: str, make_article: MakeArticle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In an id window, filters are tested before the text (a query shape of its own): for every kind
    of filter, with words or a phrase, the hits are those of the whole-table query."""
    import provnews.storage.search as search_module

    sections, authors = ["Kinh tế", "Thời sự", "Xã hội"], ["Lê Văn Hoà", "Trần Thị B"]
    rows = []
    for n in range(1, 121):
        text = ["Mưa lớn ở Đắk Lắk.", "Lắk Đắk nắng, mưa lớn.", "Trời nắng đẹp ở Cà Mau."][n % 3]
        rows.append(
            make_article(
                n,
                site_id=f"bao{n % 2}",
                title=f"Tin {n}",
                text=text,
                section=sections[n % 3 if n % 5 else 0],
                authors=[authors[n % 2]],
                province="Huế" if n % 4 else "Gia Lai",
                published_at=f"2024-{1 + n % 12:02d}-10T08:00:00+07:00",
            )
        )
    queries: list[tuple[str, dict[str, Any]]] = [
        ("mua lon", {"section": "Kinh tế"}),
        ('"dak lak"', {"section": "Kinh tế"}),
        ("ca mau", {"author": "Lê Văn Hoà"}),
        ("nang", {"province": "Gia Lai"}),
        ("lak", {"site": "bao1", "since": "2024-06-01"}),
        ('"lak dak"', {"since": "2024-03-01", "until": "2024-09-30"}),
    ]
    monkeypatch.setattr(search_module, "RANK_CANDIDATES", 4)
    with Storage.open(pg_database) as storage:
        storage.upsert_articles(rows)
        monkeypatch.setattr(search_module, "FIRST_WINDOW", 10**9)  # no window: the whole table
        whole = {q + str(f): [h.id for h in search(storage, q, limit=50, **f)] for q, f in queries}
        monkeypatch.setattr(search_module, "FIRST_WINDOW", 12)
        windowed = {q + str(f): [h.id for h in search(storage, q, limit=50, **f)] for q, f in queries}
    assert windowed == whole
    assert all(len(found) == 4 for found in whole.values())
