"""The canary's report of one site: what each source and article check found, each field judged over
the checked articles, the site's problems and verdict, its text and JSON forms, and which failures alert
(the exit status of `provnews canary`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from provnews.crawler.parsers import ArticleFields
from provnews.crawler.sites.registry import Site

FIELDS = ("title", "text", "authors", "published_at", "dateline")
MIN_TEXT_CHARS = 150  # as the validate pipeline's default (PROVNEWS_MIN_TEXT_CHARS)
FALLBACK = "the family's body selector found nothing, so the whole-page fallback ran"

FieldState = Literal["ok", "warn", "fail", "skip"]


@dataclass
class SourceCheck:
    """One fetch of robots.txt or a discovery source."""

    kind: str  # robots.txt, sitemap, feed, listing, listing page 2
    url: str
    ok: bool
    http_status: int | None = None
    article_urls: int = 0
    reason: str | None = None


@dataclass
class ArticleCheck:
    url: str
    http_status: int | None = None
    error: str | None = None  # why the page could not be fetched or extracted at all
    values: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # field -> reason
    sources: dict[str, str] = field(default_factory=dict)  # field -> the selector that produced it
    saved: str | None = None  # the folder of the evaluation case written by --save


@dataclass
class FieldCheck:
    """A field over the checked articles: fail when it failed on most of them, warn on fewer."""

    field: str
    state: FieldState
    failed: int = 0
    checked: int = 0
    reason: str | None = None
    source: str | None = None  # the selector that produced it on most checked articles


@dataclass
class SiteReport:
    site: str
    name: str
    status: str  # the registry status: active, archive, unknown
    verified: bool
    ok: bool = False
    sources: list[SourceCheck] = field(default_factory=list)
    articles: list[ArticleCheck] = field(default_factory=list)
    fields: list[FieldCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    checked_on: str = field(default_factory=lambda: date.today().isoformat())  # for verified_on

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- judging -----------------------------------------------------------------------------------------
def expects(site: Site, name: str) -> bool:
    """Whether a field is checked on the site: the dateline only when the registry gives its code."""
    return name != "dateline" or site.dateline is not None


def field_problems(fields: ArticleFields, site: Site, min_text_chars: int = MIN_TEXT_CHARS) -> dict[str, str]:
    """Field -> why it failed, for one extracted article."""
    problems: dict[str, str] = {}
    text = fields.text
    if not fields.title.strip():
        problems["title"] = "no title found"
    if fields.fallback:
        problems["text"] = FALLBACK
    elif not text.strip():
        problems["text"] = "empty text"
    elif len(text) < min_text_chars:
        problems["text"] = f"text too short ({len(text)} < {min_text_chars} characters)"
    if not fields.authors:
        problems["authors"] = "no byline or author found"
    if not fields.published_at:
        problems["published_at"] = "no publication date found"
    expected = site.dateline
    if expected and (fields.dateline or "").casefold() != expected.casefold():
        found = repr(fields.dateline) if fields.dateline else "none"
        problems["dateline"] = f"expected {expected!r}, found {found}"
    return problems


# Which recorded parser source (ArticleFields.field_sources) stands behind each reported field.
_SOURCE_OF = {"title": "title", "text": "text", "authors": "byline", "published_at": "published_at"}


def field_sources(fields: ArticleFields) -> dict[str, str]:
    """Reported field -> "site <css>", "family <css>" or "fallback <how>" (the dateline is read from
    the sapo, or from the first paragraph when there is none)."""
    recorded = fields.field_sources
    found = {name: recorded[key] for name, key in _SOURCE_OF.items() if key in recorded}
    lead = recorded.get("sapo") or recorded.get("text")
    if fields.dateline and lead:
        found["dateline"] = lead
    return found


def summarise_fields(checked: list[ArticleCheck], site: Site) -> list[FieldCheck]:
    """Each field over the checked articles, with its most common reason of failure."""
    results = []
    for name in FIELDS:
        result = FieldCheck(name, "ok", checked=len(checked))
        reasons = Counter(a.problems[name] for a in checked if name in a.problems)
        result.failed = sum(reasons.values())
        sources = Counter(a.sources[name] for a in checked if name in a.sources)
        result.source = sources.most_common(1)[0][0] if sources else None
        if not expects(site, name):
            seen = sorted({str(a.values["dateline"]) for a in checked if a.values.get("dateline")})
            result.state = "skip"
            result.reason = "no dateline code in the registry" + (
                f"; the articles show {', '.join(seen)}" if seen else ""
            )
        elif not checked:
            result.state, result.reason = "fail", "no article could be checked"
        elif reasons:
            reason, count = reasons.most_common(1)[0]
            result.state = "fail" if 2 * result.failed > len(checked) else "warn"
            result.reason = f"{reason} ({count}/{len(checked)} articles)"
        results.append(result)
    return results


def conclude(report: SiteReport, site: Site, found_articles: bool) -> None:
    """Fill in the fields, the problems (failed sources, then articles, then broken fields) and the
    verdict, once the sources and articles are checked; `found_articles`: any article URL was found."""
    report.fields.extend(summarise_fields(report.articles, site))
    problems = [f"{s.kind} {s.url}: {s.reason}" for s in report.sources if not s.ok]
    robots_failed = any(s.kind == "robots.txt" and not s.ok for s in report.sources)
    if not found_articles and not robots_failed:  # a failed robots.txt already says why
        problems.append("articles: no article URLs found in any discovery source")
    if found_articles and all(a.error is not None for a in report.articles):
        problems.append("articles: none of the newest articles could be fetched or extracted")
    if report.articles:  # with no article checked, the source problems above say why
        problems += [f"{f.field}: {f.reason}" for f in report.fields if f.state == "fail"]
    report.problems.extend(problems)
    report.ok = not report.problems


def failing(reports: list[SiteReport], named: Iterable[str] = ()) -> list[SiteReport]:
    """The failures cron must alert on: failed active sites, and failed sites named explicitly."""
    names = set(named)
    return [r for r in reports if not r.ok and (r.status == "active" or r.site in names)]


# -- text --------------------------------------------------------------------------------------------
MARK = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "-"}


def format_report(report: SiteReport) -> str:
    """A site's report as text: verdict, each source and each field, with reasons."""
    verdict = "ok" if report.ok else "FAIL"
    lines = [f"{report.site} ({report.name}, {report.status}): {verdict}"]
    for source in report.sources:
        found = f", {source.article_urls} article URLs" if source.article_urls else ""
        reason = f": {source.reason}" if source.reason else ""
        status = f"HTTP {source.http_status}" if source.http_status is not None else "no answer"
        lines.append(
            f"  {'ok  ' if source.ok else 'FAIL'} {source.kind:<14} {source.url} ({status}{found}){reason}"
        )
    for article in report.articles:
        trouble = article.error or ", ".join(article.problems)
        lines.append(
            f"  {'ok  ' if not trouble else 'FAIL'} {'article':<14} {article.url}"
            + (f": {trouble}" if trouble else "")
        )
    for result in report.fields:
        said = [result.reason] if result.reason else []
        said += [f"from {result.source}"] if result.source else []
        lines.append(f"  {MARK[result.state]:<4} {result.field:<14} {'; '.join(said)}".rstrip())
    if report.ok and report.articles:
        change = "verified = true, " if not report.verified else ""
        lines.append(f"  all checks passed: the entry can say {change}verified_on = {report.checked_on}")
    return "\n".join(lines)
