"""`provnews health`: is every site still being crawled and extracted well? Non-zero exit when not."""

from __future__ import annotations

import json

import click

from provnews.crawler.cli.common import check_site_ids, db_option, echo, open_storage

NEEDS_ATTENTION_EXIT = 1


@click.command()
@click.argument("sites", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.option(
    "--silent-days",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="A site with no new article, or no successful run, for longer needs attention.",
)
@click.option(
    "--weeks", default=4, show_default=True, type=click.IntRange(min=1), help="Weeks looked back on."
)
@click.option("--sites-file", envvar="PROVNEWS_SITES_FILE", help="Registry whose active sites are checked.")
@db_option
@click.pass_context
def health(
    ctx: click.Context,
    sites: tuple[str, ...],
    as_json: bool,
    silent_days: int,
    weeks: int,
    sites_file: str | None,
) -> None:
    """Per site (SITES, or every active site): last successful run, new articles per day, silence,
    extraction fallback and fetch failure rates. Exits with status 1 when a site needs attention, so
    that a cron job can alert."""
    from provnews.crawler.sites.registry import RegistryError, load_sites

    try:
        registry = load_sites(sites_file)
    except (RegistryError, OSError):
        registry = []  # no readable registry: the active sites known to the database
    wanted = list(sites) or [s.id for s in registry if s.status == "active"]
    with open_storage(ctx) as storage:
        # a typo must not pass for a site that was never crawled
        check_site_ids(sites, registry, storage.site_families())
        report = storage.site_health(wanted or None, days=7 * weeks, silent_days=silent_days)
    attention = [r for r in report if r["problems"]]
    if as_json:
        echo(
            json.dumps({"ok": not attention, "silent_days": silent_days, "sites": report}, ensure_ascii=False)
        )
    else:
        echo(render(report, weeks))
    if attention:
        ctx.exit(NEEDS_ATTENTION_EXIT)


def render(report: list[dict[str, object]], weeks: int) -> str:
    if not report:
        return "no sites to check"
    lines = [
        f"{'site':<16} {'articles':>8} {'last ok run (+07:00)':<22} {'new 7d':>6} "
        f"{'new per day, oldest first':<{7 * weeks}}  {'fallb':>5} {'fail':>5}  status"
    ]
    for r in report:
        per_day = list((r["new_per_day"] or {}).values())  # type: ignore[attr-defined]
        last_run = str(r["last_successful_run_at"] or "never")[:16].replace("T", " ")
        problems = r["problems"]
        status = "OK" if not problems else "ATTENTION: " + "; ".join(problems)  # type: ignore[arg-type]
        lines.append(
            f"{r['site']:<16} {r['articles']:>8} {last_run:<22} {r['new_last_7_days']:>6} "
            f"{sparkline(per_day):<{7 * weeks}}  {r['fallback_rate']:>5.0%} {r['failure_rate']:>5.0%}  "
            f"{status}"
        )
    bad = sum(1 for r in report if r["problems"])
    lines.append(
        f"{len(report)} site(s), {bad} need(s) attention" if bad else f"{len(report)} site(s), all OK"
    )
    return "\n".join(lines)


def sparkline(counts: list[int]) -> str:
    """One character per day: a space for none, then taller blocks for more articles."""
    bars = " ▁▂▃▄▅▆▇█"
    top = max(counts, default=0)
    if top == 0:
        return "·" * len(counts)
    return "".join("·" if n == 0 else bars[max(1, round(n / top * 8))] for n in counts)
