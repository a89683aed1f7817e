"""The local replica: real HTTP on 127.0.0.1 (urllib), no mocks."""

from __future__ import annotations

import gzip
import re
import unicodedata
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest

from provnews.crawler.replica import ReplicaServer
from provnews.crawler.sites.registry import load_sites

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SITES = ("baogialai", "baolaocai", "baocantho")


@pytest.fixture(scope="module")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(articles_per_site=20, seed=11) as server:
        yield server


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def sitemap_urls(replica: ReplicaServer, site: str) -> dict[str, str]:
    status, body, _ = fetch(replica.base_url(site) + "sitemap.xml")
    assert status == 200
    index = ET.fromstring(body)
    children = index.findall(f"{SM}sitemap")
    assert len(children) >= 3  # at least three publication months
    found: dict[str, str] = {}
    for child in children:
        loc = child.findtext(f"{SM}loc")
        assert loc and re.search(r"/sitemaps/news-\d{4}-\d{1,2}\.xml\.gz$", loc)
        assert child.findtext(f"{SM}lastmod")
        status, raw, headers = fetch(loc)
        assert status == 200 and raw[:2] == b"\x1f\x8b"
        assert headers["Content-Type"] == "application/x-gzip"
        for url in ET.fromstring(gzip.decompress(raw)).findall(f"{SM}url"):
            loc, lastmod = url.findtext(f"{SM}loc"), url.findtext(f"{SM}lastmod")
            assert loc and lastmod and loc not in found
            found[loc] = lastmod
    return found


def listing_urls(replica: ReplicaServer, site: str, section: str) -> list[str]:
    base = replica.base_url(site)
    param = "page" if site != "baocantho" else "p"
    pattern = r"-post\d+\.html$" if param == "page" else r"-a\d+\.html$"
    urls: list[str] = []
    page = 1
    while True:
        status, body, _ = fetch(f"{base}{section}/" + (f"?{param}={page}" if page > 1 else ""))
        if status == 404:
            break
        assert status == 200
        doc = lxml.html.fromstring(body.decode("utf-8"))
        main = doc.cssselect(".content-list" if param == "page" else "#colcate1")[0]
        for href in main.xpath(".//a/@href"):
            if re.search(pattern, href) and href not in urls:
                urls.append(href)
        page += 1
    assert page > 1
    return urls


def test_robots_txt(replica: ReplicaServer) -> None:
    for site in SITES:
        status, body, headers = fetch(replica.base_url(site) + "robots.txt")
        text = body.decode("utf-8")
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        assert "User-agent: *" in text and "Disallow: /private/" in text
        assert f"Sitemap: {replica.base_url(site)}sitemap.xml" in text
        [forbidden] = replica.forbidden_urls(site)
        assert "/private/" in forbidden and forbidden not in replica.ground_truth(site)


def test_sitemaps_list_every_article_once(replica: ReplicaServer) -> None:
    for site in SITES:
        listed = sitemap_urls(replica, site)
        truth = replica.ground_truth(site)
        assert set(listed) == set(truth)
        assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$", v) for v in listed.values())
        assert not any("/private/" in u for u in listed)


def test_rss_parses(replica: ReplicaServer) -> None:
    for site, path in (("baolaocai", "rss/home.rss"), ("baocantho", "rss/cate/thoi-su/")):
        status, body, headers = fetch(replica.base_url(site) + path)
        assert status == 200 and "xml" in headers["Content-Type"]
        items = ET.fromstring(body).findall("./channel/item")
        assert 5 <= len(items) <= 10
        truth = replica.ground_truth(site)
        for item in items:
            assert item.findtext("link") in truth
            assert item.findtext("pubDate", "").endswith("+0700")


def test_listings_paginate_newest_first_and_cover_all(replica: ReplicaServer) -> None:
    for site in SITES:
        truth = replica.ground_truth(site)
        seen: list[str] = []
        for section in ("thoi-su", "kinh-te", "xa-hoi", "van-hoa"):
            urls = [u for u in listing_urls(replica, site, section) if "/private/" not in u]
            dates = [str(truth[u]["published_at"]) for u in urls]
            assert dates == sorted(dates, reverse=True), (site, section)
            seen += urls
        assert set(seen) == set(truth)
        # the main listing links the robots-forbidden article
        _, body, _ = fetch(replica.base_url(site) + "thoi-su/")
        assert replica.forbidden_urls(site)[0] in body.decode("utf-8")


