"""`provnews browse`: the SQLite database in Datasette (the `browse` extra), read-only, with full-text
search and facets configured."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from provnews.crawler.cli.common import db_option, db_url, echo, open_storage

HIDDEN = ("articles_fts", "near_dup_keys", "alembic_version", "url_state", "crawl_runs")


def datasette_metadata(name: str) -> dict[str, Any]:
    """Datasette metadata: article search through the (folded) FTS5 index, facets by site, province and
    month, newest first; bookkeeping tables hidden."""
    tables: dict[str, Any] = {
        "articles": {
            "label_column": "title",
            "fts_table": "articles_fts",
            "fts_pk": "id",
            "searchmode": "escaped",  # user input is quoted, never FTS5 syntax
            "sort_desc": "published_at",
            "facets": ["site_id", "province", "published_month"],
            "size": 50,
        }
    }
    for table in HIDDEN:
        tables[table] = {"hidden": True}
    # The view the full-text index reads its text through: Datasette cannot hide a view, but it does
    # not list one nobody may read. SQLite still reads it for the index.
    tables["articles_fts_source"] = {"allow": False}
    return {
        "title": "provnews: Vietnam's provincial press",
        "description": "Search is accent-insensitive (ha noi finds Hà Nội); type đ as d.",
        "databases": {name: {"tables": tables}},
    }


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8001, show_default=True, help="Port to listen on."
)
@db_option
@click.pass_context
def browse(ctx: click.Context, host: str, port: int) -> None:
    """Serve the SQLite database in Datasette (pip install 'provnews[browse]') until interrupted."""
    from provnews.storage import sqlite_file

    url = db_url(ctx)
    path = sqlite_file(url)
    if path is None:
        raise click.ClickException(f"browse serves a SQLite database file, not {url}")
    try:
        from datasette.cli import cli as datasette_cli
    except ImportError as exc:
        raise click.ClickException("browse needs Datasette: pip install 'provnews[browse]'") from exc
    with open_storage(ctx):  # checks the schema: Datasette must not see an old one
        pass
    with tempfile.TemporaryDirectory(prefix="provnews-browse-") as tmp:
        metadata = Path(tmp) / "metadata.json"
        metadata.write_text(json.dumps(datasette_metadata(path.stem), ensure_ascii=False), encoding="utf-8")
        args = ["serve", str(path), "--metadata", str(metadata), "--host", host, "--port", str(port)]
        echo(f"serving {path} on http://{host}:{port}/ (Ctrl-C stops)")
        datasette_cli.main(args=args, prog_name="datasette", standalone_mode=False)
