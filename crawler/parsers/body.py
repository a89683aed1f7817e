"""Body extraction inside a known article container: clean the subtree, run trafilatura on it, and
read paragraphs, captions and images back in document order."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import trafilatura
from cssselect import HTMLTranslator
from lxml import etree
from lxml import html as lxml_html
from trafilatura.settings import use_config

from provnews.crawler.parsers.fields import Image
from provnews.crawler.text.vietnamese import clean_text

# Class or id tokens of boxes that are never article text: ads, related news, sharing, comments.
_JUNK_TOKEN = re.compile(
    r"^(rennab|sda.*|ads?|ad-.*|adv.*|advert.*|banner.*|amn_.*|qc|quangcao.*|box-related.*|related.*|.*-related"
    r"|.*relate|tinlienquan|lienquan.*|tin-lien-quan|social.*|share.*|sharing|fb-.*|zalo.*|gg-news|google-news"
    r"|article__tags|tags?|comment.*|print.*|fyi|readmore|xem-them|.*[_-](?:social|share|sharing))$"
)
_JUNK_TAGS = (
    "script",
    "style",
    "noscript",
    "iframe",
    "form",
    "button",
    "ins",
    "template",
    "svg",
    "video",
    "audio",
)
_RIGHT_ALIGNED = re.compile(r"text-align\s*:\s*right", re.I)
_CENTRED = re.compile(r"text-align\s*:\s*center", re.I)
# Boxes listing other articles (or the site footer) whose dates are not the article's.
_OTHER_ARTICLES = re.compile(
    r"relate|lienquan|lien-quan|tinkhac|tin-khac|other-news|othernews|more-news|cung-chuyen-muc|comment|footer"
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_BOILERPLATE = re.compile(
    r"^(?:Theo dõi .{0,60}?trên\s*(?:Google News)?|Tin liên quan:?|Xem thêm:?|Có thể bạn quan tâm:?"
    r"|Đọc thêm:?|Cùng chuyên mục:?|Bình luận:?|Gửi Mail tòa soạn|Chia sẻ(?: bài viết)?:?|In bài viết"
    r"|(?:\{\w+\}\s*)+)$",
    re.I,
)
# The banner absorbed papers put on their frozen archives (baobinhduong.vn since 2025-07-01), whole or
# split over two blocks: "… trang web tạm ngừng cập nhật thông tin …" / "… địa bàn Bình Dương (cũ) sẽ
# được cập nhật trên báo Sài Gòn Giải Phóng".
_FREEZE_BANNER = re.compile(
    r"tạm ngừng cập nhật|ngừng cập nhật thông tin|\(cũ\) sẽ được cập nhật trên (?:báo|trang)", re.I
)
# Site header lines that some templates put inside the article column (baolaichau).
_HEADER_LINE = re.compile(r"^Hotline\b.{0,80}Đọc báo in$", re.I)
# Leaked template placeholders ("{title} {publish} {head}", baoquangtri) and injected anti-copy blobs
# (long base64-like tokens, baothanhhoa, baophutho): never text, wherever they sit in a paragraph.
_PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w{0,30}\}")
_BLOB = re.compile(
    r"(?<![\w+/=])(?=[A-Za-z0-9+/=]*\d)(?=[A-Za-z0-9+/=]*[a-z])(?=[A-Za-z0-9+/=]*[A-Z])[A-Za-z0-9+/]{32,}={0,2}(?![\w+/=])"
)
_TRANSLATOR = HTMLTranslator()
_TEXT_TAGS = {"p", "head", "item", "cell", "quote", "code"}

_CONFIG = use_config()
# A scoped container holds only the article, so even a two-line brief is kept.
_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
_CONFIG.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
_CONFIG.set("DEFAULT", "MIN_EXTRACTED_COMM_SIZE", "1")


@dataclass
class Body:
    paragraphs: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    byline: str | None = None  # text of a right-aligned or byline-classed last block, if any


def is_boilerplate(paragraph: str) -> bool:
    return (
        bool(_BOILERPLATE.match(paragraph))
        or bool(_FREEZE_BANNER.search(paragraph))
        or bool(_HEADER_LINE.match(paragraph))
    )


def scrub(paragraph: str) -> str:
    """A paragraph without template placeholders and anti-copy blobs ("" if nothing else was there)."""
    if "{" in paragraph:
        paragraph = _PLACEHOLDER.sub(" ", paragraph)
    if len(paragraph) >= 32:
        paragraph = _BLOB.sub(" ", paragraph)
    return clean_text(paragraph)


def extract_body(
    container: etree._Element,
    base_url: str,
    byline_css_classes: tuple[str, ...] = (),
    *,
    scoped: bool = True,
    junk_css: tuple[str, ...] = (),
) -> Body:
    """Paragraphs (captions included, in place), images and the byline block of an article container.

    In a family's known body container every block is article text once the junk is gone, so the
    blocks are read in order (trafilatura there drops <div> paragraphs that follow <p> ones, and short
    captions). A whole page (scoped=False) goes through trafilatura, which finds the main content."""
    root = copy.deepcopy(container)
    for query in junk_css:  # a site's own junk boxes (registry selectors)
        for el in root.xpath(_TRANSLATOR.css_to_xpath(query)):
            if isinstance(el, etree._Element) and el is not root and el.getparent() is not None:
                el.drop_tree()
    _drop_junk(root)
    body = Body()
    body.images = _collect_images(root, base_url)
    body.byline = _byline_block(root, byline_css_classes)
    _captions_to_paragraphs(root)
    for img in root.iter("img", "picture", "source"):
        img.drop_tree() if img.getparent() is not None else None
    paragraphs = block_paragraphs(root) if scoped else trafilatura_paragraphs(root)
    body.paragraphs = [p for p in (scrub(p) for p in paragraphs) if p and not is_boilerplate(p)]
    return body


def _tokens(el: etree._Element) -> list[str]:
    return f"{el.get('class', '')} {el.get('id', '')}".lower().split()


def _drop_junk(root: etree._Element) -> None:
    for el in list(root.iter()):
        if el is root or not isinstance(el.tag, str):
            if isinstance(el, etree._Comment) and el.getparent() is not None:
                el.drop_tree() if hasattr(el, "drop_tree") else el.getparent().remove(el)
            continue
        if el.getparent() is None:
            continue  # already removed with an ancestor
        if (
            el.tag in _JUNK_TAGS
            or any(_JUNK_TOKEN.match(t) for t in _tokens(el))
            or _is_link_box(el)
            or _hidden(el)
        ):
            el.drop_tree()


def in_junk_box(el: etree._Element) -> bool:
    """Inside a related-news, ad, comment or footer box (a date there is another article's or the site's)."""
    for anc in el.iterancestors():
        if anc.tag == "footer" or any(_OTHER_ARTICLES.search(t) for t in _tokens(anc)):
            return True
    return False


def _hidden(el: etree._Element) -> bool:
    """Never rendered: the hidden attribute or an inline display:none (anti-copy text, template leftovers)."""
    return el.get("hidden") is not None or bool(_HIDDEN_STYLE.search(el.get("style", "")))


def _is_link_box(el: etree._Element) -> bool:
    """A list or box of several links with little other text: a related-news box inside the body."""
    if el.tag not in ("div", "ul", "ol", "section", "aside", "table", "nav"):
        return False
    links = el.findall(".//a")
    if len(links) < 2:
        return False
    text = clean_text(el.text_content())
    link_text = sum(len(clean_text(a.text_content())) for a in links)
    return bool(text) and link_text / len(text) > 0.6


def _image_url(img: etree._Element, base_url: str) -> str | None:
    for attr in ("data-src", "data-original", "data-lazy-src", "src"):
        value = (img.get(attr) or "").strip()
        if value and not value.startswith("data:"):
            from urllib.parse import urljoin

            return urljoin(base_url, value)
    return None


def _caption_for(img: etree._Element) -> str | None:
    figure = next((a for a in img.iterancestors() if a.tag == "figure"), None)
    if figure is not None:
        cap = figure.find(".//figcaption")
        return clean_text(cap.text_content()) or None if cap is not None else None
    table = next((a for a in img.iterancestors() if a.tag == "table"), None)
    if table is not None:
        cells = [clean_text(td.text_content()) for td in table.iter("td", "th")]
        texts = [c for c in cells if c]
        return texts[0] if texts else None
    block = next((a for a in img.iterancestors() if a.tag in ("p", "div")), None)
    if block is not None and not clean_text(block.text_content()):
        nxt = block.getnext()
        if nxt is not None and _looks_like_caption(nxt):
            return clean_text(nxt.text_content())
    return None


def _looks_like_caption(el: etree._Element) -> bool:
    if el.tag not in ("p", "div") or not clean_text(el.text_content()):
        return False
    if _CENTRED.search(el.get("style", "")) or "caption" in " ".join(_tokens(el)):
        return True
    children = [c for c in el if isinstance(c.tag, str)]
    return len(children) == 1 and children[0].tag in ("em", "i") and not (el.text or "").strip()


def _collect_images(root: etree._Element, base_url: str) -> list[Image]:
    images: list[Image] = []
    for img in root.iter("img"):
        url = _image_url(img, base_url)
        if url and all(i.url != url for i in images):
            images.append(Image(url=url, caption=_caption_for(img)))
    return images


def _captions_to_paragraphs(root: etree._Element) -> None:
    """Replace each <figure> by a plain <p> with its caption, which trafilatura otherwise drops."""
    for figure in list(root.iter("figure")):
        cap = figure.find(".//figcaption")
        text = clean_text(cap.text_content()) if cap is not None else ""
        if text:
            p = etree.Element("p")
            p.text = text
            p.tail = figure.tail
            figure.getparent().replace(figure, p)
        else:
            figure.drop_tree()


def _byline_block(root: etree._Element, classes: tuple[str, ...]) -> str | None:
    candidates = [
        el
        for el in root.iter("p", "div")
        if _RIGHT_ALIGNED.search(el.get("style", ""))
        or (el.get("align") or "").lower() == "right"
        or any(t in classes for t in _tokens(el))
    ]
    for el in reversed(candidates):
        text = clean_text(el.text_content())
        if text:
            return text
    return None


def trafilatura_paragraphs(root: etree._Element) -> list[str]:
    html = lxml_html.tostring(root, encoding="unicode")
    xml = trafilatura.extract(
        f"<html><body>{html}</body></html>",
        output_format="xml",
        include_images=False,
        include_tables=True,
        include_comments=False,
        include_links=False,
        favor_recall=True,
        deduplicate=False,
        config=_CONFIG,
    )
    return paragraphs_from_xml(xml) if xml else block_paragraphs(root)


def paragraphs_from_xml(xml: str) -> list[str]:
    doc = etree.fromstring(xml.encode("utf-8"))
    main = doc.find("main")
    if main is None:
        return []
    out: list[str] = []
    for el in main.iter():
        if el.tag in _TEXT_TAGS and not any(c.tag in _TEXT_TAGS for c in el.iter() if c is not el):
            text = clean_text("".join(el.itertext()))
            if text:
                out.append(text)
    return out


_BLOCKS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "aside",
        "header",
        "footer",
        "main",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "blockquote",
        "pre",
        "figure",
        "figcaption",
        "address",
        "center",
        "hr",
    ]
)


def block_paragraphs(root: etree._Element) -> list[str]:
    """The text of every block in document order; inline markup joins its block, a double <br> splits."""
    out: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        text = clean_text("".join(buffer))
        buffer.clear()
        if text:
            out.append(text)

    def walk(el: etree._Element) -> None:
        buffer.append(el.text or "")
        previous_br = False
        for child in el:
            if not isinstance(child.tag, str):  # comments, processing instructions
                buffer.append(child.tail or "")
                continue
            if child.tag in _BLOCKS:
                flush()
                walk(child)
                flush()
                previous_br = False
            elif child.tag == "br":
                if previous_br:
                    flush()
                buffer.append(" ")
                previous_br = True
            else:
                walk_inline(child)
                previous_br = False
            buffer.append(child.tail or "")
            if (child.tail or "").strip():
                previous_br = False

    def walk_inline(el: etree._Element) -> None:
        if any(isinstance(c.tag, str) and c.tag in _BLOCKS for c in el.iter()):
            walk(el)  # an inline element wrapping blocks (<a><div>…</div></a>) reads like a block
            return
        buffer.append("".join(el.itertext()))

    walk(root)
    flush()
    return out
