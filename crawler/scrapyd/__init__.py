"""Scrapyd: crawl jobs dealt over nodes (`provnews schedule`) and the runner of eggs."""
