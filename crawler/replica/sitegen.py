"""Site models for the replica: deterministic generated articles and their ground truth."""

from __future__ import annotations

import html
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from provnews.crawler.replica import content as C
from provnews.crawler.text.vietnamese import VN_TZ

PAGE_SIZE = 8
START = datetime(2025, 9, 2, 6, 0, tzinfo=VN_TZ)
SPAN_DAYS = 112  # September to late December: four publication months


@dataclass(frozen=True)
class SiteSpec:
    id: str
    name: str  # registry name
    display_name: str  # as the site calls itself (og:site_name, meta author, JSON-LD)
    province: str
    family: str  # "post" or "a-id"
    dateline: str | None
    domain: str  # the real domain the replica imitates; used only in class names and text
    first_id: int
    hotline: str
    address: str


SPECS: dict[str, SiteSpec] = {
    "baogialai": SiteSpec(
        "baogialai",
        "Báo Gia Lai",
        "Báo Gia Lai điện tử",
        "Gia Lai",
        "post",
        "GLO",
        "baogialai.com.vn",
        331200,
        "0269 000 1122",
        "số 9 đường Trần Hưng Đạo (giả lập), phường Pleiku, tỉnh Gia Lai",
    ),
    "baolaocai": SiteSpec(
        "baolaocai",
        "Báo Lào Cai",
        "Báo Lào Cai điện tử",
        "Lào Cai",
        "post",
        None,
        "baolaocai.vn",
        884500,
        "0214 000 3344",
        "số 27 đường Hoàng Liên (giả lập), phường Yên Bái, tỉnh Lào Cai",
    ),
    "baocantho": SiteSpec(
        "baocantho",
        "Báo Cần Thơ",
        "Báo Cần Thơ Online",
        "Cần Thơ",
        "a-id",
        "CTO",
        "baocantho.com.vn",
        193400,
        "0292 000 5566",
        "số 15 đường Hòa Bình (giả lập), phường Ninh Kiều, TP Cần Thơ",
    ),
}
DEFAULT_SITES = tuple(SPECS)


def spec_for(site_id: str) -> SiteSpec:
    """A replica site's spec: one of SPECS, or a copy of one under a numbered id ("baogialai-2": the
    same kind of site again, served on its own port, for tests that need many sites)."""
    if site_id in SPECS:
        return SPECS[site_id]
    base, sep, number = site_id.rpartition("-")
    if sep and number.isdigit() and base in SPECS:
        spec = SPECS[base]
        return replace(spec, id=site_id, name=f"{spec.name} {number}")
    raise KeyError(site_id)


def is_replica_site(site_id: str) -> bool:
    try:
        spec_for(site_id)
    except KeyError:
        return False
    return True


SECTIONS: tuple[tuple[str, str], ...] = (
    ("thoi-su", "Thời sự"),
    ("kinh-te", "Kinh tế"),
    ("xa-hoi", "Xã hội"),
    ("van-hoa", "Văn hóa"),
)
SECTION_NAMES = dict(SECTIONS)
# a-id sites show "THỜI SỰ > Cần Thơ": a sub-category under each section
SUBSECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "thoi-su": (("dia-phuong", "{province}"), ("trong-nuoc", "Trong nước"), ("dbscl", "ĐBSCL")),
    "kinh-te": (("nong-nghiep", "Nông nghiệp"), ("dau-tu", "Đầu tư")),
    "xa-hoi": (("giao-duc", "Giáo dục"), ("y-te", "Y tế")),
    "van-hoa": (("du-lich", "Du lịch"), ("nghe-thuat", "Văn hóa - Nghệ thuật")),
}
TOPIC_TAGS = {
    "meeting": ("cải cách hành chính", "HĐND", "xây dựng Đảng"),
    "infrastructure": ("giao thông", "đầu tư công", "giải phóng mặt bằng"),
    "agriculture": ("OCOP", "nông nghiệp", "VietGAP"),
    "education": ("giáo dục", "học bổng", "năm học mới"),
    "culture": ("du lịch", "lễ hội", "bảo tồn văn hoá"),
}


