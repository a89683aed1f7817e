from __future__ import annotations

import codecs
import gzip
import unicodedata

import pytest

from provnews.crawler.text.encoding import (
    MAX_DECOMPRESSED_BYTES,
    declared_encodings,
    decode_html,
    detect_legacy_vietnamese,
    repair_legacy_vietnamese,
)
from provnews.crawler.text.legacy_page import decode_with_legacy_repair
from provnews.crawler.text.legacy_vn import (
    TCVN3_TO_UNICODE,
    VN_LETTERS,
    VNI_PAIRS,
    tcvn3_to_unicode,
    vni_to_unicode,
)

VN = (
    "Tiếng Việt: Đảng bộ tỉnh Hà Nội tổ chức hội nghị tổng kết; người dân ở Quảng Ngãi, Đắk Lắk "
    "ướt sũng vì mưa. “Quý khách” – hoà hợp, khoẻ mạnh, thuỷ lợi, Ủy ban nhân dân ĂN ỞI ỰC."
)
_TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Windows-1258 bytes: cp1258 has ê, ơ, ư, ă… but tones must be separate combining marks."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            nfd = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONES))
            out.append((base + "".join(c for c in nfd if c in _TONES)).encode("cp1258"))
    return b"".join(out)


_UNICODE_TO_TCVN3 = {v: k for k, v in TCVN3_TO_UNICODE.items()}
_UNICODE_TO_VNI = {v: k for k, v in VNI_PAIRS.items()} | {
    "đ": "ñ", "Đ": "Ñ", "ơ": "ô", "Ơ": "Ô", "ư": "ö", "Ư": "Ö",
    "í": "í", "ì": "ì", "ỉ": "æ", "ĩ": "ó", "ị": "ò", "ỵ": "î",
}  # fmt: skip


def to_tcvn3(text: str) -> str:
    """Encode lower-case Vietnamese as TCVN3 and read it back as Latin-1 (what a browser shows)."""
    return "".join(_UNICODE_TO_TCVN3.get(ch, ch) for ch in text)


def to_vni(text: str) -> str:
    return "".join(_UNICODE_TO_VNI.get(ch, ch) for ch in text)


def page(body: str, head: str = '<meta charset="utf-8">') -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>Tin tức</title></head><body><p>{body}</p></body></html>"


# --- helpers sanity -------------------------------------------------------------------------------------


def test_cp1258_needs_decomposition() -> None:
    with pytest.raises(UnicodeEncodeError):
        "Tiếng Việt".encode("cp1258")
    raw = to_cp1258("Tiếng Việt")
    assert raw == b"Ti\xeang Vi\xea\xf2t".replace(b"\xeang", b"\xea\xecng")
    decoded = raw.decode("cp1258")
    assert decoded != "Tiếng Việt"  # combining marks: not NFC
    assert unicodedata.normalize("NFC", decoded) == "Tiếng Việt"


def test_tcvn3_helper_matches_known_sample() -> None:
    assert to_tcvn3("Tiếng Việt, Đảng bộ tỉnh Hà Nội") == "TiÕng ViÖt, §¶ng bé tØnh Hµ Néi"
    assert to_vni("Tiếng Việt, Đảng bộ") == "Tieáng Vieät, Ñaûng boä"


# --- decode_html ----------------------------------------------------------------------------------------


def test_utf8_declared_and_correct() -> None:
    html = page(VN)
    assert decode_html(html.encode("utf-8"), "text/html; charset=UTF-8") == html


def test_result_is_nfc_for_nfd_utf8() -> None:
    html = page(unicodedata.normalize("NFD", VN))
    assert decode_html(html.encode()) == unicodedata.normalize("NFC", html)


def test_cp1258_declared_is_nfc() -> None:
    html = page(VN, '<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">')
    out = decode_html(to_cp1258(html))
    assert out == html
    assert unicodedata.is_normalized("NFC", out)


def test_cp1258_declared_by_header() -> None:
    html = page(VN, "")
    assert decode_html(to_cp1258(html), "text/html; charset=windows-1258") == html


def test_declared_utf8_but_actually_cp1258() -> None:
    html = page(VN)  # says utf-8
    out = decode_html(to_cp1258(html), "text/html; charset=utf-8")
    assert out == html
    assert "\ufffd" not in out


def test_declared_latin1_but_actually_cp1258() -> None:
    html = page(VN, '<meta charset="iso-8859-1">')
    assert decode_html(to_cp1258(html)) == html


