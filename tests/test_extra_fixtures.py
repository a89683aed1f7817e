"""Saved pages that are not in the repository (`provnews canary --save DIR`, corrected by hand) as a
regression suite: set PROVNEWS_EXTRA_FIXTURES=DIR and every case there is extracted and compared field
by field with its expected JSON. Skipped, with the reason, when the variable is not set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provnews.crawler.extraction.evaluate import FIELDS, Case, find_cases, score_case
from provnews.crawler.extraction.extract import extract_page
from provnews.crawler.sites.families import family_for_url, site_for_url
from provnews.crawler.sites.registry import load_sites

pytestmark = pytest.mark.usefixtures("loopback_clients")  # the test servers are on 127.0.0.1

ENV = "PROVNEWS_EXTRA_FIXTURES"


def extra_cases() -> list[Case]:
    folder = os.environ.get(ENV)
    if not folder:
        return []
    root = Path(folder)
    if not root.is_dir():
        raise pytest.UsageError(f"{ENV}={folder} is not a folder")
    return find_cases(root, root)


CASES = extra_cases()


def check_case(case: Case) -> None:
    """Extract the case's page as the crawl would and compare every expected field and paragraph."""
    sites = load_sites()  # PROVNEWS_SITES_FILE or config/sites.toml: the selectors in force
    family = case.family or family_for_url(case.url, sites)
    site = site_for_url(case.url, sites)
    fields = extract_page(
        case.page.read_bytes(),
        case.url,
        family,
        case.content_type,
        site if site and site.family == family else None,
    )
    result = score_case(case.name, case.expected, fields.to_dict())
    wrong = {name: getattr(fields, name) for name, ok in result.fields.items() if not ok}
    assert not wrong, {name: (value, case.expected[name]) for name, value in wrong.items()}
    assert fields.paragraphs == case.expected.get("paragraphs", [])


@pytest.mark.skipif(not CASES, reason=f"{ENV} is not set (or holds no cases): no saved pages to check")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_saved_page(case: Case) -> None:
    check_case(case)


def test_check_case_reads_canary_output(tmp_path: Path) -> None:
    """The check above, on a case in the layout canary writes (page.html.gz): passes as saved, fails
    once a field is edited, so the suite over PROVNEWS_EXTRA_FIXTURES is not vacuous."""
    import gzip
    import json

    source = Path(__file__).parent / "fixtures" / "sites" / "baogialai" / "post-glo-figcaption"
    case_dir = tmp_path / "baogialai" / "one"
    case_dir.mkdir(parents=True)
    (case_dir / "page.html.gz").write_bytes(gzip.compress((source / "page.html").read_bytes()))
    (case_dir / "meta.json").write_text((source / "meta.json").read_text(encoding="utf-8"), encoding="utf-8")
    expected = json.loads((source / "expected.json").read_text(encoding="utf-8"))
    (case_dir / "expected.json").write_text(json.dumps(expected), encoding="utf-8")
    [case] = find_cases(tmp_path, tmp_path)
    check_case(case)
    assert set(FIELDS) <= set(case.expected)
    expected["title"] = "Not the title"
    (case_dir / "expected.json").write_text(json.dumps(expected), encoding="utf-8")
    [case] = find_cases(tmp_path, tmp_path)
    with pytest.raises(AssertionError, match="Not the title"):
        check_case(case)
