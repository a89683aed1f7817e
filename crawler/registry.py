"""The site registry: `config/sites.toml`, validated into `Site` objects at start-up."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

FAMILIES = ("post", "a-id", "yyyymm", "htm-id", "html-id", "generic")
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SITES_FILE = REPO_ROOT / "config" / "sites.toml"


class RegistryError(ValueError):
    """The registry file is missing, unreadable or invalid; the message names the site and key."""


class Site(BaseModel):
    """One news site: where to find its articles and how to parse them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    province: str
    base_url: str
    family: Literal["post", "a-id", "yyyymm", "htm-id", "html-id", "generic"]
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
    province_old: str | None = None
    years: str | None = None
    verified: bool = True
    note: str | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("article_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    @field_validator("pagination")
    @classmethod
    def _has_page_number(cls, value: str | None) -> str | None:
        if value is not None and "{n}" not in value:
            raise ValueError("must contain the page number placeholder {n}")
        return value

    @property
    def domain(self) -> str:
        return re.sub(r"^https?://", "", self.base_url).split("/")[0].lower()

    def is_article_url(self, url: str) -> bool:
        return re.search(self.article_pattern, url) is not None


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
            sites.append(Site.model_validate(entry))
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
