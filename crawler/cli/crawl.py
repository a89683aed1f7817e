"""`provnews crawl`: the scheduled job."""

from __future__ import annotations

import shlex
import sys
from datetime import datetime
from typing import Any

import click

from provnews.crawler.cli.common import check_site_ids, db_option, db_url, echo, load_registry, open_storage

# Exit statuses, for cron and systemd (README, docs/scheduling).
EXIT_STATUS = {"finished": 0, "failed": 1, "partial": 4, "interrupted": 5}
LOCKED_EXIT = 3  # nothing to claim: every site asked for is held by another run, or just crawled
_BOOLEANS = ("0", "1", "true", "false", "True", "False")


def parse_settings(pairs: tuple[str, ...], option: str = "-s") -> dict[str, str]:
    """NAME=VALUE pairs; a provnews setting's value must have the type of its default (checked here, so
    that a typo is a usage error before Scrapy starts, not a traceback in a pipeline)."""
    try:
        from provnews.crawler import settings as defaults
    except ValueError as exc:  # the settings module converts PROVNEWS_* environment variables
        raise click.ClickException(f"a PROVNEWS_* environment variable is not valid: {exc}") from exc
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint=f"'{option}'")
        if name.startswith("PROVNEWS_"):
            check_setting(name, value, getattr(defaults, name, None))
        out[name] = value
    return out


def check_setting(name: str, value: str, default: object) -> None:
    if default is None:
        raise click.BadParameter(f"unknown provnews setting {name}", param_hint="'-s'")
    if isinstance(default, bool):
        valid = value in _BOOLEANS
        kind = "0 or 1"
    else:
        kind = {int: "an integer", float: "a number"}.get(type(default), "")
        try:
            valid = not kind or (int if isinstance(default, int) else float)(value) is not None
        except ValueError:
            valid = False
    if not valid:
        raise click.BadParameter(f"{name} must be {kind}, got {value!r}", param_hint="'-s'")


@click.command()
@click.argument("sites", nargs=-1)
@click.option(
    "--sites-file", envvar="PROVNEWS_SITES_FILE", help="Site registry to use instead of config/sites.toml."
)
@click.option("--max-articles", type=click.IntRange(min=1), help="Fetch at most N new articles per site.")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Backfill: articles of this day onwards, from the sites' (monthly) sitemaps.",
)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Backfill: up to this day (with --since).")
@click.option(
    "-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting, as scrapy -s."
)
@db_option
@click.pass_context
def crawl(
    ctx: click.Context,
    sites: tuple[str, ...],
    sites_file: str | None,
    max_articles: int | None,
    since: datetime | None,
    until: datetime | None,
    settings: tuple[str, ...],
) -> None:
    """Crawl SITES (ids from the registry; all active sites when none are given) into the database.

    Exit status: 0 when the run finished (every site ok), 1 when it failed (no site ok, or disk full),
    4 when it was partial (some sites failed), 5 when it was interrupted (SIGTERM, Ctrl-C), 3 when
    there is nothing to claim: every site asked for is being crawled by another run (named), or was
    completed within PROVNEWS_SITE_MIN_INTERVAL.

    Several crawl processes (on one machine or many, one PostgreSQL) divide the sites between them:
    each claims PROVNEWS_SITES_PER_WORKER sites at a time and the next ones as it finishes them."""
    if until and not since:
        raise click.UsageError("--until needs --since")
    if since and until and until < since:
        raise click.UsageError("--until is before --since")
    parsed_settings = parse_settings(settings)
    registry = load_registry(sites_file)
    check_site_ids(sites, registry)
    from provnews.crawler.runs.runner import run_crawl
    from provnews.crawler.spiders.news import select_sites

    chosen = select_sites(registry, ",".join(sites) or None)
    with open_storage(ctx, create=True):  # creates or checks the schema, and that it can be written
        pass
    overrides: dict[str, object] = {
        "PROVNEWS_DB_URL": db_url(ctx),
        "PROVNEWS_RUN_COMMAND": shlex.join(["provnews", *sys.argv[1:]]),
        "LOG_LEVEL": "WARNING",
    }
    if sites_file:
        overrides["PROVNEWS_SITES_FILE"] = sites_file
    overrides.update(parsed_settings)
    stats = run_crawl(
        [s.id for s in chosen],
        sites_file=sites_file,
        max_articles=max_articles,
        since=since.date().isoformat() if since else None,
        until=until.date().isoformat() if until else None,
        settings=overrides,
    )
    held = {k.rsplit("/", 1)[-1]: v for k, v in stats.items() if k.startswith("provnews/lock/held_by/")}
    done = {k.rsplit("/", 1)[-1]: v for k, v in stats.items() if k.startswith("provnews/lock/done_at/")}
    if stats.get("finish_reason") == "locked":
        reasons = [f"{site} is being crawled by {holder}" for site, holder in held.items()]
        reasons += [f"{site} was crawled at {at}" for site, at in done.items()]
        echo(f"provnews crawl: not started, nothing to claim: {'; '.join(reasons)}", err=True)
        ctx.exit(LOCKED_EXIT)
    summary = recorded_summary(db_url(ctx), stats, [s.id for s in chosen if s.id not in held])
    site_ids = list(summary.get("sites") or {})  # those this worker claimed and crawled
    echo(crawl_summary(summary, site_ids, stats.get("provnews/run_id")))
    ctx.exit(EXIT_STATUS.get(str(summary.get("outcome")), 1))


def recorded_summary(url: str, stats: dict[str, Any], site_ids: list[str]) -> dict[str, Any]:
    """The run's counters as its run row keeps them (what `provnews runs` shows), or, when no row was
    written (run recording off), the same summary computed from the stats."""
    from provnews.crawler.extensions.run_recorder import run_summary
    from provnews.storage import Storage

    run_id = stats.get("provnews/run_id")
    if run_id is not None:
        with Storage.open(url) as storage:
            run = storage.get_run(int(run_id))
        if run is not None and run.get("stats"):
            return {**run["stats"], "outcome": run["outcome"]}
    return run_summary(stats, site_ids)


def crawl_summary(s: dict[str, Any], site_ids: list[str], run_id: object = None) -> str:
    from provnews.crawler.cli.runs import balance_lines, outcome_lines, robots_line

    lines = [
        f"crawled {len(site_ids)} site(s): {', '.join(site_ids)}",
        f"  run id:            {run_id if run_id is not None else '-'}",
        f"  outcome:           {s.get('outcome')}" + (f" ({s['failure']})" if s.get("failure") else ""),
        f"  pages fetched:     {s.get('pages_fetched', 0)}",
        f"  articles new:      {s.get('articles_new', 0)}",
        f"  articles updated:  {s.get('articles_updated', 0)}",
        f"  already stored:    {s.get('already_stored', 0)} (not fetched again)",
        f"  resumed:           {s.get('pending_resumed', 0)} (left by earlier runs)",
        f"  unchanged sources: {s.get('not_modified', 0)} (HTTP 304)",
        f"  robots.txt:        {robots_line(s)}",
        *outcome_lines(s, 19),
        f"  finish reason:     {s.get('finish_reason')}",
        *balance_lines(s),
    ]
    limits = s.get("discovery_limits")
    if limits:  # discovery stopped short somewhere: say where (see PROVNEWS_DISCOVERY_* settings)
        lines.insert(-1, f"  discovery limits:  {limits}")
    return "\n".join(lines)
