"""Every command, option-bearing setting and registry key is documented in the README."""

from __future__ import annotations

import re

import click
import pytest

from crawler.cli import cli
from crawler.registry import Site
from tests.paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: str = "provnews") -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        paths.append(path)
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, path))
    return paths


def project_settings() -> list[str]:
    source = (REPO / "crawler" / "settings.py").read_text(encoding="utf-8")
    return sorted(set(re.findall(r"^(PROVNEWS_[A-Z_]+)\s*=", source, re.M)))


@pytest.mark.parametrize("command", command_paths(cli))
def test_command_is_documented(command: str) -> None:
    assert f"`{command}" in README, f"{command} is not in the README's Commands table"


@pytest.mark.parametrize("setting", project_settings())
def test_setting_is_documented(setting: str) -> None:
    assert f"`{setting}`" in README, f"{setting} is not in the README's Configuration table"


@pytest.mark.parametrize("key", sorted(Site.model_fields))
def test_registry_key_is_documented(key: str) -> None:
    assert re.search(rf"^\s*{key} = ", README, re.M), f"registry key {key} is not in 'Adding a site'"


def test_settings_found() -> None:
    assert "PROVNEWS_DB_URL" in project_settings()
    assert "provnews db upgrade" in command_paths(cli)


def test_readme_shows_the_make_targets() -> None:
    for target in ("make crawl", "make test", "make demo"):
        assert target in README


def command_options(path: str) -> list[str]:
    command: click.Command = cli
    for name in path.split()[1:]:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return sorted(
        o for p in command.params if isinstance(p, click.Option) for o in p.opts if o.startswith("--")
    )


# Commands whose every option the README's Commands table names (the onboarding and live-check ones).
DOCUMENTED_OPTIONS = ("provnews sites", "provnews sites add", "provnews sites check", "provnews canary")


@pytest.mark.parametrize(
    ("command", "option"), [(c, o) for c in DOCUMENTED_OPTIONS for o in command_options(c) if o != "--help"]
)
def test_option_is_documented(command: str, option: str) -> None:
    row = next((line for line in README.splitlines() if line.startswith(f"| `{command} ")), "")
    assert option in row, f"{command} {option} is not in its row of the Commands table"


def test_selector_names_are_documented() -> None:
    from crawler.site_selectors import SELECTOR_FIELDS

    section = README[README.index("## Adding a site") :]
    for name in SELECTOR_FIELDS:
        assert f"`{name}`" in section, f"selector {name} is not in 'Adding a site'"
