"""The site registry: the shipped file validates; faults name the site and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from provnews.crawler.sites.registry import RegistryError, get_site, load_sites
from tests.helpers import MINIMAL_SITE, write_registry

GOOD = MINIMAL_SITE


def test_shipped_registry_has_the_first_sites() -> None:
    sites = {s.id: s for s in load_sites()}
    assert {"baogialai", "baolaocai", "baocantho"} <= set(sites)
    assert sites["baogialai"].family == "post"
    assert sites["baolaocai"].family == "post"
    assert sites["baocantho"].family == "a-id"
    assert sites["baogialai"].is_article_url("https://baogialai.com.vn/abc-post564998.html")
    assert not sites["baogialai"].is_article_url("https://baogialai.com.vn/thoi-su/")


def test_base_url_gets_a_trailing_slash_and_a_domain(tmp_path: Path) -> None:
    (site,) = load_sites(write_registry(tmp_path, GOOD))
    assert site.base_url == "https://baoa.vn/"
    assert site.domain == "baoa.vn"
    assert site.delay == 1.0


def test_env_variable_chooses_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVNEWS_SITES_FILE", str(write_registry(tmp_path, GOOD)))
    assert [s.id for s in load_sites()] == ["baoa"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('family = "post"', 'family = "wordpress"'), "site 'baoa': key 'family'"),
        (("article_pattern = '-post\\d+\\.html$'", "article_pattern = '(unclosed'"), "key 'article_pattern'"),
        (('base_url = "https://baoa.vn"', 'base_url = "ftp://baoa.vn"'), "key 'base_url'"),
        (('name = "Báo A"', 'name = "Báo A"\ncolour = "red"'), "key 'colour'"),
        (('name = "Báo A"\n', ""), "key 'name'"),
    ],
)
def test_invalid_entries_name_site_and_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(RegistryError, match=message.replace("(", r"\(")):
        load_sites(write_registry(tmp_path, GOOD.replace(*change)))


def test_duplicate_ids_and_domains_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="duplicate id"):
        load_sites(write_registry(tmp_path, GOOD + GOOD))
    other = GOOD.replace('id = "baoa"', 'id = "baob"')
    with pytest.raises(RegistryError, match=r"domain baoa\.vn already belongs to site 'baoa'"):
        load_sites(write_registry(tmp_path, GOOD + other))


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="not valid TOML"):
        load_sites(write_registry(tmp_path, "[[site]\nid="))
    with pytest.raises(RegistryError, match="cannot read"):
        load_sites(tmp_path / "nope.toml")


def test_get_site_lists_known_ids() -> None:
    sites = load_sites()
    assert get_site("baocantho", sites).name == "Báo Cần Thơ"
    with pytest.raises(RegistryError, match=r"unknown site 'nope'.*baogialai"):
        get_site("nope", sites)


def test_every_registry_family_has_a_parser() -> None:
    from provnews.crawler.parsers import PARSERS
    from provnews.crawler.sites.registry import FAMILIES

    assert set(FAMILIES) == set(PARSERS)
    assert {s.family for s in load_sites()} <= set(PARSERS)


def test_family_guessed_from_url_shapes() -> None:
    from provnews.crawler.sites.families import family_for_url

    assert family_for_url("https://baoyenbai.com.vn/12/345/tin-moi.aspx", []) == "legacy"
    assert family_for_url("https://baobacninhtv.vn/tin-abc-postid123.bbg", []) == "one-off"
    assert family_for_url("https://example.vn/x-post1.html", []) == "post"
    assert family_for_url("https://example.vn/x-a12.html", []) == "a-id"
    assert family_for_url("https://example.vn/page", []) == "generic"