def test_conditional_get_gives_304(replica: ReplicaServer) -> None:
    base = replica.base_url("baogialai")
    for path in ("sitemap.xml", "rss/home.rss", "thoi-su/", "thoi-su/?page=2"):
        status, _, headers = fetch(base + path)
        assert status == 200 and headers["ETag"] and headers["Last-Modified"]
        assert fetch(base + path, {"If-None-Match": headers["ETag"]})[0] == 304
        assert fetch(base + path, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
        assert fetch(base + path, {"If-None-Match": '"stale"'})[0] == 200


def test_not_found_and_request_log(replica: ReplicaServer) -> None:
    base = replica.base_url("baocantho")
    replica.clear_log()
    assert fetch(base + "khong-co-trang-nay.html")[0] == 404
    assert fetch(base + "thoi-su/?p=99")[0] == 404
    assert replica.request_log("baocantho") == [
        ("GET", "/khong-co-trang-nay.html", 404),
        ("GET", "/thoi-su/?p=99", 404),
    ]
    assert replica.request_log("baogialai") == []


def test_ground_truth_is_consistent(replica: ReplicaServer) -> None:
    truth = replica.ground_truth()
    assert len(truth) == 3 * 20
    keys = {
        "url",
        "canonical_url",
        "title",
        "sapo",
        "text",
        "byline",
        "authors",
        "published_at",
        "modified_at",
        "section",
        "tags",
        "images",
        "dateline",
        "language",
    }
    ids = [re.search(r"-(?:post|a)(\d+)\.html$", u) for u in truth]
    assert all(ids)
    for site in SITES:
        months = {str(v["published_at"])[:7] for v in replica.ground_truth(site).values()}
        assert len(months) >= 3
    for url, gt in truth.items():
        assert set(gt) == keys and gt["url"] == url == gt["canonical_url"]
        text, sapo, byline = str(gt["text"]), str(gt["sapo"]), str(gt["byline"])
        assert text.startswith(sapo + "\n\n") and text.endswith("\n\n" + byline)
        assert unicodedata.normalize("NFC", text) == text
        assert "\n\n\n" not in text and "\u00a0" not in text and "\u200b" not in text
        assert all(p == p.strip() and p for p in text.split("\n\n"))
        assert str(gt["title"]) not in text.split("\n\n")
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$", str(gt["published_at"]))
        assert gt["authors"] and gt["language"] == "vi"
        assert gt["section"]
        if gt["dateline"]:
            assert sapo.startswith(f"({gt['dateline']})")
        for image in gt["images"]:  # type: ignore[attr-defined]
            if image["caption"]:
                assert image["caption"] in text.split("\n\n")
    for site, dateline in (("baogialai", "GLO"), ("baolaocai", None), ("baocantho", "CTO")):
        values = replica.ground_truth(site).values()
        assert {v["dateline"] for v in values} == {dateline}
    cantho = replica.ground_truth("baocantho").values()
    assert all(v["modified_at"] is None and str(v["published_at"]).endswith(":00+07:00") for v in cantho)


def _reference_paragraphs(html: str, family: str) -> list[str]:
    """A minimal selector-based extractor, to check that the pages carry exactly the ground truth."""
    doc = lxml.html.fromstring(html)

    def clean(node: lxml.html.HtmlElement) -> str:
        return " ".join(node.text_content().replace("\u00a0", " ").split())

    out: list[str] = []
    if family == "post":
        out.append(clean(doc.cssselect(".article__sapo")[0]))
        body = doc.cssselect("div.cms-body")[0]
        for child in body:
            classes = child.get("class") or ""
            if child.tag in ("style", "script") or "sda_middle" in classes or "rennab" in classes:
                continue
            if "box-related" in classes:
                continue
            if child.tag == "figure":
                caption = child.cssselect("figcaption")
                out += [clean(caption[0])] if caption else []
            elif clean(child):
                out.append(clean(child))
    else:
        for p in doc.cssselect("#newscontents div.content-fck > p"):
            if clean(p):
                out.append(clean(p))
    return out


def test_pages_carry_the_ground_truth(replica: ReplicaServer) -> None:
    for site in SITES:
        family = "a-id" if site == "baocantho" else "post"
        for url, gt in list(replica.ground_truth(site).items())[:8]:
            status, body, headers = fetch(url)
            assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
            html = body.decode("utf-8")
            doc = lxml.html.fromstring(html)
            assert _reference_paragraphs(html, family) == str(gt["text"]).split("\n\n")
            assert doc.cssselect('link[rel="canonical"]')[0].get("href") == url
            assert doc.cssselect('meta[property="og:title"]')[0].get("content") == gt["title"]
            if family == "post":
                assert doc.cssselect("h1.article__title")[0].text_content().strip() == gt["title"]
                published = doc.cssselect('meta[property="article:published_time"]')[0].get("content")
                assert published.replace("+0700", "+07:00") == gt["published_at"]
                assert doc.cssselect('meta[name="author"]')[0].get("content") != gt["byline"]  # the trap
                assert len(doc.cssselect("time.time")) > 1  # related boxes carry other dates
                section = doc.cssselect("div.breadcrumbs h2.main a")[0].text_content().strip()
                assert section == gt["section"]
            else:
                h1s = doc.cssselect("h1")
                assert (
                    "THỜI SỰ" in h1s[0].text_content() or "KINH TẾ" in h1s[0].text_content() or len(h1s) == 2
                )
                assert " ".join(h1s[1].text_content().split()) == gt["title"]
                pubdate = doc.cssselect("span.pubdate")[0].text_content()
                day, month, year, hm = re.match(r"(\d\d)/(\d\d)/(\d{4}) - (\d\d:\d\d)", pubdate).groups()  # type: ignore[union-attr]
                assert gt["published_at"] == f"{year}-{month}-{day}T{hm}:00+07:00"
                assert doc.cssselect('meta[name="Description"]')[0].get("content") == gt["sapo"]
                assert doc.cssselect("ul.tinlienquan li a")
                # the deepest breadcrumb level, as on the real page ("THỜI SỰ > Cần Thơ")
                section = h1s[0].cssselect("a")[-1].text_content().strip()
                assert section == gt["section"]
            tags = [
                a.text_content().strip().lstrip("#") for a in doc.cssselect(".article__tags a, a.tag_item")
            ]
            assert tags == gt["tags"]
            for image in gt["images"]:  # type: ignore[attr-defined]
                assert image["url"] in html


def test_sites_toml_validates(replica: ReplicaServer, tmp_path: Path) -> None:
    path = tmp_path / "sites.toml"
    path.write_text(replica.sites_toml(), encoding="utf-8")
    sites = load_sites(path)
    assert [s.id for s in sites] == list(SITES)
    for site in sites:
        assert site.base_url == replica.base_url(site.id) and site.delay == 0
        assert all(site.is_article_url(u) for u in replica.ground_truth(site.id))
        assert site.is_article_url(replica.forbidden_urls(site.id)[0])
        assert not site.is_article_url(site.listings[0])
    assert {s.dateline for s in sites} == {"GLO", None, "CTO"}


def test_update_article_changes_lastmod_and_text() -> None:
    with ReplicaServer(sites=["baolaocai", "baocantho"], articles_per_site=6, seed=3) as replica:
        for site in ("baolaocai", "baocantho"):
            url = sorted(replica.ground_truth(site))[0]
            before = replica.ground_truth(site)[url]
            lastmod_before = sitemap_urls(replica, site)[url]
            _, _, headers = fetch(url)
            replica.update_article(
                site, url, "Đến chiều cùng ngày, đơn vị thi công đã hoàn tất việc khắc phục sự cố."
            )
            after = replica.ground_truth(site)[url]
            assert str(after["text"]).endswith(
                "Đến chiều cùng ngày, đơn vị thi công đã hoàn tất việc khắc phục sự cố.\n\n"
                + str(after["byline"])
            )
            assert after["text"] != before["text"]
            assert sitemap_urls(replica, site)[url] > lastmod_before
            if site == "baolaocai":
                assert str(after["modified_at"]) > str(before["modified_at"])
            assert fetch(url, {"If-None-Match": headers["ETag"]})[0] == 200
            assert "hoàn tất việc khắc phục" in fetch(url)[1].decode("utf-8")


def test_template_version_2_renames_body_container() -> None:
    with ReplicaServer(sites=["baogialai", "baocantho"], articles_per_site=4) as replica:
        for site, selector in (("baogialai", "div.cms-body"), ("baocantho", "div.content-fck")):
            url = next(iter(replica.ground_truth(site)))
            assert lxml.html.fromstring(fetch(url)[1]).cssselect(selector)
            replica.set_template_version(site, 2)
            doc = lxml.html.fromstring(fetch(url)[1])
            assert not doc.cssselect(selector)
            assert (
                "Tin, ảnh" in doc.text_content()
                or str(replica.ground_truth(site)[url]["byline"]) in doc.text_content()
            )


def test_determinism() -> None:
    def normalised(server: ReplicaServer) -> dict[str, str]:
        out = {}
        for site in server.site_ids:
            base = server.base_url(site)
            for url, gt in server.ground_truth(site).items():
                out[url.replace(base, "/")] = repr(gt).replace(base, "/")
        return out

    with ReplicaServer(articles_per_site=8, seed=5) as one, ReplicaServer(articles_per_site=8, seed=5) as two:
        first = normalised(one)
        assert first == normalised(two)
    with ReplicaServer(articles_per_site=8, seed=6) as three:
        assert normalised(three) != first


def test_each_site_on_its_own_address() -> None:
    """`hosts=`: each site answers on its own loopback address (its own host for a crawler's per-host
    politeness), and only there."""
    hosts = ["127.0.0.2", "127.0.0.3"]
    with ReplicaServer(["baogialai", "baocantho"], articles_per_site=4, hosts=hosts) as replica:
        for site, host in zip(replica.site_ids, hosts, strict=True):
            base = replica.base_url(site)
            assert base.startswith(f"http://{host}:")
            assert fetch(base + "robots.txt")[0] == 200
            assert all(url.startswith(base) for url in replica.ground_truth(site))
            port = base.rsplit(":", 1)[1]
            with pytest.raises(urllib.error.URLError):
                fetch(f"http://127.0.0.1:{port}robots.txt")
    with pytest.raises(ValueError, match="1 hosts for 2 sites"):
        ReplicaServer(["baogialai", "baocantho"], articles_per_site=4, hosts=["127.0.0.2"])
