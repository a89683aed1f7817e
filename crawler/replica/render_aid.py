"""Pages of the "-a{id}.html" CMS family (modelled on baocantho.com.vn)."""

from __future__ import annotations

from urllib.parse import quote

from provnews.crawler.replica.render import BaseRenderer, esc, json_ld, template
from provnews.crawler.replica.sitegen import SECTIONS, SUBSECTIONS, Article, Block

AID_SIDEBAR_TITLES = ("Đọc nhiều", "Tiêu điểm")


class AidRenderer(BaseRenderer):
    family = "a-id"
    page_param = "p"

    def tag_path(self, tag: str) -> str:
        return f"/tim-kiem/{quote(tag)}.html"

    def sub_path(self, section: str, sub: str) -> str:
        return f"/{section}/{sub}/"

    # ---- fragments --------------------------------------------------------------------------
    def menus(self) -> tuple[str, str, str]:
        desktop, mobile, footer = [], [], []
        for slug, name in SECTIONS:
            url = self.url(self.section_path(slug))
            desktop.append(f'      <li><a href="{url}">{esc(name)}</a></li>')
            mobile.append(f'    <li class="col-xs-6"><a class="subcm" href="{url}">{esc(name)}</a></li>')
            subs = "".join(
                f'<li><a href="{self.url(self.sub_path(slug, s))}">'
                f"{esc(self.model.subsection_name(n))}</a></li>"
                for s, n in SUBSECTIONS[slug]
            )
            footer.append(
                f'    <div class="col-inlineblock col-md-2 col-sm-3 col-xs-6"><ul><li class="i-cate">'
                f'<a href="{url}">{esc(name)}</a></li>{subs}</ul></div>'
            )
        return "\n".join(desktop), "\n".join(mobile), "\n".join(footer)

    def img(self, art: Article, width: str = "160") -> str:
        title = esc(art.title)
        return (
            f'<img src="{self.thumb(art)}" width="{width}" alt="{title}" title="{title}" '
            f"onerror=\"this.src='{self.url('/image/error/300x220.jpg')}'\" />"
        )

    def title_link(self, art: Article, cls: str = "fleft") -> str:
        return (
            f'<a class="{cls}" title="{esc(art.title)}" href="{self.article_url(art)}">{esc(art.title)}'
            '&nbsp;<span class="sprite icophoto"></span></a>'
        )

    def sidebar(self, forbidden_link: bool = False) -> str:
        arts = [self.model.by_id[i] for i in self.model.most_read]
        if forbidden_link:
            arts.insert(1, self.model.private)
        items = "\n".join(f"    <li>{self.title_link(a)}</li>" for a in arts)
        return (
            '<div class="box160">\n <div class="topbox160"><a href="javascript:void(0);"><h2>'
            f"{AID_SIDEBAR_TITLES[0]}</h2></a></div>\n"
            f' <div class="midbox160">\n  <ul>\n{items}\n  </ul>\n </div>\n'
            "</div>"
        )

    def block(self, art: Article, block: Block) -> str:
        if block.kind == "p":
            return f'<p style="text-align: justify;">{self.link_tags(block.html)}</p>'
        if block.kind == "figure":
            return (
                f'<p style="text-align: justify;"><img title="{esc(art.title)}" class="zoomimg" alt="" '
                f'src="{self.url(block.src)}" style="width: 700px; height: 436px;" /></p>\n'
                '<p style="text-align: center;"><em><span style="text-align: justify;">'
                f"{block.html}</span></em></p>"
            )
        if block.kind == "ad":
            return f'<div class="{block.slot}"></div>'
        return ""

    # ---- pages ------------------------------------------------------------------------------
    def layout(self, **values: str) -> str:
        spec = self.spec
        desktop, mobile, footer = self.menus()
        values.pop("section_slug", None)
        return template("aid_page.html").substitute(
            base=self.base,
            site_name=esc(spec.display_name),
            paper=esc(self.paper),
            domain=spec.domain,
            hotline=spec.hotline,
            address=esc(spec.address),
            updated=self.updated,
            menu=desktop,
            menu_mobile=mobile,
            footer_nav=footer,
            **values,
        )

    def article_page(self, art: Article) -> str:
        url = self.article_url(art)
        section = self.model.section_name(art.section)
        sub_slug, sub_name = art.subsection or ("", "")
        first = f'<p style="text-align: justify;">{art.sapo_html}</p>'
        body = [first, *(self.block(art, b) for b in art.blocks)]
        body.append(f'<p style="text-align: right;"><strong>{esc(art.byline)}</strong></p>')
        # ad slots sit glued to the next paragraph, as on the real CMS
        body_html = "\n".join(body).replace("></div>\n<p", "></div><p")
        tags_html = "".join(
            f'<a class="tag_item" title="{esc(t)}" href="{self.url(self.tag_path(t))}">{esc(t)}</a>'
            for t in art.tags
        )
        others = [a for a in self.model.articles if a.id != art.id]
        start = (art.id // 7) % max(1, len(others) - 6)
        related = "\n".join(f"    <li>{self.title_link(a, 'tlq')}</li>" for a in others[start : start + 3])
        more = "\n".join(
            f'    <li class="related-item col-xs-12 col-sm-4"><a class="b-img" href="{self.article_url(a)}">'
            f'{self.img(a, "300")}</a><div class="b-content"><a href="{self.article_url(a)}">'
            f'<h3 class="b-title">{esc(a.title)}</h3></a></div></li>'
            for a in others[start + 3 : start + 6]
        )
        image = self.thumb(art)
        head = "\n".join(
            [
                f'<link rel="canonical" href="{url}" />',
                '<meta property="og:type" content="article" />',
                f'<meta property="og:url" content="{url}" />',
                f'<meta property="og:title" content="{esc(art.title)}" />',
                f'<meta property="og:description" content="{esc(art.sapo)}" />',
                f'<meta property="og:image" content="{image}" />',
                json_ld(
                    {
                        "@context": "https://schema.org/",
                        "@type": "NewsArticle",
                        "name": art.title,
                        "datePublished": art.published.strftime("%Y-%m-%d"),
                        "description": art.sapo,
                    }
                ),
            ]
        )
        main = template("aid_article.html").substitute(
            base=self.base,
            id=str(art.id),
            path=art.path(self.model.family),
            url_q=quote(url, safe=":/"),
            title=esc(art.title),
            section_url=self.url(self.section_path(art.section)),
            section_upper=esc(section.upper()),
            section_slug=art.section,
            sub_url=self.url(self.sub_path(art.section, sub_slug)),
            sub_name=esc(sub_name),
            pub_display=art.published.strftime("%d/%m/%Y - %H:%M"),
            body_class=self.body_class(art),
            body_html=body_html,
            tags_html=tags_html,
            related=related,
            more=more,
            sidebar=self.sidebar(),
        )
        return self.layout(
            page_title=f"{esc(art.title)} - {esc(self.spec.display_name)}",
            description=esc(art.sapo),
            keywords=esc(", ".join(art.tags)),
            head_meta=head,
            main=main,
            page_type="detail",
        )

    def listing_page(
        self, name: str, list_path: str, articles: list[Article], page: int, forbidden_link: bool = False
    ) -> str | None:
        chunk = self.page_slice(articles, page)
        if chunk is None:
            return None
        last = self.pages(articles)
        featured, top3 = "", ""
        rest = chunk
        if page == 1 and chunk:
            lead = chunk[0]
            featured = (
                f'   <a href="{self.article_url(lead)}"><div class="overflow-4x3">'
                f"{self.img(lead, '100%')}</div></a>\n"
                f'   <div class="fleft"><h2 class="h2cate">{self.title_link(lead, "h2link")}</h2></div>\n'
                f'   <p class="desc paddingbottom10 clearleft">{esc(lead.sapo)}</p>'
            )
            top3 = "\n".join(
                f'    <div class="top3"><a class="b-img" href="{self.article_url(a)}">'
                f'<div class="overflow-4x3">{self.img(a)}</div></a>'
                f'<a class="b-content" href="{self.article_url(a)}">'
                f'<h2 class="margintop5 overflow75 fs13 fw600">{esc(a.title)}'
                '&nbsp;<span class="sprite icophoto"></span></h2></a></div>'
                for a in chunk[1:4]
            )
            rest = chunk[4:]
        stories = "\n".join(
            f'    <li class="news-img-left news-img"><a class="b-title" href="{self.article_url(a)}">'
            f'<h3 class="marginbottom5 fs18">{esc(a.title)}</h3></a>'
            f'<a class="b-img" href="{self.article_url(a)}">'
            f'<div class="ovf120">{self.img(a)}</div></a><p class="b-content txt fleft desc marginbottom5">'
            f"{esc(a.sapo)}</p></li>"
            for a in rest
        )
        pages = []
        if last > 1:
            first_href = self.page_url(list_path, 1) if page > 1 else "javascript:void(0)"
            prev_href = self.page_url(list_path, page - 1) if page > 1 else "javascript:void(0)"
            pages += [
                f'<li><a href="{first_href}">&laquo;</a></li>',
                f'<li><a href="{prev_href}">&lt;</a></li>',
            ]
            for n in range(1, last + 1):
                pages.append(
                    f"<li><b>{n}</b></li>"
                    if n == page
                    else f'<li><a href="{self.page_url(list_path, n)}">{n}</a></li>'
                )
            if page < last:
                pages += [
                    f'<li><a href="{self.page_url(list_path, page + 1)}">&gt;</a></li>',
                    f'<li><a href="{self.page_url(list_path, last)}">&raquo;</a></li>',
                ]
        section = list_path.strip("/").split("/")[0]
        rss = (
            self.url(f"/rss/cate/{section}/") if section in dict(SECTIONS) else self.url("/rss/cate/thoi-su/")
        )
        main = template("aid_listing.html").substitute(
            list_url=self.url(list_path),
            list_name_upper=esc(name.upper()),
            rss_url=rss,
            featured=featured,
            top3=top3,
            stories=stories,
            pagination="\n".join(pages),
            sidebar=self.sidebar(forbidden_link),
        )
        head = f'<link rel="canonical" href="{self.page_url(list_path, page)}" />'
        return self.layout(
            page_title=f"Trang thông tin về {esc(name.upper())} - {esc(self.spec.display_name)}",
            description=esc(name),
            keywords=esc(name),
            head_meta=head,
            main=main,
            page_type="category",
        )
