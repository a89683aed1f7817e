"""Article filters shared by `search` and `export`: the same options, the same meaning."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

_DATE = click.DateTime(["%Y-%m-%d"])


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--site, --province, --section, --author, --since and --until."""
    options = [
        click.option("--site", help="Only articles of this site id."),
        click.option("--province", help="Only articles of this province (current or pre-2025 name)."),
        click.option("--section", help="Only articles of this section (as the site names it)."),
        click.option("--author", help="Only articles with this author (exact name)."),
        click.option("--since", type=_DATE, help="Only articles published on or after DATE (YYYY-MM-DD)."),
        click.option("--until", type=_DATE, help="Only articles published on or before DATE (YYYY-MM-DD)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def filter_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """The filter options of a command's parameters as keyword arguments for storage and search."""
    out = {name: params.get(name) for name in ("site", "province", "section", "author")}
    for name in ("since", "until"):
        value = params.get(name)
        out[name] = value.date() if value is not None else None
    return out