def test_declared_cp1258_but_actually_utf8() -> None:
    html = page(VN, '<meta charset="windows-1258">')
    assert decode_html(html.encode("utf-8"), "text/html; charset=windows-1258") == html


def test_declared_latin1_but_actually_utf8() -> None:
    html = page(VN, '<meta charset="ISO-8859-1">')
    assert decode_html(html.encode("utf-8")) == html


def test_no_declaration_utf8() -> None:
    html = page(VN, "")
    assert decode_html(html.encode("utf-8")) == html


def test_no_declaration_cp1258() -> None:
    html = page(VN, "")
    assert decode_html(to_cp1258(html)) == html


def test_cp1252_western_page_declared_is_kept() -> None:
    html = '<meta charset="windows-1252"><p>São Paulo, café, naïve, Œuvre, “quoted” – ok</p>'
    assert decode_html(html.encode("cp1252")) == html
    assert decode_html(html.encode("cp1252"), "text/html; charset=iso-8859-1") == html


def test_utf8_with_stray_cp1252_quotes_has_no_replacement_char() -> None:
    html = page(VN + " “trích dẫn”")
    raw = html.encode("utf-8").replace("“trích dẫn”".encode(), b"\x93tr\xedch d\xe2n\x94")
    out = decode_html(raw)
    assert "\ufffd" not in out
    assert VN in out and "“trích dân”" in out


def test_truncated_utf8_is_not_treated_as_cp1258() -> None:
    raw = page(VN).encode("utf-8")
    cut = raw[: raw.index("Việt".encode()) + 4]  # inside the 3-byte ệ
    out = decode_html(cut)
    assert out.endswith("Tiếng Vi")
    assert "\ufffd" not in out


def test_replacement_only_when_nothing_better() -> None:
    raw = page(VN).encode("utf-8") + b"\x81\x8d"  # undefined in cp1252 and cp1258
    out = decode_html(raw)
    assert VN in out


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
    ],
)
def test_bom_wins(bom: bytes, codec: str) -> None:
    html = page(VN, '<meta charset="windows-1258">')
    assert decode_html(bom + html.encode(codec), "text/html; charset=iso-8859-1") == html


def test_gzip_body_is_sniffed() -> None:
    html = page(VN)
    assert decode_html(gzip.compress(html.encode("utf-8"))) == html


def test_gzip_cp1258_body() -> None:
    html = page(VN, '<meta charset="windows-1258">')
    assert decode_html(gzip.compress(to_cp1258(html))) == html


def test_double_gzip() -> None:
    html = page(VN)
    assert decode_html(gzip.compress(gzip.compress(html.encode()))) == html


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b" " * (MAX_DECOMPRESSED_BYTES + 10))
    with pytest.raises(ValueError, match="more than"):
        decode_html(bomb)


def test_gzip_at_limit_is_accepted() -> None:
    body = b"<p>" + b"a" * (MAX_DECOMPRESSED_BYTES - 7) + b"</p>"
    assert len(body) == MAX_DECOMPRESSED_BYTES
    assert len(decode_html(gzip.compress(body))) == MAX_DECOMPRESSED_BYTES


def test_corrupt_gzip_raises_value_error() -> None:
    with pytest.raises(ValueError, match="gzip"):
        decode_html(b"\x1f\x8b\x08\x00garbage-not-deflate")


def test_ascii_and_empty() -> None:
    assert decode_html(b"") == ""
    assert decode_html(b"<p>plain</p>", "text/html; charset=utf-16") == "<p>plain</p>"


def test_declared_encodings() -> None:
    body = b'<html><head><meta http-equiv="content-type" content="text/html; charset=windows-1258"></head>'
    assert declared_encodings(body, 'text/html; charset="UTF-8"') == ["utf-8", "cp1258"]
    assert declared_encodings(b'<meta charset="latin1">') == ["cp1252"]
    assert declared_encodings(b'<?xml version="1.0" encoding="UTF-8"?><rss/>') == ["utf-8"]
    assert declared_encodings(b'<meta charset="no-such-charset">', "text/html") == []
    late = b" " * 5000 + b'<meta charset="windows-1258">'
    assert declared_encodings(late) == []


# --- legacy encodings -----------------------------------------------------------------------------------

