"""The site registry: `config/sites.toml`, validated into `Site` objects at start-up."""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from provnews.crawler.sites.patterns import compile_pattern, pattern_problem
from provnews.crawler.sites.provinces import (
    OLD_PROVINCES,
    UNIT_OF,
    UNITS,
    nfc,
    packaged_file,
    unknown_name_message,
)
from provnews.crawler.sites.selectors import Selectors, TemplateVersion, ordered_templates, template_on

# CMS families (vietnamese-sites.md §2.1); "legacy" is the old ASP.NET/Liferay CMSs of absorbed papers'
# archives. Families without a parser of their own are parsed by the generic (whole-page) parser.
Family = Literal["post", "a-id", "yyyymm", "htm-id", "html-id", "one-off", "legacy", "generic"]
FAMILIES: tuple[str, ...] = get_args(Family)
STATUSES = ("active", "archive", "unknown")
# load_sites validates with this context: registry entries must name real provinces, while Site objects
# built in code (tests, tools) may use any name.
REGISTRY_CONTEXT = {"registry": True}
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$")
SITE_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"  # also what `provnews import` accepts
# Keys holding regular expressions, checked for catastrophic backtracking and matched in linear time.
REGEX_KEYS = ("article_pattern",)
_YEARS = re.compile(r"^(\d{4}|…|\?)\s*[-–]\s*(\d{4}|…|\?)$")
DEFAULT_SITES_FILE = packaged_file("sites.toml")  # config/sites.toml, installed with the package


class RegistryError(ValueError):
    """The registry file is missing, unreadable or invalid; the message names the site and key."""