@dataclass
class Block:
    kind: str  # "p", "figure", "ad", "related"
    text: str = ""  # paragraph text or caption, as a correct extractor returns it
    html: str = ""  # inline HTML of the paragraph / caption
    tag: str = "p"  # "p" or "div"
    src: str = ""  # image path (site-relative)
    slot: str = ""
    related: list[int] = field(default_factory=list)


@dataclass
class Article:
    id: int
    slug: str
    title: str
    section: str
    subsection: tuple[str, str] | None
    topic: str
    sapo: str
    sapo_html: str
    blocks: list[Block]
    byline: str
    byline_style: str
    authors: list[str]
    published: datetime
    modified: datetime
    tags: list[str]
    private: bool = False

    def path(self, family: str) -> str:
        suffix = f"-post{self.id}.html" if family == "post" else f"-a{self.id}.html"
        return ("/private/" if self.private else "/") + self.slug + suffix

    @property
    def images(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "figure"]

    def paragraphs(self) -> list[str]:
        out = [self.sapo]
        for block in self.blocks:
            if block.kind == "p" or (block.kind == "figure" and block.text):
                out.append(block.text)
        out.append(self.byline)
        return out


@dataclass
class SiteModel:
    spec: SiteSpec
    articles: list[Article]  # newest first, public articles only
    private: Article
    tags: dict[str, int]  # tag name -> tag id
    most_read: list[int]
    template_version: int = 1
    feed_size: int = 10  # items in each RSS feed (the newest)
    undated: bool = False  # article pages show no date at all (meta, JSON-LD, visible)
    news_sitemap: bool = False  # monthly sitemaps carry news:publication_date
    redesigned_at: datetime | None = None  # articles from then on use template 2, older ones template 1
    crawl_delay: float | None = None  # a Crawl-delay line in robots.txt

    def __post_init__(self) -> None:
        self.by_id = {a.id: a for a in [*self.articles, self.private]}

    @property
    def family(self) -> str:
        return self.spec.family

    def section_name(self, slug: str) -> str:
        return SECTION_NAMES[slug]

    def subsection_name(self, name: str) -> str:
        return name.format(province=self.spec.province)

    def in_section(self, section: str | None, subsection: str | None = None) -> list[Article]:
        found = [a for a in self.articles if section is None or a.section == section]
        if subsection is not None:
            found = [a for a in found if a.subsection and a.subsection[0] == subsection]
        return found

    def newest_first(self) -> None:
        self.articles.sort(key=lambda a: (a.published, a.id), reverse=True)


def iso(dt: datetime, colon: bool = True) -> str:
    text = dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    return text[:-2] + ":" + text[-2:] if colon else text


def _decorate(rng: random.Random, text: str, tags: list[str], link_tags: bool) -> str:
    """Inline HTML for a paragraph whose text content is exactly `text` (after NBSP → space).

    Tag links are written as ``href="tag:NAME"``; the renderer turns them into tag-page URLs.
    """
    out = html.escape(text, quote=False)
    roll = rng.random()
    if roll < 0.2 and ", " in out[:80]:
        head, tail = out.split(", ", 1)
        out = f"<strong>{head}</strong>, {tail}"
    elif roll < 0.35 and link_tags:
        for tag in tags:
            escaped = html.escape(tag, quote=False)
            if escaped in out:
                out = out.replace(escaped, f'<a href="tag:{html.escape(tag)}">{escaped}</a>', 1)
                break
    elif roll < 0.5 and " " in out[10:]:
        i = out.index(" ", 10)
        out = out[:i] + "&nbsp;" + out[i + 1 :]
    return out


def _byline(rng: random.Random, family: str) -> tuple[str, str, list[str], str]:
    """(printed byline, style, authors, photo credit name)."""
    first, second = rng.sample(C.REPORTERS, 2)
    if family == "post":
        style = rng.choice(("t1", "right", "right2", "t1"))
        if style == "t1":
            return first[0], style, [first[0]], first[0]
        if style == "right":
            return first[0].upper(), style, [first[0]], first[0]
        return f"{first[0].upper()} - {second[0].upper()}", "right", [first[0], second[0]], second[0]
    style = rng.choice(("tin-anh", "upper2", "upper1"))
    if style == "tin-anh":
        return f"Tin, ảnh: {first[1]}", style, [first[1]], first[1]
    if style == "upper2":
        return f"{first[0].upper()} - {second[0].upper()}", style, [first[0], second[0]], first[0]
    return first[0].upper(), style, [first[0]], first[0]


