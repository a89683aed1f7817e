"""Where and how fast a crawl may go: allowed addresses, DNS check, the downloader."""
