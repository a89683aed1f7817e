from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from provnews.crawler.text.vietnamese import (
    VN_TZ,
    authors_from_byline,
    clean_paragraphs,
    clean_text,
    is_byline,
    parse_iso_datetime,
    parse_vn_date_parts,
    parse_vn_datetime,
    repair_legacy_vietnamese,
    split_dateline,
    to_vn_iso,
)

# --- clean_text -----------------------------------------------------------------------------------------


def test_clean_text_nfc_from_nfd() -> None:
    nfd = unicodedata.normalize("NFD", "Tiếng Việt Đảng bộ tỉnh")
    assert nfd != "Tiếng Việt Đảng bộ tỉnh"
    out = clean_text(nfd)
    assert out == "Tiếng Việt Đảng bộ tỉnh"
    assert unicodedata.is_normalized("NFC", out)


@pytest.mark.parametrize("ch", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
def test_clean_text_removes_zero_width(ch: str) -> None:
    assert clean_text(f"Hà{ch}Nội {ch}Sáng") == "HàNội Sáng"


@pytest.mark.parametrize(
    "ch", ["\u00a0", "\u2000", "\u2005", "\u2009", "\u200a", "\u202f", "\u205f", "\u3000", "\t"]
)
def test_clean_text_maps_spaces(ch: str) -> None:
    assert clean_text(f"Hà{ch}Nội") == "Hà Nội"


def test_clean_text_collapses_and_strips() -> None:
    assert clean_text("  \u00a0 Gia \u00a0\u00a0 Lai\t\t tỉnh  ") == "Gia Lai tỉnh"


def test_clean_text_newlines_become_spaces() -> None:
    assert clean_text("Sáng nay,\ntại Hà Nội,\r\n hội nghị") == "Sáng nay, tại Hà Nội, hội nghị"


def test_clean_text_eth_to_d_stroke() -> None:
    assert clean_text("ÐẢNG bộ, ðường") == "ĐẢNG bộ, đường"
    assert "\u00d0" not in clean_text("Ðà Nẵng")


def test_clean_text_keeps_tone_style_quotes_and_dashes() -> None:
    s = "Thanh Hoá và Thanh Hóa, hoà và hòa, thuỷ và thủy: “Quê hương” ‘ok’ – — …"
    assert clean_text(s) == s


def test_clean_text_zero_width_between_letter_and_mark_recomposes() -> None:
    assert clean_text("e\u200b\u0301") == "é"


def test_clean_text_removes_control_chars() -> None:
    assert clean_text("Hà\x00 Nội\x07") == "Hà Nội"


def test_clean_text_empty() -> None:
    assert clean_text("") == ""
    assert clean_text(" \u200b\u00a0 ") == ""


def test_clean_paragraphs() -> None:
    paras = ["  (GLO)- Sáng 7-9 ", "\u200b", "", "Tham\u00a0dự hội thảo", " \n ", "LÊ ÁNH"]
    assert clean_paragraphs(paras) == ["(GLO)- Sáng 7-9", "Tham dự hội thảo", "LÊ ÁNH"]
    assert clean_paragraphs(p for p in ["a", " "]) == ["a"]


# --- split_dateline -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "rest"),
    [
        ("(GLO)- Sáng 7-9, tại Hà Nội", "GLO", "Sáng 7-9, tại Hà Nội"),
        ("(GLO) – Chiều 12/10, UBND tỉnh", "GLO", "Chiều 12/10, UBND tỉnh"),
        ("(GLO)-Sáng nay", "GLO", "Sáng nay"),
        ("(CTO) - Ngày 14-4, Thành ủy Cần Thơ", "CTO", "Ngày 14-4, Thành ủy Cần Thơ"),
        ("(CT)- Sáng 3-2", "CT", "Sáng 3-2"),
        ("BHG - Sáng 5/1, đồng chí", "BHG", "Sáng 5/1, đồng chí"),
        ("HGĐT- Sáng nay", "HGĐT", "Sáng nay"),
        ("YBĐT - Chiều 8/1", "YBĐT", "Chiều 8/1"),
        ("LCĐT - Sáng nay", "LCĐT", "Sáng nay"),
        ("(QNO) - Sáng nay", "QNO", "Sáng nay"),
        ("(Baonghean.vn) - Sáng 7/9", "Baonghean.vn", "Sáng 7/9"),
        ("(Baothanhhoa.vn) - Chiều nay", "Baothanhhoa.vn", "Chiều nay"),
        ("(Báo Quảng Ngãi)- Sáng 15/11", "Báo Quảng Ngãi", "Sáng 15/11"),
        ("QTO - Sáng nay, tại TP. Đông Hà", "QTO", "Sáng nay, tại TP. Đông Hà"),
        ("(QBĐT) - Sáng nay", "QBĐT", "Sáng nay"),
        ("PTO- Sáng 9/9", "PTO", "Sáng 9/9"),
        ("PTO-Sáng 9/9", "PTO", "Sáng 9/9"),
        ("LSO-Chiều 2/3", "LSO", "Chiều 2/3"),
        ("STO - Sáng nay", "STO", "Sáng nay"),
        ("(BDO) Sáng 9-9, Tỉnh ủy", "BDO", "Sáng 9-9, Tỉnh ủy"),
        ("(NTO) Sáng nay", "NTO", "Sáng nay"),
        ("(NTO)", "NTO", ""),
        ("(HBĐT) - Sáng nay", "HBĐT", "Sáng nay"),
        ("(BL-ĐKC) Sáng nay", "BL-ĐKC", "Sáng nay"),
        ("BTO – Sáng nay", "BTO", "Sáng nay"),
        ("(Dân Việt) - Sáng nay", "Dân Việt", "Sáng nay"),
        ("VOV.VN - Sáng nay", "VOV.VN", "Sáng nay"),
        ("TPO - Sáng nay", "TPO", "Sáng nay"),
        ("  (GLO)— Sáng nay", "GLO", "Sáng nay"),
        ("(CMO): Sáng nay", "CMO", "Sáng nay"),
    ],
)
def test_split_dateline(text: str, code: str, rest: str) -> None:
    assert split_dateline(text) == (code, rest)


