"""Frozen ASP.NET archives of absorbed papers (baoyenbai ``/{catid}/{id}/{slug}.aspx``, baobinhdinh
``/viewer.aspx?mabb=…``, baohoabinh, baoninhthuan ``…p…c…/{slug}.htm``)."""

from __future__ import annotations

from provnews.crawler.parsers.base import ArticleParser


class LegacyParser(ArticleParser):
    """Old WebForms pages: no og:/JSON-LD metadata, fields in server controls whose ids end in the
    control's name (``ctl00_ContentPlaceHolder1_lblTitle``), table layouts, sometimes Windows-1258 bytes
    or TCVN3 text (converted by the shared legacy-font repair). The control names are inferred from the
    WebForms convention, not verified on saved pages: the whole-page fallback is counted when they miss."""

    family = "legacy"
    title_css = ("[id$=lblTitle]", "[id$=lblTieuDe]", ".title_detail", ".tieude", "h1")
    sapo_css = ("[id$=lblSapo]", "[id$=lblTomTat]", ".sapo_detail", ".sapo")
    body_css = ("[id$=lblNoiDung]", "[id$=lblContent]", ".content_detail", ".noidung")
    byline_css = ("[id$=lblTacGia]", "[id$=lblAuthor]", ".tacgia")
    byline_classes = ("tacgia", "author")
    date_css = ("[id$=lblNgayDang]", "[id$=lblDate]", ".date_detail", ".ngaydang", ".date")
    section_css = ("[id$=lblChuyenMuc]", ".chuyenmuc a", ".breadcrumb a")