class Site(BaseModel):
    """One news site: where to find its articles and how to parse them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=SITE_ID)
    name: str
    province: str
    base_url: str
    family: Family
    feeds: list[str] = []
    sitemaps: list[str] = []
    listings: list[str] = []
    pagination: str | None = None
    max_listing_pages: int = Field(default=5, ge=1)
    article_pattern: str
    dateline: str | None = None
    delay: float = Field(default=1.0, ge=0)
    concurrency: int = Field(default=1, ge=1)
    status: Literal["active", "archive", "unknown"] = "active"
    aliases: list[str] = []
    province_old: str | None = Field(default=None, validate_default=True)
    years: str | None = Field(default=None, validate_default=True)
    verified: bool = True
    verified_on: date | None = None  # the last day a live page of the site was checked (canary)
    note: str | None = None
    selectors: Selectors = Selectors()  # this site's overrides of its family's selectors
    templates: list[TemplateVersion] = []  # earlier templates, each with the day it ended

    @field_validator("province")
    @classmethod
    def _unit(cls, value: str, info: ValidationInfo) -> str:
        value = nfc(value)
        if _in_registry(info) and value not in UNITS:
            raise ValueError(unknown_name_message(value, UNITS, "provinces and cities since 2025-07-01"))
        return value

    @field_validator("province_old")
    @classmethod
    def _old_province(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if info.data.get("status") == "archive":
                raise ValueError("an archive must name the province its paper served before 2025-07-01")
            return None
        value = nfc(value)
        if _in_registry(info):
            if value not in UNIT_OF:
                raise ValueError(unknown_name_message(value, OLD_PROVINCES, "provinces before 2025-07-01"))
            province = info.data.get("province")
            if province is not None and UNIT_OF[value] != province:
                raise ValueError(f"{value} became part of {UNIT_OF[value]}, not {province}")
        return value

    @field_validator("years")
    @classmethod
    def _year_range(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if info.data.get("status") == "archive":
                raise ValueError("an archive must give the years it covers, e.g. '2008–2025' or '…–2025'")
            return None
        match = _YEARS.match(value.strip())
        if not match:
            raise ValueError("must be a year range such as '2008–2025' or '…–2025' (… = not known)")
        first, last = (None if g in ("…", "?") else int(g) for g in match.groups())
        if first is not None and last is not None and first > last:
            raise ValueError(f"the range {first}–{last} runs backwards")
        return f"{first or '…'}–{last or '…'}"

    @field_validator("aliases")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        hosts = [v.strip().lower() for v in value]
        bad = [h for h in hosts if not _HOST.match(h)]
        if bad:
            raise ValueError(f"must be bare host names (no scheme or path), not {bad}")
        return hosts

    @field_validator("feeds", "sitemaps", "listings")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            problem = url_problem(url, relative=True)
            if problem:
                raise ValueError(f"{url!r}: {problem}")
        return value

    @field_validator("dateline")
    @classmethod
    def _dateline(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be the code as printed (e.g. 'GLO'), or left out")
        return unicodedata.normalize("NFC", value.strip()) if value else None

    @field_validator("verified")
    @classmethod
    def _unknown_is_unverified(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("status") == "unknown":
            raise ValueError("a site whose status is unknown cannot be verified; set verified = false")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        problem = url_problem(value, relative=False)
        if problem:
            raise ValueError(f"{value!r}: {problem}")
        return value if value.endswith("/") else value + "/"

    @field_validator(*REGEX_KEYS)
    @classmethod
    def _regex(cls, value: str) -> str:
        problem = pattern_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("pagination")
    @classmethod
    def _has_page_number(cls, value: str | None) -> str | None:
        if value is not None and "{n}" not in value:
            raise ValueError("must contain the page number placeholder {n}")
        return value

    @field_validator("templates")
    @classmethod
    def _template_order(cls, value: list[TemplateVersion]) -> list[TemplateVersion]:
        return ordered_templates(value)

    def template_on(self, when: date | None) -> TemplateVersion | None:
        """The earlier template in use on ``when`` (None: the current template)."""
        return template_on(self.templates, when)

    @property
    def domain(self) -> str:
        return re.sub(r"^https?://", "", self.base_url).split("/")[0].lower()

    def is_article_url(self, url: str) -> bool:
        return compile_pattern(self.article_pattern)(url)

    @property
    def hosts(self) -> tuple[str, ...]:
        """The canonical host and its aliases: URLs on any of them belong to this site."""
        return (self.domain, *self.aliases)


def url_problem(url: str, *, relative: bool) -> str | None:
    """Why a registry URL must not be fetched, or None. `relative`: a path against base_url is fine."""
    if not url.strip():
        return "must not be empty"
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        return "must not contain spaces or control characters"
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return None if relative else "must be an absolute http(s) URL"
    if parts.scheme.lower() not in ("http", "https") and (parts.scheme or not relative):
        return f"must be an http(s) URL, not {parts.scheme or 'scheme-less'}"
    if "@" in parts.netloc:
        return "must not carry a user name or password (user@host): the host would not be what it seems"
    try:
        parts.port  # noqa: B018 - raises on a port out of range or not a number
    except ValueError:
        return "has an invalid port"
    if not parts.hostname:
        return "must name a host"
    return None


def _in_registry(info: ValidationInfo) -> bool:
    context: Any = info.context
    return bool(context and context.get("registry"))


def sites_file(path: str | os.PathLike[str] | None = None) -> Path:
    """The registry path: an explicit path, else PROVNEWS_SITES_FILE, else config/sites.toml."""
    return Path(path or os.environ.get("PROVNEWS_SITES_FILE") or DEFAULT_SITES_FILE)


def load_sites(path: str | os.PathLike[str] | None = None) -> list[Site]:
    """Read and validate the registry; raise RegistryError naming the site and key on any fault."""
    file = sites_file(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegistryError(f"{file}: cannot read the site registry: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{file}: not valid TOML: {exc}") from exc
    unknown = set(data) - {"site"}
    if unknown:
        raise RegistryError(f"{file}: unknown top-level key(s) {sorted(unknown)}; use [[site]] tables")
    sites: list[Site] = []
    for index, entry in enumerate(data.get("site", []), start=1):
        label = entry.get("id", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            sites.append(Site.model_validate(entry, context=REGISTRY_CONTEXT))
        except ValidationError as exc:
            problems = "; ".join(
                f"key '{'.'.join(str(p) for p in err['loc']) or '?'}': {err['msg']}" for err in exc.errors()
            )
            raise RegistryError(f"{file}: site '{label}': {problems}") from exc
    _check_unique(file, sites)
    return sites


def _check_unique(file: Path, sites: list[Site]) -> None:
    seen_ids: set[str] = set()
    seen_domains: dict[str, str] = {}
    for site in sites:
        if site.id in seen_ids:
            raise RegistryError(f"{file}: site '{site.id}': key 'id': duplicate id")
        seen_ids.add(site.id)
        for domain in [site.domain, *site.aliases]:
            if domain in seen_domains:
                raise RegistryError(
                    f"{file}: site '{site.id}': key 'base_url/aliases': domain {domain} "
                    f"already belongs to site '{seen_domains[domain]}'"
                )
            seen_domains[domain] = site.id


def get_site(site_id: str, sites: list[Site]) -> Site:
    for site in sites:
        if site.id == site_id:
            return site
    known = ", ".join(s.id for s in sites)
    raise RegistryError(f"unknown site '{site_id}'; the registry has: {known}")
