"""Bounded discovery (issue 17 item 2): sitemaps and feeds parsed streaming in a thread, with limits on
URLs per document, sitemap index depth and documents per run, each counted when hit; resumed URLs
honour --max-articles. A hostile sitemap server on 127.0.0.1 serves the cases."""

from __future__ import annotations

import gzip
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from provnews.crawler.discovery.sources import listing_links, read_feed, read_sitemap
from provnews.crawler.runs.crawl_state import CrawlState
from provnews.storage.api import Storage
from tests.helpers import run

ARTICLE = """<html><head><title>{title}</title>
<meta property="article:published_time" content="2025-09-03T08:00:00+07:00"></head>
<body><h1>{title}</h1><p>{text}</p><p>{text}</p></body></html>"""
TEXT = "Sáng nay, tỉnh tổ chức hội nghị tổng kết công tác năm và triển khai nhiệm vụ trọng tâm năm tới. " * 2


class HostileSitemaps(ThreadingHTTPServer):
    """Sitemap shapes that never end or are very large; every request logged with its time."""

    daemon_threads = True
    big_urls = 60_000

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.log: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self._big: bytes | None = None
        self.flat_served = 0
        self.streaming = threading.Event()  # set once this server has served 5 article pages
        self.gate: threading.Event | None = None  # the big sitemap waits for it before it is served

    @staticmethod
    def sitemap(root: str, entry: str, locs: list[str]) -> bytes:
        """A sitemap (`urlset`, `url`) or sitemap index (`sitemapindex`, `sitemap`) of these locations."""
        entries = "".join(f"<{entry}><loc>{loc}</loc></{entry}>" for loc in locs)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</{root}>'
        ).encode()

    def urlset(self, urls: list[str]) -> bytes:
        return self.sitemap("urlset", "url", urls)

    def index(self, locs: list[str]) -> bytes:
        return self.sitemap("sitemapindex", "sitemap", locs)

    def big(self) -> bytes:
        if self._big is None:
            urls = [f"{self.base}/big-{n}-post{n}.html" for n in range(self.big_urls)]
            self._big = gzip.compress(self.urlset(urls), compresslevel=1)
        return self._big

    def route(self, path: str) -> tuple[int, bytes, str]:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        xml = "application/xml"
        if parts.path == "/robots.txt":
            return 200, b"User-agent: *\nAllow: /\n", "text/plain"
        if parts.path == "/index":  # index -> index?k=2 -> index?k=3 -> ... forever
            k = int(query.get("k", ["1"])[0])
            return 200, self.index([f"{self.base}/index?k={k + 1}", f"{self.base}/urls?k={k}"]), xml
        if parts.path == "/urls":
            k = int(query.get("k", ["1"])[0])
            return 200, self.urlset([f"{self.base}/chain-{k}-post{k}.html"]), xml
        if parts.path == "/many":  # an index of 40 small sitemaps
            return 200, self.index([f"{self.base}/urls?k={k}" for k in range(1, 41)]), xml
        if parts.path == "/big.xml.gz":
            if self.gate is not None:
                self.gate.wait(60)
            return 200, self.big(), "application/x-gzip"
        if parts.path == "/flat.xml":
            return 200, self.urlset([f"{self.base}/flat-{n}-post{n}.html" for n in range(1, 121)]), xml
        if m := re.fullmatch(r"/(\w+)-(\d+)-post\d+\.html", parts.path):
            with self.lock:
                self.flat_served += m[1] == "flat"
                if self.flat_served >= 5:
                    self.streaming.set()
            time.sleep(0.02)
            page = ARTICLE.format(title=f"Bài {m[1]} số {m[2]}", text=TEXT)
            return 200, page.encode(), "text/html; charset=utf-8"
        return 404, b"not found", "text/plain"


class _Handler(BaseHTTPRequestHandler):
    server: HostileSitemaps

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        status, body, content_type = self.server.route(self.path)
        with self.server.lock:  # when the answer leaves
            self.server.log.append((time.monotonic(), self.path))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve() -> Iterator[HostileSitemaps]:
    server = HostileSitemaps()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileSitemaps]:
    yield from serve()


@pytest.fixture(scope="module")
def second() -> Iterator[HostileSitemaps]:
    """Another site, on its own port."""
    yield from serve()


def registry(tmp_path: Path, base: str, sitemaps: list[str], site_id: str = "baohostile") -> Path:
    path = tmp_path / f"{site_id}.toml"
    listed = ", ".join(f'"{base}{s}"' for s in sitemaps)
    path.write_text(
        f"""
[[site]]
id = "{site_id}"
name = "Báo thử"
province = "Gia Lai"
base_url = "{base}/"
family = "post"
sitemaps = [{listed}]
article_pattern = '-post\\d+\\.html$'
delay = 0
concurrency = 4
""",
        encoding="utf-8",
    )
    return path


