"""`provnews import`: store articles from JSON Lines files (e.g. to move a corpus between databases)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from provnews.crawler.cli.common import db_option, echo, load_registry, open_storage, shard_option

if TYPE_CHECKING:
    from provnews.storage import RowSource, Shard


@click.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--batch", type=click.IntRange(1, 10_000), default=500, show_default=True, help="Articles per batch."
)
@click.option(
    "--sites-file",
    envvar="PROVNEWS_SITES_FILE",
    help="Site registry whose ids may be imported (default: config/sites.toml).",
)
@shard_option("the articles (by a hash of their URL; every process reads all FILES)")
@db_option
@click.pass_context
def import_articles(
    ctx: click.Context, files: tuple[Path, ...], batch: int, sites_file: str | None, shard: Shard | None
) -> None:
    """Store the articles of JSON Lines FILES: a `provnews export --format jsonl`, or any file with
    url, site_id, title and text on each line (other export fields are kept when present). Each is
    normalised, indexed and clustered like a crawled article; one already stored with the same text is
    left as it is. Lines that cannot be stored (among them a site id in neither the registry nor the
    database, a URL that is not http or https) are skipped and counted with their reason; the exit
    status is 1 if any was. Use it to move a corpus from SQLite to PostgreSQL or to merge corpora.

    With --shard I/N, every process reads all FILES and stores the articles whose URL falls to its
    shard (a line without a usable URL: by its line number), so N processes split them exactly."""
    from provnews.storage import ImportReport, JsonlChunk, read_chunks

    registry = load_registry(sites_file)
    report = ImportReport()

    def add_report(source: RowSource) -> None:
        assert isinstance(source, JsonlChunk)
        report.add(source.report)

    with open_storage(ctx, create=True) as storage:
        known = frozenset({s.id for s in registry} | set(storage.site_families()))
        result = storage.ingest(read_chunks(files, batch, known, shard), on_loaded=add_report)
    for url, error in result.refused:  # refused by the database: counted as skipped lines
        report.skip(url, "store_error", error)
    if shard:
        echo(f"shard {shard}: {report.elsewhere} line(s) left to the other shards")
    echo(
        f"read {report.read} article line(s): {result.new} new, {result.updated} updated, "
        f"{result.unchanged} unchanged, {sum(report.skipped.values())} skipped"
    )
    for reason, count in report.skipped.most_common():
        echo(f"  skipped: {reason}: {count}")
    for name, count in sorted(report.truncated.items()):
        echo(f"  truncated to its bound: {name}: {count}")
    for name, count in sorted(report.repaired.items()):
        echo(f"  repaired (NUL or lone surrogates): {name}: {count}")
    for example in report.examples:
        echo(f"  e.g. {example}")
    if report.skipped:
        ctx.exit(1)
