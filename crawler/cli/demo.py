"""`provnews demo`: the main job, offline, against the bundled replica of provincial sites."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from provnews.crawler.cli.common import echo
from provnews.crawler.cli.crawl import crawl_summary, recorded_summary
from provnews.crawler.replica import ReplicaServer
from provnews.crawler.runs.runner import run_crawl
from provnews.storage import Storage, fold_for_search
from provnews.storage import search_articles as search

COMPARED = ("title", "text", "authors", "published_at", "dateline")


def compare_with_truth(storage: Storage, truth: dict[str, dict[str, Any]]) -> tuple[int, list[str]]:
    """How many stored articles equal their ground truth in every compared field; what differs."""
    exact, problems = 0, []
    for url, expected in truth.items():
        stored = storage.get_article(url)
        if stored is None:
            problems.append(f"missing: {url}")
            continue
        wrong = [f for f in COMPARED if stored.get(f) != expected.get(f)]
        if wrong:
            problems.append(f"{url}: {', '.join(wrong)} differ")
        else:
            exact += 1
    return exact, problems


def sample_query(title: str) -> str:
    """Two words of a title, written without accents, to show accent-insensitive search."""
    words = [w for w in title.split() if w.isalpha()]
    return fold_for_search(" ".join(words[-2:] if len(words) >= 2 else words))


@click.command()
@click.option(
    "--articles",
    type=click.IntRange(1, 500),
    default=24,
    show_default=True,
    help="Articles per replica site.",
)
@click.option(
    "--db-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("data/demo.sqlite3"),
    show_default=True,
    help="SQLite file to crawl into (replaced if it exists).",
)
def demo(articles: int, db_file: Path) -> None:
    """Crawl a local replica of provincial sites (127.0.0.1) into a fresh SQLite file and search it."""
    db_file.parent.mkdir(parents=True, exist_ok=True)
    for stale in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
        stale.unlink(missing_ok=True)
    db_url = f"sqlite:///{db_file}"
    # The replica's registry names ports that die with it: it lives only as long as the demo.
    with (
        tempfile.TemporaryDirectory(prefix="provnews-demo-") as tmp,
        ReplicaServer(articles_per_site=articles) as replica,
    ):
        sites_file = Path(tmp) / "demo-sites.toml"
        sites_file.write_text(replica.sites_toml(), encoding="utf-8")
        truth = replica.ground_truth()
        echo(f"replica: {len(truth)} articles on {', '.join(replica.base_url(s) for s in replica.site_ids)}")
        settings = {"PROVNEWS_DB_URL": db_url, "PROVNEWS_SITES_FILE": str(sites_file), "LOG_LEVEL": "WARNING"}
        settings["PROVNEWS_RUN_COMMAND"] = "provnews demo"
        settings["PROVNEWS_ALLOW_PRIVATE_HOSTS"] = replica.host  # the replica is on loopback
        stats = run_crawl(sites_file=str(sites_file), settings=settings)
    summary = recorded_summary(db_url, stats, replica.site_ids)
    echo(crawl_summary(summary, replica.site_ids, stats.get("provnews/run_id")))
    storage = Storage.open(db_url)
    try:
        exact, problems = compare_with_truth(storage, truth)
        echo(f"\nstored {storage.count_articles()} articles in {db_file}")
        for site_id, count in storage.article_counts_by_site():
            echo(f"  {site_id:<12}{count:>4}")
        echo(f"ground truth: {exact}/{len(truth)} articles match in {', '.join(COMPARED)}")
        for line in problems[:10]:
            echo(f"  {line}")
        first = next(storage.iter_articles(), None)
        if first:
            query = sample_query(first["title"])
            hits = search(storage, query, limit=3)
            echo(f'\nsample search: provnews --db {db_url} search "{query}"')
            for hit in hits:
                echo(f"  [{hit.id}] {hit.published_at} {hit.site_id}: {hit.title}")
                echo(f"      {hit.snippet}")
    finally:
        storage.close()
