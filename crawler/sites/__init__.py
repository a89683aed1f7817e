"""The site registry, the provinces, registry patterns, families and per-site selectors."""
