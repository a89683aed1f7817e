"""From what was discovered to a registry entry: every family parser run on a few articles (the family
whose fields come out complete is proposed, with the evidence), then the `[[site]]` entry itself
(id, name, province, discovery sources, article pattern, dateline, delay)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from provnews.crawler.canary.client import Fetched
from provnews.crawler.extraction.extract import extract_page
from provnews.crawler.onboard.discover import Discovery
from provnews.crawler.parsers import PARSERS, ArticleFields, NotAnArticle
from provnews.crawler.parsers.page import Page
from provnews.crawler.sites.provinces import OLD_PROVINCES, UNIT_OF, UNITS, nfc
from provnews.crawler.sites.registry import FAMILIES
from provnews.crawler.text.encoding import decode_html

# What "complete" means for an article: the source-format text needs its body read from the family's
# container (no whole-page fallback) and long enough, plus a title, a date and a byline.
CHECKS = ("title", "text", "published_at", "byline")
MIN_TEXT_CHARS = 150
DEFAULT_DELAY = 1.0


@dataclass
class FamilyScore:
    family: str
    complete: int = 0  # articles with every check passed
    passed: Counter[str] = field(default_factory=Counter)  # check -> articles that passed it
    own: int = 0  # fields found by the family's own selectors (not page metadata or a fallback)
    errors: Counter[str] = field(default_factory=Counter)
    datelines: Counter[str] = field(default_factory=Counter)

    def line(self, articles: int) -> str:
        checks = ", ".join(f"{c} {self.passed[c]}/{articles}" for c in CHECKS)
        errors = "; " + ", ".join(f"{e} ({n})" for e, n in self.errors.items()) if self.errors else ""
        own = f", {self.own} fields by its own selectors"
        return f"{self.family:<8} {self.complete}/{articles} complete ({checks}){own}{errors}"


def passed_checks(fields: ArticleFields) -> set[str]:
    checks = set()
    if fields.title.strip():
        checks.add("title")
    if not fields.fallback and len(fields.text) >= MIN_TEXT_CHARS:
        checks.add("text")
    if fields.published_at:
        checks.add("published_at")
    if fields.authors:
        checks.add("byline")
    return checks


def score_families(pages: list[Fetched], url_family: str | None = None) -> list[FamilyScore]:
    """Every family parser on every page, best first: most complete articles, most checks passed, the
    family whose URL shape the articles have, most fields found by the family's own selectors; the
    generic (whole-page) parser last among equals."""
    scores = []
    for family in FAMILIES:
        if family not in PARSERS:
            continue
        score = FamilyScore(family)
        for page in pages:
            try:
                fields = extract_page(page.body, page.url, family, page.content_type)
            except NotAnArticle as exc:
                score.errors[exc.reason] += 1
                continue
            except ValueError:
                score.errors["undecodable"] += 1
                continue
            checks = passed_checks(fields)
            score.passed.update(checks)
            score.own += sum(1 for source in fields.field_sources.values() if source.startswith("family "))
            score.complete += checks == set(CHECKS)
            if fields.dateline:
                score.datelines[fields.dateline] += 1
        scores.append(score)
    return sorted(
        scores,
        key=lambda s: (
            -s.complete,
            -sum(s.passed.values()),
            s.family != url_family,
            -s.own,
            s.family == "generic",
        ),
    )


@dataclass
class Proposal:
    """A registry entry for the site and why each value was chosen."""

    values: dict[str, object]
    evidence: list[str]
    complete: bool  # the proposed family read every sampled article completely
    articles: int = 0  # articles fetched and parsed to choose the family

    def toml(self) -> str:
        lines = ["[[site]]"]
        for key, value in self.values.items():
            lines.append(f"{key} = {_toml_value(key, value)}")
        return "\n".join(lines) + "\n"


def propose(
    found: Discovery,
    pages: list[Fetched],
    *,
    site_id: str | None = None,
    province: str | None = None,
    family: str | None = None,
) -> Proposal:
    evidence = list(found.evidence)
    scores = score_families(pages, found.url_family)
    evidence.append(f"families on {len(pages)} article(s), best first:")
    evidence += [f"  {s.line(len(pages))}" for s in scores]
    best = (
        next((s for s in scores if s.family == family), None) if family else (scores[0] if scores else None)
    )
    chosen = best.family if best else (found.url_family or "generic")
    complete = bool(pages) and best is not None and best.complete == len(pages)
    name = site_name(found, pages)
    unit, how = (province, "given") if province else guess_province(name)
    evidence.append(
        f"province: {unit} ({how})" if unit else "province: not found in the site's name; give --province"
    )
    dateline = None
    if best and best.datelines:
        code, seen = best.datelines.most_common(1)[0]
        if 2 * seen >= len(pages):
            dateline = code
            evidence.append(f"dateline: {code} opens {seen}/{len(pages)} sapos")
    delay = found.crawl_delay if found.crawl_delay is not None else DEFAULT_DELAY
    values: dict[str, object] = {
        "id": site_id or suggest_id(found.base_url, name),
        "name": name,
        "province": unit or "?",
        "base_url": found.base_url,
        "family": chosen,
        "feeds": found.feeds,
        "sitemaps": found.sitemaps,
        "listings": found.listings,
    }
    if found.pagination:
        values["pagination"] = found.pagination
    values["article_pattern"] = found.article_pattern or "?"
    if dateline:
        values["dateline"] = dateline
    values["delay"] = delay
    values["status"] = "active"
    values["verified"] = False
    values["note"] = (
        f"Onboarded by `provnews sites add` on {date.today().isoformat()}: sources, pattern and family "
        f"{chosen} ({best.complete if best else 0}/{len(pages)} sampled articles complete) read from the "
        "live site; run `provnews canary` before setting verified_on."
    )
    return Proposal(values, evidence, complete, len(pages))


def site_name(found: Discovery, pages: list[Fetched]) -> str:
    """og:site_name of the home page or the articles, else the part their <title>s share
    ("… - Báo Cần Thơ Online"), else the host."""
    parsed = [Page(found.home_html, found.base_url)]
    for fetched in pages:
        try:
            parsed.append(Page(decode_html(fetched.body, fetched.content_type), fetched.url))
        except ValueError:
            continue
    named = Counter(n for n in (p.meta("og:site_name") for p in parsed) if n)
    if named:
        return named.most_common(1)[0][0]
    parts: Counter[str] = Counter()
    for page in parsed:
        title = page.first_text("title") or ""
        parts.update({part.strip() for part in re.split(r"\s+[-|–]\s+", title) if part.strip()})
    shared = [(n, part) for part, n in parts.most_common() if n > 1]
    return shared[0][1] if shared else urlsplit(found.base_url).netloc


def guess_province(name: str) -> tuple[str | None, str]:
    """The unit named in the site's name (the longest match), else the unit of a former province."""
    text = nfc(name).casefold()
    units = sorted((u for u in UNITS if _named(u, text)), key=len, reverse=True)
    if units:
        return units[0], f"named in the site's name {name!r}"
    olds = sorted((p for p in OLD_PROVINCES if _named(p, text)), key=len, reverse=True)
    if olds:
        return UNIT_OF[
            olds[0]
        ], f"the site's name {name!r} names {olds[0]}, part of {UNIT_OF[olds[0]]} since 2025-07-01"
    return None, ""


def _named(place: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(place.casefold())}(?!\w)", text) is not None


def suggest_id(base_url: str, name: str) -> str:
    """The domain's first label (baogialai.com.vn → baogialai); for an IP address, the name's letters."""
    host = urlsplit(base_url).hostname or ""
    host = host.removeprefix("www.")
    if host and not re.fullmatch(r"[\d.]+|\[.*\]", host):
        return re.sub(r"[^a-z0-9_-]", "", host.split(".")[0].lower()) or "site"
    ascii_name = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    letters = re.sub(r"[^a-z0-9]", "", ascii_name.encode("ascii", "ignore").decode().lower())
    return letters or "site"


def _toml_value(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(key, v) for v in value) + "]"
    text = str(value)
    if key == "article_pattern" and "'" not in text and "\n" not in text:
        return f"'{text}'"  # a literal string: the regex as written, no escaping
    return json.dumps(text, ensure_ascii=False)  # JSON strings are valid TOML basic strings here
