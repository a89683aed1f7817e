"""The `provnews` command line: a thin layer over the crawler, parsers and storage.

Each command lives in its own module, imported only when that command runs (or its --help is asked
for): `provnews --help` and the light commands do not pay for Scrapy, trafilatura and SQLAlchemy."""

from __future__ import annotations

import importlib
from typing import Any

import click

from provnews.crawler.cli.common import DB_OPTION_HELP, expected_failures, remember_db_url

# name -> (module:attribute, the line `provnews --help` shows for it)
COMMANDS: dict[str, tuple[str, str]] = {
    "crawl": ("crawl:crawl", "Crawl sites into the database (the scheduled job)."),
    "demo": ("demo:demo", "Crawl a local replica of provincial sites (127.0.0.1) and search it."),
    "extract": ("extract:extract", "Extract saved article pages to JSON lines."),
    "search": ("query:search", "Full-text search, accent-insensitive, ranked, with snippets."),
    "show": ("query:show", "Show one stored article by its id or URL."),
    "export": ("export:export", "Export stored articles (jsonl, csv, parquet, corpus, warc)."),
    "import": ("import_articles:import_articles", "Store the articles of JSON Lines files."),
    "stats": ("query:stats", "Articles per site and month, and the last crawl runs."),
    "db": ("db:db", "Database schema commands (Alembic migrations)."),
    "sites": ("sites:sites", "List or check the site registry."),
    "canary": ("canary:canary", "Check the live sites (needs the internet)."),
    "reextract": ("reextract:reextract", "Re-run the parsers on the stored pages."),
    "browse": ("browse:browse", "Serve the SQLite database in Datasette."),
    "evaluate": ("evaluate:evaluate_command", "Score extraction on a folder of cases."),
    "runs": ("runs:runs", "The last crawl runs, or one in full."),
    "health": ("health:health", "Per-site health; exits 1 when a site needs attention."),
    "schedule": ("schedule:schedule", "Send crawl jobs to Scrapyd nodes, the sites spread over them."),
    "workers": ("workers:workers", "Which crawl worker holds which site, and its heartbeat."),
}


class LazyGroup(click.Group):
    """Commands imported on first use; expected failures become one `Error: …` line (exit 1)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(f"provnews.crawler.cli.{module}"), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, line) for name, (_, line) in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> Any:
        with expected_failures():
            return super().invoke(ctx)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar="PROVNEWS_DB_URL",
    metavar="URL",
    help=DB_OPTION_HELP + " Also accepted after the command.",
    callback=remember_db_url,
    expose_value=False,
)
@click.version_option(package_name="provnews")
def cli() -> None:
    """provnews: crawl, extract, store and query Vietnam's provincial press."""


def main() -> None:
    cli(prog_name="provnews")
