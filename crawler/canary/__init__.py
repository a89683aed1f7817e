"""The canary: a live check that each registry site still yields articles, field by field.

For one site it reads robots.txt and every discovery source (sitemaps, feeds, listings and the second
listing page), picks the newest article URLs found, fetches and extracts them with the site's parser
and reports for each field (title, text, authors, published_at, dateline) whether it worked, and why
not. It is deliberately small and sequential per site: a plain urllib client, the registry's delay
between requests, robots.txt obeyed as RFC 9309 says (an unreachable or 5xx robots.txt disallows all).

- `crawler.canary.client`: the blocking HTTP client and robots.txt rules;
- `crawler.canary.probe`: what is fetched and checked (`check_site`, `run_canary`);
- `crawler.canary.report`: the findings, their verdict, text and JSON forms, and what alerts (`failing`).
"""
