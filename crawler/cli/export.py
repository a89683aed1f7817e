"""`provnews export`: stream stored articles to JSON lines, CSV, Parquet, a text corpus or WARC."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from crawler.cli.common import echo, open_storage
from crawler.cli.filters import filter_kwargs, filter_options
from pipelines.exporters import FORMATS, WRITERS, ExportError, corpus_path, corpus_text

__all__ = ["corpus_path", "corpus_text", "export"]


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Output format.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="File (jsonl, csv, parquet, warc; .warc.gz compresses) or folder (corpus).",
)
@filter_options
@click.option("--dedup", is_flag=True, help="Keep one article per near-duplicate cluster (the first stored).")
@click.pass_context
def export(ctx: click.Context, fmt: str, out: Path, dedup: bool, **params: Any) -> None:
    """Export stored articles, streaming (constant memory), with the same filters as search.

    corpus: one UTF-8 .txt per article at <site>/<YYYY-MM>/<id>.txt holding ' date YYYY-MM ' and the text
    (undated: <site>/undated/<id>.txt, text only).
    warc: the stored pages as fetched (WARC resource records), for archivists.
    """
    with open_storage(ctx) as storage:
        articles = storage.iter_articles(**filter_kwargs(params), dedup=dedup, include_html=fmt == "warc")
        try:
            count = WRITERS[fmt](articles, out)
        except ExportError as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:  # a folder where a file is wanted, a read-only place, a full disk...
            raise click.ClickException(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from exc
    echo(f"exported {count} article(s) to {out}")
