"""`provnews canary`: the live check of the real sites, for a daily cron job."""

from __future__ import annotations

import json
from pathlib import Path

import click

from provnews.crawler.cli.common import check_site_ids, echo, load_registry
from provnews.crawler.cli.sites import SITES_FILE_OPTION


@click.command()
@click.argument("site_ids", nargs=-1, metavar="[SITE]...")
@SITES_FILE_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object per site, one per line.")
@click.option(
    "--articles", type=click.IntRange(1, 20), default=3, show_default=True, help="Newest articles checked."
)
@click.option(
    "--timeout", type=click.FloatRange(1, 300), default=20.0, show_default=True, help="Seconds per request."
)
@click.option(
    "--workers", type=click.IntRange(1, 32), default=8, show_default=True, help="Sites checked at once."
)
@click.option(
    "--save",
    "save_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save each checked article (response and extracted fields) as a case `provnews evaluate` reads.",
)
@click.pass_context
def canary(
    ctx: click.Context,
    site_ids: tuple[str, ...],
    sites_file: str | None,
    as_json: bool,
    articles: int,
    timeout: float,
    workers: int,
    save_dir: Path | None,
) -> None:
    """Check live sites (all registry sites when none are given): robots.txt, every discovery source,
    and the fields of the newest articles. Exits 1 when an active site, or a site named on the command
    line, fails; archive and unknown sites are reported but do not alert otherwise. Needs the internet."""
    from provnews.crawler.canary.probe import run_canary
    from provnews.crawler.canary.report import failing, format_report
    from provnews.crawler.settings import USER_AGENT
    from provnews.crawler.sites.registry import get_site

    registry = load_registry(sites_file)
    check_site_ids(site_ids, registry)
    chosen = [get_site(i, registry) for i in site_ids] if site_ids else registry
    reports = run_canary(
        chosen, user_agent=USER_AGENT, articles=articles, timeout=timeout, workers=workers, save_dir=save_dir
    )
    for report in reports:
        if as_json:
            echo(json.dumps(report.to_dict(), ensure_ascii=False))
        else:
            echo(format_report(report) + "\n")
    alerts = failing(reports, site_ids)
    if not as_json:
        failed = [r.site for r in reports if not r.ok]
        echo(
            f"canary: {len(reports)} site(s) checked, {len(failed)} failed"
            + (f": {', '.join(failed)}" if failed else "")
        )
        if save_dir is not None:
            saved = sum(1 for r in reports for a in r.articles if a.saved)
            echo(
                f"  {saved} article(s) saved under {save_dir} (check them with: provnews evaluate {save_dir})"
            )
        for report in alerts:
            broken = [f.field for f in report.fields if f.state == "fail" and report.articles]
            echo(
                f"  ALERT {report.site}: {report.problems[0]}"
                + (f" [fields: {', '.join(broken)}]" if broken else "")
            )
    if alerts:
        ctx.exit(1)