@pytest.mark.parametrize(
    "text",
    [
        "Hà Nội - Sáng nay, Quốc hội",
        "Sáng 7-9, tại Hà Nội, Bộ Công an",
        "HÀ NỘI - Sáng nay",
        "TP.HCM - Sáng nay",
        "COVID-19 đang lan rộng",
        "ASEAN-Nhật Bản hợp tác",
        "UBND tỉnh vừa ban hành",
        "- Sáng nay, tại huyện Hàm Yên",
        "(Ảnh minh họa) Sáng nay",
        "Đồng chí Nguyễn Văn A (bên phải) – Bí thư",
        "",
    ],
)
def test_split_dateline_leaves_other_leads_alone(text: str) -> None:
    assert split_dateline(text) == (None, text)


# --- parse_vn_datetime ----------------------------------------------------------------------------------


def _vn(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=VN_TZ)


@pytest.mark.parametrize(
    ("text", "expected", "has_time"),
    [
        ("Thứ Ba, 07/09/2021 - 10:15", _vn(2021, 9, 7, 10, 15), True),
        ("Thứ hai, 05/01/2026 - 08:27", _vn(2026, 1, 5, 8, 27), True),
        ("08/01/2026 - 18:21", _vn(2026, 1, 8, 18, 21), True),
        ("17:54, 08/04/2024", _vn(2024, 4, 8, 17, 54), True),
        ("19:48, 05/09/2020", _vn(2020, 9, 5, 19, 48), True),
        ("14:33 02/11/2020", _vn(2020, 11, 2, 14, 33), True),
        ("Thứ sáu: 15:00 ngày 09/02/2024", _vn(2024, 2, 9, 15, 0), True),
        ("Thứ tư, ngày 09/09/2020", _vn(2020, 9, 9), False),
        ("Cập nhật lúc 10:24 01/04/2025 (GMT+7)", _vn(2025, 4, 1, 10, 24), True),
        ("10:24 01/04/2025 (GMT+7)", _vn(2025, 4, 1, 10, 24), True),
        ("15/11/2025", _vn(2025, 11, 15), False),
        ("17/06/2025 13:43", _vn(2025, 6, 17, 13, 43), True),
        ("17-06-2025 13:43", _vn(2025, 6, 17, 13, 43), True),
        ("17.06.2025 13h43", _vn(2025, 6, 17, 13, 43), True),
        ("Ngày 17-06-2025", _vn(2025, 6, 17), False),
        ("3/4/2021 8:05", _vn(2021, 4, 3, 8, 5), True),  # day first, never 4 March
        ("03/04/2021 08:00:30", _vn(2021, 4, 3, 8, 0, 30), True),
        ("Ngày 7 tháng 9 năm 2021", _vn(2021, 9, 7), False),
        ("ngày 07 tháng 09 năm 2021 lúc 10:15", _vn(2021, 9, 7, 10, 15), True),
        ("7 tháng 9, 2021", _vn(2021, 9, 7), False),
        ("Chủ nhật, 12/12/2021 | 08:00", _vn(2021, 12, 12, 8, 0), True),
        ("2025-06-17 13:43", _vn(2025, 6, 17, 13, 43), True),
        ("08:27 PM 05/01/2026", _vn(2026, 1, 5, 20, 27), True),
        ("29/02/2024", _vn(2024, 2, 29), False),
    ],
)
def test_parse_vn_datetime(text: str, expected: datetime, has_time: bool) -> None:
    result = parse_vn_datetime(text)
    assert result == expected
    assert result is not None and result.utcoffset() == timedelta(hours=7)
    assert parse_vn_date_parts(text) == (expected, has_time)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hôm qua",
        "Sáng 7-9, tại Hà Nội",  # no year
        "31/02/2024",
        "29/02/2023",
        "12/13/2021",  # month 13 (a US date)
        "00/01/2021",
        "01/01/0999",
        "1 giờ trước",
        "Lượt xem: 12345",
    ],
)
def test_parse_vn_datetime_rejects(text: str) -> None:
    assert parse_vn_datetime(text) is None
    assert parse_vn_date_parts(text) is None


