"""`provnews sites add`: each replica site onboarded from its home page alone; the entry it writes
then crawls the replica completely (compared with the ground truth). Loopback only."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from provnews.crawler.cli import cli
from provnews.crawler.replica import ReplicaServer
from provnews.crawler.sites.registry import load_sites
from provnews.storage.api import Storage
from tests.helpers import run

pytestmark = pytest.mark.usefixtures("loopback_clients")  # the test servers are on 127.0.0.1

SITES = {"baogialai": ("post", "GLO"), "baocantho": ("a-id", "CTO"), "baolaocai": ("post", None)}


def add(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sites", "add", *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def onboarded(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ReplicaServer, Path, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("sites-add")
    registry = tmp / "sites.toml"
    outputs = {}
    with ReplicaServer(list(SITES), articles_per_site=20, seed=9) as replica:
        for site_id in SITES:
            replica.set_crawl_delay(site_id, 0.05)
            code, out = add(
                replica.base_url(site_id), "--id", site_id, "--write", "--sites-file", str(registry)
            )
            assert code == 0, out
            outputs[site_id] = out
        yield replica, registry, outputs


def test_the_entries_are_learned_from_the_home_pages(onboarded: tuple[ReplicaServer, Path, dict]) -> None:
    replica, registry, outputs = onboarded
    entries = {e["id"]: e for e in tomllib.loads(registry.read_text(encoding="utf-8"))["site"]}
    expected_registry = {e["id"]: e for e in tomllib.loads(replica.sites_toml())["site"]}
    for site_id, (family, dateline) in SITES.items():
        entry, known = entries[site_id], expected_registry[site_id]
        assert entry["family"] == family and entry.get("dateline") == dateline
        assert entry["province"] == known["province"]
        assert entry["base_url"] == known["base_url"]
        assert entry["feeds"] == known["feeds"] and entry["sitemaps"] == known["sitemaps"]
        assert set(known["listings"]) <= set(entry["listings"])
        assert entry["pagination"] == known["pagination"]
        assert entry["article_pattern"] == known["article_pattern"]
        assert entry["delay"] == 0.05  # robots.txt's Crawl-delay
        assert entry["verified"] is False and "verified_on" not in entry
        out = outputs[site_id]
        assert f"# families on 3 article(s), best first:\n#   {family:<8} 3/3 complete" in out
        assert "# robots.txt: 1 Sitemap line(s), Crawl-delay 0.05" in out
        for request in replica.request_log(site_id):
            assert not request[1].startswith("/private/")  # robots.txt obeyed
    assert [s.id for s in load_sites(registry)] == list(SITES)
    checked = CliRunner().invoke(cli, ["sites", "check", "--sites-file", str(registry), "--partial"])
    assert checked.exit_code == 0, checked.output


def test_the_written_entries_crawl_the_replica_completely(
    onboarded: tuple[ReplicaServer, Path, dict], tmp_path: Path
) -> None:
    replica, registry, _ = onboarded
    db = f"sqlite:///{tmp_path / 'onboarded.sqlite3'}"
    result = run(["provnews", "--db", db, "crawl", "--sites-file", str(registry)])
    assert result.returncode == 0, result.stderr[-3000:]
    truth = replica.ground_truth()
    with Storage.open(db) as storage:
        assert storage.count_articles() == len(truth)
        for url, expected in truth.items():
            stored = storage.get_article(url)
            assert stored is not None, url
            for key in ("title", "text", "published_at", "authors", "dateline"):
                assert stored[key] == expected[key], (url, key)


def test_an_article_url_onboards_its_site(onboarded: tuple[ReplicaServer, Path, dict]) -> None:
    replica, _, _ = onboarded
    article = next(iter(replica.ground_truth("baocantho")))
    code, out = add(article)
    assert code == 0, out
    entry = tomllib.loads(out[out.index("[[site]]") :])["site"][0]
    assert entry["base_url"] == replica.base_url("baocantho") and entry["family"] == "a-id"
    assert entry["name"] == "Báo Cần Thơ Online" and entry["province"] == "Cần Thơ"


def test_write_refuses_an_entry_sites_check_rejects(onboarded: tuple[ReplicaServer, Path, dict]) -> None:
    replica, registry, _ = onboarded
    before = registry.read_text(encoding="utf-8")
    url = replica.base_url("baogialai")
    code, out = add(url, "--id", "baogialai", "--write", "--sites-file", str(registry))
    assert code == 1 and "not written" in out and "duplicate id" in out
    assert "# the registry already has this site as 'baogialai'" in out
    code, out = add(url, "--id", "other", "--province", "Gia Lái", "--write", "--sites-file", str(registry))
    assert code == 1 and "not written" in out and "key 'province'" in out
    assert registry.read_text(encoding="utf-8") == before


# -- a site of no known CMS family ---------------------------------------------------------------------
def _article(n: int) -> str:
    body = " ".join(
        f"Câu thứ {k} của bài {n} viết cho phép thử, đủ dài để là một đoạn văn." for k in range(6)
    )
    return (
        f"<html><head><title>Bài {n} - Báo Thử Đắk Lắk</title>"
        f'<meta property="article:published_time" content="2025-11-0{n}T08:30:00+07:00"></head>'
        f"<body><h1>Bài số {n}</h1><article><p>{body}</p><p>{body}</p>"
        "<p>NGUYỄN VĂN A</p></article></body></html>"
    )


def test_a_site_outside_the_families_gets_a_learned_pattern(tmp_path: Path) -> None:
    from tests.test_canary import TinySite

    paths = [f"/2025/11/bai-viet-so-{n}/" for n in (1, 2, 3)]
    items = "".join(
        f"<item><title>Bài {i}</title><link>{{base}}{p}</link></item>" for i, p in enumerate(paths)
    )
    listing = "".join(f'<a href="{p}">Bài</a>' for p in paths) + '<a href="/thoi-su/page/2/">Trang sau</a>'
    routes = {
        "/robots.txt": (200, "User-agent: *\nDisallow: /private/\nCrawl-delay: 0.01\n"),
        "/": (
            200,
            '<html><head><title>Báo Thử Đắk Lắk</title><link rel="alternate" type="application/rss+xml" '
            f'href="/feed/"></head><body><a href="/thoi-su/">Thời sự</a>{listing}</body></html>',
        ),
        "/thoi-su/": (200, f"<html><body>{listing}</body></html>"),
        **{p: (200, _article(n)) for n, p in enumerate(paths, start=1)},
    }
    with TinySite(routes) as site:
        base = site.base_url
        routes["/feed/"] = (
            200,
            f'<?xml version="1.0"?><rss><channel>{items.format(base=base.rstrip("/"))}</channel></rss>',
        )
        code, out = add(base)
        assert code == 0, out
        entry = tomllib.loads(out[out.index("[[site]]") :])["site"][0]
        assert entry["article_pattern"] == r"/\d{4}/\d{2}/[^/]+/?$"
        assert "# article URLs: the feed and sitemap URLs share the shape" in out
        assert entry["feeds"] == [base + "feed/"] and entry["sitemaps"] == []
        assert entry["listings"] == [base + "thoi-su/"] and entry["pagination"] == "page/{n}/"
        assert entry["province"] == "Đắk Lắk" and entry["id"] == "baothudaklak"
        assert entry["delay"] == 0.01
        complete = [line for line in out.splitlines() if "3/3 complete" in line]
        assert complete and entry["family"] in out.split("best first:")[1].split()[1]

        code, out = add(base, "--article-pattern", r"/bai-viet-so-\d+/$")
        entry = tomllib.loads(out[out.index("[[site]]") :])["site"][0]
        assert code == 0 and entry["article_pattern"] == r"/bai-viet-so-\d+/$"
        assert "/private/" not in " ".join(site.log)
    code, out = add("http://127.0.0.1:9/", "--article-pattern", "(")
    assert code == 2 and "not a valid regular expression" in out


def test_without_crawl_delay_the_entry_asks_one_second() -> None:
    from provnews.crawler.onboard.discover import Discovery
    from provnews.crawler.onboard.propose import propose

    proposal = propose(Discovery("https://baothu.vn/"), [], province="Huế")
    assert proposal.values["delay"] == 1.0 and not proposal.complete
    assert proposal.values["id"] == "baothu" and proposal.values["province"] == "Huế"


def test_a_site_that_yields_no_article_fails(tmp_path: Path) -> None:
    from tests.test_canary import TinySite

    registry = tmp_path / "sites.toml"
    with TinySite({"/robots.txt": (200, "User-agent: *\nDisallow: /\n")}) as site:
        code, out = add(site.base_url, "--write", "--sites-file", str(registry), "--province", "Huế")
        assert site.log == ["/robots.txt"]  # robots.txt disallows everything: nothing else is asked
    assert code == 1 and "no article of the site could be fetched" in out
    assert not registry.exists()


SEGMENT = st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)


@given(
    segments=st.lists(SEGMENT, min_size=1, max_size=2),
    html=st.booleans(),
    form=st.sampled_from(["?page=2", "?p=2", "?trang=2", "page/2/", "trang/2", "trang-2.html", "p-2"]),
)
def test_the_learned_pagination_addresses_the_page_2_link(segments: list[str], html: bool, form: str) -> None:
    from provnews.crawler.discovery.sources import listing_page_url
    from provnews.crawler.onboard.discover import pagination_of

    # a listing ends in "/", or (both kinds of forms) without it, or in ".html" (query forms)
    end = "/" if not html else (".html" if form.startswith("?") else "")
    listing = "http://127.0.0.1:8000/" + "/".join(segments) + end
    link = listing + form if form.startswith("?") else listing.rstrip("/") + "/" + form
    pagination = pagination_of(listing, ["http://127.0.0.1:8000/", link])
    assert pagination is not None and "{n}" in pagination
    assert listing_page_url(listing, pagination, 2) == link


def test_a_home_page_that_redirects_onboards_the_site_where_it_lives(
    onboarded: tuple[ReplicaServer, Path, dict],
) -> None:
    """example.vn → www.example.vn: the entry is made for the host the home page redirects to."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    replica, _, _ = onboarded
    target = replica.base_url("baocantho")

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404 if self.path == "/robots.txt" else 301)
            if self.path != "/robots.txt":
                self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        code, out = add(f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0, out
    assert f"redirects to {target}" in out
    entry = tomllib.loads(out[out.index("[[site]]") :])["site"][0]
    assert entry["base_url"] == target and entry["family"] == "a-id"
    assert entry["sitemaps"] == [target + "sitemap.xml"]