def _image_path(spec: SiteSpec, published: datetime, art_id: int, k: int) -> str:
    if spec.family == "post":
        return f"/images/{published:%Y/%m/%d}/{art_id}-{k}.jpg.webp"
    return f"/image/fckeditor/upload/{published:%Y}/{published:%Y%m%d}/images/{art_id}-{k}.webp"


def make_article(
    spec: SiteSpec, rng: random.Random, art_id: int, published: datetime, section: str, index: int
) -> Article:
    province = C.PROVINCES[spec.province]
    topic = rng.choice(C.SECTION_TOPICS[section])
    event_day = published - timedelta(days=rng.choice((0, 0, 0, 1)))
    same_day_hour = published.hour if event_day == published else 24
    filler = C.Filler(rng, province, event_day.day, event_day.month, published.year, same_day_hour)
    title = filler.fill(rng.choice(C.TITLE_POOL[topic]))
    lead = filler.fill(rng.choice(C.LEAD_POOL[topic]))
    sub = None
    if spec.family == "a-id":
        slug, name = rng.choice(SUBSECTIONS[section])
        sub = (slug, name.format(province=spec.province))
    tags = [*rng.sample(TOPIC_TAGS[topic], 2), filler.place.split(" ", 1)[1]]
    if rng.random() < 0.5:
        tags.append(filler.crop if topic == "agriculture" else province.name)
    tags = list(dict.fromkeys(C.nfc(t) for t in tags))

    if spec.dateline == "GLO":
        sep = rng.choice(("- ", "- ", " – "))
        sapo = f"(GLO){sep}{lead}"
        sapo_html = html.escape(sapo, quote=False)
    elif spec.dateline:
        sapo = f"({spec.dateline}) - {lead}"
        sapo_html = f"<strong>({spec.dateline})</strong> - {html.escape(lead, quote=False)}"
    else:
        sapo, sapo_html = lead, html.escape(lead, quote=False)

    byline, style, authors, credit = _byline(rng, spec.family)
    sentences = list(C.BODY_POOL[topic])
    rng.shuffle(sentences)
    n_par = rng.randint(4, 7)
    texts: list[str] = []
    for _ in range(n_par):
        take = [sentences.pop() for _ in range(min(len(sentences), rng.choice((1, 2, 2))))]
        if take:
            texts.append(" ".join(filler.fill(s) for s in take))
    if rng.random() < 0.75:
        texts.insert(rng.randint(1, len(texts)), filler.fill(rng.choice(C.QUOTES)))
    if rng.random() < 0.6:
        texts.append(filler.fill(rng.choice(C.CLOSINGS)))

    para_tag = rng.choice(("p", "div", "mixed")) if spec.family == "post" else "p"
    blocks: list[Block] = []
    for text in texts:
        tag = rng.choice(("p", "div")) if para_tag == "mixed" else para_tag
        blocks.append(Block("p", text=text, html=_decorate(rng, text, tags, True), tag=tag))

    n_img = rng.choice((0, 1, 1, 2, 2, 3))
    for k in range(n_img):
        cap = filler.fill(rng.choice(C.CAPTIONS[topic]))
        if spec.family == "post":
            no_caption = rng.random() < 0.15
            credit_text = "Ảnh minh họa" if rng.random() < 0.2 else f"Ảnh: {credit}"
            caption = "" if no_caption else f"{cap}. {credit_text}"
        else:
            caption = f"{cap}."
        pos = min(len(blocks), 1 + k * 2 + rng.randint(0, 1))
        blocks.insert(
            pos,
            Block(
                "figure",
                text=caption,
                html=html.escape(caption, quote=False),
                src=_image_path(spec, published, art_id, k + 1),
            ),
        )
    # ad slots inside the body
    paras = [i for i, b in enumerate(blocks) if b.kind == "p"]
    if spec.family == "post":
        for n, i in enumerate(sorted(paras[2:6:3], reverse=True)):
            blocks.insert(i + 1, Block("ad", slot="sdaWeb_SdaArticleMiddle" + ("" if n == 0 else str(n))))
        if rng.random() < 0.45:
            blocks.insert(min(len(blocks), 3 + rng.randint(0, 2)), Block("related"))
    else:
        blocks.insert(min(len(blocks), 2), Block("ad", slot=f"AMN_res_{spec.domain}_mid"))

    modified = published
    if spec.family == "post" and rng.random() < 0.35:
        modified = published + timedelta(minutes=rng.randint(10, 300), seconds=rng.randint(0, 59))
    return Article(
        id=art_id,
        slug=C.slugify(title),
        title=title,
        section=section,
        subsection=sub,
        topic=topic,
        sapo=C.nfc(sapo),
        sapo_html=C.nfc(sapo_html),
        blocks=blocks,
        byline=byline,
        byline_style=style,
        authors=authors,
        published=published,
        modified=modified,
        tags=tags,
    )


