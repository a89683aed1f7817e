"""HTTP serving of the replica: one ThreadingHTTPServer per site, routing, conditional requests."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from provnews.crawler.replica import feeds
from provnews.crawler.replica.content import slugify
from provnews.crawler.replica.render import BaseRenderer
from provnews.crawler.replica.render_aid import AidRenderer
from provnews.crawler.replica.render_post import PostRenderer
from provnews.crawler.replica.sitegen import SECTIONS, SUBSECTIONS, Article, SiteModel

GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
    b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
HTML = "text/html; charset=utf-8"


class InFlight:
    """Requests being answered now, and the most at one moment (`with in_flight:` around each)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    last_modified: datetime | None = None


class SiteRuntime:
    """One replica site: its model, renderer, HTTP server thread and request log."""

    def __init__(self, model: SiteModel, host: str, port: int, latency: float = 0.0) -> None:
        self.model = model
        self.lock = threading.RLock()
        self.log: list[tuple[str, str, int]] = []
        self.log_lock = threading.Lock()
        self.latency = latency
        self.in_flight = InFlight()
        self.httpd = _Server((host, port), _Handler)
        self.httpd.site = self
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://{host}:{self.port}/"
        renderer_cls = PostRenderer if model.family == "post" else AidRenderer
        self.renderer: BaseRenderer = renderer_cls(model, self.base_url)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"replica-{model.spec.id}",
            daemon=True,
        )

    @property
    def base(self) -> str:
        return self.base_url.rstrip("/")

    def record(self, method: str, path: str, status: int) -> None:
        with self.log_lock:
            self.log.append((method, path, status))

    # ---- routing ----------------------------------------------------------------------------
    def respond(self, raw_path: str, headers: Any) -> tuple[Response, dict[str, str]]:
        with self.lock:
            response = self.route(raw_path)
        extra: dict[str, str] = {}
        if response.status != 200:
            return response, extra
        etag = '"' + hashlib.sha1(response.body).hexdigest()[:20] + '"'
        extra["ETag"] = etag
        if response.last_modified is not None:
            extra["Last-Modified"] = format_datetime(response.last_modified.astimezone(UTC), usegmt=True)
        if _not_modified(headers, etag, response.last_modified):
            return Response(304, b"", response.content_type, response.last_modified), extra
        return response, extra

    def route(self, raw_path: str) -> Response:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = parse_qs(parts.query)
        model, r = self.model, self.renderer
        if path == "/robots.txt":
            return _text(feeds.robots_txt(self.base, model.crawl_delay), "text/plain; charset=utf-8")
        if path == "/sitemap.xml":
            return _text(
                feeds.sitemap_index(model, self.base),
                "application/xml; charset=utf-8",
                feeds.last_modified(model.articles),
            )
        m = re.fullmatch(r"/sitemaps/news-(\d{4})-(\d{1,2})\.xml\.gz", path)
        if m and (int(m[1]), int(m[2])) in feeds.months(model):
            year, month = int(m[1]), int(m[2])
            return Response(
                200,
                feeds.sitemap_month(model, self.base, year, month),
                "application/x-gzip",
                feeds.last_modified(feeds.month_articles(model, year, month)),
            )
        feed = self.feed(path)
        if feed is not None:
            return feed
        if path.startswith(("/images/", "/image/")):
            return Response(200, GIF, "image/gif")
        if path == "/":
            return _text(r.home_page(), HTML, feeds.last_modified(model.articles[:10]))
        if path == "/lien-he.html":
            return _text(r.contact_page(), HTML)
        for art in [*model.articles, model.private]:
            if art.path(model.family) == path:
                html = r.article_page(art)
                return _text(without_dates(html) if model.undated else html, HTML, art.modified)
        listing = self.listing(path)
        if listing is not None:
            name, list_path, articles, forbidden = listing
            key = "page" if model.family == "post" else "p"
            try:
                page = int(query.get(key, ["1"])[0])
            except ValueError:
                page = 0
            body = r.listing_page(name, list_path, articles, page, forbidden_link=forbidden and page == 1)
            if body is not None:
                chunk = r.page_slice(articles, page) or []
                return _text(body, HTML, feeds.last_modified(chunk))
        return Response(404, r.not_found_page().encode("utf-8"), HTML)

    def feed(self, path: str) -> Response | None:
        model = self.model
        section: str | None
        if model.family == "post" and path == "/rss/home.rss":
            section, title = None, model.spec.display_name
        elif model.family == "a-id" and (m := re.fullmatch(r"/rss/cate/([a-z-]+)/?", path)):
            if m[1] not in dict(SECTIONS):
                return None
            section, title = m[1], f"{model.spec.display_name} - {model.section_name(m[1])}"
        else:
            return None
        articles = feeds.feed_articles(model, section)
        xml = feeds.rss(model, self.base, path, articles, title)
        return _text(xml, "application/rss+xml; charset=utf-8", feeds.last_modified(articles))

    def listing(self, path: str) -> tuple[str, str, list[Article], bool] | None:
        model = self.model
        parts = [p for p in path.split("/") if p]
        if len(parts) == 1 and parts[0] in dict(SECTIONS) and not path.endswith(".html"):
            slug = parts[0]
            return model.section_name(slug), f"/{slug}/", model.in_section(slug), slug == "thoi-su"
        if model.family == "a-id" and len(parts) == 2 and parts[0] in dict(SECTIONS):
            for sub, name in SUBSECTIONS[parts[0]]:
                if sub == parts[1]:
                    return (
                        model.subsection_name(name),
                        f"/{parts[0]}/{sub}/",
                        model.in_section(parts[0], sub),
                        False,
                    )
            return None
        if model.family == "post" and (m := re.fullmatch(r"/tu-khoa/([a-z0-9-]+)-tag(\d+)\.html", path)):
            for tag, tag_id in model.tags.items():
                if tag_id == int(m[2]) and slugify(tag) == m[1]:
                    return tag, path, [a for a in model.articles if tag in a.tags], False
        m = re.fullmatch(r"/tim-kiem/(.+)\.html", path) if model.family == "a-id" else None
        if m and m[1] in model.tags:
            tagged = [a for a in model.articles if m[1] in a.tags]
            return m[1], self.renderer.tag_path(m[1]), tagged, False
        return None


