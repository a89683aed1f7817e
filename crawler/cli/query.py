"""`provnews search`, `show` and `stats`: reading the corpus."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

import click

from provnews.crawler.cli.common import db_option, echo, open_storage
from provnews.crawler.cli.filters import check_period, filter_kwargs, filter_options


@click.command()
@click.argument("query")
@filter_options
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Most hits shown.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit.")
@db_option
@click.pass_context
def search(ctx: click.Context, query: str, limit: int, as_json: bool, **params: Any) -> None:
    """Full-text search, accent-insensitive (`ha noi` finds `Hà Nội`); quoted phrases work; ranked, with
    a highlighted snippet per hit. A query starting with '-' goes after `--`: search -- -word."""
    from provnews.storage import SearchError
    from provnews.storage import search_articles as run_search

    check_period(params.get("since"), params.get("until"))
    with open_storage(ctx) as storage:
        try:
            hits = run_search(storage, query, limit=limit, **filter_kwargs(params, storage))
        except SearchError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        for hit in hits:
            echo(json.dumps(asdict(hit), ensure_ascii=False, default=str))
        return
    if not hits:
        echo("no articles found")
        return
    for hit in hits:
        echo(f"[{hit.id}] {hit.published_at or '-'}  {hit.site_id}  {hit.title}")
        echo(f"    {hit.snippet}")
        echo(f"    {hit.url}")


@click.command()
@click.argument("id_or_url")
@click.option("--json", "as_json", is_flag=True, help="The whole article as one JSON object.")
@db_option
@click.pass_context
def show(ctx: click.Context, id_or_url: str, as_json: bool) -> None:
    """Show one stored article by its id or URL (normalised as stored: tracking parameters, www., http
    or https make no difference)."""
    with open_storage(ctx) as storage:
        article = None
        for key in [int(id_or_url)] if id_or_url.isdigit() else url_candidates(id_or_url):
            article = storage.get_article(key)
            if article is not None:
                break
    if article is None:
        raise click.ClickException(f"no article {id_or_url}")
    if as_json:
        echo(json.dumps(article, ensure_ascii=False, default=str, indent=2))
        return
    echo(article["title"])
    for label, key2 in (
        ("id", "id"),
        ("site", "site_id"),
        ("province", "province"),
        ("published", "published_at"),
        ("modified", "modified_at"),
        ("section", "section"),
        ("authors", "authors"),
        ("dateline", "dateline"),
        ("url", "canonical_url"),
    ):
        value = article.get(key2)
        if isinstance(value, list):
            value = ", ".join(value)
        echo(f"{label + ':':11}{value if value not in (None, '') else '-'}")
    if article.get("tags"):
        echo(f"{'tags:':11}{', '.join(article['tags'])}")
    echo("")
    echo(article["text"])


_HOST_PREFIX = re.compile(r"^(?:www|m|amp|mobile)\.(?=[^.]+\.)")  # as crawler.discovery.urls maps them


def url_candidates(url: str) -> list[str]:
    """A pasted URL, then its forms normalised as the crawler stores them: tracking parameters, AMP
    markers and default ports dropped, a www./m. host or a registry alias mapped to the site's host."""
    from provnews.crawler.discovery.urls import host_of, normalize_url
    from provnews.crawler.sites.registry import RegistryError, load_sites

    try:
        sites = load_sites()
    except RegistryError:
        sites = []
    candidates = [url, normalize_url(url)]
    for site in sites:
        as_site = normalize_url(url, canonical_host=site.domain, aliases=site.aliases)
        if host_of(as_site) == site.domain:
            candidates.append(as_site)
            break
    else:  # not a registry site: the host without its www./m. prefix
        host = host_of(candidates[1])
        candidates.append(normalize_url(url, canonical_host=_HOST_PREFIX.sub("", host), aliases=[host]))
    return list(dict.fromkeys(candidates))


@click.command()
@filter_options
@click.option(
    "--runs", "run_count", type=click.IntRange(0, 1000), default=5, show_default=True, help="Last runs shown."
)
@db_option
@click.pass_context
def stats(ctx: click.Context, run_count: int, **filters: Any) -> None:
    """Articles per site and month (with the filters of search), and the last crawl runs."""
    check_period(filters.get("since"), filters.get("until"))
    with open_storage(ctx) as storage:
        rows = storage.stats_by_site_month(**filter_kwargs(filters, storage))
        runs = storage.runs(limit=run_count) if run_count else []
    if not rows:
        filtered = any(value not in (None, ()) for value in filters.values())
        echo("no articles match these filters" if filtered else "no articles stored yet")
    else:
        echo(f"{'site':<22}{'month':<9}{'articles':>9}")
        total = 0
        for site_id, month, count in rows:
            echo(f"{site_id:<22}{month or 'undated':<9}{count:>9}")
            total += count
        echo(f"{'total':<31}{total:>9}")
    if runs:
        echo("")
        echo("last runs:")
        for run in runs:
            s = run.get("stats") or {}
            echo(
                f"  #{run['id']} {run['started_at']} {run['outcome']:<11} "
                f"new={s.get('articles_new', 0)} updated={s.get('articles_updated', 0)} "
                f"pages={s.get('pages_fetched', 0)} sites={','.join(run.get('sites') or [])}"
            )
