"""Accent-insensitive search: folding, safe query building, ranking, filters and snippets."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from provnews.storage.api import Storage
from provnews.storage.folding import fold_for_search
from provnews.storage.search import SearchError, fts5_match, parse_query, search
from provnews.storage.snippet import make_snippet

MakeArticle = Callable[..., dict[str, Any]]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Hà Nội", "ha noi"),
        ("Đường", "duong"),
        ("hòa", "hoa"),
        ("hoà", "hoa"),
        ("thúy", "thuy"),
        ("thuý", "thuy"),
        ("ĐẮK LẮK", "dak lak"),
        (unicodedata.normalize("NFD", "Nguyễn Thị Ánh"), "nguyen thi anh"),
        ("İ ß ﬁ", "i ß ﬁ"),
    ],
)
def test_fold_for_search(text: str, folded: str) -> None:
    assert fold_for_search(text) == folded
    assert len(fold_for_search(text)) == len(unicodedata.normalize("NFC", text))


def test_parse_query_quotes_every_token() -> None:
    assert parse_query('Hà Nội "đường phố" covid-19') == [
        ("ha",),
        ("noi",),
        ("duong", "pho"),
        ("covid", "19"),
    ]
    assert parse_query('"unbalanced') == [("unbalanced",)]
    assert parse_query("title:du NEAR OR -x *") == [("title", "du"), ("near",), ("or",), ("x",)]
    assert fts5_match([("ha", "noi"), ("x",)]) == '"ha noi" "x"'


@pytest.fixture
def corpus(storage: Storage, make_article: MakeArticle) -> Storage:
    storage.upsert_articles(
        [
            make_article(
                1,
                title="Hà Nội mở rộng đường vành đai",
                text="Sáng nay, thành phố Hà Nội khởi công dự án. Người dân hòa vào niềm vui chung.",
                published_at="2024-03-10T09:00:00+07:00",
            ),
            make_article(
                2,
                title="Tin nông nghiệp",
                sapo="Vụ lúa năm nay bội thu.",
                text="Vụ lúa năm nay bội thu. Nông dân bán lúa ở chợ Đường Lâm, gần Hà Nội.",
                published_at="2024-05-20T09:00:00+07:00",
            ),
            make_article(
                3,
                site_id="other",
                title="Thanh Hoá đón khách",
                text="Du lịch Thanh Hoá tăng mạnh, khách đến hoà mình với biển Sầm Sơn.",
                published_at="2024-06-01T09:00:00+07:00",
            ),
        ]
    )
    return storage


def ids(hits: list[Any]) -> list[int]:
    return [hit.id for hit in hits]


def test_accent_insensitive(corpus: Storage) -> None:
    assert set(ids(search(corpus, "ha noi"))) == {1, 2}
    assert set(ids(search(corpus, "HÀ NỘI"))) == {1, 2}
    assert ids(search(corpus, "duong lam")) == [2]
    assert set(ids(search(corpus, "Đường"))) == {1, 2}


def test_tone_mark_placement_variants(corpus: Storage) -> None:
    assert ids(search(corpus, "hoà vào")) == [1]  # stored as "hòa"
    assert ids(search(corpus, "hòa mình")) == [3]  # stored as "hoà"
    assert ids(search(corpus, '"thanh hoa"')) == [3]


def test_phrase(corpus: Storage) -> None:
    assert ids(search(corpus, '"ban lua"')) == [2]
    assert ids(search(corpus, '"lua ban"')) == []
    assert ids(search(corpus, "lua ban")) == [2]  # without quotes: both words, any order


def test_title_ranks_above_body(corpus: Storage) -> None:
    hits = search(corpus, "ha noi")
    assert ids(hits) == [1, 2] and hits[0].score > hits[1].score


def test_filters(corpus: Storage) -> None:
    assert ids(search(corpus, "khach", site="other")) == [3]
    assert ids(search(corpus, "khach", site="baotest")) == []
    assert ids(search(corpus, "ha noi", since="2024-04-01")) == [2]
    assert ids(search(corpus, "ha noi", until="2024-03-10")) == [1]
    assert ids(search(corpus, "ha noi", limit=1)) == [1]


def test_hit_fields_and_snippet(corpus: Storage) -> None:
    (hit,) = search(corpus, "duong lam")
    assert hit.site_id == "baotest" and hit.url == "https://baotest.vn/tin-2.html"
    assert hit.published_at == "2024-05-20T09:00:00+07:00" and hit.title == "Tin nông nghiệp"
    assert "[Đường Lâm]" in hit.snippet
    (hit,) = search(corpus, '"ha noi" khoi cong', markers=("<b>", "</b>"))
    assert "<b>Hà Nội khởi công</b> dự án" in hit.snippet


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "-du",
        "*",
        "title:du",
        "NEAR",
        "OR",
        "'; DROP TABLE articles; --",
        "a AND",
        '""',
        "NEAR(a b)",
        "^x",
    ],
)
def test_hostile_queries(corpus: Storage, query: str) -> None:
    try:
        hits = search(corpus, query)
    except SearchError as exc:
        assert str(exc)
    else:
        assert isinstance(hits, list)
    assert corpus.count_articles() == 3


def test_empty_query_is_a_clean_error(corpus: Storage) -> None:
    with pytest.raises(SearchError, match="nothing to search"):
        search(corpus, "  * -- ")


def test_index_follows_updates(corpus: Storage, make_article: MakeArticle) -> None:
    result = corpus.upsert_articles([make_article(2, title="Tin thời tiết", text="Trời mưa to ở Cần Thơ.")])
    assert result.updated_ids == [2]
    assert ids(search(corpus, "can tho")) == [2]
    assert ids(search(corpus, "duong lam")) == []
    assert ids(search(corpus, "nong nghiep")) == []
    corpus.upsert_articles(
        [make_article(2, title="Tin thời tiết", text="Trời mưa to ở Cần Thơ.")]
    )  # unchanged
    assert ids(search(corpus, "can tho")) == [2]


def test_search_accepts_an_engine(corpus: Storage) -> None:
    assert ids(search(corpus.engine, "sam son")) == [3]


def test_snippet_window_and_ellipses() -> None:
    text = " ".join(f"từ{i}" for i in range(100)) + " Hà Nội " + " ".join(f"chữ{i}" for i in range(100))
    snippet = make_snippet(text, [("ha", "noi")], words=10)
    assert snippet.startswith("… ") and snippet.endswith(" …") and "[Hà Nội]" in snippet
    assert len(snippet.split()) <= 13
    assert make_snippet("Không có gì.", [("xyz",)], words=10) == "Không có gì."
    assert make_snippet("", [("xyz",)]) == ""
