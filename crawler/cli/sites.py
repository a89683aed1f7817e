"""`provnews sites`: the site registry as a table or JSON; `provnews sites check` validates it offline."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import click

from provnews.crawler.cli.common import echo, load_registry
from provnews.crawler.cli.filters import match_name
from provnews.crawler.extraction.evaluate import find_cases
from provnews.crawler.sites.families import site_for_url
from provnews.crawler.sites.provinces import UNITS
from provnews.crawler.sites.registry import STATUSES, Site, sites_file

SITES_FILE_OPTION = click.option(
    "--sites-file", envvar="PROVNEWS_SITES_FILE", help="Site registry to use instead of config/sites.toml."
)
# The evaluation cases of a checkout (an installed package has none: they are counted as 0).
CHECKOUT_FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"

FIXTURES_OPTION = click.option(
    "--fixtures",
    "fixture_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of evaluation cases (repeatable; default: tests/fixtures and $PROVNEWS_EXTRA_FIXTURES).",
)


def fixture_counts(sites: list[Site], folders: tuple[Path, ...] = ()) -> Counter[str]:
    """Evaluation cases per site id (a case belongs to the site of its URL), in the given folders or
    the repository's tests/fixtures and $PROVNEWS_EXTRA_FIXTURES."""
    if not folders:
        extra = os.environ.get("PROVNEWS_EXTRA_FIXTURES")
        folders = (CHECKOUT_FIXTURES, *([Path(extra)] if extra else []))
    counts: Counter[str] = Counter()
    for folder in folders:
        if not folder.is_dir():
            continue
        try:
            cases = find_cases(folder, folder)
        except (OSError, ValueError, KeyError) as exc:
            raise click.ClickException(f"{folder}: unreadable evaluation case: {exc}") from exc
        for case in cases:
            site = site_for_url(case.url, sites)
            if site is not None:
                counts[site.id] += 1
    return counts


def unchecked(sites: list[Site], fixtures: Counter[str]) -> list[str]:
    """Active sites never verified against a live page (no verified_on) and without a fixture."""
    return [s.id for s in sites if s.status == "active" and s.verified_on is None and not fixtures[s.id]]


def site_json(site: Site) -> dict[str, object]:
    return {**site.model_dump(), "domain": site.domain}


def sites_table(sites: list[Site], fixtures: Counter[str] | None = None) -> str:
    """Aligned columns: id, name, province, family, status, verified, verified_on (the last check
    against a live page) and fixture (evaluation cases); an archive shows its old province."""
    fixtures = fixtures if fixtures is not None else Counter()
    rows = [("id", "name", "province", "family", "status", "verified", "verified_on", "fixture")]
    for s in sites:
        province = f"{s.province} (← {s.province_old})" if s.province_old else s.province
        checked = s.verified_on.isoformat() if s.verified_on else "-"
        cases = str(fixtures[s.id]) if fixtures[s.id] else "-"
        rows.append(
            (s.id, s.name, province, s.family, s.status, "yes" if s.verified else "no", checked, cases)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def summary(sites: list[Site]) -> str:
    statuses: Counter[str] = Counter(s.status for s in sites)
    verified = sum(s.verified for s in sites)
    parts = ", ".join(f"{statuses[k]} {k}" for k in STATUSES)
    return f"{len(sites)} sites ({parts}; {verified} verified, {len(sites) - verified} unverified)"


def missing_units(sites: list[Site]) -> list[str]:
    """Units of the 34 with no active site in the registry."""
    covered = {s.province for s in sites if s.status == "active"}
    return [unit for unit in UNITS if unit not in covered]


class SitesGroup(click.Group):
    """`sites add` is imported only when it runs: it loads the parsers and the live-check client."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "add"})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "add":
            from provnews.crawler.cli.sites_add import add

            return add
        return super().get_command(ctx, cmd_name)


@click.group(cls=SitesGroup, invoke_without_command=True)
@SITES_FILE_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON array of every site with all its keys.")
@click.option("--status", type=click.Choice(STATUSES), help="Only sites with this status.")
@click.option("--province", help="Only sites serving this province (one of the 34 units).")
@FIXTURES_OPTION
@click.pass_context
def sites(
    ctx: click.Context,
    sites_file: str | None,
    as_json: bool,
    status: str | None,
    province: str | None,
    fixture_dirs: tuple[Path, ...],
) -> None:
    """List the site registry: id, name, province, family, status, verified, the day it was last
    verified against a live page, and its evaluation cases (fixtures)."""
    ctx.ensure_object(dict)
    ctx.obj["sites_file"] = sites_file
    ctx.obj["fixture_dirs"] = fixture_dirs
    if ctx.invoked_subcommand is not None:
        return
    if province is not None:
        province = match_name(province, UNITS, "province", "--province")
    registry = load_registry(sites_file)
    chosen = [
        s
        for s in registry
        if (status is None or s.status == status) and (province is None or s.province == province)
    ]
    fixtures = fixture_counts(registry, fixture_dirs)
    if as_json:
        listed = [{**site_json(s), "fixtures": fixtures[s.id]} for s in chosen]
        echo(json.dumps(listed, ensure_ascii=False, indent=2, default=str))
        return
    echo(sites_table(chosen, fixtures))
    echo(f"\n{summary(chosen)}")


@sites.command()
@SITES_FILE_OPTION
@click.option(
    "--partial", is_flag=True, help="Allow a registry that does not cover all 34 units (e.g. a test one)."
)
@click.option(
    "--strict", is_flag=True, help="Fail when an active site has neither a verified_on day nor a fixture."
)
@FIXTURES_OPTION
@click.pass_context
def check(
    ctx: click.Context, sites_file: str | None, partial: bool, strict: bool, fixture_dirs: tuple[Path, ...]
) -> None:
    """Validate the registry offline: schema, regexes, selectors, families, provinces, unique ids and
    domains, and (unless --partial) an active site for each of the 34 provinces and centrally-run
    cities; with --strict, also that every active site was verified live or has a fixture."""
    path = sites_file or ctx.obj.get("sites_file")
    registry = load_registry(path)
    if strict:
        never = unchecked(registry, fixture_counts(registry, fixture_dirs or ctx.obj.get("fixture_dirs", ())))
        if never:
            raise click.ClickException(
                f"{sites_file_label(path)}: {len(never)} active site(s) with neither a verified_on day "
                f"(set it after `provnews canary SITE` passes) nor a fixture: {', '.join(never)}"
            )
    missing = missing_units(registry)
    if missing and not partial:
        raise click.ClickException(
            f"{sites_file_label(path)}: no active site for {len(missing)} of the {len(UNITS)} units: "
            + ", ".join(missing)
        )
    echo(f"{sites_file_label(path)}: valid, {summary(registry)}")
    echo(f"units with an active site: {len(UNITS) - len(missing)}/{len(UNITS)}")


def sites_file_label(path: str | None) -> str:
    return str(sites_file(path))
