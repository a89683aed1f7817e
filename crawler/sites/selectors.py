"""Per-site selectors: what a registry entry may override of its family's CSS selectors, and the
template versions a site went through (each with the date it ended), so one site's fix stays with that
site and archive pages of an old template keep parsing after a redesign.

Kept free of the parsers (and of trafilatura) so that loading the registry stays light."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from cssselect import HTMLTranslator
from pydantic import BaseModel, ConfigDict, Field, field_validator

# The selector lists a site may override, as named in the registry; `junk` lists boxes removed from the
# body container before it is read (ads, related boxes the shared junk rules do not recognise).
SELECTOR_FIELDS = ("title", "sapo", "body", "byline", "date", "section", "tags", "junk")
# cssselect's own translator: it refuses parsel's pseudo-elements (::text, ::attr), which select text,
# not the elements the parsers read.
_TRANSLATOR = HTMLTranslator()


def css_problem(query: str) -> str | None:
    """Why ``query`` is not a usable CSS selector, or None."""
    if not query.strip():
        return "an empty selector"
    try:
        _TRANSLATOR.css_to_xpath(query)
    except Exception as exc:  # cssselect raises SelectorSyntaxError and ExpressionError
        return f"{query!r} is not a valid CSS selector: {exc}"
    return None


class Selectors(BaseModel):
    """CSS selectors of one site (or one of its template versions); a field given here replaces the
    family's list for that field, in the same place of the parsing flow; fields left out keep the
    family's shared defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: tuple[str, ...] | None = None
    sapo: tuple[str, ...] | None = None
    body: tuple[str, ...] | None = None
    byline: tuple[str, ...] | None = None
    date: tuple[str, ...] | None = None
    section: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    junk: tuple[str, ...] | None = None

    @field_validator(*SELECTOR_FIELDS, mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator(*SELECTOR_FIELDS)
    @classmethod
    def _valid_css(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        problems = [p for p in (css_problem(q) for q in value) if p]
        if problems:
            raise ValueError("; ".join(problems))
        return tuple(q.strip() for q in value)

    def given(self) -> dict[str, tuple[str, ...]]:
        """The overridden fields and their selectors."""
        return {name: getattr(self, name) for name in SELECTOR_FIELDS if getattr(self, name) is not None}

    def __bool__(self) -> bool:
        return bool(self.given())


class TemplateVersion(BaseModel):
    """An earlier template of a site: its selectors applied to pages dated up to ``valid_until``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    valid_until: date
    selectors: Selectors = Field(default_factory=Selectors)
    note: str | None = None


def ordered_templates(templates: list[TemplateVersion]) -> list[TemplateVersion]:
    """Oldest first; two versions ending on the same day are a mistake."""
    ordered = sorted(templates, key=lambda t: t.valid_until)
    for older, newer in pairwise(ordered):
        if older.valid_until == newer.valid_until:
            raise ValueError(f"two template versions end on {older.valid_until}")
    return ordered


def template_on(templates: list[TemplateVersion], when: date | None) -> TemplateVersion | None:
    """The earlier template a page dated ``when`` was published with; None: the current one (or undated)."""
    if when is not None:
        for version in templates:  # oldest first
            if when <= version.valid_until:
                return version
    return None
