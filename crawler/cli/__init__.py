"""The `provnews` command line: a thin layer over the crawler, parsers and storage."""

from __future__ import annotations

import click

from crawler.cli.browse import browse
from crawler.cli.canary import canary
from crawler.cli.common import DB_OPTION_HELP
from crawler.cli.crawl import crawl
from crawler.cli.db import db
from crawler.cli.demo import demo
from crawler.cli.evaluate import evaluate_command
from crawler.cli.export import export
from crawler.cli.extract import extract
from crawler.cli.health import health
from crawler.cli.import_articles import import_articles
from crawler.cli.query import search, show, stats
from crawler.cli.reextract import reextract
from crawler.cli.runs import runs
from crawler.cli.sites import sites
from crawler.cli.sites_add import add as sites_add


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", envvar="PROVNEWS_DB_URL", default=None, help=DB_OPTION_HELP)
@click.version_option(package_name="provnews")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None) -> None:
    """provnews: crawl, extract, store and query Vietnam's provincial press."""
    ctx.ensure_object(dict)
    ctx.obj["db_url"] = db_url


for command in (
    crawl,
    demo,
    extract,
    search,
    show,
    export,
    import_articles,
    stats,
    db,
    sites,
    canary,
    reextract,
    browse,
    evaluate_command,
    runs,
    health,
):
    cli.add_command(command)
sites.add_command(sites_add)


def main() -> None:
    cli(prog_name="provnews")
