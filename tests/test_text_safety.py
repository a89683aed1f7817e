"""Text that is safe to print: stored text keeps only what a reader needs (no C0/C1 controls, no bidi
controls outside right-to-left text, no script text), and every command escapes whatever is stored, so
no stored byte reaches a terminal raw."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from provnews.crawler.cli import cli
from provnews.crawler.extraction.extract import extract_page
from provnews.crawler.items import ArticleItem
from provnews.crawler.sites.registry import load_sites
from provnews.crawler.text.terminal import terminal_safe
from provnews.crawler.text.vietnamese import BIDI_CONTROLS, clean_paragraphs, clean_text
from provnews.pipelines.normalize import normalize_article
from provnews.storage.api import Storage
from tests.hostile_pages import BEL, CSI, ESC, OSC, RLO, UNSAFE, fixture_url, hostile_article, unsafe_in

RTL_LETTERS = "אבגדהשלוםمرحبا"
VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵĐ "
# any text, with the characters a hostile page would use made frequent
hostile_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from([*UNSAFE, "\n", "\t", "\u00a0", "\u200b", "\u0301", *RTL_LETTERS]),
        st.sampled_from(VIETNAMESE),
    ),
    max_size=200,
)


@settings(max_examples=400)
@given(hostile_text)
def test_cleaned_text_has_no_controls_and_no_stray_bidi(text: str) -> None:
    cleaned = clean_text(text)
    assert not [c for c in cleaned if unicodedata.category(c) == "Cc"], ascii(cleaned)
    rtl = [c for c in cleaned if c not in BIDI_CONTROLS and unicodedata.bidirectional(c) in ("R", "AL")]
    if not rtl:
        assert not [c for c in cleaned if c in BIDI_CONTROLS], ascii(cleaned)
    assert cleaned == unicodedata.normalize("NFC", cleaned)
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert clean_text(cleaned) == cleaned  # idempotent: cleaning again changes nothing


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(VIETNAMESE), max_size=80))
def test_vietnamese_text_is_kept_as_published(text: str) -> None:
    assert clean_text(text) == " ".join(unicodedata.normalize("NFC", text).split())


@settings(max_examples=200)
@given(st.lists(hostile_text, max_size=6))
def test_paragraphs_stay_paragraphs(paragraphs: list[str]) -> None:
    """Text is paragraphs joined by a blank line: the only line breaks left are those."""
    joined = "\n\n".join(clean_paragraphs(paragraphs))
    assert all(p and "\n" not in p for p in joined.split("\n\n")) or joined == ""


def test_bidi_controls_are_kept_inside_right_to_left_text() -> None:
    assert clean_text(f"{RLO}abc") == "abc"
    assert clean_text("\u061c") == "" and clean_text("a\u061cb") == "ab"  # the Arabic letter mark
    assert clean_text("\u202bשלום abc\u202c") == "\u202bשלום abc\u202c"


@settings(max_examples=300)
@given(hostile_text)
def test_terminal_safe_output_has_no_raw_control(text: str) -> None:
    shown = terminal_safe(text)
    assert not [c for c in shown if c in UNSAFE]
    assert json.loads(terminal_safe(json.dumps(text, ensure_ascii=False))) == text  # JSON stays exact


def test_a_hostile_page_is_stored_clean() -> None:
    """ESC/BEL in the same-host canonical URL, C1 and U+202E in title, text and tags, a script in <h1>."""
    fields = extract_page(hostile_article(), fixture_url(), "post", "text/html; charset=utf-8")
    site = next(s for s in load_sites() if s.id == "baogialai")
    item = normalize_article(ArticleItem(fields=fields, site_id="baogialai"), site)  # type: ignore[call-arg]
    f = item.fields
    for value in (f.title, f.text, f.canonical_url, f.url, f.sapo, f.section, *f.tags, *f.authors):
        assert unsafe_in(value or "") == [], ascii(value)
    assert "document.title" not in f.title and "hacked" not in f.title
    assert f.title.endswith("Gia Lai bàn giải pháp liên kết sản xuất cà phê bền vững")
    # same host, so kept, with the escapes percent-encoded
    assert f.canonical_url.endswith("-ben-vung%1B]0;pwned%07%1B[2J-post312456.html")
    assert "Tham dự hội thảo" in f.text and "cà phê[5m" in f.tags


MakeArticle = Callable[..., dict[str, Any]]


def test_every_command_escapes_what_is_stored(db_url: str, make_article: MakeArticle) -> None:
    """Rows stored raw (by an older version, or an import) still never reach the terminal raw."""
    raw_title = f"{CSI}31m{RLO}Tin nóng{OSC}8;;http://x{ESC}\\ hôm nay{BEL}"
    raw_url = f"https://baotest.vn/tin-1{ESC}[2J{BEL}.html"
    with Storage.open(db_url) as storage:
        storage.upsert_articles(
            [
                make_article(
                    1,
                    title=raw_title,
                    canonical_url=raw_url,
                    text=f"Nội dung {ESC}[2J tin nóng {CSI}0m{RLO}.\n\nĐoạn hai{BEL}.",
                    tags=[f"tin{RLO}", f"{ESC}[5mhot"],
                    section=f"Thời sự{CSI}",
                    authors=[f"Nguyễn{ESC}[8m Văn A"],
                )
            ]
        )
        article_id = next(storage.iter_articles())["id"]
    runner = CliRunner()
    outputs = {}
    for args in (
        ["show", str(article_id)],
        ["show", str(article_id), "--json"],
        ["search", "tin nong"],
        ["search", "tin nong", "--json"],
        ["stats"],
    ):
        result = runner.invoke(cli, ["--db", db_url, *args])
        assert result.exit_code == 0, result.output
        assert unsafe_in(result.output) == [], (args, ascii(result.output))
        outputs[" ".join(args[::2])] = result.output
    assert "\\u009b31m\\u202eTin nóng" in outputs["show"]  # shown escaped, not dropped
    shown = json.loads(outputs["show --json"])
    assert shown["title"] == raw_title and shown["tags"] == [f"tin{RLO}", f"{ESC}[5mhot"]
    hit = json.loads(outputs["search --json"].splitlines()[0])
    assert hit["title"] == raw_title


@pytest.mark.parametrize("char", [ESC, BEL, CSI, OSC, RLO])
def test_terminal_safe_escapes_each_kind_visibly(char: str) -> None:
    assert terminal_safe(f"a{char}b") == f"a\\u{ord(char):04x}b"
    assert terminal_safe("dòng 1\n\tdòng 2") == "dòng 1\n\tdòng 2"
