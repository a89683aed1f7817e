"""Stopping one site within a crawl while the others go on: the `site_stopped` signal and the exception
that the site's requests fail with afterwards.

A component that decides a site must stop (`crawler.extensions.site_time_budget.SiteTimeBudget`) sends
`site_stopped` with `site_id` and `reason`; the downloader
(`crawler.politeness.scrapy_private.StoppingDownloader`) then fails the site's queued and later requests with
`SiteStopped`, which the spider treats like any request not made (the URL stays pending for the next run), and
the site's claim is released (`crawler.extensions.site_claims.SiteClaims`)."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest

site_stopped = object()  # signal: site_id: str, reason: str
# signal, no arguments: a site waits only for its articles to be stored (its claim is released once they
# are): the store pipeline writes what it holds now instead of at its next PROVNEWS_STORE_FLUSH_SECONDS.
store_now = object()


class SiteStopped(IgnoreRequest):
    """A request of a site that was stopped in this run; `reason` says why (e.g. site_time_budget)."""

    def __init__(self, site_id: str, reason: str) -> None:
        super().__init__(f"{site_id}: stopped ({reason})")
        self.site_id = site_id
        self.reason = reason