def test_parse_vn_datetime_invalid_time_is_ignored_not_misread() -> None:
    result = parse_vn_date_parts("25:61 05/01/2026")
    assert result == (_vn(2026, 1, 5), False)


# --- ISO ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-17T13:43:02+0700", _vn(2025, 6, 17, 13, 43, 2)),
        ("2025-06-17T13:43:02+07:00", _vn(2025, 6, 17, 13, 43, 2)),
        ("2025-06-17T06:43:02Z", _vn(2025, 6, 17, 13, 43, 2)),
        ("2025-06-17T06:43:02z", _vn(2025, 6, 17, 13, 43, 2)),
        ("2025-06-17T13:43:02", _vn(2025, 6, 17, 13, 43, 2)),  # naive → +07:00
        ("2025-06-17 13:43", _vn(2025, 6, 17, 13, 43)),
        ("2025-06-17", _vn(2025, 6, 17)),
        ("  2025-06-17T13:43:02.1234567+07:00 ", _vn(2025, 6, 17, 13, 43, 2, 123456)),
        ("2025-06-17T08:43:02-05:00", _vn(2025, 6, 17, 20, 43, 2)),
    ],
)
def test_parse_iso_datetime(text: str, expected: datetime) -> None:
    result = parse_iso_datetime(text)
    assert result == expected
    assert result is not None and result.tzinfo is not None


def test_parse_iso_datetime_naive_gets_vn_offset() -> None:
    result = parse_iso_datetime("2025-06-17T13:43:02")
    assert result is not None and result.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize("text", ["", "junk", "2025-13-01", "17/06/2025", "2025-06-17T25:00:00", "T13:00"])
def test_parse_iso_datetime_rejects(text: str) -> None:
    assert parse_iso_datetime(text) is None


def test_to_vn_iso() -> None:
    assert to_vn_iso(datetime(2025, 6, 17, 6, 43, 2, tzinfo=UTC)) == "2025-06-17T13:43:02+07:00"
    assert to_vn_iso(_vn(2021, 9, 7, 10, 15)) == "2021-09-07T10:15:00+07:00"
    assert to_vn_iso(datetime(2021, 9, 7, 10, 15, 3, 999)) == "2021-09-07T10:15:03+07:00"
    late_utc = datetime(2025, 12, 31, 20, 0, tzinfo=UTC)
    assert to_vn_iso(late_utc) == "2026-01-01T03:00:00+07:00"


def test_round_trip_iso() -> None:
    dt = parse_iso_datetime("2025-06-17T13:43:02+0700")
    assert dt is not None and parse_iso_datetime(to_vn_iso(dt)) == dt


