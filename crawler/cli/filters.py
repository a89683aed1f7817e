"""Article filters shared by `search`, `export` and `stats`: the same options, the same meaning.

`--site` and `--province` are matched as the query is, without tone marks or case (`--province "can
tho"` is Cần Thơ); a name that matches nothing, or `--since` after `--until`, is a usage error."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from provnews.storage import Storage

_DATE = click.DateTime(["%Y-%m-%d"])


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--site, --province, --section, --author, --since and --until."""
    options = [
        click.option("--site", help="Only articles of this site id (case and tone marks ignored)."),
        click.option(
            "--province",
            help="Only articles of this province, current or pre-2025 name (case and tone marks ignored).",
        ),
        click.option("--section", help="Only articles of this section (as the site names it)."),
        click.option("--author", help="Only articles with this author (exact name)."),
        click.option("--since", type=_DATE, help="Only articles published on or after DATE (YYYY-MM-DD)."),
        click.option("--until", type=_DATE, help="Only articles published on or before DATE (YYYY-MM-DD)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def check_period(since: Any, until: Any) -> None:
    if since is not None and until is not None and until < since:
        raise click.BadParameter(
            f"{until:%Y-%m-%d} is before --since {since:%Y-%m-%d}", param_hint="'--until'"
        )


def match_name(value: str, known: Iterable[str], what: str, option: str) -> str:
    """The known name `value` stands for, compared without case or tone marks; a usage error naming
    the value (and the closest names) when there is none."""
    from provnews.storage import fold_for_search

    by_folded = {fold_for_search(name).strip(): name for name in known}
    wanted = fold_for_search(value).strip()
    if wanted in by_folded:
        return by_folded[wanted]
    close = difflib.get_close_matches(wanted, list(by_folded), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(by_folded[c]) for c in close)}?" if close else ""
    raise click.BadParameter(f"unknown {what} {value!r}{hint}", param_hint=f"'{option}'")


def known_site_ids(storage: Storage | None) -> set[str]:
    """Site ids of the registry and of the database (a crawl with another registry stores others)."""
    from provnews.crawler.sites.registry import RegistryError, load_sites

    try:
        ids = {s.id for s in load_sites()}
    except RegistryError:
        ids = set()
    if storage is not None:
        ids.update(storage.site_families())
    return ids


def filter_kwargs(params: dict[str, Any], storage: Storage | None = None) -> dict[str, Any]:
    """The filter options of a command's parameters as keyword arguments for storage and search, with
    --site and --province resolved to the names stored."""
    from provnews.crawler.sites.provinces import OLD_PROVINCES, UNITS

    check_period(params.get("since"), params.get("until"))
    out = {name: params.get(name) for name in ("site", "province", "section", "author")}
    if out["site"] is not None:
        out["site"] = match_name(out["site"], known_site_ids(storage), "site", "--site")
    if out["province"] is not None:
        out["province"] = match_name(out["province"], [*UNITS, *OLD_PROVINCES], "province", "--province")
    for name in ("since", "until"):
        value = params.get(name)
        out[name] = value.date() if value is not None else None
    return out
