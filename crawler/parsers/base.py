"""The base page parser: field by field, each method returns a value or None and never raises on a
missing node. Family parsers override selectors, not the flow."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import ClassVar

from provnews.crawler.parsers.body import Body, extract_body, in_junk_box, is_boilerplate, scrub
from provnews.crawler.parsers.fields import ArticleFields, NotAnArticle
from provnews.crawler.parsers.page import VISIBLE_TEXT, Page
from provnews.crawler.sites.selectors import Selectors
from provnews.crawler.text.legacy_page import repair_legacy_html
from provnews.crawler.text.vietnamese import (
    authors_from_byline,
    clean_text,
    is_byline,
    parse_iso_datetime,
    parse_vn_datetime,
    split_dateline,
    to_vn_iso,
)

_TITLE_SUFFIX = re.compile(r"\s+[-|–]\s+[^-|–]{2,60}$")
_GOOGLE_NEWS_PREFIX = re.compile(r"^Theo dõi .{0,60}?trên\s*Google News\s*", re.I)
# Registry selector names (crawler.sites.selectors) → the parser attribute each one replaces.
_ATTRIBUTES = {
    "title": "title_css",
    "sapo": "sapo_css",
    "body": "body_css",
    "byline": "byline_css",
    "date": "date_css",
    "section": "section_css",
    "tags": "tags_css",
    "junk": "junk_css",
}


class ArticleParser:
    """Whole-page parser: trafilatura on the full page, with the shared metadata rules."""

    family: ClassVar[str] = "generic"
    title_css: ClassVar[tuple[str, ...]] = ("h1",)
    sapo_css: ClassVar[tuple[str, ...]] = ()
    body_css: ClassVar[tuple[str, ...]] = ()
    byline_css: ClassVar[tuple[str, ...]] = ()  # a byline element outside the body, if the CMS has one
    byline_classes: ClassVar[tuple[str, ...]] = ()  # classes that mark the byline block inside the body
    date_css: ClassVar[tuple[str, ...]] = ()  # visible date text, day-first
    section_css: ClassVar[tuple[str, ...]] = ()
    tags_css: ClassVar[str | None] = None
    junk_css: ClassVar[tuple[str, ...]] = ()  # boxes removed from the body container before reading
    # The lead is the body's first paragraph when it is all bold (<p><strong>…</strong></p>), as on
    # baodaklak, baotuyenquang and baocaobang.
    sapo_strong_lead: ClassVar[bool] = False

    def __init__(self) -> None:
        self.sources: dict[str, str] = {}  # field -> the selector (or fallback) that produced it
        self.overridden: set[str] = set()  # selector names the site overrides

    def parse(self, html: str, url: str, selectors: Selectors | None = None) -> ArticleFields:
        """The page's fields; ``selectors``: the site's overrides of the family's selectors."""
        return self.configured(selectors)._parse(html, url)

    def configured(self, selectors: Selectors | None) -> ArticleParser:
        """A copy for one page: the site's selectors in place of the family's, and a record of which
        selector produced each field (``ArticleFields.field_sources``)."""
        run = copy.copy(self)
        run.sources = {}
        run.overridden = set()
        for name, queries in (selectors.given() if selectors else {}).items():
            value: object = ", ".join(queries) if name == "tags" else queries
            setattr(run, _ATTRIBUTES[name], value)
            run.overridden.add(name)
        return run

    def page_date(self, html: str, url: str, selectors: Selectors | None = None) -> datetime | None:
        """The publication date alone (to pick a site's template version before parsing)."""
        return self.configured(selectors).published(Page(html, url))[0]

    def found(self, field: str, selector: str, query: str) -> None:
        """Record that ``field`` came from ``query``, one of the selectors named ``selector``."""
        self.sources[field] = f"{'site' if selector in self.overridden else 'family'} {query}"

    def fell_back(self, field: str, how: str) -> None:
        self.sources[field] = f"fallback {how}"

    def _parse(self, html: str, url: str) -> ArticleFields:
        html, legacy = repair_legacy_html(html)  # before any cleaning (TCVN3 "ư" is a soft hyphen)
        page = Page(html, url)
        title = self.title(page)
        body, fallback = self.body(page)
        sapo = self.sapo(page, body.paragraphs)
        paragraphs = self.assemble(sapo, body)
        if not paragraphs:
            raise NotAnArticle("no article text found")
        if not title:
            raise NotAnArticle("no title found")
        byline = self.byline(page, body, paragraphs)
        if byline and paragraphs[-1] != byline:
            paragraphs.append(byline)
        lead = sapo or paragraphs[0]
        dateline, _ = split_dateline(lead)
        published, source = self.published(page)
        modified = self.modified(page)
        fields = ArticleFields(
            url=url,
            canonical_url=self.canonical_url(page),
            title=title,
            text="\n\n".join(paragraphs),
            sapo=sapo,
            byline=byline,
            authors=authors_from_byline(byline) if byline else [],
            published_at=to_vn_iso(published) if published else None,
            modified_at=to_vn_iso(modified) if modified else None,
            date_source=source,
            section=self.section(page),
            tags=self.tags(page),
            images=body.images,
            dateline=dateline,
            language=page.language,
            family=self.family,
            fallback=fallback,
            encoding_repair=legacy,
            field_sources=dict(self.sources),
        )
        return fields

    # -- fields -------------------------------------------------------------------------------
    def title(self, page: Page) -> str | None:
        og = page.meta("og:title")
        if og:
            self.fell_back("title", "meta og:title")
            return og
        for query in self.title_css:
            titles = page.texts(query)
            if titles:
                self.found("title", "title", query)
                return titles[-1]  # the first <h1> can be a breadcrumb
        raw = page.first_text("title")
        self.fell_back("title", "<title>")
        return _TITLE_SUFFIX.sub("", raw) if raw else None

    def canonical_url(self, page: Page) -> str:
        canonical = page.link("canonical")
        if canonical and canonical.startswith("http"):
            return canonical
        og = page.meta("og:url")
        return og if og and og.startswith("http") else page.url

    def body(self, page: Page) -> tuple[Body, bool]:
        """The body of the family's container, or of the whole page when selectors find nothing."""
        for query in self.body_css:
            nodes = page.sel.css(query)
            if not nodes:
                continue
            body = extract_body(nodes[0].root, page.url, self.byline_classes, junk_css=self.junk_css)
            if body.paragraphs:
                self.found("text", "body", query)
                return body, False
            break  # as before: only the first container found is read
        self.fell_back("text", "whole page")
        whole = page.first_node("body")
        if whole is None:
            return Body(), bool(self.body_css)
        return extract_body(whole.root, page.url, self.byline_classes, scoped=False), bool(self.body_css)

    def sapo(self, page: Page, paragraphs: list[str]) -> str | None:
        for query in self.sapo_css:
            text = page.first_text(query)
            if text:
                text = scrub(_GOOGLE_NEWS_PREFIX.sub("", text))
                if text and not is_boilerplate(text):
                    self.found("sapo", "sapo", query)
                    return text
        if self.sapo_strong_lead and paragraphs:
            lead = self.strong_lead(page, paragraphs[0])
            if lead:
                self.fell_back("sapo", "bold first paragraph")
            return lead
        return None

    def strong_lead(self, page: Page, first: str) -> str | None:
        """``first`` when the container's first text paragraph is entirely bold."""
        node = page.first_node(*self.body_css)
        if node is None:
            return None
        for p in node.css("p"):
            text = clean_text(" ".join(p.xpath(VISIBLE_TEXT).getall()))
            if not text:
                continue
            bold = clean_text(" ".join(p.xpath("(.//strong|.//b)//text()").getall()))
            return first if bold == text and scrub(text) == first else None
        return None

    def assemble(self, sapo: str | None, body: Body) -> list[str]:
        paragraphs = list(body.paragraphs)
        if sapo:
            if paragraphs and paragraphs[0] == sapo:
                paragraphs.pop(0)
            paragraphs.insert(0, sapo)
        return paragraphs

    def byline(self, page: Page, body: Body, paragraphs: list[str]) -> str | None:
        for query in self.byline_css:
            outside = page.first_text(query)
            if outside:
                if is_byline(outside, strict=False):
                    self.found("byline", "byline", query)
                    return outside
                break  # as before: only the first element found is considered
        if len(paragraphs) < 2:
            return None
        last = paragraphs[-1]
        if body.byline and body.byline == last and is_byline(last, strict=False):
            self.fell_back("byline", "byline block at the end of the body")
            return last
        if is_byline(last, strict=True):
            self.fell_back("byline", "byline-shaped last paragraph")
            return last
        return None

    def published(self, page: Page) -> tuple[datetime | None, str | None]:
        candidates = [
            ("meta:article:published_time", page.meta("article:published_time")),
            ("meta:datePublished", page.meta("datePublished")),
            ("json-ld:datePublished", _as_str(page.jsonld_value("datePublished"))),
            (
                "time[datetime]",
                page.sel.css(".article__meta time::attr(datetime), header time::attr(datetime)").get(),
            ),
        ]
        best: tuple[datetime | None, str | None] = (None, None)
        for source, value in candidates:
            parsed = parse_iso_datetime(value) if value else None
            if parsed and _has_time(value or ""):
                self.fell_back("published_at", source)
                return parsed, source
            if parsed and best[0] is None:
                best = (parsed, source)  # date only: keep looking for a time of day
        visible = self.visible_date(page)
        if visible:
            return visible, "visible:" + ",".join(self.date_css)
        if best[1]:
            self.fell_back("published_at", best[1])
        return best

    def visible_date(self, page: Page) -> datetime | None:
        for query in self.date_css:
            for node in page.sel.css(query):
                if in_junk_box(node.root):
                    continue  # a related-news list or the footer carries other dates
                text = clean_text(" ".join(node.xpath(VISIBLE_TEXT).getall()))
                parsed = parse_vn_datetime(text) if text else None
                if parsed:
                    self.found("published_at", "date", query)
                    return parsed
        return None

    def modified(self, page: Page) -> datetime | None:
        for value in (
            page.meta("article:modified_time"),
            page.meta("dateModified"),
            _as_str(page.jsonld_value("dateModified")),
        ):
            parsed = parse_iso_datetime(value) if value else None
            if parsed:
                return parsed
        return None

    def section(self, page: Page) -> str | None:
        for query in self.section_css:
            levels = page.texts(query)
            if levels:
                self.found("section", "section", query)
                return levels[-1]  # the deepest breadcrumb level
        section = page.meta("article:section") or _jsonld_breadcrumb(page)
        if section:
            self.fell_back("section", "page metadata")
        return section

    def tags(self, page: Page) -> list[str]:
        found = [clean_text(t.lstrip("#")) for t in page.texts(self.tags_css)] if self.tags_css else []
        if found and self.tags_css:
            self.found("tags", "tags", self.tags_css)
        else:
            keywords = page.meta("article:tag", "news_keywords") or ""
            found = [clean_text(t) for t in keywords.split(",")]
            if any(found):
                self.fell_back("tags", "meta keywords")
        unique: list[str] = []
        for tag in found:
            if tag and tag not in unique:
                unique.append(tag)
        return unique


def _jsonld_breadcrumb(page: Page) -> str | None:
    """The last level of a JSON-LD BreadcrumbList, if the page has one."""
    for obj in page.jsonld():
        items = obj.get("itemListElement") if obj.get("@type") == "BreadcrumbList" else None
        if isinstance(items, list) and items and isinstance(items[-1], dict):
            last = items[-1]
            item = last.get("item")
            name = last.get("name") or (item.get("name") if isinstance(item, dict) else None)
            if isinstance(name, str) and clean_text(name):
                return clean_text(name)
    return None


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _has_time(value: str) -> bool:
    return bool(re.search(r"\d{1,2}:\d{2}", value))
