"""Finding article URLs (sitemaps, feeds, listings) and URL normalisation."""
