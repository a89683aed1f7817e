"""The full registry: all 34 units, the absorbed papers' archives, and the schema that guards it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from provnews.crawler.discovery.urls import normalize_url
from provnews.crawler.sites.provinces import ABSORBED, CITIES, OLD_PROVINCES, UNIT_OF, UNITS, load_units
from provnews.crawler.sites.registry import (
    FAMILIES,
    REGISTRY_CONTEXT,
    RegistryError,
    Site,
    get_site,
    load_sites,
)
from tests.helpers import MINIMAL_SITE as ENTRY
from tests.helpers import write_registry
from tests.paths import REPO

SITES = load_sites()
BY_ID = {s.id: s for s in SITES}

ARCHIVE = """
[[site]]
id = "baob"
name = "Báo B"
province = "Gia Lai"
base_url = "https://baob.vn"
family = "legacy"
article_pattern = '-\\d+\\.html$'
status = "archive"
province_old = "Bình Định"
years = "2010-2025"
verified = false
note = "test"
"""


# -- provinces ---------------------------------------------------------------------------------------
def test_provinces_data_has_34_units_made_of_63_old_provinces() -> None:
    assert len(UNITS) == 34 and len(set(UNITS)) == 34
    assert len(OLD_PROVINCES) == 63 and len(set(OLD_PROVINCES)) == 63
    assert sorted(CITIES) == sorted(["Hà Nội", "Huế", "Hải Phòng", "Đà Nẵng", "TP Hồ Chí Minh", "Cần Thơ"])
    assert UNIT_OF["Bình Dương"] == UNIT_OF["Bà Rịa–Vũng Tàu"] == "TP Hồ Chí Minh"
    assert UNIT_OF["Thừa Thiên Huế"] == "Huế"
    assert UNIT_OF["Hà Giang"] == "Tuyên Quang"
    assert ABSORBED["Cần Thơ"] == ["Sóc Trăng", "Hậu Giang"]
    assert sum(len(v) for v in ABSORBED.values()) == 29  # 63 - 34


def test_a_provinces_file_with_a_unit_missing_is_refused(tmp_path: Path) -> None:
    text = (REPO / "config" / "provinces.toml").read_text(encoding="utf-8")
    broken = tmp_path / "provinces.toml"
    broken.write_text(text.replace('name = "Hà Nội"', 'name = "Hà Tĩnh"'), encoding="utf-8")
    with pytest.raises(ValueError, match="expected 34 distinct units"):
        load_units(broken)


# -- the shipped registry ----------------------------------------------------------------------------
def test_registry_covers_all_34_units_by_name_with_one_active_site_each() -> None:
    active = [s for s in SITES if s.status == "active"]
    assert sorted(s.province for s in active) == sorted(UNITS)
    for unit, site_id in [
        ("Hà Nội", "hanoimoi"),
        ("TP Hồ Chí Minh", "sggp"),
        ("Huế", "huengaynay"),
        ("Tuyên Quang", "baotuyenquang"),
        ("Bắc Ninh", "baobacninhtv"),
        ("Vĩnh Long", "baovinhlong"),
        ("Cần Thơ", "baocantho"),
        ("Gia Lai", "baogialai"),
        ("Lào Cai", "baolaocai"),
    ]:
        assert BY_ID[site_id].province == unit and BY_ID[site_id].status == "active"


def test_every_entry_validates_on_its_own() -> None:
    entries = tomllib.loads((REPO / "config" / "sites.toml").read_text(encoding="utf-8"))["site"]
    assert len(entries) == len(SITES) >= 34 + 29
    for entry in entries:
        site = Site.model_validate(entry, context=REGISTRY_CONTEXT)
        assert site.family in FAMILIES
        assert site.province in UNITS
        assert site.delay >= 1.0, site.id  # the real sites are small state servers
        assert not (site.verified and site.status == "unknown")
        assert site.verified or site.note, f"{site.id}: an unverified entry must say what is known"


def test_every_absorbed_paper_has_an_archive_entry() -> None:
    archived = {s.province_old for s in SITES if s.province_old}
    absorbed = {old for olds in ABSORBED.values() for old in olds}
    assert absorbed <= archived
    for site in SITES:
        if site.province_old:
            assert UNIT_OF[site.province_old] == site.province, site.id
            assert site.status in ("archive", "unknown") and site.years


def test_known_archives() -> None:
    duong = BY_ID["baobinhduong"]
    assert (duong.status, duong.province, duong.province_old, duong.family) == (
        "archive",
        "TP Hồ Chí Minh",
        "Bình Dương",
        "a-id",
    )
    assert duong.years == "…–2025"
    for site_id, old in [("dongkhoi-baovinhlong", "Bến Tre"), ("travinh-baovinhlong", "Trà Vinh")]:
        site = BY_ID[site_id]
        assert (site.province, site.province_old, site.status) == ("Vĩnh Long", old, "archive")
    assert BY_ID["dongkhoi-baovinhlong"].domain == "dongkhoi.baovinhlong.vn"
    assert BY_ID["baohaugiang"].province_old == "Hậu Giang"


def test_ids_are_domain_slugs() -> None:
    for site in SITES:
        host = site.domain.removeprefix("www.")
        assert host.startswith(site.id.replace("-", ".") + "."), (site.id, host)


@pytest.mark.parametrize(
    ("site_id", "url", "is_article"),
    [
        (
            "baogialai",
            "https://baogialai.com.vn/bao-gia-lai-70-nam-xay-dung-doi-moi-phat-trien-post127074.html",
            True,
        ),
        ("baocantho", "https://baocantho.com.vn/to-chuc-hop-mat-ky-niem-thay-le-ky-niem-a103760.html", True),
        ("baocantho", "https://baocantho.com.vn/thoi-su/?p=2", False),
        (
            "baophutho",
            "https://baophutho.vn/an-pham-bao-cua-tinh-phu-tho-tham-gia-trien-lam-245250.htm",
            True,
        ),
        ("baophutho", "https://baophutho.vn/print/7e6547344b3ca7246b53f4103389d/134147.htm", False),
        ("baodongnai", "https://baodongnai.com.vn/video/201704/bien-hoa-to-chuc-le-ky-niem-2803852/", True),
        ("baodongnai", "https://baodongnai.com.vn/tin-moi/202507/", False),
        ("baokhanhhoa", "https://baokhanhhoa.vn/xa-hoi/201401/bao-khanh-hoa-to-chuc-hoi-nghi-2288796", True),
        ("baoquangtri", "https://baoquangtri.vn/nghia-tinh-salavan-va-champasak-135352.htm", True),
        ("baothanhhoa", "https://baothanhhoa.vn/theo-guong-bac/tu-mot-lang-tien-tien/153013.htm", True),
        ("baolangson", "https://baolangson.vn/chinh-tri/11491-bao-lang-son-tong-ket.html", True),
        ("baonghean", "https://baonghean.vn/khai-mac-giai-pickleball-cup-2025-10299598.html", True),
        ("baonghean", "https://baonghean.vn/dai-hoi-dang-event123.html", False),
        ("hanoimoi", "https://hanoimoi.vn/mot-bai-viet-712345.html", True),
        ("baobacninhtv", "https://baobacninhtv.vn/mot-bai-viet-postid123456.bbg", True),
        ("baodienbienphu", "https://baodienbienphu.vn/tin-bai/chinh-tri/mot-bai-viet", True),
        (
            "baotuyenquang",
            "https://baotuyenquang.com.vn/chinh-tri/trong-tinh/giai-thuong-lan-thu-iii!-150649.html",
            True,
        ),
        ("baohagiang", "http://baohagiang.vn/thoi-su-chinh-tri/202108/niem-tin-vao-vai-tro-780756/", True),
        ("baosoctrang", "https://baosoctrang.org.vn/van-hoa-the-thao/201710/dam-bao-trat-tu-4da24cc", True),
        ("baoninhthuan", "http://baoninhthuan.com.vn/news/25831p31c171/gioi-thieu-tai-lieu.htm", True),
        ("baobinhdinh", "https://baobinhdinh.vn/viewer.aspx?mabb=137431&macm=6&macmp=6", True),
        ("baohaugiang", "https://baohaugiang.com.vn/thoi-su/mot-bai-viet-12345.html", True),
        ("baohaugiang", "https://baohaugiang.com.vn/thoi-su-12.html", False),
    ],
)
def test_article_patterns_fit_the_urls_seen_on_the_sites(site_id: str, url: str, is_article: bool) -> None:
    assert BY_ID[site_id].is_article_url(url) is is_article


def test_alias_urls_are_stored_under_the_canonical_domain() -> None:
    gialai = BY_ID["baogialai"]
    url = "https://m.baogialai.com.vn/bao-gia-lai-to-chuc-hoi-nghi-post11312.html?utm_source=zalo"
    assert normalize_url(url, canonical_host=gialai.domain, aliases=gialai.aliases) == (
        "https://baogialai.com.vn/bao-gia-lai-to-chuc-hoi-nghi-post11312.html"
    )
    sggp = BY_ID["sggp"]
    assert normalize_url(
        "https://sggp.org.vn/a-post1.html", canonical_host=sggp.domain, aliases=sggp.aliases
    ) == ("https://www.sggp.org.vn/a-post1.html")


# -- schema faults name the site and the key ---------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ENTRY.replace('"post"', '"joomla"'), "site 'baoa': key 'family'"),
        (ENTRY + 'colour = "red"\n', "site 'baoa': key 'colour'"),
        (ENTRY.replace("-post\\d+", "(-post"), "site 'baoa': key 'article_pattern'.*regular expression"),
        (ENTRY.replace('"Gia Lai"', '"Gia-Lai"'), "site 'baoa': key 'province'.*did you mean 'Gia Lai'"),
        (ENTRY.replace('"Gia Lai"', '"Bình Dương"'), "site 'baoa': key 'province'.*not one of the 34"),
        (ENTRY.replace('"Gia Lai"', '"TP HCM"'), "key 'province'"),
        (ARCHIVE.replace('"Bình Định"', '"Bình Dương"'), "site 'baob': key 'province_old'.*TP Hồ Chí Minh"),
        (ARCHIVE.replace('"Bình Định"', '"Binh Dinh"'), "key 'province_old'.*not one of the 63"),
        (ARCHIVE.replace('province_old = "Bình Định"\n', ""), "site 'baob': key 'province_old'.*archive"),
        (ARCHIVE.replace('years = "2010-2025"\n', ""), "site 'baob': key 'years'"),
        (ARCHIVE.replace('"2010-2025"', '"2025-2010"'), "key 'years'.*backwards"),
        (ARCHIVE.replace('"2010-2025"', '"recent"'), "key 'years'"),
        (ARCHIVE.replace('"archive"', '"gone"'), "site 'baob': key 'status'"),
        (ARCHIVE.replace('"archive"', '"unknown"').replace("false", "true"), "site 'baob': key 'verified'"),
        (ENTRY + 'aliases = ["https://www.baoa.vn/"]\n', "site 'baoa': key 'aliases'"),
        (ENTRY + 'sitemaps = ["site map.xml"]\n', "site 'baoa': key 'sitemaps'"),
        (ENTRY + 'pagination = "?page=2"\n', "site 'baoa': key 'pagination'"),
        (ENTRY + ENTRY, "site 'baoa': key 'id': duplicate id"),
        (
            ENTRY + ARCHIVE + 'aliases = ["baoa.vn"]\n',
            "site 'baob': key 'base_url/aliases': domain baoa.vn already belongs to site 'baoa'",
        ),
    ],
)
def test_faults_name_the_site_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RegistryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_sites(write_registry(tmp_path, text))


def test_a_good_archive_entry_loads_with_normalised_years(tmp_path: Path) -> None:
    site, archive = load_sites(write_registry(tmp_path, ENTRY + ARCHIVE))
    assert archive.years == "2010–2025"
    assert site.hosts == ("baoa.vn",)
    assert get_site("baob", [site, archive]).family == "legacy"


def test_sites_built_in_code_need_not_name_a_real_province() -> None:
    # Only registry files are held to the 34 names; tools and tests may build Site objects freely.
    site = Site(
        id="x", name="X", province="Tỉnh Thử", base_url="https://x.vn", family="post", article_pattern="x"
    )
    assert site.province == "Tỉnh Thử"
