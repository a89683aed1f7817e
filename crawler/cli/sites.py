"""`provnews sites`: the site registry as a table or JSON; `provnews sites check` validates it offline."""

from __future__ import annotations

import json
from collections import Counter

import click

from crawler.cli.common import echo, load_registry
from crawler.cli.filters import match_name
from crawler.provinces import UNITS
from crawler.registry import STATUSES, Site, sites_file

SITES_FILE_OPTION = click.option(
    "--sites-file", envvar="PROVNEWS_SITES_FILE", help="Site registry to use instead of config/sites.toml."
)


def site_json(site: Site) -> dict[str, object]:
    return {**site.model_dump(), "domain": site.domain}


def sites_table(sites: list[Site]) -> str:
    """Aligned columns: id, name, province, family, status, verified (an archive shows its old province)."""
    rows = [("id", "name", "province", "family", "status", "verified")]
    for s in sites:
        province = f"{s.province} (← {s.province_old})" if s.province_old else s.province
        rows.append((s.id, s.name, province, s.family, s.status, "yes" if s.verified else "no"))
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


@click.group(invoke_without_command=True)
@SITES_FILE_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON array of every site with all its keys.")
@click.option("--status", type=click.Choice(STATUSES), help="Only sites with this status.")
@click.option("--province", help="Only sites serving this province (one of the 34 units).")
@click.pass_context
def sites(
    ctx: click.Context, sites_file: str | None, as_json: bool, status: str | None, province: str | None
) -> None:
    """List the site registry: id, name, province, family, status, verified."""
    ctx.ensure_object(dict)
    ctx.obj["sites_file"] = sites_file
    if ctx.invoked_subcommand is not None:
        return
    if province is not None:
        province = match_name(province, UNITS, "province", "--province")
    chosen = [
        s
        for s in load_registry(sites_file)
        if (status is None or s.status == status) and (province is None or s.province == province)
    ]
    if as_json:
        echo(json.dumps([site_json(s) for s in chosen], ensure_ascii=False, indent=2))
        return
    echo(sites_table(chosen))
    echo(f"\n{summary(chosen)}")


@sites.command()
@SITES_FILE_OPTION
@click.option(
    "--partial", is_flag=True, help="Allow a registry that does not cover all 34 units (e.g. a test one)."
)
@click.pass_context
def check(ctx: click.Context, sites_file: str | None, partial: bool) -> None:
    """Validate the registry offline: schema, regexes, families, provinces, unique ids and domains, and
    (unless --partial) an active site for each of the 34 provinces and centrally-run cities."""
    path = sites_file or ctx.obj.get("sites_file")
    registry = load_registry(path)
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
