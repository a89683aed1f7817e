"""`provnews schedule`: crawl jobs for a set of Scrapyd nodes, the sites spread over them."""

from __future__ import annotations

import ipaddress
import os
import uuid

import click

from provnews.crawler.cli.common import check_site_ids, db_option, echo, load_registry
from provnews.crawler.cli.crawl import parse_settings
from provnews.crawler.scrapyd.nodes import Job, NodeError, ScrapydNode, plan_jobs


def split_nodes_and_sites(nodes: tuple[str, ...], words: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """`--scrapyd URL [URL …] [SITE …]`: the words after the option that are URLs are further nodes
    (a site id never holds ':'), the others sites."""
    return [*nodes, *(w for w in words if "://" in w)], [w for w in words if "://" not in w]


@click.command()
@click.option(
    "--scrapyd",
    "node_urls",
    multiple=True,
    required=True,
    metavar="URL",
    help="A Scrapyd node (http://host:6800/, user:password@ for basic auth); further URLs may follow.",
)
@click.argument("words", nargs=-1, metavar="[URL …] [SITE …]")
@click.option(
    "--sites-file",
    envvar="PROVNEWS_SITES_FILE",
    help="Site registry (also passed to the jobs: the path must be valid on the nodes).",
)
@click.option(
    "--jobs-per-node", type=click.IntRange(min=1), default=1, show_default=True, help="Crawl jobs per node."
)
@click.option("--project", default="provnews", show_default=True, help="The Scrapyd project deployed.")
@click.option(
    "-a", "spider_args", multiple=True, metavar="NAME=VALUE", help="A spider argument (max_articles, since…)."
)
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="A setting for the jobs.")
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=10, show_default=True, help="Seconds per call."
)
@click.option("--dry-run", is_flag=True, help="Print the jobs and their sites; send nothing.")
@db_option
@click.pass_context
def schedule(
    ctx: click.Context,
    node_urls: tuple[str, ...],
    words: tuple[str, ...],
    sites_file: str | None,
    jobs_per_node: int,
    project: str,
    spider_args: tuple[str, ...],
    settings: tuple[str, ...],
    timeout: float,
    dry_run: bool,
) -> None:
    """Send crawl jobs to Scrapyd nodes: SITES (all active sites of the registry when none are given)
    are dealt round robin over the nodes, --jobs-per-node jobs each, and every job crawls its sites
    (the `news` spider's `site` argument). Prints one line per job: node, job id, sites. The jobs
    write to the database of --db or PROVNEWS_DB_URL when given (else the nodes' own setting): for
    several machines, PostgreSQL.

    Every node is asked first (daemonstatus.json); when one does not answer, nothing is sent. A job a
    node refuses is reported with its sites; the exit status is then 1."""
    urls, site_words = split_nodes_and_sites(node_urls, words)
    try:
        nodes = list({node.base: node for node in (ScrapydNode(url, timeout) for url in urls)}.values())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scrapyd") from exc
    registry = load_registry(sites_file)
    check_site_ids(site_words, registry)
    named = [part.strip() for word in site_words for part in word.split(",") if part.strip()]
    chosen = list(dict.fromkeys(named)) or [s.id for s in registry if s.status == "active"]
    if not chosen:
        raise click.ClickException("no sites to schedule (the registry has no active site)")
    job_settings = _job_settings(ctx, sites_file, settings)
    arguments = parse_settings(spider_args, "-a")
    _note_database(job_settings.get("PROVNEWS_DB_URL"), nodes)
    jobs = plan_jobs(chosen, nodes, jobs_per_node)
    if dry_run:
        for job in jobs:
            echo(f"{job.node}  (not sent)  {','.join(job.sites)}")
        return
    unreachable = []
    for node in nodes:
        try:
            node.check()
        except NodeError as exc:
            unreachable.append(f"{node}: {exc}")
    if unreachable:
        for line in unreachable:
            echo(f"provnews schedule: {line}", err=True)
        raise click.ClickException("nothing sent: every node must answer (drop the node, or start it)")
    for job in jobs:
        _send(job, project, arguments, job_settings)
    _report(ctx, jobs)


def _job_settings(ctx: click.Context, sites_file: str | None, pairs: tuple[str, ...]) -> dict[str, str]:
    """The settings every job gets: the database and registry given here, then `-s` pairs."""
    out: dict[str, str] = {}
    db_url = (ctx.find_root().obj or {}).get("db_url") or os.environ.get("PROVNEWS_DB_URL")
    if db_url:
        out["PROVNEWS_DB_URL"] = db_url
    if sites_file:
        out["PROVNEWS_SITES_FILE"] = sites_file
    out.update(parse_settings(pairs))
    return out


def _note_database(db_url: str | None, nodes: list[ScrapydNode]) -> None:
    """A note on stderr when the jobs cannot all write to one database."""
    if not db_url:
        echo(
            "provnews schedule: note: no --db or PROVNEWS_DB_URL: each job writes to its node's own "
            "database setting",
            err=True,
        )
    elif db_url.startswith("sqlite") and any(not _local(node.host) for node in nodes):
        echo(
            "provnews schedule: note: a SQLite file is shared only by the nodes of one machine; "
            "jobs on several machines need PostgreSQL",
            err=True,
        )


def _local(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _send(job: Job, project: str, arguments: dict[str, str], settings: dict[str, str]) -> None:
    """Schedule one job; on failure, `job.error` says why."""
    job_id = uuid.uuid4().hex
    sites = ",".join(job.sites)
    command = {"PROVNEWS_RUN_COMMAND": f"scrapyd {job.node} job {job_id}: scrapy crawl news -a site={sites}"}
    try:
        job.job_id = job.node.schedule(
            project, "news", job_id, {**arguments, "site": sites}, {**command, **settings}
        )
    except NodeError as exc:
        job.error = str(exc)
    else:
        echo(f"{job.node}  job {job.job_id}  {sites}")


def _report(ctx: click.Context, jobs: list[Job]) -> None:
    failed = [job for job in jobs if job.error]
    for job in failed:
        echo(
            f"provnews schedule: {job.node}: job not sent: {job.error} (sites {','.join(job.sites)})",
            err=True,
        )
    if failed:
        left = ",".join(site for job in failed for site in job.sites)
        echo(
            f"provnews schedule: {len(jobs) - len(failed)} of {len(jobs)} job(s) sent; not scheduled: {left}",
            err=True,
        )
        ctx.exit(1)
