"""`provnews sites` and `provnews sites check`, on the shipped registry and on broken ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from provnews.crawler.cli import cli
from provnews.crawler.sites.provinces import UNITS
from provnews.crawler.sites.registry import load_sites
from tests.helpers import MINIMAL_SITE

PARTIAL = MINIMAL_SITE


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_sites_check_passes_on_the_shipped_registry() -> None:
    # The test suite's run of `provnews sites check`, as CI would: the shipped registry must stay valid.
    code, out = run("sites", "check")
    assert code == 0, out
    assert "valid" in out and "34 active" in out
    assert f"units with an active site: {len(UNITS)}/{len(UNITS)}" in out


def test_sites_lists_every_entry_as_a_table() -> None:
    code, out = run("sites")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "id", "name", "province", "family", "status", "verified", "verified_on", "fixture"
    ]  # fmt: skip
    registry = load_sites()
    listed = {
        line.split()[0]
        for line in lines[1:]
        if line.strip() and not line.startswith(f"{len(registry)} sites")
    }
    assert listed == {s.id for s in registry}
    row = next(line for line in lines if line.startswith("baobinhduong "))
    assert "TP Hồ Chí Minh (← Bình Dương)" in row and "archive" in row
    row = next(line for line in lines if line.startswith("baocantho "))
    assert row.split()[-5:] == ["a-id", "active", "yes", "-", "1"]  # one real page in tests/fixtures
    assert lines[-1].startswith(f"{len(registry)} sites (34 active, ")


def test_sites_json_has_every_key_and_the_domain() -> None:
    code, out = run("sites", "--json")
    assert code == 0
    entries = {e["id"]: e for e in json.loads(out)}
    assert len(entries) == len(load_sites())
    assert entries["hanoimoi"]["province"] == "Hà Nội"
    assert entries["sggp"]["domain"] == "www.sggp.org.vn"
    assert entries["baobinhduong"]["province_old"] == "Bình Dương"
    assert entries["baobinhduong"]["years"] == "…–2025"


def test_sites_filters_by_status_and_province() -> None:
    code, out = run("sites", "--json", "--status", "archive")
    assert code == 0
    assert sorted(e["id"] for e in json.loads(out)) == [
        "baobinhduong",
        "baohaugiang",
        "dongkhoi-baovinhlong",
        "travinh-baovinhlong",
    ]
    code, out = run("sites", "--json", "--province", "Cần Thơ")
    ids = {e["id"] for e in json.loads(out)}
    assert {"baocantho", "baohaugiang", "baosoctrang"} == ids


def test_sites_check_names_site_and_key_of_a_fault(tmp_path: Path) -> None:
    bad = tmp_path / "sites.toml"
    bad.write_text(PARTIAL.replace('"Gia Lai"', '"Gia Lái"'), encoding="utf-8")
    code, out = run("sites", "check", "--sites-file", str(bad), "--partial")
    assert code == 1
    assert "site 'baoa': key 'province'" in out and "did you mean 'Gia Lai'" in out
    code, out = run("sites", "--sites-file", str(bad))
    assert code == 1 and "key 'province'" in out


def test_sites_check_requires_all_34_units_unless_partial(tmp_path: Path) -> None:
    partial = tmp_path / "sites.toml"
    partial.write_text(PARTIAL, encoding="utf-8")
    code, out = run("sites", "check", "--sites-file", str(partial))
    assert code == 1
    assert "no active site for 33 of the 34 units" in out and "TP Hồ Chí Minh" in out
    code, out = run("sites", "check", "--sites-file", str(partial), "--partial")
    assert code == 0 and "1 sites (1 active, 0 archive, 0 unknown" in out
    # the group's --sites-file applies to the subcommand too
    code, out = run("sites", "--sites-file", str(partial), "check", "--partial")
    assert code == 0 and str(partial) in out


PATTERN = "article_pattern = '-post\\d+\\.html$'"
BASE = 'base_url = "https://baoa.vn"'


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        ((PATTERN, "article_pattern = '(a+)+$'"), "article_pattern", "catastrophic backtracking"),
        ((PATTERN, "article_pattern = '^(\\w+\\s?)*$'"), "article_pattern", "catastrophic backtracking"),
        ((PATTERN, "article_pattern = '(?<=/)x\\d+'"), "article_pattern", "lookaround and backreferences"),
        ((BASE, 'base_url = "http://evil@baoa.vn/"'), "base_url", "user name or password"),
        ((BASE, 'base_url = "http://baoa.vn:secret@evil.vn/"'), "base_url", "user name or password"),
        ((BASE, 'base_url = "https://baoa .vn/"'), "base_url", "spaces or control characters"),
        ((BASE, 'base_url = "https://baoa.vn/\\u001b[2J"'), "base_url", "spaces or control characters"),
        ((BASE, 'base_url = "https://"'), "base_url", "must name a host"),
        ((BASE, BASE + '\nfeeds = ["file:///etc/passwd"]'), "feeds", "must be an http(s) URL"),
        ((BASE, BASE + '\nsitemaps = ["ftp://baoa.vn/sitemap.xml"]'), "sitemaps", "must be an http(s) URL"),
        ((BASE, BASE + '\nlistings = ["javascript:alert(1)"]'), "listings", "must be an http(s) URL"),
        ((BASE, BASE + '\nfeeds = ["//evil@baoa.vn/rss"]'), "feeds", "user name or password"),
        ((BASE, BASE + '\nsitemaps = ["sitemap.xml\\t"]'), "sitemaps", "spaces or control characters"),
    ],
)
def test_sites_check_refuses_what_could_hurt_the_crawl(
    tmp_path: Path, change: tuple[str, str], key: str, reason: str
) -> None:
    """Catastrophic regexes, userinfo, whitespace, non-http(s) sources: refused, naming site, key, reason."""
    bad = tmp_path / "sites.toml"
    bad.write_text(PARTIAL.replace(*change), encoding="utf-8")
    code, out = run("sites", "check", "--sites-file", str(bad), "--partial")
    assert code == 1, out
    assert f"site 'baoa': key '{key}'" in out and reason in out, out


def test_relative_and_absolute_http_sources_are_accepted(tmp_path: Path) -> None:
    good = tmp_path / "sites.toml"
    extra = '\nfeeds = ["rss/home.rss", "https://cdn.baoa.vn/rss.xml"]\nsitemaps = ["/sitemap.xml"]'
    good.write_text(PARTIAL.replace(BASE, BASE + extra), encoding="utf-8")
    code, out = run("sites", "check", "--sites-file", str(good), "--partial")
    assert code == 0, out


def test_sites_shows_last_verification_and_fixtures_and_strict_check_needs_one(tmp_path: Path) -> None:
    registry = tmp_path / "sites.toml"
    two = PARTIAL + PARTIAL.replace('"baoa"', '"baob"').replace("baoa.vn", "baob.vn")
    registry.write_text(two, encoding="utf-8")
    empty = tmp_path / "no-cases"
    empty.mkdir()
    code, out = run("sites", "check", "--sites-file", str(registry), "--partial", "--fixtures", str(empty))
    assert code == 0  # without --strict, never verified is fine
    code, out = run(
        "sites", "check", "--sites-file", str(registry), "--partial", "--strict", "--fixtures", str(empty)
    )
    assert code == 1 and "2 active site(s) with neither a verified_on day" in out and "baoa, baob" in out
    # baoa verified against a live page on a given day; baob gets a fixture (a saved case of its URL)
    registry.write_text(
        two.replace('id = "baoa"', 'id = "baoa"\nverified_on = 2026-12-01', 1), encoding="utf-8"
    )
    case = tmp_path / "cases" / "baob" / "one"
    case.mkdir(parents=True)
    (case / "page.html").write_text("<html></html>", encoding="utf-8")
    (case / "meta.json").write_text(
        '{"url": "https://baob.vn/a-post1.html", "family": "post"}', encoding="utf-8"
    )
    (case / "expected.json").write_text("{}", encoding="utf-8")
    cases = str(tmp_path / "cases")
    code, out = run(
        "sites", "check", "--sites-file", str(registry), "--partial", "--strict", "--fixtures", cases
    )
    assert code == 0, out
    code, out = run("sites", "--sites-file", str(registry), "--fixtures", cases)
    rows = {line.split()[0]: line.split()[-2:] for line in out.splitlines()[1:] if line.startswith("bao")}
    assert rows == {"baoa": ["2026-12-01", "-"], "baob": ["-", "1"]}
    code, out = run("sites", "--sites-file", str(registry), "--fixtures", cases, "--json")
    entries = {e["id"]: e for e in json.loads(out)}
    assert entries["baoa"]["verified_on"] == "2026-12-01" and entries["baob"]["fixtures"] == 1