def crawl(db: str, sites_file: Path, *extra: str) -> tuple[dict[str, Any], str]:
    result = run(["provnews", "--db", db, "crawl", "--sites-file", str(sites_file), *extra], timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    with Storage.open(db) as storage:
        return storage.runs(limit=1)[0]["stats"], result.stdout


def requested(hostile: HostileSitemaps, prefix: str) -> list[str]:
    with hostile.lock:
        return [path for _, path in hostile.log if path.startswith(prefix)]


def test_an_endless_sitemap_index_chain_stops_at_the_depth_limit(
    hostile: HostileSitemaps, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'chain.sqlite3'}"
    stats, out = crawl(db, registry(tmp_path, hostile.base, ["/index"]), "-s", "PROVNEWS_SITEMAP_MAX_DEPTH=4")
    # the registry's index (depth 0) and its nested indexes down to depth 4; the fifth level refused
    assert len(requested(hostile, "/index")) == 5
    assert stats["discovery_limits"] == {"sitemap_depth": 1}
    assert "discovery limits:  {'sitemap_depth': 1}" in out
    assert stats["articles_new"] == 4  # the articles the walked levels listed were still taken


def test_documents_per_run_are_capped_and_counted(hostile: HostileSitemaps, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'many.sqlite3'}"
    before = len(requested(hostile, "/urls"))
    stats, _ = crawl(
        db, registry(tmp_path, hostile.base, ["/many"]), "-s", "PROVNEWS_DISCOVERY_MAX_DOCUMENTS=10"
    )
    assert len(requested(hostile, "/urls")) - before == 9  # 10 documents: the index and 9 sitemaps
    assert stats["discovery_limits"] == {"documents": 1}
    assert stats["articles_new"] == 9


def test_urls_per_document_are_capped_and_counted(hostile: HostileSitemaps, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'flat.sqlite3'}"
    stats, _ = crawl(
        db, registry(tmp_path, hostile.base, ["/flat.xml"]), "-s", "PROVNEWS_DISCOVERY_MAX_URLS=50"
    )
    assert stats["discovery_limits"] == {"document_urls": 1}
    assert stats["articles_new"] == 50


def test_resumed_urls_honour_max_articles(hostile: HostileSitemaps, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'resume.sqlite3'}"
    sites_file = registry(tmp_path, hostile.base, ["/flat.xml"])
    stats, _ = crawl(db, sites_file, "--max-articles", "5")
    assert stats["articles_new"] == 5
    # 115 URLs wait as "discovered"; the next run with a cap of 7 takes 7 of them, no more
    no_sources = registry(tmp_path, hostile.base, [])
    before = len(requested(hostile, "/flat-"))
    stats, _ = crawl(db, no_sources, "--max-articles", "7")
    assert len(requested(hostile, "/flat-")) - before == 7
    assert stats["articles_new"] == 7 and stats["pending_resumed"] == 7
    # and a run without a cap takes the rest, 20 at a time (each next page when the crawl runs dry)
    stats, _ = crawl(db, no_sources, "-s", "PROVNEWS_RESUME_PAGE=20")
    assert stats["articles_new"] == 108
    with Storage.open(db) as storage:
        assert storage.count_articles() == 120


def test_a_large_sitemap_is_parsed_without_blocking_other_requests(
    hostile: HostileSitemaps, second: HostileSitemaps, tmp_path: Path
) -> None:
    """While a 60,000-URL sitemap is parsed and its URLs admitted, another site's requests go on."""
    db = f"sqlite:///{tmp_path / 'big.sqlite3'}"
    big = registry(tmp_path, hostile.base, ["/big.xml.gz"], site_id="baobig")
    other = registry(tmp_path, second.base, ["/flat.xml"], site_id="baoother")
    both = tmp_path / "both.toml"
    # the other site, one request at a time with a small delay: a steady stream of requests
    other_text = other.read_text(encoding="utf-8").replace("delay = 0", "delay = 0.05")
    other_text = other_text.replace("concurrency = 4", "concurrency = 1")
    both.write_text(big.read_text(encoding="utf-8") + other_text, encoding="utf-8")

    # Every URL of the big sitemap is known as gone but one in each thousand: the requests for those
    # sixty mark the progress of the sitemap's reading, from its first part to its last.
    def url(n: int) -> str:
        return f"{hostile.base}/big-{n}-post{n}.html"

    with Storage.open(db) as storage:
        storage.mark_urls([(url(n), "baobig", "gone", "http_404") for n in range(60_000) if n % 1000])
    hostile.big()  # built before the crawl starts
    hostile.gate = second.streaming  # the big sitemap is served once the other site is under way
    try:
        crawl(db, both, "-s", "PROVNEWS_DISCOVERY_MAX_URLS=100000")
    finally:
        hostile.gate = None
    with hostile.lock, second.lock:
        big_log, other_log = list(hostile.log), list(second.log)
    served = next(t for t, path in big_log if path == "/big.xml.gz")
    marks = [t for t, path in big_log if re.fullmatch(r"/big-\d+-post\d+\.html", path)]
    assert len(marks) == 60
    # From the moment the sitemap is served to the first request it leads to, it is parsed (and its
    # first thousand URLs admitted): in the reactor thread, that would freeze the other site's stream.
    during = [path for t, path in other_log if served < t < min(marks) and path.startswith("/flat-")]
    assert len(during) >= 5, (min(marks) - served, during)
    # and the other parts are admitted between other requests, not in one go
    between = [path for t, path in other_log if min(marks) < t < max(marks) and path.startswith("/flat-")]
    assert len(between) >= 5, (max(marks) - min(marks), between)
    with Storage.open(db) as storage:
        assert storage.count_articles("baobig") == 60


# -- the streaming parsers keep their protections -------------------------------------------------
def test_streaming_parsers_expand_no_entities_and_read_no_files() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<urlset><url><loc>http://a.vn/&x;-post1.html</loc></url></urlset>"
    )
    assert [link.url for link in read_sitemap(xxe).links] == ["http://a.vn/"]  # the entity left out
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><rss><channel><item><link>http://a.vn/&c;</link>'
        b"</item></channel></rss>"
    )
    assert all(len(link.url) < 100 for link in read_feed(laughs).links)
    bomb = gzip.compress(b"<urlset>" + b" " * (60 * 1024 * 1024) + b"</urlset>")
    with pytest.raises(ValueError, match="larger than"):
        read_sitemap(bomb)


