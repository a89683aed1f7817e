"""Scrapy commands of the project (`COMMANDS_MODULE`): `crawl` checks the news spider's arguments first."""
