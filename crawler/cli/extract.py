"""`provnews extract`: saved pages → one JSON object per line, in input order."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from provnews.crawler.cli.common import echo, load_registry
from provnews.crawler.discovery.sources import date_in_url
from provnews.crawler.extraction.limits import DEFAULT_TIMEOUT, ExtractionLimitExceeded, LimitedExtractor
from provnews.crawler.parsers import NotAnArticle
from provnews.crawler.parsers.page import Page
from provnews.crawler.sites.families import family_for_url, site_for_url
from provnews.crawler.sites.registry import FAMILIES
from provnews.crawler.text.legacy_page import decode_with_legacy_repair
from provnews.pipelines.validate import problem

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


def extract_file(
    path: Path,
    url: str | None,
    family: str | None,
    sites: list[Any],
    extractor: LimitedExtractor | None = None,
) -> dict[str, Any]:
    extractor = extractor or LimitedExtractor(timeout=0)
    try:
        body = path.read_bytes()
        html = decode_with_legacy_repair(body)[0]
    except (OSError, ValueError) as exc:
        return {"file": str(path), "error": f"cannot read: {exc}"}
    url = url or page_url(html, path)
    site = site_for_url(url, sites)
    try:
        chosen = family or family_for_url(url, sites)
        fields = extractor.extract(body, url, chosen, site=site if site and site.family == chosen else None)
    except NotAnArticle as exc:
        return {"file": str(path), "url": url, "error": f"not an article: {exc.reason}"}
    except ExtractionLimitExceeded as exc:  # page_too_large / extract_timeout: the batch goes on
        return {"file": str(path), "url": url, "error": str(exc)}
    except ValueError as exc:
        return {"file": str(path), "url": url, "error": f"cannot read: {exc}"}
    if not fields.published_at:  # the page gives none: a date in its URL is still one
        fields.published_at = date_in_url(url)
        fields.date_source = "url" if fields.published_at else None
    # An undated page is shown with published_at null when it is an article all the same: its
    # family's body container was found, or its markup says so; otherwise (a listing, a section
    # front) the missing date is what tells it apart.
    undated_article = not fields.fallback or declares_article(Page(html, url))
    reason = problem(fields, need_date=not undated_article)
    if reason:
        return {"file": str(path), "url": url, "error": f"not an article: {reason}"}
    return {"file": str(path), "site": site.id if site else None, **fields.to_dict()}


def declares_article(page: Page) -> bool:
    """Whether a page calls itself an article: og:type article, or a JSON-LD article object."""
    if (page.meta("og:type") or "").lower() == "article":
        return True
    return page.jsonld_value("@type") is not None  # only article types are looked up


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--url", help="The URL the page was fetched from (default: its canonical link).")
@click.option(
    "--family",
    type=click.Choice(FAMILIES),
    help="Parser family to use (default: from the registry or the URL).",
)
@click.option("--sites-file", envvar="PROVNEWS_SITES_FILE", help="Site registry used to recognise sites.")
@click.option(
    "--timeout",
    type=float,
    envvar="PROVNEWS_EXTRACT_TIMEOUT",
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds one page may take; slower pages give an extract_timeout error line (0: no limit).",
)
def extract(
    files: tuple[Path, ...], url: str | None, family: str | None, sites_file: str | None, timeout: float
) -> None:
    """Extract saved article pages (raw bytes, gzip read transparently) to JSON lines, in input order.
    A page that cannot be read or is not an article gives an {"file": …, "error": …} line, the batch
    goes on, and the exit status is 1."""
    sites = load_registry(sites_file)
    failed = 0
    with LimitedExtractor(timeout=timeout) as extractor:
        for path in files:
            result = extract_file(path, url, family, sites, extractor)
            failed += "error" in result
            echo(json.dumps(result, ensure_ascii=False))
    if failed:
        click.get_current_context().exit(1)