@given(
    st.binary(max_size=2000)
    | st.text(max_size=500).map(lambda t: f"<urlset><url><loc>{t}</loc></url></urlset>".encode())
)
@settings(max_examples=200)
def test_any_bytes_give_links_or_a_clear_error(body: bytes) -> None:
    for reader in (read_sitemap, read_feed):
        try:
            parsed = reader(body, 10)
        except (ValueError, etree.XMLSyntaxError, EOFError, OSError):
            continue  # counted as sitemap_error / feed_error by the spider
        assert len(parsed.links) <= 10
        assert all(link.url and link.url == link.url.strip() for link in parsed.links)


@given(st.text(max_size=300), st.sampled_from(["", "<time datetime='{t}'>", "<span class='date'>{t}</span>"]))
@settings(max_examples=200)
def test_listing_links_take_any_page(text: str, date_markup: str) -> None:
    page = f"<ul><li><a href='/a-post1.html'>{text}</a>{date_markup.format(t=text)}</li></ul>"
    links = listing_links(page, "https://bao.vn/thoi-su/", lambda url: url.endswith("-post1.html"))
    assert [link.url for link in links] == ["https://bao.vn/a-post1.html"]
    assert links[0].published is None or links[0].published.endswith("+07:00")


def test_resume_reads_pending_urls_page_by_page_each_once(db_url: str) -> None:
    """1,200 URLs left discovered: taken in pages of the size asked for, in url_key order, each once,
    those already requested in the run skipped; an empty page once none is left."""
    urls = [f"https://bao.vn/tin-{n}-post{n}.html" for n in range(1200)]
    counted: list[str] = []
    state = CrawlState(lambda key, n=1: counted.append(key))
    state.storage = Storage.open(db_url)
    try:
        state.storage.mark_urls([(url, "baoa", "discovered") for url in urls])
        state.storage.mark_urls([(urls[0], "baoa", "stored")])  # done: not pending
        state.load("baoa")
        state.take(urls[1])  # already requested in this run by discovery
        pages = []
        while page := state.resume("baoa", 250):
            pages.append([p.url for p in page])
        assert [len(p) for p in pages] == [250, 250, 250, 250, 198]
        taken = [url for page in pages for url in page]
        assert len(set(taken)) == len(taken) and set(taken) == set(urls[2:])
        assert counted.count("discovery/articles_pending") == 1198
    finally:
        state.storage.close()
