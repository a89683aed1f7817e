"""Downloader middlewares of provnews: robots.txt per RFC 9309, Retry-After, conditional requests."""
