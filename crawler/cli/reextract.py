"""`provnews reextract`: rebuild stored articles from their stored pages with the current parsers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from provnews.crawler.cli.common import (
    check_site_ids,
    db_option,
    echo,
    load_registry,
    open_storage,
    shard_option,
)
from provnews.crawler.cli.filters import check_period

if TYPE_CHECKING:
    from provnews.storage import Shard

_DATE = click.DateTime(["%Y-%m-%d"])


@click.command()
@click.option("--site", help="Only articles of this site id.")
@click.option("--since", type=_DATE, help="Only articles published on or after DATE.")
@click.option("--until", type=_DATE, help="Only articles published on or before DATE.")
@click.option(
    "--min-text-chars",
    type=click.IntRange(0),
    default=150,
    show_default=True,
    help="Texts shorter than this count as failed (as PROVNEWS_MIN_TEXT_CHARS in a crawl).",
)
@shard_option("the articles (by id)")
@db_option
@click.pass_context
def reextract(
    ctx: click.Context, site: str | None, since: Any, until: Any, min_text_chars: int, shard: Shard | None
) -> None:
    """Re-run the parsers on the stored pages (nothing is fetched) and update what changed; earlier
    versions' hashes are kept. Reports examined, changed, unchanged and failed (with reasons); exits
    with status 1 when a page could not be re-extracted."""
    from provnews.crawler.extraction.reextract import reextract as run_reextract

    check_period(since, until)
    registry = load_registry()
    sites = {s.id: s for s in registry}  # their selector overrides and template versions
    with open_storage(ctx) as storage:
        if site is not None:
            check_site_ids([site], registry, storage.site_families())
        report = run_reextract(
            storage,
            site=site,
            since=since.date() if since else None,
            until=until.date() if until else None,
            min_text_chars=min_text_chars,
            sites=sites,
            shard=shard,
        )
    echo(
        (f"shard {shard}: " if shard else "")
        + f"examined {report.examined}, changed {report.changed}, unchanged {report.unchanged}, "
        f"failed {report.failed}"
    )
    for reason, count in report.reasons.most_common():
        echo(f"  failed: {reason}: {count}")
    if report.failed:
        ctx.exit(1)
