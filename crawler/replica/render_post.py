"""Pages of the "-post{id}.html" CMS family (modelled on baolaocai.vn / baogialai.com.vn)."""

from __future__ import annotations

from provnews.crawler.replica import content as C
from provnews.crawler.replica.render import PIXEL, BaseRenderer, compact, display, esc, json_ld, template
from provnews.crawler.replica.sitegen import SECTIONS, Article, Block


class PostRenderer(BaseRenderer):
    family = "post"
    page_param = "page"

    def tag_path(self, tag: str) -> str:
        return f"/tu-khoa/{C.slugify(tag)}-tag{self.model.tags.get(tag, 0)}.html"

    # ---- fragments --------------------------------------------------------------------------
    def menu(self, active: str) -> str:
        items = []
        for slug, name in SECTIONS:
            cls = "active" if slug == active else ""
            items.append(
                f'   <li><a class="{cls}" href="{self.url(self.section_path(slug))}" title="{esc(name)}">'
                f"{esc(name)}</a></li>"
            )
        return "\n".join(items)

    def share(self, url: str) -> str:
        return (
            f'       <div class="fb-like" data-href="{url}" data-layout="button_count" '
            'data-share="true"></div>\n'
            '       <div class="social social-share">'
            f'<a href="javascript:void(0);" class="tw" data-rel="twitter" data-href="{url}" '
            'title="Chia sẻ qua Twitter">Chia sẻ qua Twitter</a> '
            '<a href="javascript:void(0);" class="print sendprint" title="In bài viết">In bài viết</a> '
            f'<a href="javascript:void(0);" class="mail sendmail" data-href="{url}" '
            'title="Chia sẻ qua Email">'
            "Chia sẻ qua Email</a></div>\n"
            '       <a class="gg-news" href="https://news.google.com/" target="_blank">'
            f"<span>Theo dõi {esc(self.paper)} trên</span> "
            f'<img src="{self.url("/assets/img/gg-news.png")}" alt="Google News"></a>'
        )

    def story(self, art: Article, summary: bool = True, thumb: bool = True) -> str:
        url = self.article_url(art)
        title = esc(art.title)
        parts = [f'<article class="story" data-id="{art.id}">']
        if thumb:
            parts.append(
                f'<figure class="story__thumb"><a class="cms-link" href="{url}" title="{title}">'
                f'<img class="lazyload" src="{PIXEL}" data-src="{self.thumb(art)}" alt="{title}">'
                "</a></figure>"
            )
        parts.append(
            f'<h2 class="story__heading" data-tracking="{art.id}"><a class="cms-link" href="{url}" '
            f'title="{title}"> {title} </a></h2>'
        )
        if summary:
            section = self.model.section_name(art.section)
            parts.append(
                f'<div class="story__meta"><a href="{self.url(self.section_path(art.section))}" '
                f'class="title-cate" title="{esc(section)}"> {esc(section)} </a> '
                f'<time class="time" datetime="{compact(art.published)}" '
                f'data-time="{int(art.published.timestamp())}"> {display(art.published)} </time></div>'
                f'<div class="story__summary story__shorten"><p>{esc(art.sapo)}</p></div>'
            )
        parts.append("</article>")
        return "".join(parts)

    def sidebar(self, forbidden_link: bool = False) -> str:
        stories = [
            self.story(self.model.by_id[i], summary=False, thumb=n == 0)
            for n, i in enumerate(self.model.most_read)
        ]
        if forbidden_link:
            stories.insert(2, self.story(self.model.private, summary=False, thumb=False))
        sections = " ".join(
            f'<a href="{self.url(self.section_path(slug))}" title="{esc(name)}"><i class="ic-location"></i>'
            f"{esc(name)}</a>"
            for slug, name in SECTIONS
        )
        return (
            '    <div id="sdaWeb_SdaRight1" class="rennab" data-platform="1" data-position="Web_SdaRight1" '
            'style="display:none"></div>\n'
            '    <section class="hot-news fyi-position"><h3 class="box-heading"><span class="title">Đọc nhiều'
            '</span></h3><div class="box-content" data-source="mostread-news">'
            + "".join(stories)
            + "</div></section>\n"
            '    <div id="sdaWeb_SdaRight2" class="rennab" data-platform="1" data-position="Web_SdaRight2" '
            'style="display:none"></div>\n'
            '    <div class="local-news fyi-position"><h3 class="box-heading"><span class="title">Chuyên mục'
            f'</span></h3><div class="box-content"><div class="district">{sections}</div></div></div>'
        )

    def block(self, art: Article, i: int, block: Block) -> str:
        if block.kind == "p":
            inner = self.link_tags(block.html)
            if block.tag == "div":
                tail = "&nbsp;" if (art.id + i) % 3 == 0 else ""
                return f"<div> {inner}{tail} <br>\n</div>"
            return f"<p>{inner}</p>"
        if block.kind == "figure":
            src = self.url(block.src)
            img = f'<img class="lazyload" src="{PIXEL}" data-src="{src}" alt="{esc(art.title)}">'
            cap = f"<figcaption>{block.html}</figcaption>" if block.text else ""
            return f'<figure class="image">{img}{cap}</figure>'
        if block.kind == "ad":
            return (
                f'<div class="sda_middle"> <div id="{block.slot}" class="rennab fyi" data-platform="1" '
                f'data-position="{block.slot.replace("sdaWeb_", "Web_")}"> <script>window.sdaQueue = '
                f'(window.sdaQueue || []).concat("{block.slot}");</script></div>\n</div>'
            )
        items = []
        for rid in block.related:
            rel = self.model.by_id[rid]
            items.append(
                f'<article class="story"><h2 class="story__heading"><a class="cms-link" '
                f'href="{self.article_url(rel)}" title="{esc(rel.title)}">{esc(rel.title)}</a></h2>'
                f'<time class="time" datetime="{compact(rel.published)}">{display(rel.published)}</time>'
                "</article>"
            )
        heading = C.RELATED_HEADINGS[art.id % len(C.RELATED_HEADINGS)]
        return (
            f'<div class="box-related"><h3 class="box-heading"><span class="title">{heading}</span></h3>'
            f'<div class="box-content">{"".join(items)}</div></div>'
        )

    def byline(self, art: Article) -> str:
        if art.byline_style == "t1":
            return f'<div class="t1"> <span class="t2">{esc(art.byline)}</span>\n</div>'
        return f'<p style="text-align:right"><strong>{esc(art.byline)}</strong></p>'

    # ---- pages ------------------------------------------------------------------------------
    def layout(self, **values: str) -> str:
        spec = self.spec
        return template("post_page.html").substitute(
            base=self.base,
            site_name=esc(spec.display_name),
            paper=esc(self.paper),
            domain=spec.domain,
            site_code=str(spec.first_id % 1000),
            hotline=spec.hotline,
            hotline_tel="+84" + spec.hotline.replace(" ", "")[1:],
            address=esc(spec.address),
            province_full=esc(self.province_full),
            updated=self.updated,
            year="2025",
            menu=self.menu(values.get("section_slug", "")),
            **values,
        )

    def article_page(self, art: Article) -> str:
        url = self.article_url(art)
        section = self.model.section_name(art.section)
        image = self.thumb(art)
        body = "\n".join(self.block(art, i, b) for i, b in enumerate(art.blocks)) + "\n" + self.byline(art)
        tags_html = " ".join(
            f'<a href="{self.url(self.tag_path(t))}" title="{esc(t)}">#{esc(t)}</a>' for t in art.tags
        )
        same = [a for a in self.model.in_section(art.section) if a.id != art.id][:4]
        org = {"@type": "Organization", "name": self.spec.display_name}
        ld = [
            json_ld({"@context": "https://schema.org", **org, "url": self.base + "/"}),
            json_ld(
                {
                    "@context": "https://schema.org",
                    "@type": "BreadcrumbList",
                    "itemListElement": [
                        {
                            "@type": "ListItem",
                            "position": 1,
                            "item": {"@id": self.url(self.section_path(art.section)), "name": section},
                        }
                    ],
                }
            ),
            json_ld(
                {
                    "@context": "https://schema.org",
                    "@type": "NewsArticle",
                    "mainEntityOfPage": {"@type": "WebPage", "@id": url},
                    "headline": art.title,
                    "description": art.sapo,
                    "image": {"@type": "ImageObject", "url": image, "width": 1200, "height": 675},
                    "datePublished": compact(art.published),
                    "dateModified": compact(art.modified),
                    "author": org,
                    "publisher": org,
                }
            ),
        ]
        head = "\n".join(
            [
                f'<link rel="canonical" href="{url}" />',
                '<meta property="og:type" content="article"/>',
                f'<meta property="og:url" content="{url}"/>',
                f'<meta property="og:image" content="{image}"/>',
                f'<meta property="og:title" content="{esc(art.title)}"/>',
                f'<meta property="og:description" content="{esc(art.sapo)}"/>',
                '<meta name="twitter:card" value="summary"/>',
                f'<meta name="twitter:title" content="{esc(art.title)}"/>',
                f'<meta property="article:tag" content="{esc(",".join(art.tags))},"/>',
                f'<meta property="article:section" content="{esc(section)}" />',
                f'<meta property="article:published_time" content="{compact(art.published)}"/>',
                f'<meta property="article:modified_time" content="{compact(art.modified)}"/>',
                *ld,
            ]
        )
        main = template("post_article.html").substitute(
            base=self.base,
            id=str(art.id),
            title=esc(art.title),
            section_url=self.url(self.section_path(art.section)),
            section_name=esc(section),
            pub_compact=compact(art.published),
            epoch=str(int(art.published.timestamp())),
            pub_display=display(art.published),
            share=self.share(url),
            sapo_html=art.sapo_html,
            body_class=self.body_class(art),
            body_html=body,
            tags_html=tags_html,
            same_section="\n".join(self.story(a) for a in same),
            sidebar=self.sidebar(),
        )
        return self.layout(
            page_title=f"{esc(art.title)} | {esc(self.spec.display_name)}",
            description=esc(art.sapo),
            keywords=esc(", ".join(art.tags)),
            head_meta=head,
            main=main,
            page_type="detail",
            section_slug=art.section,
        )

    def listing_page(
        self, name: str, list_path: str, articles: list[Article], page: int, forbidden_link: bool = False
    ) -> str | None:
        chunk = self.page_slice(articles, page)
        if chunk is None:
            return None
        last = self.pages(articles)
        links = []
        if page > 1:
            links.append(f'<a class="page-prev" href="{self.page_url(list_path, page - 1)}">Trang trước</a>')
        for n in range(1, last + 1):
            if n == page:
                links.append(f'<span class="page-item active">{n}</span>')
            else:
                links.append(f'<a class="page-item" href="{self.page_url(list_path, n)}">{n}</a>')
        if page < last:
            links.append(f'<a class="page-next" href="{self.page_url(list_path, page + 1)}">Trang sau</a>')
        url = self.page_url(list_path, page)
        main = template("post_listing.html").substitute(
            list_url=self.url(list_path),
            list_name=esc(name),
            list_class="timeline category-page",
            list_source=esc(list_path.strip("/") or "home"),
            stories="\n".join(self.story(a) for a in chunk),
            pagination="\n".join(links) if last > 1 else "",
            next_page=str(min(page + 1, last)),
            sidebar=self.sidebar(forbidden_link=forbidden_link),
        )
        section = list_path.strip("/") if list_path.strip("/") in dict(SECTIONS) else ""
        head = f'<link rel="canonical" href="{url}" />\n<meta property="og:type" content="website"/>'
        return self.layout(
            page_title=f"{esc(name)} | {esc(self.spec.display_name)}",
            description=esc(name),
            keywords=esc(name),
            head_meta=head,
            main=main,
            page_type="category",
            section_slug=section,
        )
