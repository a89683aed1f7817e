"""`provnews runs` and `provnews runs show ID`: the crawl runs and what each did."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from provnews.crawler.cli.common import db_option, echo, open_storage
from provnews.crawler.runs.accounting import CLASSES, balances, totals


def outcome_label(run: dict[str, Any]) -> str:
    """The outcome as a person reads it: a run closed by a later one after its process died is "crashed"."""
    reason = (run.get("stats") or {}).get("finish_reason")
    if run["outcome"] == "failed" and reason == "crashed":
        return "crashed"
    return str(run["outcome"])


def duration(run: dict[str, Any]) -> str:
    if not run.get("finished_at"):
        return "-"
    seconds = int(
        (
            datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["started_at"])
        ).total_seconds()
    )
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _total(mapping: Any) -> int:
    return sum(v for v in (mapping or {}).values() if isinstance(v, int))


def robots_line(s: dict[str, Any]) -> str:
    """robots.txt in one line, the same in the crawl summary and `runs show`."""
    unreachable = s.get("robots_unreachable_denied", 0)
    return (
        f"{s.get('robots_denied', 0)} denied by its rules, {unreachable} not asked (robots.txt unreachable)"
    )


def balance_lines(s: dict[str, Any]) -> list[str]:
    """Per site: met = stored + dropped + failed + pending, the verdict, and the reasons."""
    per_site = s.get("sites") or {}
    if not any("met" in a for a in per_site.values()):  # a run recorded before the accounts existed
        return []
    lines = [
        f"  {'site':<20} {'met':>5} = {'stored':>6} + {'dropped':>7} + {'failed':>6} + {'pending':>7}  status"
    ]
    for site_id, account in sorted(per_site.items()):
        t = totals(account)
        status = account.get("status", "-")
        if account.get("reason"):
            status += f": {account['reason']}"
        if not balances(account):
            status += f" (does not balance: {t['met'] - sum(t[c] for c in CLASSES)} URLs unaccounted for)"
        lines.append(
            f"  {site_id:<20} {t['met']:>5} = {t['stored']:>6} + {t['dropped']:>7} + {t['failed']:>6} + "
            f"{t['pending']:>7}  {status}"
        )
        parts = [f"{cls}: {_kv(account.get(cls))}" for cls in CLASSES if account.get(cls)]
        sources = account.get("sources") or {}
        failed_sources = sources.get("failed") or {}
        parts.append(
            f"sources: {sources.get('ok', 0)} ok"
            + (f", failed: {_kv(failed_sources)}" if failed_sources else "")
        )
        lines.append("  " + " " * 21 + "; ".join(parts))
    return lines


def outcome_lines(s: dict[str, Any], width: int) -> list[str]:
    """Article URLs by outcome and reason, all sites together (the crawl summary and `runs show`)."""
    reasons = s.get("outcome_reasons") or {}
    return [f"  {cls + ':':<{width}}{_kv(reasons.get(cls))}" for cls in CLASSES]


def run_totals(s: dict[str, Any]) -> dict[str, int]:
    """The run's met/stored/dropped/failed/pending (zeros for a run recorded before the accounts)."""
    return totals(s.get("outcomes") or {})