def build_site(site_id: str, n_articles: int = 24, seed: int = 7) -> SiteModel:
    spec = spec_for(site_id)
    rng = random.Random(f"provnews-replica:{seed}:{site_id}")
    minutes = sorted(rng.sample(range(SPAN_DAYS * 24 * 60), n_articles + 1))
    section_cycle = ("thoi-su", "thoi-su", "kinh-te", "xa-hoi", "thoi-su", "thoi-su", "kinh-te", "van-hoa")
    articles: list[Article] = []
    art_id = spec.first_id
    for i, minute in enumerate(minutes):
        day, rest = divmod(minute, 24 * 60)
        # publication between 06:00 and 21:59, with seconds on the "post" CMS
        published = START + timedelta(days=day, minutes=rest % (16 * 60))
        if spec.family == "post":
            published += timedelta(seconds=rng.randint(0, 59))
        art_id += rng.randint(3, 400)
        articles.append(make_article(spec, rng, art_id, published, section_cycle[i % len(section_cycle)], i))
    # make titles (hence slugs) unique
    seen: set[str] = set()
    for art in articles:
        while art.slug in seen:
            art.slug += "-" + str(art.id % 97)
        seen.add(art.slug)
    private = articles.pop(rng.randrange(len(articles)))
    private.private = True
    tags: dict[str, int] = {}
    for art in sorted(articles, key=lambda a: a.id):
        for tag in art.tags:
            tags.setdefault(tag, 40100 + len(tags) * 7)
    public_ids = [a.id for a in articles]
    for art in articles:
        others = [i for i in public_ids if i != art.id]
        for block in art.blocks:
            if block.kind == "related":
                block.related = rng.sample(others, min(3, len(others)))
    model = SiteModel(spec, articles, private, tags, rng.sample(public_ids, min(5, len(public_ids))))
    model.newest_first()
    return model


def ground_truth(model: SiteModel, art: Article, base_url: str) -> dict[str, object]:
    url = base_url.rstrip("/") + art.path(model.family)
    images = [
        {"url": base_url.rstrip("/") + b.src, "caption": b.text or None}
        for b in art.blocks
        if b.kind == "figure"
    ]
    post = model.family == "post"
    return {
        "url": url,
        "canonical_url": url,
        "title": art.title,
        "sapo": art.sapo,
        "text": "\n\n".join(art.paragraphs()),
        "byline": art.byline,
        "authors": list(art.authors),
        "published_at": iso(art.published),
        "modified_at": iso(art.modified) if post else None,
        # The deepest breadcrumb level as shown, as on the real baocantho page ("THỜI SỰ > Cần Thơ").
        "section": model.subsection_name(art.subsection[1])
        if art.subsection
        else model.section_name(art.section),
        "tags": list(art.tags),
        "images": images,
        "dateline": model.spec.dateline,
        "language": "vi",
    }
