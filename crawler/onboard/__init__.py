"""`provnews sites add URL`: onboard a news site from its home page or one of its articles.

- `crawler.onboard.discover`: robots.txt, feeds, sitemaps, listings and pagination, article URLs;
- `crawler.onboard.propose`: every family parser on a few articles, and the proposed `[[site]]` entry.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from provnews.crawler.canary.client import Client, Fetched
from provnews.crawler.onboard.discover import Prober, discover
from provnews.crawler.onboard.propose import Proposal, propose

SAMPLE_ARTICLES = 3


def onboard(
    url: str,
    client: Client,
    *,
    articles: int = SAMPLE_ARTICLES,
    site_id: str | None = None,
    province: str | None = None,
    family: str | None = None,
    article_pattern: str | None = None,
) -> Proposal:
    """Discover the site of ``url`` and propose its registry entry (network access, the site only)."""
    parts = urlsplit(url)
    base_url = f"{parts.scheme}://{parts.netloc}/"
    prober = Prober(base_url, client)
    found = discover(prober, start_url=url, article_pattern=article_pattern)
    if found.moved_to is not None:  # e.g. example.vn → www.example.vn: onboard the site where it lives
        earlier = found.evidence
        prober = Prober(found.moved_to, client)
        found = discover(prober, article_pattern=article_pattern)
        found.evidence[:0] = earlier
    pages: list[Fetched] = []
    for article_url in found.article_urls:
        if len(pages) >= articles:
            break
        fetched = prober.get(article_url)
        if fetched is not None:
            pages.append(fetched)
    found.note(f"articles fetched for the family check: {', '.join(p.url for p in pages) or 'none'}")
    return propose(found, pages, site_id=site_id, province=province, family=family)
