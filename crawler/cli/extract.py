"""`provnews extract`: saved pages → one JSON object per line, in input order."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from crawler.encoding import decode_html
from crawler.families import family_for_url, site_for_url
from crawler.parsers import NotAnArticle, parser_for
from crawler.registry import RegistryError, load_sites
from pipelines.validate import problem

_CANONICAL = re.compile(
    r"""<link[^>]+rel=["']canonical["'][^>]*href=["']([^"']+)|<meta[^>]+property=["']og:url["'][^>]*content=["']([^"']+)""",
    re.I,
)


def page_url(html: str, path: Path) -> str:
    """The page's own URL from its canonical link or og:url; a file: URL when it has neither."""
    match = _CANONICAL.search(html)
    if match:
        url = (match.group(1) or match.group(2)).strip()
        if url.startswith(("http://", "https://")):
            return url
    return path.resolve().as_uri()


def extract_file(path: Path, url: str | None, family: str | None, sites: list[Any]) -> dict[str, Any]:
    try:
        html = decode_html(path.read_bytes())
    except (OSError, ValueError) as exc:
        return {"file": str(path), "error": f"cannot read: {exc}"}
    url = url or page_url(html, path)
    site = site_for_url(url, sites)
    try:
        fields = parser_for(family or family_for_url(url, sites)).parse(html, url)
    except NotAnArticle as exc:
        return {"file": str(path), "url": url, "error": f"not an article: {exc.reason}"}
    reason = problem(fields)
    if reason:
        return {"file": str(path), "url": url, "error": f"not an article: {reason}"}
    return {"file": str(path), "site": site.id if site else None, **fields.to_dict()}


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--url", help="The URL the page was fetched from (default: its canonical link).")
@click.option("--family", help="Parser family to use (default: from the registry or the URL).")
@click.option("--sites-file", envvar="PROVNEWS_SITES_FILE", help="Site registry used to recognise sites.")
def extract(files: tuple[Path, ...], url: str | None, family: str | None, sites_file: str | None) -> None:
    """Extract saved article pages (raw bytes, gzip read transparently) to JSON lines."""
    try:
        sites = load_sites(sites_file)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in files:
        result = extract_file(path, url, family, sites)
        click.echo(json.dumps(result, ensure_ascii=False))
