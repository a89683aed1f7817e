"""`provnews export`: stream stored articles to JSON lines, CSV, Parquet, a text corpus or WARC."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from provnews.crawler.cli.common import db_option, echo, open_storage, shard_option
from provnews.crawler.cli.filters import check_period, filter_kwargs, filter_options
from provnews.storage import FORMATS, STREAM_WRITERS, WRITERS, ExportError, write_csv

if TYPE_CHECKING:
    from provnews.storage import Shard

__all__ = ["export"]
STDOUT = Path("-")


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Output format.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, allow_dash=True),
    help="File (jsonl, csv, parquet, warc; .warc.gz compresses), folder (corpus), or - for standard "
    "output (jsonl, csv).",
)
@filter_options
@click.option("--dedup", is_flag=True, help="Keep one article per near-duplicate cluster (the first stored).")
@click.option("--excel", is_flag=True, help="CSV: start with a UTF-8 byte-order mark, which Excel needs.")
@shard_option("the articles (by id) into N outputs")
@db_option
@click.pass_context
def export(
    ctx: click.Context, fmt: str, out: Path, dedup: bool, excel: bool, shard: Shard | None, **params: Any
) -> None:
    """Export stored articles, streaming (constant memory), with the same filters as search.

    corpus: one UTF-8 .txt per article at <site>/<YYYY-MM>/<id>.txt holding ' date YYYY-MM ' and the text
    (undated: <site>/undated/<id>.txt, text only).
    warc: the stored pages as fetched (WARC resource records), for archivists.
    """
    to_stdout = out == STDOUT
    if to_stdout and fmt not in STREAM_WRITERS:
        raise click.BadParameter(f"{fmt} cannot go to standard output; give a path", param_hint="'--out'")
    if excel and fmt != "csv":
        raise click.BadParameter(f"a byte-order mark is for CSV, not {fmt}", param_hint="'--excel'")
    check_period(params.get("since"), params.get("until"))
    with open_storage(ctx) as storage:
        articles = storage.iter_articles(
            **filter_kwargs(params, storage), dedup=dedup, include_html=fmt == "warc", shard=shard
        )
        try:
            if to_stdout:
                stdout = sys.stdout
                if excel:
                    stdout.write("\ufeff")
                count = STREAM_WRITERS[fmt](articles, stdout)
                stdout.flush()
            elif fmt == "csv":
                count = write_csv(articles, out, excel=excel)
            else:
                count = WRITERS[fmt](articles, out)
        except ExportError as exc:
            raise click.ClickException(str(exc)) from exc
        except BrokenPipeError:
            raise
        except OSError as exc:  # a folder where a file is wanted, a read-only place, a full disk...
            raise click.ClickException(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from exc
    where = "standard output" if to_stdout else out
    echo((f"shard {shard}: " if shard else "") + f"exported {count} article(s) to {where}", err=to_stdout)
