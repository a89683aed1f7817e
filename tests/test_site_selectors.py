"""One site's fix stays with that site: registry selector overrides, template versions by date, and
the record of which selector produced each field."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from provnews.crawler.extraction.extract import extract_page
from provnews.crawler.parsers import NotAnArticle
from provnews.crawler.replica import ReplicaServer
from provnews.crawler.replica.sitegen import VN_TZ
from provnews.crawler.sites.registry import RegistryError, Site, get_site, load_sites
from provnews.crawler.sites.selectors import Selectors
from provnews.storage.api import Storage
from tests.helpers import MINIMAL_SITE, run, write_registry
from tests.paths import FIXTURES

REGISTRY = load_sites()
LONGFORM = FIXTURES / "sites" / "baonghean" / "htmlid-longform"
GIALAI = FIXTURES / "sites" / "baogialai" / "post-glo-figcaption"


def post_site(**keys: object) -> Site:
    """A post-family site built in code, with the given selectors and templates."""
    return Site.model_validate(
        {"id": "x", "name": "X", "province": "Gia Lai", "base_url": "https://x.vn/", "family": "post"}
        | {"article_pattern": "x", **keys}
    )


def case(folder: Path) -> tuple[bytes, str, dict]:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    return (folder / "page.html").read_bytes(), meta["url"], expected


# -- the registry ------------------------------------------------------------------------------------
def test_selectors_are_validated_with_the_site_and_key_named(tmp_path: Path) -> None:
    ok = write_registry(
        tmp_path, MINIMAL_SITE + 'selectors = { body = "div.main", junk = [".box", "aside"] }\n'
    )
    [site] = load_sites(ok)
    assert site.selectors.body == ("div.main",) and site.selectors.junk == (".box", "aside")
    assert site.selectors.given() == {"body": ("div.main",), "junk": (".box", "aside")}
    for bad, message in (
        ('selectors = { body = "div[" }', "key 'selectors.body'"),
        ('selectors = { headline = "h1" }', "key 'selectors.headline'"),
        ('selectors = { title = [""] }', "an empty selector"),
        (
            "templates = [{ valid_until = 2025-01-01 }, { valid_until = 2025-01-01 }]",
            "two template versions end on 2025-01-01",
        ),
        ('templates = [{ valid_until = "last year" }]', "key 'templates.0.valid_until'"),
    ):
        with pytest.raises(RegistryError, match="site 'baoa'") as err:
            load_sites(write_registry(tmp_path, MINIMAL_SITE + bad + "\n"))
        assert message in str(err.value)


def test_template_versions_are_picked_by_date() -> None:
    site = post_site(
        selectors={"body": "div.v3"},
        templates=[
            {"valid_until": "2024-12-31", "selectors": {"body": "div.v2"}},
            {"valid_until": "2020-06-30", "selectors": {"body": "div.v1"}},
        ],
    )
    assert [t.valid_until.isoformat() for t in site.templates] == ["2020-06-30", "2024-12-31"]
    on = site.template_on
    assert on(datetime(2019, 1, 1).date()).selectors.body == ("div.v1",)  # type: ignore[union-attr]
    assert on(datetime(2020, 6, 30).date()).selectors.body == ("div.v1",)  # type: ignore[union-attr]
    assert on(datetime(2020, 7, 1).date()).selectors.body == ("div.v2",)  # type: ignore[union-attr]
    assert on(datetime(2025, 1, 1).date()) is None and on(None) is None


# -- overrides ---------------------------------------------------------------------------------------
def test_a_site_override_parses_its_page_and_changes_no_other_site() -> None:
    body, url, expected = case(LONGFORM)
    baonghean = get_site("baonghean", REGISTRY)
    fields = extract_page(body, url, "html-id", site=baonghean)
    assert fields.paragraphs == expected["paragraphs"] and fields.title == expected["title"]
    assert fields.field_sources["text"] == "site article.entry"  # from the registry entry
    # html-id keeps only shared defaults: without baonghean's entry its longform page is not understood
    bare = extract_page(body, url, "html-id")
    assert bare.paragraphs != expected["paragraphs"]
    assert not bare.field_sources["text"].startswith("site ")
    # another html-id site's entry does not carry baonghean's selectors
    quangninh = get_site("baoquangninh", REGISTRY)
    assert not quangninh.selectors and extract_page(body, url, "html-id", site=quangninh).paragraphs == (
        bare.paragraphs
    )


def test_field_sources_name_site_family_and_fallback() -> None:
    body, url, expected = case(GIALAI)
    family = extract_page(body, url, "post").field_sources
    assert family["text"] == "family div.article__body"
    assert family["title"] == "fallback meta og:title"
    assert family["sapo"] == "family .article__sapo"
    site = post_site(
        selectors={"body": ["[itemprop=articleBody]"], "sapo": "h2.cms-desc"},
    )
    fields = extract_page(body, url, "post", site=site)
    assert fields.field_sources["text"] == "site [itemprop=articleBody]"
    assert fields.field_sources["sapo"] == "site h2.cms-desc"
    assert fields.paragraphs == expected["paragraphs"]


def test_junk_selectors_remove_a_sites_own_boxes() -> None:
    body, url, expected = case(GIALAI)
    captions = [i["caption"] for i in expected["images"] if i["caption"]]
    assert captions and captions[0] in expected["paragraphs"]
    entry = get_site("baogialai", REGISTRY).model_dump()
    site = Site.model_validate({**entry, "selectors": {"junk": ["figure"]}})
    fields = extract_page(body, url, "post", site=site)
    removed = [p for p in expected["paragraphs"] if p not in fields.paragraphs]
    assert removed == [captions[0]]  # the <figure> and its caption are gone, nothing else
    assert captions[1] in fields.paragraphs  # the table-cell caption is no <figure>
    assert extract_page(body, url, "post").paragraphs == expected["paragraphs"]  # other sites untouched


# -- template versions on the replica ----------------------------------------------------------------
def test_a_redesigned_site_crawls_both_template_eras(tmp_path: Path) -> None:
    with ReplicaServer(["baocantho"], articles_per_site=16, seed=4) as replica:
        truth = replica.ground_truth("baocantho")
        days = sorted({datetime.fromisoformat(str(t["published_at"])).date() for t in truth.values()})
        last_old_day = days[len(days) // 2]
        replica.redesign(
            "baocantho", datetime.combine(last_old_day + timedelta(days=1), datetime.min.time(), VN_TZ)
        )
        old = {
            u
            for u, t in truth.items()
            if datetime.fromisoformat(str(t["published_at"])).date() <= last_old_day
        }
        assert 0 < len(old) < len(truth)
        # the new template renames the body container: the current selectors name the new one, the
        # earlier template's selectors (until the day before the redesign) the old one
        registry = replica.sites_toml() + (
            'selectors = { body = ["#newscontents .content-editor"] }\n'
            f"templates = [{{ valid_until = {last_old_day.isoformat()}, "
            'selectors = { body = ["#newscontents .content-fck"] } }]\n'
        )
        sites_file = write_registry(tmp_path, registry)
        site = load_sites(sites_file)[0]

        # without the template version, the archive's pages fall back to the whole page
        url = sorted(old)[0]
        with urllib.request.urlopen(url, timeout=10) as response:
            page = response.read()
        current_only = Site.model_validate({**site.model_dump(), "templates": []})
        assert extract_page(page, url, "a-id", site=current_only).fallback
        fields = extract_page(page, url, "a-id", site=site)
        assert not fields.fallback and fields.field_sources["template"] == f"valid until {last_old_day}"
        assert fields.text == truth[url]["text"]

        db = f"sqlite:///{tmp_path / 'eras.sqlite3'}"
        result = run(["provnews", "--db", db, "crawl", "--sites-file", str(sites_file)])
        assert result.returncode == 0, result.stderr[-3000:]
        with Storage.open(db) as storage:
            assert storage.count_articles() == len(truth)
            for url, expected in truth.items():
                stored = storage.get_article(url)
                assert stored is not None, url
                assert stored["text"] == expected["text"], url
                assert not stored["fallback"], url
        # re-extraction picks the version by each page's date too: nothing changes, nothing fails
        again = run(["provnews", "--db", db, "reextract"], env={"PROVNEWS_SITES_FILE": str(sites_file)})
        assert again.returncode == 0, again.stderr[-2000:]
        assert f"examined {len(truth)}, changed 0, unchanged {len(truth)}, failed 0" in again.stdout


def test_an_undated_page_takes_the_template_of_its_known_date() -> None:
    """The sitemap or feed date (crawl) or the stored date (reextract) picks the template when the
    page shows no date to the current selectors."""
    text = " ".join(["Một câu viết cho phép thử về thân bài của trang cũ."] * 6)
    page = (
        "<html><head><title>Tiêu đề</title></head><body>"
        f"<div class='old-body'><p>{text}</p><p>{text}</p></div></body></html>"
    )
    site = post_site(
        selectors={"body": "div.new-body"},
        templates=[{"valid_until": "2020-01-01", "selectors": {"body": "div.old-body"}}],
    )
    url = "https://x.vn/a-post1.html"
    assert extract_page(page.encode(), url, "post", site=site).fallback  # undated: the current template
    old = extract_page(page.encode(), url, "post", site=site, known_date=datetime(2019, 5, 1).date())
    assert not old.fallback and old.field_sources["template"] == "valid until 2020-01-01"
    assert old.field_sources["text"] == "site div.old-body"
    new = extract_page(page.encode(), url, "post", site=site, known_date=datetime(2024, 5, 1).date())
    assert new.fallback and "template" not in new.field_sources


# -- any input -----------------------------------------------------------------------------------------
SELECTOR_TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(
        st.sampled_from(["div", ".a", "#b", " ", ">", "[x=y]", ":not(p)", "::text", "(", "*", ","]),
        max_size=6,
    ).map("".join),
)


@settings(max_examples=150)
@given(
    query=SELECTOR_TEXT,
    field=st.sampled_from(["title", "sapo", "body", "byline", "date", "section", "tags", "junk"]),
)
def test_any_selector_is_accepted_as_css_or_refused_cleanly_and_never_breaks_parsing(
    query: str, field: str
) -> None:
    try:
        chosen = Selectors.model_validate({field: query})
    except ValidationError:
        return  # refused with a message naming the selector: the registry reports it with site and key
    body, url, _ = case(GIALAI)
    site = Site.model_validate(
        {**get_site("baogialai", REGISTRY).model_dump(), "selectors": chosen.model_dump()}
    )
    try:
        fields = extract_page(body, url, "post", site=site)
    except NotAnArticle:
        return  # a selector that finds nothing usable: a counted drop, not a crash
    assert fields.title and fields.text