# --- bylines --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "LÊ ÁNH",
        "MINH LÝ",
        "HỮU PHÚC",
        "NGỌC MINH - PHƯƠNG VY",
        "NHÓM PHÓNG VIÊN - CTV",
        "Tin, ảnh: P.Y",
        "Tin và ảnh: Hồng Thi",
        "Bài, ảnh: LÊ NAM",
        "Bài và ảnh: Nguyễn Văn A",
        "Tin: Minh Anh",
        "Bài: T.H",
        "Ảnh: Lê Ánh",
        "Video: Hoàng Sơn",
        "Clip: PV",
        "Nhóm PV",
        "PV",
        "Theo TTXVN",
        "Theo VOV",
        "Theo baochinhphu.vn",
        "Nguồn: VTV",
        "Hữu Đại – Sỹ Thảo",
        "CÔNG SÁNG (báo lao động)",
        "Chí Linh-BBL",
        "\u00a0LÊ ÁNH\u200b ",
    ],
)
def test_is_byline_accepts(text: str) -> None:
    assert is_byline(text)
    assert is_byline(text, strict=False)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Quang cảnh hội thảo. Ảnh: Lê Ánh",
        "Đồng chí Nguyễn Văn A chủ trì hội nghị. Ảnh: Lê Ánh",
        "Ảnh minh họa",
        "UBND TỈNH",
        "TỈNH ỦY GIA LAI",
        "Đồng chí Nguyễn Văn A phát biểu tại hội nghị.",
        "Hội thảo đã nhận được 25 tham luận của các nhà khoa học trong và ngoài tỉnh.",
        "Theo dõi Báo Gia Lai trên Google News",
        "Báo Lào Cai điện tử",
        "Theo kế hoạch, hội nghị sẽ kéo dài hai ngày.",
        "Theo Nghị quyết số 12 của Tỉnh ủy về phát triển",
        "HỘI NGHỊ TỔNG KẾT CÔNG TÁC NĂM 2024",
        "Tin, ảnh:",
        "A" * 61,
        "Một hai ba bốn năm sáu bảy tám chín",
    ],
)
def test_is_byline_rejects(text: str) -> None:
    assert not is_byline(text)
    assert not is_byline(text, strict=False)


@pytest.mark.parametrize("text", ["Anh Dũng", "Nguyễn Thị Minh Khai", "Ksor H'Phuốc", "Lê Ánh (Tổng hợp)"])
def test_is_byline_plain_name_only_when_not_strict(text: str) -> None:
    assert not is_byline(text)
    assert is_byline(text, strict=False)


@pytest.mark.parametrize(
    ("byline", "authors"),
    [
        ("LÊ ÁNH", ["Lê Ánh"]),
        ("MINH LÝ", ["Minh Lý"]),
        ("ĐẶNG ĐỨC", ["Đặng Đức"]),
        ("Tin, ảnh: P.Y", ["P.Y"]),
        ("Bài, ảnh: T.H", ["T.H"]),
        ("Tin và ảnh: NGUYỄN VĂN A", ["Nguyễn Văn A"]),
        ("NGỌC MINH - PHƯƠNG VY", ["Ngọc Minh", "Phương Vy"]),
        ("NGỌC MINH-PHƯƠNG VY", ["Ngọc Minh", "Phương Vy"]),
        ("Hữu Đại – Sỹ Thảo", ["Hữu Đại", "Sỹ Thảo"]),
        ("Hữu Đại, Sỹ Thảo và Minh Anh", ["Hữu Đại", "Sỹ Thảo", "Minh Anh"]),
        ("Hữu Đại; Sỹ Thảo", ["Hữu Đại", "Sỹ Thảo"]),
        ("Anh Dũng", ["Anh Dũng"]),
        ("Anh Dũng.", ["Anh Dũng"]),
        ("Theo TTXVN", []),
        ("Theo VOV", []),
        ("Theo Hà Nội Mới", []),
        ("Nhóm PV", []),
        ("PV", []),
        ("NHÓM PHÓNG VIÊN - CTV", []),
        ("CÔNG SÁNG (báo lao động)", ["Công Sáng"]),
        ("Chí Linh-BBL", ["Chí Linh"]),
        ("Báo Lào Cai điện tử", []),
        ("Ảnh: Cổng TTĐT Tỉnh ủy", []),
        ("LÊ ÁNH - LÊ ÁNH", ["Lê Ánh"]),
        ("Theo Minh Anh (VOV)", ["Minh Anh"]),
        ("\u00a0LÊ\u00a0ÁNH ", ["Lê Ánh"]),
    ],
)
def test_authors_from_byline(byline: str, authors: list[str]) -> None:
    assert authors_from_byline(byline) == authors


def test_repair_legacy_vietnamese_reexported() -> None:
    assert repair_legacy_vietnamese("TiÕng ViÖt, §¶ng bé tØnh Hµ Néi") == (
        "Tiếng Việt, Đảng bộ tỉnh Hà Nội",
        "TCVN3",
    )
