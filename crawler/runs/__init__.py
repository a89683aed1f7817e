"""A crawl run: its accounts, its memory of URLs, stopping one site, running the spider."""
