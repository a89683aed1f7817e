"""Golden tests: one page per CMS family and hard case (tests/fixtures/sites/<site>/<case>/), every field
compared exactly. The pages are synthetic, built from the documented templates (see the README there)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from provnews.crawler.extraction.evaluate import FIELDS as EVALUATED
from provnews.crawler.extraction.extract import extract_page
from provnews.crawler.parsers import PARSERS, ArticleFields
from provnews.crawler.sites.families import site_for_url
from provnews.crawler.sites.registry import load_sites
from tests.paths import FIXTURES

SITES = FIXTURES / "sites"
REGISTRY = load_sites()
CASES = sorted(p.parent for p in SITES.rglob("expected.json"))
# Every field the evaluation compares (images separately below), plus the parser bookkeeping.
FIELDS = (*(f for f in EVALUATED if f != "images"), "family", "fallback")


def _parse(case: Path) -> tuple[dict, ArticleFields]:
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    # From the bytes, as fetched: some pages are not UTF-8, one is typed in a legacy font. With the
    # registry entry's own selectors, as the crawl extracts them.
    site = site_for_url(meta["url"], REGISTRY)
    return expected, extract_page((case / "page.html").read_bytes(), meta["url"], meta["family"], site=site)


def _id(case: Path) -> str:
    return f"{case.parent.name}/{case.name}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_site_page_text_paragraph_by_paragraph(case: Path) -> None:
    expected, fields = _parse(case)
    assert fields.paragraphs == expected["paragraphs"]
    assert fields.text == "\n\n".join(expected["paragraphs"])


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_site_page_metadata(case: Path) -> None:
    expected, fields = _parse(case)
    got = {name: getattr(fields, name) for name in FIELDS}
    assert got == {name: expected[name] for name in FIELDS}


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_site_page_images_with_captions(case: Path) -> None:
    expected, fields = _parse(case)
    assert [asdict(i) for i in fields.images] == expected["images"]


def test_every_family_parser_has_a_fixture() -> None:
    families = {json.loads((c / "meta.json").read_text(encoding="utf-8"))["family"] for c in CASES}
    assert set(PARSERS) - {"generic"} <= families


def test_fixture_text_is_clean() -> None:
    """Expected values follow the text rules: NFC, no invisibles, no exotic spaces, no Ð."""
    import unicodedata

    for case in CASES:
        expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
        for paragraph in expected["paragraphs"]:
            assert unicodedata.is_normalized("NFC", paragraph), case
            assert paragraph == paragraph.strip() and "  " not in paragraph, case
            assert not set(paragraph) & {"\u00a0", "\u200b", "\ufeff", "\u00ad", "Ð", "\n"}, case
