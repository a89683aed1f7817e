"""Golden tests: real saved pages against expected JSON written by reading each page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provnews.crawler.extraction.evaluate import FIELDS as EVALUATED
from provnews.crawler.parsers import parser_for
from provnews.crawler.sites.families import family_for_url
from provnews.crawler.sites.registry import load_sites
from provnews.crawler.text.encoding import decode_html
from tests.paths import FIXTURES, shared_file

CASES = sorted((FIXTURES / "real").rglob("*.expected.json"))
# The evaluated fields that the hand-written expectations of the real pages hold (images separately).
FIELDS = tuple(f for f in EVALUATED if f not in ("images", "date_source", "encoding_repair"))


def _load(case: Path) -> tuple[dict, object]:
    expected = json.loads(case.read_text(encoding="utf-8"))
    html = decode_html(shared_file(expected["page"]).read_bytes())
    family = family_for_url(expected["url"], load_sites())
    return expected, parser_for(family).parse(html, expected["url"])


@pytest.mark.parametrize("case", CASES, ids=[c.parent.name for c in CASES])
def test_real_page_text_matches_paragraph_by_paragraph(case: Path) -> None:
    expected, fields = _load(case)
    assert fields.paragraphs == expected["paragraphs"]
    assert fields.text == "\n\n".join(expected["paragraphs"])


@pytest.mark.parametrize("case", CASES, ids=[c.parent.name for c in CASES])
@pytest.mark.parametrize("field", FIELDS)
def test_real_page_metadata(case: Path, field: str) -> None:
    expected, fields = _load(case)
    assert getattr(fields, field) == expected[field], f"{case.parent.name}: {field}"


@pytest.mark.parametrize("case", CASES, ids=[c.parent.name for c in CASES])
def test_real_page_images_with_captions(case: Path) -> None:
    expected, fields = _load(case)
    assert [{"url": i.url, "caption": i.caption} for i in fields.images] == expected["images"]


def test_cases_exist() -> None:
    assert len(CASES) >= 2


def test_gzip_saved_body_extracts_like_the_decoded_page() -> None:
    raw = shared_file("baolaocai.vn/song-dep-tu-nhung-dieu-gian-di-post404649.raw-gzip.bin").read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    url = "https://baolaocai.vn/song-dep-tu-nhung-dieu-gian-di-post404649.html"
    post = parser_for("post")
    from_gzip = post.parse(decode_html(raw), url)
    plain = post.parse(
        decode_html(shared_file("baolaocai.vn/song-dep-tu-nhung-dieu-gian-di-post404649.html").read_bytes()),
        url,
    )
    assert from_gzip.text == plain.text
    assert from_gzip.title == plain.title
