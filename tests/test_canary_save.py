"""`provnews canary --save DIR` turns a canary run into evaluation cases: the replica's articles saved,
then `provnews evaluate DIR` scores them (100% on the unedited JSON; an edited field is reported)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from provnews.crawler.canary.save import case_name
from provnews.crawler.cli import cli
from provnews.crawler.extraction.evaluate import find_cases
from provnews.crawler.replica import ReplicaServer

pytestmark = pytest.mark.usefixtures("loopback_clients")  # the test servers are on 127.0.0.1


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ReplicaServer, Path, Path]]:
    tmp = tmp_path_factory.mktemp("canary-save")
    with ReplicaServer(["baogialai", "baocantho"], articles_per_site=24, seed=3) as server:
        registry = tmp / "sites.toml"
        registry.write_text(server.sites_toml(), encoding="utf-8")
        cases = tmp / "cases"
        result = CliRunner().invoke(cli, ["canary", "--sites-file", str(registry), "--save", str(cases)])
        assert result.exit_code == 0, result.output
        assert f"6 article(s) saved under {cases}" in result.output
        yield server, registry, cases


def evaluate(registry: Path, cases: Path) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["evaluate", str(cases), "--sites-file", str(registry), "--json"])
    return result.exit_code, json.loads(result.output)


def test_saved_case_holds_the_response_and_the_extracted_fields(
    saved: tuple[ReplicaServer, Path, Path],
) -> None:
    server, _, cases = saved
    found = find_cases(cases, cases)
    assert len(found) == 6 and {c.name.split("/")[0] for c in found} == {"baogialai", "baocantho"}
    truth = server.ground_truth()
    for case in found:
        folder = case.page.parent
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        assert meta["status"] == 200 and meta["headers"]["Content-Type"].startswith("text/html")
        assert meta["family"] in ("post", "a-id") and meta["site"] == case.name.split("/")[0]
        body = gzip.decompress(case.page.read_bytes())  # the page as served, gzip-compressed
        assert body.startswith(b"<!DOCTYPE html") or b"<html" in body[:500]
        expected = truth[case.url]
        assert case.expected["title"] == expected["title"]
        assert "\n\n".join(case.expected["paragraphs"]) == expected["text"]
        assert case.expected["published_at"] == expected["published_at"]


def test_evaluate_scores_the_unedited_cases_perfectly(saved: tuple[ReplicaServer, Path, Path]) -> None:
    _, registry, cases = saved
    code, report = evaluate(registry, cases)
    assert code == 0
    assert report["summary"]["cases"] == 6 and report["summary"]["errors"] == 0
    assert report["summary"]["field_accuracy"] == 1.0 and report["summary"]["text_f1"] == 1.0


def test_an_edited_field_is_reported(saved: tuple[ReplicaServer, Path, Path], tmp_path: Path) -> None:
    _, registry, cases = saved
    edited = tmp_path / "cases"
    for case in find_cases(cases, cases):
        target = edited / case.name
        target.mkdir(parents=True)
        for file in case.page.parent.iterdir():
            (target / file.name).write_bytes(file.read_bytes())
    one = sorted(edited.rglob("expected.json"))[0]
    expected = json.loads(one.read_text(encoding="utf-8"))
    expected["byline"] = "a person's correction"
    one.write_text(json.dumps(expected, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["evaluate", str(edited), "--sites-file", str(registry)])
    name = str(one.parent.relative_to(edited))
    assert f"{name}: fields 13/14" in result.output and "wrong: byline" in result.output
    _, report = evaluate(registry, edited)
    assert report["field_accuracy"]["byline"] == pytest.approx(5 / 6)
    assert report["field_accuracy"]["title"] == 1.0


@given(st.text(max_size=300))
def test_any_url_gives_a_safe_case_folder_name(path: str) -> None:
    name = case_name("http://127.0.0.1:8000/" + path)
    assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}", name)
    assert not name.endswith(".")
