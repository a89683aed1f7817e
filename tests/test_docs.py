"""Every command, option-bearing setting and registry key is documented in the README."""

from __future__ import annotations

import re

import click
import pytest

from provnews.crawler.cli import cli
from provnews.crawler.sites.registry import Site
from provnews.storage import bounds
from tests.paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: str = "provnews") -> list[str]:
    paths = []
    ctx = click.Context(group)
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        assert command is not None, name
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


def command_row(command: str) -> str:
    """The README's Commands table row of `provnews COMMAND`."""
    return next(line for line in README.splitlines() if line.startswith(f"| `provnews {command} "))


def top_commands() -> dict[str, click.Command]:
    ctx = click.Context(cli)
    commands = {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}
    return {name: command for name, command in commands.items() if command is not None}


SHARD_COMMANDS = sorted(n for n, c in top_commands().items() if any(p.name == "shard" for p in c.params))


@pytest.mark.parametrize("command", SHARD_COMMANDS)
def test_shard_option_is_documented(command: str) -> None:
    assert "[--shard I/N]" in command_row(command), command


def test_shard_commands_found() -> None:
    assert SHARD_COMMANDS == ["export", "import", "reextract"]


def test_schedule_options_are_documented() -> None:
    row = command_row("schedule")
    for param in top_commands()["schedule"].params:
        for option in getattr(param, "opts", []):
            if option.startswith("-") and option not in ("--set", "--db"):  # -s/--set: shown as -s
                assert option in row, option


def test_settings_found() -> None:
    assert "PROVNEWS_DB_URL" in project_settings()
    assert "provnews db upgrade" in command_paths(cli)
    assert len(command_paths(cli)) >= 20  # every command of the lazily loaded group is walked


def test_readme_shows_the_make_targets() -> None:
    for target in ("make crawl", "make test", "make demo"):
        assert target in README


def _bound_rows() -> dict[str, str]:
    """field -> bound column of the README's "Field bounds" table."""
    table = README.split("### Field bounds", 1)[1].split("\n\n")[2]
    rows = {}
    for line in table.splitlines()[2:]:
        names, bound = line.split("|")[1:3]
        for name in re.findall(r"`(\w+)`", names):
            rows[name] = bound
    return rows


def test_field_bounds_are_documented_as_enforced() -> None:
    rows = _bound_rows()
    numbers = {
        name: [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", b)] for name, b in rows.items()
    }
    for name, limit in bounds.STRING_BOUNDS.items():
        assert limit in numbers[name], (name, limit, rows.get(name))
    for name, (items, chars) in bounds.LIST_BOUNDS.items():
        assert numbers[name][:2] == [items, chars], name
    assert numbers["images"][:3] == [bounds.IMAGES, bounds.URL_BYTES, bounds.IMAGE_CAPTION_CHARS]
    assert numbers["url"] == numbers["canonical_url"] == [bounds.URL_BYTES, 8]
    assert numbers["text"] == [bounds.TEXT_CHARS]


def test_readme_has_one_exit_status_table() -> None:
    assert README.count("### Exit statuses") == 1
    section = README.split("### Exit statuses", 1)[1].split("\n## ", 1)[0]
    statuses = re.findall(r"^\| (\d) \|", section, re.M)
    assert sorted(set(statuses)) == ["0", "1", "2", "3", "4", "5"]
    for words in ("no database at", "unknown site or province", "--since` after `--until`", "`extract`"):
        assert words in section, words


def test_readme_names_the_test_prerequisites() -> None:
    for words in ("initdb", "systemd-analyze", "../shared/fixtures/real", "PROVNEWS_REQUIRE_SHARED=1"):
        assert words in README, words
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "export PROVNEWS_REQUIRE_SHARED=1 PROVNEWS_REQUIRE_SERVICES=1" in ci


def command_options(path: str) -> list[str]:
    command: click.Command = cli
    for name in path.split()[1:]:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)  # the CLI imports commands lazily
        assert found is not None, name
        command = found
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
    from provnews.crawler.sites.selectors import SELECTOR_FIELDS

    section = README[README.index("## Adding a site") :]
    for name in SELECTOR_FIELDS:
        assert f"`{name}`" in section, f"selector {name} is not in 'Adding a site'"


def test_deployment_page_covers_the_fleet() -> None:
    """docs/deployment.md: the settings that matter, adding a machine, watching the fleet, capacity."""
    page = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    for setting in (
        "PROVNEWS_SITES_PER_WORKER",
        "PROVNEWS_LOCK_HEARTBEAT",
        "PROVNEWS_LOCK_STALE",
        "PROVNEWS_SITE_MIN_INTERVAL",
    ):
        assert f"`{setting}`" in page and f"`{setting}`" in README, setting
    for command in ("provnews workers", "provnews runs", "provnews health", "provnews db upgrade"):
        assert command in page, command
    for heading in ("## Setting it up", "## Watching the fleet", "## Capacity estimate", "Adding a machine"):
        assert heading in page, heading
    for scale in ("34 sites", "500 sites"):
        assert scale in page
    assert "docs/deployment.md" in README