# Every date an article page shows: meta tags, JSON-LD keys, <time> elements and the a-id date span.
_DATE_MARKUP = re.compile(
    r"<meta[^>]+(?:published_time|modified_time|datePublished)[^>]*>"
    r'|"date(?:Published|Modified)":\s*"[^"]*",?'
    r"|<time\b.*?</time>"
    r'|<span class="pubdate">.*?</span>',
    re.S,
)


def without_dates(page: str) -> str:
    """An article page with its dates removed (the replica's `undated` sites)."""
    return _DATE_MARKUP.sub("", page)


def _text(text: str, content_type: str, last_modified: datetime | None = None) -> Response:
    return Response(200, text.encode("utf-8"), content_type, last_modified)


def _not_modified(headers: Any, etag: str, last_modified: datetime | None) -> bool:
    inm = headers.get("If-None-Match")
    if inm:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    ims = headers.get("If-Modified-Since")
    if ims and last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    site: SiteRuntime

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet: clients may hang up
        return


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "ReplicaHTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self, head: bool) -> None:
        site = self.server.site
        with site.in_flight:
            self._answer(site, head)

    def _answer(self, site: SiteRuntime, head: bool) -> None:
        if site.latency:
            time.sleep(site.latency)
        try:
            response, extra = site.respond(self.path, self.headers)
        except Exception:  # pragma: no cover - a bug in the replica must still answer
            response, extra = Response(500, b"internal error", "text/plain; charset=utf-8"), {}
        site.record(self.command, self.path, response.status)
        self.send_response(response.status)
        if response.status != 304:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if not head and response.status != 304:
            self.wfile.write(response.body)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)
