"""`scrapy crawl`, with the news spider's arguments checked before Scrapy starts.

A mistyped site id or date would otherwise surface as a traceback from the spider's construction; here
it is a usage error (exit status 2) and a faulty registry a one-line runtime error (exit status 1), as
`provnews crawl` gives them."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from provnews.crawler.sites.registry import RegistryError, load_sites
from provnews.crawler.spiders.news import NewsSpider, select_sites


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args and args[0] == NewsSpider.name:
            try:
                spider = NewsSpider(**opts.spargs)
            except (ValueError, TypeError) as exc:  # a bad date, an unknown argument
                raise UsageError(str(exc), print_help=False) from exc
            assert self.settings is not None  # set by scrapy.cmdline before run()
            try:
                registry = load_sites(spider.sites_file or self.settings.get("PROVNEWS_SITES_FILE") or None)
            except RegistryError as exc:
                print(f"Error: {exc}", file=sys.stderr)
                self.exitcode = 1
                return
            try:
                select_sites(registry, spider.site_arg)
            except RegistryError as exc:
                raise UsageError(str(exc), print_help=False) from exc
        super().run(args, opts)
