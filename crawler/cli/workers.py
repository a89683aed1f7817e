"""`provnews workers`: which crawl worker holds which site, since when, and its last heartbeat."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from provnews.crawler.cli.common import open_storage
from provnews.crawler.text.vietnamese import to_vn_iso
from provnews.storage import LockHolder, holder_alive, utcnow


def claim_row(h: LockHolder, stale_after: float) -> dict[str, Any]:
    now = utcnow()
    if h.held:
        state = "crawling" if holder_alive(h, stale_after, now) else "stale"
    else:
        state = "completed" if h.completed_at is not None and h.completed_at >= h.acquired_at else "released"
    return {
        "site_id": h.site_id,
        "state": state,
        "worker": f"pid {h.pid} on {h.hostname}",
        "run_id": h.run_id,
        "since": to_vn_iso(h.acquired_at),
        "heartbeat": to_vn_iso(h.heartbeat_at),
        "heartbeat_age_s": round((now - h.heartbeat_at).total_seconds(), 1),
        "released_at": to_vn_iso(h.released_at) if h.released_at else None,
        "completed_at": to_vn_iso(h.completed_at) if h.completed_at else None,
    }


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Also the sites nobody holds now (their last worker).")
@click.option(
    "--stale-after",
    type=float,
    default=lambda: float(os.environ.get("PROVNEWS_LOCK_STALE", "600")),
    show_default="$PROVNEWS_LOCK_STALE or 600",
    help="Seconds without heartbeat after which a claim counts as stale (to be taken over).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@click.pass_context
def workers(ctx: click.Context, show_all: bool, stale_after: float, as_json: bool) -> None:
    """The site claims of the crawl workers: per site, the worker (pid on host) and run holding it,
    since when, its last heartbeat and whether it is alive ("crawling") or "stale" (its worker died:
    the next worker with room takes it over). With --all, also the sites released since."""
    with open_storage(ctx) as storage:
        claims = storage.site_locks(include_released=show_all)
    rows = [claim_row(h, stale_after) for h in claims]
    rows.sort(key=lambda r: (r["state"] not in ("crawling", "stale"), r["worker"], r["site_id"]))
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        click.echo("no site is being crawled" + ("" if show_all else " (--all: the sites crawled before)"))
        return
    click.echo(
        f"{'site':<20} {'state':<9} {'worker':<32} {'run':>5}  {'since (+07:00)':<19}  {'heartbeat':>9}"
    )
    for r in rows:
        run = r["run_id"] if r["run_id"] is not None else "-"
        click.echo(
            f"{r['site_id']:<20} {r['state']:<9} {r['worker'][:32]:<32} {run:>5}  "
            f"{r['since'][:19].replace('T', ' '):<19}  {r['heartbeat_age_s']:>7.0f}s ago"
        )
    held = [r for r in rows if r["state"] in ("crawling", "stale")]
    busy = {r["worker"] for r in held if r["state"] == "crawling"}
    click.echo(f"{len(held)} site(s) held by {len(busy)} live worker(s)")