@click.group(invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many runs.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@db_option
@click.pass_context
def runs(ctx: click.Context, limit: int, as_json: bool) -> None:
    """The last crawl runs, newest first: when, how long, outcome, sites, pages and articles."""
    if ctx.invoked_subcommand is not None:
        return
    with open_storage(ctx) as storage:
        rows = storage.runs(limit=limit)
    if as_json:
        for run in rows:
            echo(json.dumps(run, ensure_ascii=False, default=str))
        return
    if not rows:
        echo("no crawl runs yet")
        return
    echo(
        f"{'id':>5}  {'started (+07:00)':<19}  {'took':>7}  {'outcome':<11}  {'pages':>6}  {'new':>5}  "
        f"{'upd':>4}  {'drop':>4}  {'fail':>4}  {'pend':>4}  sites"
    )
    for run in rows:
        s = run.get("stats") or {}
        sites = ",".join(run.get("sites") or []) or "-"
        echo(
            f"{run['id']:>5}  {run['started_at'][:19].replace('T', ' '):<19}  {duration(run):>7}  "
            f"{outcome_label(run):<11}  {s.get('pages_fetched', 0):>6}  {s.get('articles_new', 0):>5}  "
            f"{s.get('articles_updated', 0):>4}  {run_totals(s)['dropped']:>4}  "
            f"{run_totals(s)['failed']:>4}  {run_totals(s)['pending']:>4}  "
            f"{sites if len(sites) <= 40 else sites[:37] + '...'}"
        )


@runs.command()
@click.argument("run_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="The run as one JSON object.")
@db_option
@click.pass_context
def show(ctx: click.Context, run_id: int, as_json: bool) -> None:
    """Everything recorded about run RUN_ID: command, sites, counters per site, drops and errors."""
    with open_storage(ctx) as storage:
        run = storage.get_run(run_id)
    if run is None:
        raise click.ClickException(f"no crawl run {run_id}")
    if as_json:
        echo(json.dumps(run, ensure_ascii=False, indent=2, default=str))
        return
    s = run.get("stats") or {}
    lines = [
        f"run {run['id']}: {outcome_label(run)}"
        + (
            f" ({s['finish_reason']})"
            if s.get("finish_reason") not in (None, run["outcome"], outcome_label(run))
            else ""
        ),
        f"  command:   {run['command']}",
        f"  process:   pid {run.get('pid')} on {run.get('hostname')}",
        f"  started:   {run['started_at']}",
        f"  finished:  {run.get('finished_at') or '-'} (took {duration(run)})",
        f"  sites:     {', '.join(run.get('sites') or []) or '-'}",
        f"  pages:     {s.get('pages_fetched', 0)} fetched, "
        f"{s.get('not_modified', 0)} unchanged sources (304)",
        f"  articles:  {s.get('articles_new', 0)} new, {s.get('articles_updated', 0)} updated, "
        f"{s.get('articles_unchanged', 0)} unchanged, "
        f"{s.get('pending_resumed', 0)} resumed from earlier runs",
        *outcome_lines(s, 11),
        f"  errors:    {_kv(s.get('errors'))} (failed requests, discovery included)",
        f"  urls:      {_kv(s.get('urls'))}",
        f"  robots:    {robots_line(s)}",
        f"  waits:     Retry-After honoured {s.get('retry_after', 0)} times; "
        f"{s.get('retry_after_left', 0)} URLs left for a later run (asked to wait longer than a run waits)",
    ]
    lines.extend(claim_lines(s.get("claims") or {}))
    if s.get("failure"):
        lines.append(f"  failure:   {s['failure']}")
    if s.get("note"):
        lines.append(f"  note:      {s['note']}")
    per_site = s.get("sites") or {}
    if per_site:
        lines.append(f"  {'site':<20} {'pages':>6} {'new':>5} {'updated':>7} {'304':>4}")
        for site_id, c in sorted(per_site.items()):
            lines.append(
                f"  {site_id:<20} {c.get('pages', 0):>6} {c.get('new', 0):>5} {c.get('updated', 0):>7} "
                f"{c.get('not_modified', 0):>4}"
            )
        lines.append("  article URLs per site (met = stored + dropped + failed + pending):")
        lines.extend(balance_lines(s))
    echo("\n".join(lines))


def claim_lines(claims: dict[str, Any]) -> list[str]:
    """Per site this worker claimed: when it claimed and released it, how it ended, whose it was."""
    if not claims:
        return []
    lines = ["  claims (sites this worker crawled, +07:00):"]
    for site_id, c in sorted(claims.items(), key=lambda kv: kv[1].get("claimed_at") or ""):
        line = (
            f"    {site_id:<20} {(c.get('claimed_at') or '-')[:19]} .. {(c.get('released_at') or '-')[:19]}"
            f"  {c.get('how') or 'held'}"
        )
        if c.get("taken_over_from"):
            line += f"; taken over from {c['taken_over_from']}"
        lines.append(line)
    return lines


def _kv(mapping: Any) -> str:
    if not mapping:
        return "none"
    return ", ".join(f"{k} {v}" for k, v in sorted(mapping.items()))
