"""Shared rendering helpers: template loading, URLs, dates, escaping."""

from __future__ import annotations

import html
import json
import re
import string
from datetime import datetime
from functools import cache
from pathlib import Path

from provnews.crawler.replica import content as C
from provnews.crawler.replica.sitegen import PAGE_SIZE, Article, SiteModel

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
PIXEL = "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="
BODY_CLASSES = {
    ("post", 1): "article__body zce-content-body cms-body",
    ("post", 2): "article__content zce-body-v2 cms-content",
    ("a-id", 1): "content-fck slider-jsgallery",
    ("a-id", 2): "content-editor slider-jsgallery",
}


@cache
def template(name: str) -> string.Template:
    return string.Template((TEMPLATE_DIR / name).read_text(encoding="utf-8"))


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def compact(dt: datetime) -> str:
    """2025-06-17T13:43:02+0700 (the post CMS offset style, no colon)."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S%z")


def display(dt: datetime) -> str:
    return dt.strftime("%d/%m/%Y %H:%M")


def json_ld(data: dict[str, object]) -> str:
    return '<script type="application/ld+json">' + json.dumps(data, ensure_ascii=False) + "</script>"


class BaseRenderer:
    """Knows a site's URLs; subclasses render the family's pages."""

    family = ""
    page_param = "page"

    def __init__(self, model: SiteModel, base_url: str) -> None:
        self.model = model
        self.spec = model.spec
        self.base = base_url.rstrip("/")

    # ---- URLs -------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base + path

    def article_url(self, art: Article) -> str:
        return self.url(art.path(self.model.family))

    def section_path(self, slug: str) -> str:
        return f"/{slug}/"

    def tag_path(self, tag: str) -> str:
        raise NotImplementedError

    def page_url(self, list_path: str, page: int) -> str:
        return self.url(list_path) + ("" if page == 1 else f"?{self.page_param}={page}")

    def thumb(self, art: Article) -> str:
        images = art.images
        if images:
            return self.url(images[0].src)
        prefix = "/images/thumb/" if self.model.family == "post" else "/image/news/thumb/"
        return self.url(f"{prefix}{art.id}.jpg")

    def link_tags(self, fragment: str) -> str:
        return re.sub(
            r'href="tag:([^"]*)"',
            lambda m: f'href="{esc(self.url(self.tag_path(html.unescape(m.group(1)))))}"',
            fragment,
        )

    def body_class(self, art: Article) -> str:
        """The body container's class: the site's template version, or the era's after a redesign."""
        version = self.model.template_version
        if self.model.redesigned_at is not None:
            version = 2 if art.published >= self.model.redesigned_at else 1
        return BODY_CLASSES[(self.model.family, version)]

    @property
    def updated(self) -> str:
        newest = max(a.modified for a in self.model.articles)
        return newest.strftime("%H:%M %d/%m/%Y")

    @property
    def province_full(self) -> str:
        return C.PROVINCES[self.spec.province].full

    @property
    def paper(self) -> str:
        return self.spec.name

    # ---- pages ------------------------------------------------------------------------------
    def pages(self, articles: list[Article]) -> int:
        return max(1, -(-len(articles) // PAGE_SIZE))

    def page_slice(self, articles: list[Article], page: int) -> list[Article] | None:
        if page < 1 or page > self.pages(articles):
            return None
        return articles[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]

    def layout(self, **values: str) -> str:
        raise NotImplementedError

    def article_page(self, art: Article) -> str:
        raise NotImplementedError

    def listing_page(
        self, name: str, list_path: str, articles: list[Article], page: int, forbidden_link: bool = False
    ) -> str | None:
        raise NotImplementedError

    def home_page(self) -> str:
        page = self.listing_page("Tin mới nhất", "/", self.model.articles[:10], 1, forbidden_link=False)
        assert page is not None
        return page

    def static_page(self, heading: str, paragraphs: list[str]) -> str:
        body = "\n".join(f"<p>{esc(p)}</p>" for p in paragraphs)
        main = template("static_page.html").substitute(heading=esc(heading), content=body)
        return self.layout(
            page_title=f"{heading} - {self.spec.display_name}",
            description=heading,
            keywords=heading,
            head_meta="",
            main=main,
            page_type="static",
            section_slug="",
        )

    def contact_page(self) -> str:
        return self.static_page(
            "Liên hệ tòa soạn",
            [
                f"{self.spec.display_name} là bản mô phỏng dùng để kiểm thử bộ thu thập provnews.",
                f"Địa chỉ: {self.spec.address}.",
                f"Đường dây nóng: {self.spec.hotline}. Email: toasoan@{self.spec.domain}.",
            ],
        )

    def not_found_page(self) -> str:
        return self.static_page("Không tìm thấy trang", ["Trang bạn tìm không tồn tại hoặc đã bị gỡ bỏ."])