LEGACY_SAMPLE = (
    "ủy ban nhân dân tỉnh gia lai tổ chức hội nghị tổng kết công tác năm 2009, đồng chí bí thư tỉnh ủy "
    "phát biểu chỉ đạo. những thành tựu đạt được trong năm qua rất đáng khích lệ; người dân phấn khởi."
)


def test_detect_tcvn3_research_sample() -> None:
    assert detect_legacy_vietnamese("TiÕng ViÖt, §¶ng bé tØnh Hµ Néi") == "TCVN3"


def test_detect_vni_research_sample() -> None:
    assert detect_legacy_vietnamese("Tieáng Vieät, Ñaûng boä") == "VNI"


def test_repair_tcvn3_round_trip() -> None:
    legacy = to_tcvn3(LEGACY_SAMPLE)
    assert legacy != LEGACY_SAMPLE
    assert repair_legacy_vietnamese(legacy) == (LEGACY_SAMPLE, "TCVN3")


@pytest.mark.parametrize(
    ("head", "content_type", "compress"),
    [
        ("", None, False),  # undeclared: decode_html reads the bytes as Windows-1258
        ("", None, True),
        ('<meta charset="iso-8859-1">', "text/html; charset=iso-8859-1", False),
    ],
)
def test_tcvn3_page_bytes_are_decoded_and_repaired(
    head: str, content_type: str | None, compress: bool
) -> None:
    html = (
        f"<!DOCTYPE html><html><head>{head}<title>tin tức</title></head>"
        f'<body><p><font face=".VnTime">{LEGACY_SAMPLE}</font></p></body></html>'
    )
    body = to_tcvn3(html).encode("latin-1")
    if not head:
        assert "nghị" not in decode_html(body)  # the charset detector alone gets it wrong
    if compress:
        body = gzip.compress(body)
    assert decode_with_legacy_repair(body, content_type) == (html, "TCVN3")


def test_unicode_page_bytes_are_left_to_decode_html() -> None:
    body = page(VN).encode("utf-8")
    assert decode_with_legacy_repair(body) == (decode_html(body), None)


def test_repair_vni_round_trip() -> None:
    text = "Đường phố Thành phố Hồ Chí Minh, nghị quyết của Ủy ban. " + LEGACY_SAMPLE
    legacy = to_vni(text)
    assert repair_legacy_vietnamese(legacy) == (text, "VNI")
    assert repair_legacy_vietnamese("Ñöôøng phoá Thaønh phoá Hoà Chí Minh, nghò quyeát") == (
        "Đường phố Thành phố Hồ Chí Minh, nghị quyết",
        "VNI",
    )


def test_repair_is_nfc() -> None:
    out, enc = repair_legacy_vietnamese(to_tcvn3(LEGACY_SAMPLE))
    assert enc == "TCVN3" and unicodedata.is_normalized("NFC", out)


@pytest.mark.parametrize(
    "text",
    [
        VN,
        LEGACY_SAMPLE,
        unicodedata.normalize("NFD", VN),
        "Thanh Hoá và Thanh Hóa, hoà và hòa; ĐẢNG BỘ TỈNH QUẢNG NGÃI — NGHỊ QUYẾT ĐẠI HỘI",
        "Người dân ở xã Ia Grai (huyện Ia Grai) đã thu hoạch cà phê, hồ tiêu; giá tăng 15%.",
        "Có 5 µm, © 2024 Báo Gia Lai, ½ giờ, nhiệt độ 30°C",
        "Le café est très bon, à côté de la gare. Où êtes-vous? Ça va, déjà été.",
        "España, señor, niño, Müller, Größe",
        "Hello world",
        "",
    ],
)
def test_real_text_is_not_detected_as_legacy(text: str) -> None:
    assert detect_legacy_vietnamese(text) is None
    assert repair_legacy_vietnamese(text) == (text, None)


def test_every_vietnamese_letter_survives_detection() -> None:
    letters = " ".join(sorted(VN_LETTERS))
    assert detect_legacy_vietnamese(letters) is None


def test_tcvn3_table_covers_lower_case_alphabet() -> None:
    lower = {c for c in VN_LETTERS if c.islower()}
    assert lower <= set(TCVN3_TO_UNICODE.values())
    assert tcvn3_to_unicode("§¶ng") == "Đảng"


def test_vni_conversion_of_every_lower_case_letter() -> None:
    for ch in sorted(c for c in VN_LETTERS if c.islower()):
        assert vni_to_unicode(to_vni(ch)) == ch, ch
