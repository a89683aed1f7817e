"""Canonical URL normalisation and the article identity key."""

from __future__ import annotations

import pytest

from provnews.crawler.discovery.urls import host_of, normalize_url, url_identity

SITE = {"canonical_host": "baogialai.com.vn", "aliases": ["gialai.vn"]}


@pytest.mark.parametrize(
    "variant",
    [
        "https://baogialai.com.vn/tin-post1.html",
        "https://baogialai.com.vn/tin-post1.html?utm_source=fb&utm_medium=social&fbclid=abc&gclid=x",
        "https://www.baogialai.com.vn/tin-post1.html",
        "https://m.baogialai.com.vn/tin-post1.html",
        "https://amp.baogialai.com.vn/tin-post1.html",
        "https://gialai.vn/tin-post1.html",
        "https://BAOGIALAI.com.vn:443/tin-post1.html#comments",
        "https://baogialai.com.vn/amp/tin-post1.html",
        "https://baogialai.com.vn/tin-post1.html/amp",
        "https://baogialai.com.vn/tin-post1.amp.html",
        "https://baogialai.com.vn/tin-post1.html?amp",
        "https://baogialai.com.vn/tin-post1.html?amp=1&utm_campaign=z",
        "http://baogialai.com.vn/tin-post1.html",
    ],
)
def test_variants_are_one_article(variant: str) -> None:
    normal = normalize_url(variant, **SITE, canonical_scheme="https")  # type: ignore[arg-type]
    assert normal == "https://baogialai.com.vn/tin-post1.html"


def test_scheme_is_kept_without_a_site_scheme_but_identity_ignores_it() -> None:
    http = normalize_url("http://baogialai.com.vn/a.html", **SITE)  # type: ignore[arg-type]
    assert http == "http://baogialai.com.vn/a.html"
    assert url_identity(http) == url_identity("https://baogialai.com.vn/a.html")


def test_trailing_slash_is_kept_in_the_url_but_not_in_the_identity() -> None:
    assert normalize_url("https://bao.vn/tin/bai-viet/") == "https://bao.vn/tin/bai-viet/"
    assert url_identity("https://bao.vn/tin/bai-viet/") == url_identity("https://bao.vn/tin/bai-viet")
    assert url_identity("https://bao.vn/") == url_identity("https://bao.vn")


def test_what_must_not_be_merged() -> None:
    assert normalize_url("https://bao.vn/a.html?id=3&page=2") == "https://bao.vn/a.html?id=3&page=2"
    assert normalize_url("https://bao.vn/amplifier.html") == "https://bao.vn/amplifier.html"
    assert normalize_url("https://bao.vn/tin/amp-hoa") == "https://bao.vn/tin/amp-hoa"
    # Another subdomain is another site; a non-default port is kept.
    other = normalize_url("https://tv.baogialai.com.vn/x", **SITE)  # type: ignore[arg-type]
    assert other == "https://tv.baogialai.com.vn/x"
    assert (
        normalize_url("http://127.0.0.1:8080/x", canonical_host="127.0.0.1:8080") == "http://127.0.0.1:8080/x"
    )
    assert url_identity("https://bao.vn/a?x=1") != url_identity("https://bao.vn/a?x=2")
    assert host_of("https://www.bao.vn:443/x") == "www.bao.vn"


def test_storage_keeps_one_row_for_url_variants(storage, make_article) -> None:  # type: ignore[no-untyped-def]
    first = storage.upsert_articles([make_article(1, canonical_url="http://baotest.vn/tin-1.html")])
    again = storage.upsert_articles([make_article(1, canonical_url="https://baotest.vn/tin-1.html/")])
    assert again.unchanged_ids == first.new_ids and storage.count_articles() == 1
    found = storage.get_article("https://baotest.vn/tin-1.html")
    assert found is not None and found["id"] == first.new_ids[0]
