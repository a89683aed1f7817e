"""`provnews crawl`: the scheduled job."""

from __future__ import annotations

import shlex
import sys
from datetime import datetime

import click

from crawler.cli.common import check_site_ids, db_option, db_url, load_registry, open_storage

LOCKED_EXIT = 3  # every site asked for is locked by another run
_BOOLEANS = ("0", "1", "true", "false", "True", "False")


def parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    """NAME=VALUE pairs; a provnews setting's value must have the type of its default (checked here, so
    that a typo is a usage error before Scrapy starts, not a traceback in a pipeline)."""
    try:
        from crawler import settings as defaults
    except ValueError as exc:  # the settings module converts PROVNEWS_* environment variables
        raise click.ClickException(f"a PROVNEWS_* environment variable is not valid: {exc}") from exc
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="'-s'")
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

    Exit status: 0 when the run finished, 1 when it failed or was interrupted, 3 when every site
    asked for is being crawled by another run (its lock is named)."""
    if until and not since:
        raise click.UsageError("--until needs --since")
    if since and until and until < since:
        raise click.UsageError("--until is before --since")
    parsed_settings = parse_settings(settings)
    registry = load_registry(sites_file)
    check_site_ids(sites, registry)
    from crawler.runner import run_crawl
    from crawler.spiders.news import select_sites

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
    if stats.get("finish_reason") == "locked":
        holders = "; ".join(f"{site} by {holder}" for site, holder in held.items())
        click.echo(f"provnews crawl: not started: every site asked for is being crawled: {holders}", err=True)
        ctx.exit(LOCKED_EXIT)
    click.echo(crawl_summary(stats, [s.id for s in chosen if s.id not in held]))
    if stats.get("finish_reason") not in ("finished", "closespider_itemcount"):
        ctx.exit(1)


def crawl_summary(stats: dict[str, object], site_ids: list[str]) -> str:
    def get(key: str) -> int:
        value = stats.get(key, 0)
        return value if isinstance(value, int) else 0

    dropped = {k.rsplit("/", 1)[-1]: v for k, v in stats.items() if k.startswith("provnews/dropped/")}
    lines = [
        f"crawled {len(site_ids)} site(s): {', '.join(site_ids)}",
        f"  run id:            {stats.get('provnews/run_id', '-')}",
        f"  pages fetched:     {get('downloader/response_count')}",
        f"  articles new:      {get('provnews/store/new')}",
        f"  articles updated:  {get('provnews/store/updated')}",
        f"  already stored:    {get('provnews/discovery/skipped_stored')} (not fetched again)",
        f"  resumed:           {get('provnews/discovery/articles_pending')} (left by earlier runs)",
        f"  unchanged sources: {get('provnews/conditional/not_modified')} (HTTP 304)",
        f"  robots.txt denied: {get('robotstxt/forbidden')}",
        f"  dropped:           {dropped or 0}",
        f"  finish reason:     {stats.get('finish_reason')}",
    ]
    return "\n".join(lines)
