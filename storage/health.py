"""Per-site crawl health: last successful run, new articles per day, silence, extraction rates.

A run is successful for a site when its verdict on the site was ok (runs recorded before verdicts
existed: when the run finished). The fetch failure rate comes from the same per-site accounts that
`provnews runs show` prints: failed article URLs and failed discovery requests (DNS, refused,
timeouts, HTTP errors, robots.txt unreachable) over all requests of the runs in the period."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from provnews.crawler.text.vietnamese import VN_TZ, to_vn_iso
from provnews.storage import runs
from provnews.storage.models import Article, SiteRow, UrlState, utcnow

# Above these shares of a site's recent pages, extraction needs a look (a template change, usually).
FALLBACK_ALERT = 0.2
FAILURE_ALERT = 0.2


def site_health(
    conn: Connection, site_ids: list[str] | None = None, days: int = 28, silent_days: int = 3
) -> list[dict[str, Any]]:
    """One dict per site: facts, then `problems` (empty when the site is fine)."""
    now = utcnow()
    since = now - timedelta(days=days)
    active = {sid for sid, status in conn.execute(select(SiteRow.id, SiteRow.status)) if status == "active"}
    wanted = sorted(set(site_ids) if site_ids else active)

    daily: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    query = select(Article.site_id, Article.first_seen_at).where(Article.first_seen_at >= since)
    for site_id, seen in conn.execute(query):
        if site_id is None:
            continue
        daily[site_id][seen.astimezone(VN_TZ).date().isoformat()] += 1

    totals = select(
        Article.site_id, func.count(), func.max(Article.first_seen_at), func.max(Article.published_at)
    ).group_by(Article.site_id)
    total = {sid: (n, seen, published) for sid, n, seen, published in conn.execute(totals)}

    extracted = select(Article.site_id, func.count(), func.sum(case((Article.fallback, 1), else_=0)))
    recent = {
        sid: (n, int(fb or 0))
        for sid, n, fb in conn.execute(extracted.where(Article.updated_at >= since).group_by(Article.site_id))
    }
    outcomes: dict[str, dict[str, int]] = defaultdict(dict)
    states = select(UrlState.site_id, UrlState.status, func.count()).where(UrlState.updated_at >= since)
    for sid, status, n in conn.execute(states.group_by(UrlState.site_id, UrlState.status)):
        if sid is None:
            continue
        outcomes[sid][status] = n

    last_ok: dict[str, tuple[int, datetime]] = {}
    last_failed: dict[str, str] = {}  # site -> why its latest run failed it
    judged: set[str] = set()  # sites whose latest run was looked at
    requests: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # site -> [failed, all], from run accounts
    for run in runs.ended_runs(conn):
        accounts = (run["stats"] or {}).get("sites") or {}
        for sid in run["sites"] or []:
            account = accounts.get(sid) or {}
            status = account.get("status") or ("ok" if run["outcome"] == "finished" else "failed")
            if sid not in judged:
                judged.add(sid)
                if status != "ok":
                    last_failed[sid] = account.get("reason") or f"run {run['outcome']}"
            if status == "ok" and sid not in last_ok:
                last_ok[sid] = (run["id"], run["finished_at"])
            if "met" in account and run["finished_at"] >= since:
                n_failed, n_requests = fetch_counts(account)
                requests[sid][0] += n_failed
                requests[sid][1] += n_requests

    report = []
    for sid in wanted:
        n_total, last_seen, last_published = total.get(sid, (0, None, None))
        n_recent, n_fallback = recent.get(sid, (0, 0))
        states_ = outcomes.get(sid, {})
        fetched = sum(states_.values()) - states_.get("discovered", 0)
        failed = states_.get("failed", 0)
        fallback_rate = n_fallback / n_recent if n_recent else 0.0
        if sid in requests:  # the runs' accounts: network failures of discovery count too
            failed, fetched = requests[sid]
        failure_rate = failed / fetched if fetched else 0.0
        problems = []
        if sid in last_failed:
            problems.append(f"last run failed: {last_failed[sid]}")
        if sid not in last_ok:
            problems.append("no successful run")
        elif now - last_ok[sid][1] > timedelta(days=silent_days):
            problems.append(f"last successful run more than {silent_days} days ago")
        if last_seen is None:
            problems.append("no article stored")
        elif now - last_seen > timedelta(days=silent_days):
            problems.append(f"silent: no new article for {(now - last_seen).days} days")
        if fallback_rate > FALLBACK_ALERT:
            problems.append(f"extraction fallback rate {fallback_rate:.0%}")
        if failure_rate > FAILURE_ALERT:
            problems.append(f"fetch failure rate {failure_rate:.0%}")
        days_list = [(now - timedelta(days=i)).astimezone(VN_TZ).date().isoformat() for i in range(days)]
        report.append(
            {
                "site": sid,
                "articles": n_total,
                "last_successful_run": last_ok[sid][0] if sid in last_ok else None,
                "last_successful_run_at": to_vn_iso(last_ok[sid][1]) if sid in last_ok else None,
                "last_new_article_at": to_vn_iso(last_seen),
                "newest_published_at": to_vn_iso(last_published),
                "new_per_day": {d: daily[sid].get(d, 0) for d in sorted(days_list)},
                "new_last_7_days": sum(daily[sid].get(d, 0) for d in days_list[:7]),
                "fallback_rate": round(fallback_rate, 4),
                "failure_rate": round(failure_rate, 4),
                "url_states": dict(sorted(states_.items())),
                "last_run_failed": last_failed.get(sid),
                "problems": problems,
            }
        )
    return report


def fetch_counts(account: dict[str, Any]) -> tuple[int, int]:
    """(failed, all) requests of one site in one run: article URLs taken up and discovery requests."""
    settled = sum(sum((account.get(cls) or {}).values()) for cls in ("stored", "dropped", "failed"))
    sources = account.get("sources") or {}
    sources_failed = sum((sources.get("failed") or {}).values())
    failed = sum((account.get("failed") or {}).values()) + sources_failed
    return failed, settled + sources_failed + int(sources.get("ok", 0))
