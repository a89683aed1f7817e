"""`provnews export`: the corpus as JSON lines or as one text file per article."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from crawler.cli.common import open_storage


def corpus_text(article: dict[str, Any]) -> str:
    """The source-document format: ' date YYYY-MM ' and the text; no prefix when undated."""
    published = article.get("published_at")
    prefix = f" date {published[:7]} " if published else ""
    return prefix + article["text"]


def corpus_path(root: Path, article: dict[str, Any]) -> Path:
    """<site>/<YYYY-MM>/<id>.txt under root; refuses anything that would leave root."""
    month = (article.get("published_at") or "")[:7] or "undated"
    path = (root / str(article["site_id"]) / month / f"{int(article['id'])}.txt").resolve()
    if not path.is_relative_to(root.resolve()):
        raise click.ClickException(f"refusing to write outside {root}: {path}")
    return path


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "corpus"]), required=True)
@click.option(
    "--out", "out", required=True, type=click.Path(path_type=Path), help="File (jsonl) or folder (corpus)."
)
@click.option("--site", help="Only articles of this site id.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only articles published on or after DATE.")
@click.pass_context
def export(ctx: click.Context, fmt: str, out: Path, site: str | None, since: Any) -> None:
    """Export stored articles, streaming (constant memory)."""
    count = 0
    with open_storage(ctx) as storage:
        articles = storage.iter_articles(site=site, since=since.date() if since else None)
        if fmt == "jsonl":
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("w", encoding="utf-8") as fh:
                for article in articles:
                    fh.write(json.dumps(article, ensure_ascii=False, default=str) + "\n")
                    count += 1
        else:
            out.mkdir(parents=True, exist_ok=True)
            for article in articles:
                path = corpus_path(out, article)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(corpus_text(article), encoding="utf-8")
                count += 1
    click.echo(f"exported {count} article(s) to {out}")
