"""`provnews evaluate`: scoring logic, floors, and the CI gate on the project's own fixtures."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from provnews.crawler.cli import cli
from provnews.crawler.extraction.evaluate import below_floors, find_cases, prf, score_case, shingles
from tests.paths import FIXTURES, REAL_PAGES, REPO, require_real_pages

FLOORS = FIXTURES / "evaluate-floors.toml"
GIALAI = FIXTURES / "sites" / "baogialai" / "post-glo-figcaption"


def test_shingles_are_four_lowercased_words() -> None:
    assert shingles("Sáng 7-9, tại TP. Pleiku") == ["sáng 7 9 tại", "7 9 tại tp", "9 tại tp pleiku"]
    assert shingles("Hai từ") == ["hai từ"]
    assert shingles("") == []


def test_prf_counts_repeats_and_agrees_on_empty() -> None:
    result = prf(["a", "a", "b"], ["a", "c"])
    assert (result.precision, result.recall) == (1 / 3, 1 / 2)
    assert prf([], []).f1 == 1.0
    assert prf(["a"], []).f1 == 0.0


def test_score_case_marks_wrong_fields_and_partial_text() -> None:
    expected = {"title": "Tít", "authors": ["Lê Ánh"], "paragraphs": ["Một hai ba bốn năm.", "LÊ ÁNH"]}
    got = {"title": "Tít khác", "authors": ["Lê Ánh"], "text": "Một hai ba bốn năm.\n\nTin liên quan"}
    result = score_case("x", expected, got)
    assert result.fields == {"title": False, "authors": True}
    assert (result.paragraphs.precision, result.paragraphs.recall) == (0.5, 0.5)
    assert 0 < result.shingles.f1 < 1


def test_failed_extraction_scores_zero() -> None:
    result = score_case("x", {"title": "T", "paragraphs": ["a b c d"]}, None, "not an article")
    assert result.fields == {"title": False} and result.shingles.f1 == 0.0 and result.error


def test_below_floors_names_the_metric() -> None:
    assert below_floors({"text_f1": 0.9}, {"text_f1": 0.95}) == ["text_f1 0.9000 < floor 0.9500"]
    assert below_floors({"text_f1": 0.95}, {"text_f1": 0.95}) == []
    assert below_floors({}, {"nope": 1.0}) == ["unknown floor 'nope'"]


def test_find_cases_reads_both_layouts() -> None:
    require_real_pages()
    cases = find_cases(FIXTURES, REAL_PAGES)
    names = {c.name for c in cases}
    assert "sites/baogialai/post-glo-figcaption" in names
    assert "real/baolaocai.vn/song-dep-tu-nhung-dieu-gian-di-post404649" in names
    real = next(c for c in cases if c.name.startswith("real/baocantho"))
    assert real.page.exists() and real.family is None
    site = next(c for c in cases if c.name.startswith("sites/baogialai"))
    assert site.page == GIALAI / "page.html" and site.family == "post"


def test_evaluate_passes_the_ci_floors_on_the_project_fixtures() -> None:
    require_real_pages()
    result = CliRunner().invoke(
        cli, ["evaluate", str(FIXTURES), "--pages-root", str(REAL_PAGES), "--floors", str(FLOORS)]
    )
    assert result.exit_code == 0, result.output
    assert "field accuracy:" in result.output
    assert "sites/baoyenbai/legacy-tcvn3: fields 14/14" in result.output
    assert "real/baocantho.com.vn/a196670: fields 12/12" in result.output


def test_evaluate_fails_below_a_floor(tmp_path: Path) -> None:
    case = tmp_path / "baogialai" / "worse"
    shutil.copytree(GIALAI, case)
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    expected["title"] = "Một tiêu đề khác"
    expected["paragraphs"].append("Một đoạn văn mà trình trích xuất không tìm thấy trong trang.")
    (case / "expected.json").write_text(json.dumps(expected, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["evaluate", str(tmp_path), "--min-field-accuracy", "1", "--min-text-f1", "0.5", "--json"]
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["field_accuracy"]["title"] == 0.0
    assert 0.5 < report["summary"]["text_f1"] < 1.0
    assert "below floor: field_accuracy" in result.stderr
    assert "text_f1" not in result.stderr  # that floor was met


def test_evaluate_command_runs_as_installed(tmp_path: Path) -> None:
    """The CI gate exactly as CI runs it: the installed console script, in a fresh process."""
    require_real_pages()
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "provnews"), "evaluate", "tests/fixtures", "--floors", str(FLOORS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "PROVNEWS_SHARED_DIR": str(REAL_PAGES.parent.parent),
            "HOME": str(tmp_path),
        },
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"^  text_f1 +1\.0000$", done.stdout, re.M), done.stdout
