"""The canary against local servers only: the replica (healthy, and with a changed template), a dead
port, and a tiny hand-made site for robots.txt, HTTP errors and missing fields. No internet."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from provnews.crawler.canary.probe import check_site
from provnews.crawler.canary.report import FALLBACK, SiteReport
from provnews.crawler.cli import cli
from provnews.crawler.replica import ReplicaServer
from provnews.crawler.sites.registry import load_sites

pytestmark = pytest.mark.usefixtures("loopback_clients")  # the test servers are on 127.0.0.1

UA = "provnews-test/1.0"


# -- helpers -----------------------------------------------------------------------------------------
class TinySite:
    """A few fixed pages on 127.0.0.1 (routes by path, query ignored), logging every request path."""

    def __init__(self, routes: dict[str, tuple[int, str]]) -> None:
        self.routes = routes
        self.log: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                site.log.append(self.path)
                status, body = site.routes.get(path, (404, "<html><body>not found</body></html>"))
                data = body.encode("utf-8")
                self.send_response(status)
                kind = "text/plain" if path == "/robots.txt" else "text/html"
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> TinySite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def entry(site_id: str, base_url: str, **keys: str) -> str:
    """A registry entry of a generic-family test site; `keys` are extra or replaced TOML values."""
    values = {
        "id": f'"{site_id}"',
        "name": '"Báo Thử"',
        "province": '"Gia Lai"',
        "base_url": f'"{base_url}"',
        "family": '"generic"',
        "listings": '["tin-moi/"]',
        "article_pattern": "'-\\d+\\.html$'",
        "delay": "0",
        **keys,
    }
    return "[[site]]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()) + "\n"


def article(title: str, paragraphs: int = 4) -> str:
    body = "".join(
        f"<p>Đoạn {i} của bài {title}: chính quyền địa phương tiếp tục triển khai các công trình dân sinh, "
        f"sửa chữa đường giao thông nông thôn và hỗ trợ người dân ổn định cuộc sống sau mùa mưa lũ.</p>"
        for i in range(1, paragraphs + 1)
    )
    return f"<html lang='vi'><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def canary(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["canary", *args])
    return result.exit_code, result.output


def json_reports(output: str) -> dict[str, dict[str, Any]]:
    reports = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return {r["site"]: r for r in reports}


def fields(report: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {f["field"]: (f["state"], f["reason"]) for f in report["fields"]}


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[tuple[ReplicaServer, Path]]:
    # 40 articles: enough for every section listing to have a second page
    with ReplicaServer(articles_per_site=40) as server:
        registry = tmp_path / "replica-sites.toml"
        registry.write_text(server.sites_toml(), encoding="utf-8")
        yield server, registry


# -- the replica -------------------------------------------------------------------------------------
def test_healthy_replica_passes_every_check(replica: tuple[ReplicaServer, Path]) -> None:
    server, registry = replica
    code, out = canary("--sites-file", str(registry), "--json")
    assert code == 0, out
    reports = json_reports(out)
    assert set(reports) == {"baogialai", "baolaocai", "baocantho"}
    for site_id, report in reports.items():
        assert report["ok"] and report["problems"] == []
        kinds = [s["kind"] for s in report["sources"]]
        assert kinds[0] == "robots.txt" and {"sitemap", "feed", "listing", "listing page 2"} <= set(kinds)
        assert all(s["ok"] for s in report["sources"])
        truth = server.ground_truth(site_id)
        newest = sorted(truth, key=lambda url: str(truth[url]["published_at"]), reverse=True)[:3]
        assert [a["url"] for a in report["articles"]] == newest
        for checked in report["articles"]:
            assert checked["values"]["title"] == truth[checked["url"]]["title"]
            assert checked["values"]["published_at"] == truth[checked["url"]]["published_at"]
        expected = {"title": "ok", "text": "ok", "authors": "ok", "published_at": "ok"}
        expected["dateline"] = "skip" if site_id == "baolaocai" else "ok"
        assert {name: state for name, (state, _) in fields(report).items()} == expected
        # robots.txt obeyed: the replica's disallowed article is linked from a listing but never fetched
        forbidden = {u.split("/", 3)[3] for u in server.forbidden_urls(site_id)}
        assert not {path.lstrip("/") for _, path, _ in server.request_log(site_id)} & forbidden


def test_text_report_of_a_healthy_site(replica: tuple[ReplicaServer, Path]) -> None:
    _, registry = replica
    code, out = canary("baocantho", "--sites-file", str(registry))
    assert code == 0, out
    assert out.startswith("baocantho (Báo Cần Thơ, active): ok")
    assert "  ok   article        " in out
    # each field says which selector produced it: the family's, a site override's or a fallback
    assert "  ok   dateline       from fallback first paragraph\n" in out
    assert "  ok   text           from family #newscontents .content-fck\n" in out
    assert "  ok   title          from fallback meta og:title\n" in out
    # the day to record in the entry as its last verification against a live page
    assert f"  all checks passed: the entry can say verified_on = {date.today().isoformat()}\n" in out
    _, as_json = canary("baocantho", "--sites-file", str(registry), "--json")
    report = json_reports(as_json)["baocantho"]
    assert all(a["sources"]["text"] == "family #newscontents .content-fck" for a in report["articles"])
    assert report["checked_on"] == date.today().isoformat()
    assert "canary: 1 site(s) checked, 0 failed" in out


def test_changed_template_names_the_broken_fields(replica: tuple[ReplicaServer, Path]) -> None:
    server, registry = replica
    server.set_template_version("baocantho", 2)  # the body container's class is renamed
    code, out = canary("--sites-file", str(registry), "--json")
    assert code == 1
    reports = json_reports(out)
    assert reports["baogialai"]["ok"] and reports["baolaocai"]["ok"]
    broken = reports["baocantho"]
    assert not broken["ok"]
    result = fields(broken)
    assert result["text"] == ("fail", f"{FALLBACK} (3/3 articles)")
    assert result["dateline"] == ("fail", "expected 'CTO', found none (3/3 articles)")
    assert result["title"][0] == result["published_at"][0] == "ok"
    assert f"text: {FALLBACK} (3/3 articles)" in broken["problems"]
    assert all(s["ok"] for s in broken["sources"])  # discovery still works: only extraction broke

    code, out = canary("baocantho", "--sites-file", str(registry))
    assert code == 1
    assert out.startswith("baocantho (Báo Cần Thơ, active): FAIL")
    text_line = next(line for line in out.splitlines() if line.startswith("  FAIL text "))
    assert text_line.endswith(f" {FALLBACK} (3/3 articles); from fallback whole page")
    assert "  FAIL article        " in out and ": text, dateline" in out
    assert "ALERT baocantho: text: " in out and "[fields: text, dateline]" in out


def test_article_pattern_that_matches_nothing(replica: tuple[ReplicaServer, Path]) -> None:
    _, registry = replica
    text = registry.read_text(encoding="utf-8").replace('"-a\\\\d+\\\\.html$"', '"-bai\\\\d+\\\\.html$"')
    registry.write_text(text, encoding="utf-8")
    assert load_sites(registry)[2].article_pattern == r"-bai\d+\.html$"
    code, out = canary("baocantho", "--sites-file", str(registry), "--json")
    assert code == 1
    report = json_reports(out)["baocantho"]
    sources = [
        s
        for s in report["sources"]
        if s["kind"] != "robots.txt" and not s["reason"].startswith("sitemap index")
    ]
    assert sources and all(s["reason"].startswith("no article URLs found") for s in sources)
    assert "articles: no article URLs found in any discovery source" in report["problems"]
    assert report["articles"] == []


# -- dead sites and robots.txt -----------------------------------------------------------------------
def test_unreachable_site_fails_on_robots_txt(tmp_path: Path) -> None:
    registry = tmp_path / "sites.toml"
    registry.write_text(entry("baochet", f"http://127.0.0.1:{free_port()}/"), encoding="utf-8")
    code, out = canary("--sites-file", str(registry), "--json", "--timeout", "5")
    assert code == 1
    report = json_reports(out)["baochet"]
    (robots,) = report["sources"]
    assert robots["kind"] == "robots.txt" and not robots["ok"] and robots["http_status"] is None
    assert (
        robots["reason"].startswith("unreachable: ")
        and "RFC 9309: everything is disallowed" in robots["reason"]
    )
    assert report["problems"] == [f"robots.txt {robots['url']}: {robots['reason']}"]
    assert report["articles"] == []


@pytest.mark.parametrize(
    ("robots", "reason"),
    [
        ((200, "User-agent: *\nDisallow: /\n"), "robots.txt disallows it"),
        ((503, "busy"), "HTTP 503; RFC 9309: everything is disallowed"),
    ],
)
def test_robots_txt_that_disallows_everything_is_obeyed(
    tmp_path: Path, robots: tuple[int, str], reason: str
) -> None:
    routes = {
        "/robots.txt": robots,
        "/tin-moi/": (200, '<a href="/bai-mot-101.html">1</a>'),
        "/sitemap.xml": (200, "<urlset/>"),
        "/bai-mot-101.html": (200, article("Bài một")),
    }
    with TinySite(routes) as site:
        registry = tmp_path / "sites.toml"
        registry.write_text(entry("baokin", site.base_url, sitemaps='["sitemap.xml"]'), encoding="utf-8")
        report = check_site(load_sites(registry)[0], user_agent=UA)
        assert site.log == ["/robots.txt"]  # nothing else was fetched
    assert not report.ok and report.articles == []
    if robots[0] == 200:
        assert [(s.kind, s.reason) for s in report.sources[1:]] == [("sitemap", reason), ("listing", reason)]
    else:
        assert report.sources[0].reason == reason
        assert report.problems == [f"robots.txt {site.base_url}robots.txt: {reason}"]


def test_http_errors_missing_dates_and_bylines_and_stuck_pagination(tmp_path: Path) -> None:
    listing = "".join(
        f'<a href="/{p}">{p}</a>' for p in ("loi-may-chu-500.html", "bai-hai-2.html", "bai-ba-3.html")
    )
    routes = {
        "/robots.txt": (404, "no robots here"),  # RFC 9309: a 4xx robots.txt allows everything
        "/tin-moi/": (200, f"<html><body>{listing}<a href='/gioi-thieu/'>x</a></body></html>"),
        "/loi-may-chu-500.html": (500, "boom"),
        "/bai-hai-2.html": (200, article("Bài hai")),
        "/bai-ba-3.html": (200, article("Bài ba")),
    }
    with TinySite(routes) as site:
        registry = tmp_path / "sites.toml"
        keys = {"sitemaps": '["sitemap.xml"]', "pagination": '"?page={n}"'}
        registry.write_text(entry("baothu", site.base_url, **keys), encoding="utf-8")
        report: SiteReport = check_site(load_sites(registry)[0], user_agent=UA)
    by_kind = {s.kind: s for s in report.sources}
    assert (
        by_kind["robots.txt"].ok
        and by_kind["robots.txt"].reason == "HTTP 404: no robots.txt, everything allowed"
    )
    assert (by_kind["sitemap"].ok, by_kind["sitemap"].reason) == (False, "HTTP 404")
    assert by_kind["listing"].ok and by_kind["listing"].article_urls == 3
    assert by_kind["listing page 2"].reason == "page 2 brings no article URLs that page 1 lacks"
    assert [a.url.rsplit("/", 1)[1] for a in report.articles] == [
        "loi-may-chu-500.html",
        "bai-hai-2.html",
        "bai-ba-3.html",
    ]
    assert report.articles[0].error == "HTTP 500"
    result = {f.field: (f.state, f.reason) for f in report.fields}
    assert result["title"] == ("warn", "HTTP 500 (1/3 articles)")
    assert result["text"] == ("warn", "HTTP 500 (1/3 articles)")
    assert result["published_at"] == ("fail", "no publication date found (2/3 articles)")
    assert result["authors"] == ("fail", "no byline or author found (2/3 articles)")
    assert result["dateline"] == ("skip", "no dateline code in the registry")
    assert not report.ok
    assert "published_at: no publication date found (2/3 articles)" in report.problems
    assert f"sitemap {site.base_url}sitemap.xml: HTTP 404" in report.problems


def test_only_active_or_named_failures_set_the_exit_code(
    replica: tuple[ReplicaServer, Path], tmp_path: Path
) -> None:
    _, registry = replica
    dead = entry("baocu", f"http://127.0.0.1:{free_port()}/", status='"unknown"', verified="false")
    combined = tmp_path / "combined.toml"
    combined.write_text(registry.read_text(encoding="utf-8") + "\n" + dead, encoding="utf-8")
    code, out = canary("--sites-file", str(combined))
    assert code == 0, out  # an unknown-status site that is down is reported, not alerted on
    assert "baocu (Báo Thử, unknown): FAIL" in out
    assert "canary: 4 site(s) checked, 1 failed: baocu" in out and "ALERT" not in out
    code, out = canary("baocu", "--sites-file", str(combined))
    assert code == 1 and "ALERT baocu: robots.txt" in out


def test_unknown_site_id_is_an_error(replica: tuple[ReplicaServer, Path]) -> None:
    _, registry = replica
    code, out = canary("baokhong", "--sites-file", str(registry))
    assert code == 2 and "unknown site 'baokhong'" in out


def test_a_feed_on_another_host_gets_that_hosts_robots_txt(tmp_path: Path) -> None:
    articles = {f"/bai-{n}-{n}0.html": (200, article(f"Bài {n}")) for n in (1, 2, 3)}
    with TinySite({"/robots.txt": (200, "User-agent: *\nAllow: /\n"), **articles}) as site:
        items = "".join(
            f"<item><link>{site.base_url}bai-{n}-{n}0.html</link>"
            f"<pubDate>Mon, 0{n} Dec 2025 08:00:00 +0700</pubDate></item>"
            for n in (1, 2, 3)
        )
        feed = f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>"
        with TinySite({"/robots.txt": (404, ""), "/rss.xml": (200, feed)}) as cdn:
            registry = tmp_path / "sites.toml"
            keys = {"feeds": f'["{cdn.base_url}rss.xml"]', "listings": "[]"}
            registry.write_text(entry("baoxa", site.base_url, **keys), encoding="utf-8")
            report = check_site(load_sites(registry)[0], user_agent=UA)
    assert [(s.kind, s.url, s.ok, s.article_urls) for s in report.sources] == [
        ("robots.txt", f"{site.base_url}robots.txt", True, 0),
        ("robots.txt", f"{cdn.base_url}robots.txt", True, 0),
        ("feed", f"{cdn.base_url}rss.xml", True, 3),
    ]
    # newest first by the feed's dates; only the fields this generic page lacks fail
    assert [a.url.rsplit("/", 1)[1] for a in report.articles] == [
        "bai-3-30.html",
        "bai-2-20.html",
        "bai-1-10.html",
    ]
    assert {f.field: f.state for f in report.fields}["title"] == "ok"
