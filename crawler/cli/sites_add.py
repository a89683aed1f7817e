"""`provnews sites add URL`: propose (and with --write, append) a registry entry for a news site."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import click

from provnews.crawler.canary.client import Client
from provnews.crawler.cli.common import echo
from provnews.crawler.cli.sites import SITES_FILE_OPTION, missing_units, sites_file_label
from provnews.crawler.onboard import SAMPLE_ARTICLES, onboard
from provnews.crawler.settings import USER_AGENT
from provnews.crawler.sites.families import site_for_url
from provnews.crawler.sites.registry import FAMILIES, RegistryError, load_sites
from provnews.crawler.sites.registry import sites_file as registry_path


@click.command("add")
@click.argument("url")
@SITES_FILE_OPTION
@click.option(
    "--write", is_flag=True, help="Append the entry to the sites file once `sites check` accepts it."
)
@click.option("--id", "site_id", help="The site id (default: from the domain).")
@click.option("--province", help="The province (one of the 34 units) when the site's name does not tell.")
@click.option(
    "--family", type=click.Choice(FAMILIES), help="Use this family instead of the best-scoring one."
)
@click.option(
    "--article-pattern",
    callback=lambda ctx, param, value: _regex(value),
    help="Regular expression of the article URLs, when their shape cannot be learned.",
)
@click.option(
    "--articles",
    type=click.IntRange(1, 10),
    default=SAMPLE_ARTICLES,
    show_default=True,
    help="Articles fetched to choose the family.",
)
@click.option(
    "--timeout", type=click.FloatRange(1, 300), default=20.0, show_default=True, help="Seconds per request."
)
@click.pass_context
def add(
    ctx: click.Context,
    url: str,
    sites_file: str | None,
    write: bool,
    site_id: str | None,
    province: str | None,
    family: str | None,
    article_pattern: str | None,
    articles: int,
    timeout: float,
) -> None:
    """Onboard a news site from its home page or one of its articles (needs the internet): read its
    robots.txt, feeds, sitemaps and listings, run every family parser on a few articles, and print a
    ready [[site]] entry with the evidence. --write appends it to the sites file after validation.
    Exits 1 when no article could be fetched or the entry is refused."""
    if not url.startswith(("http://", "https://")):
        raise click.UsageError("URL must be an http(s) URL")
    path = sites_file or (ctx.obj or {}).get("sites_file")
    proposal = onboard(
        url,
        Client(USER_AGENT, timeout=timeout, delay=1.0),
        articles=articles,
        site_id=site_id,
        province=province,
        family=family,
        article_pattern=article_pattern,
    )
    for line in proposal.evidence:
        echo(f"# {line}")
    known = _registered(registry_path(path), url)
    if known:
        echo(f"# the registry already has this site as '{known}'")
    entry = proposal.toml()
    echo("\n" + entry)
    if not proposal.articles:
        raise click.ClickException("no article of the site could be fetched: the entry above is incomplete")
    if not proposal.complete:
        echo("# no family read every sampled article completely: check the entry before using it")
    if write:
        target = registry_path(path)
        merged = _validated(target, entry)
        target.write_text(merged, encoding="utf-8")
        echo(f"# appended to {sites_file_label(path)}; next: provnews canary {proposal.values['id']}")


def _registered(target: Path, url: str) -> str | None:
    """The id under which the registry already holds the URL's site, if it does (and can be read)."""
    try:
        site = site_for_url(url, load_sites(target)) if target.exists() else None
    except RegistryError:
        return None  # --write reports what is wrong with the file
    return site.id if site else None


def _regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise click.BadParameter(f"not a valid regular expression: {exc}") from exc
    return value


def _validated(target: Path, entry: str) -> str:
    """The sites file with the entry appended, as `sites check` validates it; nothing is written when
    it fails (a province still '?', a duplicate id or domain, a bad value)."""
    current = target.read_text(encoding="utf-8") if target.exists() else ""
    merged = current.rstrip("\n") + ("\n\n" if current.strip() else "") + entry
    with tempfile.TemporaryDirectory() as folder:
        trial = Path(folder) / "sites.toml"
        trial.write_text(merged, encoding="utf-8")
        try:
            before = load_sites(target) if current.strip() else []
            after = load_sites(trial)
        except RegistryError as exc:
            raise click.ClickException(f"not written: {str(exc).replace(str(trial), str(target))}") from exc
    # the units check of `sites check`: an entry must not be what leaves a unit uncovered
    if before and not missing_units(before) and missing_units(after):
        raise click.ClickException("not written: the registry would no longer cover every unit")
    return merged
