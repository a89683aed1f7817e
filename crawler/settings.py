"""Scrapy settings for provnews: standard settings first, then the project's PROVNEWS_* settings.

Every PROVNEWS_* setting can be set in the environment or with `-s NAME=VALUE`, except
PROVNEWS_USER_AGENT and PROVNEWS_LOG_LEVEL: environment only, they set Scrapy's USER_AGENT and LOG_LEVEL
(which `-s` sets per run). Each is documented in the README (a test checks that).
"""

from __future__ import annotations

import os

BOT_NAME = "provnews"
SPIDER_MODULES = ["provnews.crawler.spiders"]
NEWSPIDER_MODULE = "provnews.crawler.spiders"

# Identify ourselves: a name and a contact URL, as polite crawlers do.
USER_AGENT = os.environ.get(
    "PROVNEWS_USER_AGENT", "provnews/0.1 (+https://github.com/provnews/provnews; research corpus crawler)"
)
ROBOTSTXT_OBEY = True
ROBOTSTXT_PARSER = "provnews.crawler.politeness.robots_rules.Rfc9309RobotParser"

# Politeness: one request at a time per site; per-site delays come from the registry (DOWNLOAD_SLOTS
# is filled by the spider), AutoThrottle only ever slows a site down from there.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
EXTENSIONS = {
    # first: the registry and the storage of the crawl, read and opened once, which the others use
    "provnews.crawler.extensions.crawl_registry.CrawlRegistry": -20,
    "provnews.crawler.extensions.crawl_storage.CrawlStorage": -10,
    # after Scrapy's AutoThrottle (0): a site's delay never goes below its own
    "provnews.crawler.extensions.site_throttle.SiteAutoThrottle": 1,
    # before RunRecorder: a run records the sites it claimed
    "provnews.crawler.extensions.site_claims.SiteClaims": 5,
    "provnews.crawler.extensions.run_recorder.RunRecorder": 10,
    "provnews.crawler.extensions.progress.Progress": 20,
    "provnews.crawler.extensions.site_time_budget.SiteTimeBudget": 30,
    "scrapy.extensions.telnet.TelnetConsole": None,
}
# A stopping crawl drops the requests waiting for a site's delay instead of fetching them first.
DOWNLOADER = "provnews.crawler.politeness.scrapy_private.StoppingDownloader"
DOWNLOADER_MIDDLEWARES = {
    # First: no request to private, loopback, link-local or reserved addresses (unless allowed by name),
    # and redirects only within the site (its host and aliases, its article_pattern for articles).
    "provnews.crawler.middlewares.address_guard.AddressGuardMiddleware": 40,
    "provnews.crawler.middlewares.site_redirects.SiteRedirectsMiddleware": 50,
    # RFC 9309 robots.txt (5xx/unreachable: disallow all for now; Crawl-delay): Scrapy's middleware with
    # ROBOTSTXT_PARSER below (made safe for requests waiting together), then the one reading its answers.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "provnews.crawler.politeness.scrapy_private.SharedRobotsTxtMiddleware": 100,
    "provnews.crawler.middlewares.robots.Rfc9309RobotsTxtMiddleware": 101,
    # Conditional requests for feeds, sitemaps and listings; a 304 ends there.
    "provnews.crawler.middlewares.conditional.ConditionalRequestsMiddleware": 570,
    # Retry-After and back-off, pausing the whole site, instead of Scrapy's immediate retries.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "provnews.crawler.middlewares.polite_retry.PoliteRetryMiddleware": 550,
}

# Robustness: fail fast on dead servers, cap page sizes (also after decompression), retry a little.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
RETRY_TIMES = 2
# Giving up on a request is counted and reported once per site at the end of the run, not per URL.
RETRY_GIVE_UP_LOG_LEVEL = "INFO"
REDIRECT_MAX_TIMES = 5
# The resolver refuses private, loopback, link-local and reserved addresses before connecting.
TWISTED_DNS_RESOLVER = "provnews.crawler.politeness.resolver.GuardedResolver"
MEMUSAGE_LIMIT_MB = 2048
# Never read local files or data: URLs, whatever a registry or sitemap says.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "s3": None, "ftp": None}
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# `scrapy crawl` checks the news spider's arguments (site ids, dates) before starting: crawler/commands/
COMMANDS_MODULE = "provnews.crawler.commands"

ITEM_PIPELINES = {
    "provnews.pipelines.extract.ExtractPipeline": 100,  # page bytes -> article fields
    "provnews.pipelines.normalize.NormalizePipeline": 200,  # canonical URL, site and province
    "provnews.pipelines.validate.ValidatePipeline": 300,  # drop what is not an article, counted per reason
    "provnews.pipelines.dedupe.DedupePipeline": 400,  # one item per canonical URL in a run
    "provnews.pipelines.store.StorePipeline": 800,  # last: batched upsert, URL state
}

# An article page yields one item: Scrapy starts CONCURRENT_ITEMS asyncio tasks for every response's
# output, so its default of 100 cost ~2 ms of CPU per page for nothing (profiled on the replica).
CONCURRENT_ITEMS = 4
# A development check that re-reads and parses the callback's source code for many responses
# (~0.4 ms of CPU per page); ruff and the tests watch the spider's code instead.
WARN_ON_GENERATOR_RETURN_VALUE = False

LOG_LEVEL = os.environ.get("PROVNEWS_LOG_LEVEL", "INFO")
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

# --- Project settings ------------------------------------------------------------------------------
# Database URL (SQLAlchemy): SQLite by default, postgresql+psycopg://… for production.
PROVNEWS_DB_URL = os.environ.get("PROVNEWS_DB_URL", "sqlite:///data/provnews.sqlite3")
# Site registry file; empty means config/sites.toml.
PROVNEWS_SITES_FILE = os.environ.get("PROVNEWS_SITES_FILE", "")
# Articles stored per database transaction.
PROVNEWS_STORE_BATCH = int(os.environ.get("PROVNEWS_STORE_BATCH", "50"))
# ...and every this many seconds, whatever the count (0: only on count and at close).
PROVNEWS_STORE_FLUSH_SECONDS = float(os.environ.get("PROVNEWS_STORE_FLUSH_SECONDS", "5"))
# Seconds one site may be crawled per run; then its remaining URLs wait for the next run (0: no limit).
PROVNEWS_SITE_TIME_BUDGET = float(os.environ.get("PROVNEWS_SITE_TIME_BUDGET", "0"))
# Shortest article text kept, in characters.
PROVNEWS_MIN_TEXT_CHARS = int(os.environ.get("PROVNEWS_MIN_TEXT_CHARS", "150"))
# Largest page extracted, in bytes; larger pages are dropped with a reason.
PROVNEWS_MAX_PAGE_BYTES = int(os.environ.get("PROVNEWS_MAX_PAGE_BYTES", str(10 * 1024 * 1024)))
# Longest extraction of one page, in seconds; slower pages are dropped as extract_timeout (0: no limit).
PROVNEWS_EXTRACT_TIMEOUT = float(os.environ.get("PROVNEWS_EXTRACT_TIMEOUT", "5"))
# Worker processes extracting pages at once, while the crawl goes on downloading (0: one per core).
PROVNEWS_EXTRACT_WORKERS = int(os.environ.get("PROVNEWS_EXTRACT_WORKERS", "0"))
# Families' parsers replaced, as a JSON object family -> "module:Class" (a local fix, or a test's parser).
PROVNEWS_PARSERS = os.environ.get("PROVNEWS_PARSERS", "{}")
# Keep the raw HTML of each article (compressed) for re-extraction.
PROVNEWS_KEEP_HTML = os.environ.get("PROVNEWS_KEEP_HTML", "1") not in ("0", "false", "no")
# How many times a URL that failed (5xx, timeout...) is tried, across runs, before it is given up.
PROVNEWS_MAX_ATTEMPTS = int(os.environ.get("PROVNEWS_MAX_ATTEMPTS", "5"))
# Seconds before a failed URL is tried again in a later run; doubled after each further failure.
PROVNEWS_RETRY_BACKOFF = float(os.environ.get("PROVNEWS_RETRY_BACKOFF", "900"))
# Within a run: seconds before the first retry of a 5xx or timeout, doubled for each retry.
PROVNEWS_RETRY_BACKOFF_BASE = float(os.environ.get("PROVNEWS_RETRY_BACKOFF_BASE", "2"))
# Longest wait honoured in a run (Retry-After, back-off); a longer Retry-After leaves the URL for later.
PROVNEWS_RETRY_AFTER_MAX = float(os.environ.get("PROVNEWS_RETRY_AFTER_MAX", "120"))
# Highest robots.txt Crawl-delay honoured, in seconds.
PROVNEWS_MAX_CRAWL_DELAY = float(os.environ.get("PROVNEWS_MAX_CRAWL_DELAY", "60"))
# Conditional requests (ETag / Last-Modified) for feeds, sitemaps and listing pages.
PROVNEWS_CONDITIONAL = os.environ.get("PROVNEWS_CONDITIONAL", "1") not in ("0", "false", "no")
# Host names the crawl may reach on private, loopback, link-local or reserved addresses (comma-separated;
# the local replica, `provnews demo` and the tests allow 127.0.0.1 and localhost). Empty: none.
PROVNEWS_ALLOW_PRIVATE_HOSTS = os.environ.get("PROVNEWS_ALLOW_PRIVATE_HOSTS", "")
# Site claims (the work queue of the crawl workers); a claim without heartbeat for PROVNEWS_LOCK_STALE
# seconds is taken over; PROVNEWS_SITES_PER_WORKER sites are crawled at once by one process (0: all).
PROVNEWS_LOCK = os.environ.get("PROVNEWS_LOCK", "1") not in ("0", "false", "no")
PROVNEWS_LOCK_STALE = float(os.environ.get("PROVNEWS_LOCK_STALE", "600"))
PROVNEWS_LOCK_HEARTBEAT = float(os.environ.get("PROVNEWS_LOCK_HEARTBEAT", "30"))
PROVNEWS_SITES_PER_WORKER = int(os.environ.get("PROVNEWS_SITES_PER_WORKER", "16"))
# A site whose last crawl completed less than this many seconds before a worker started is not crawled
# again by it (0: only the sites completed since it started are left out).
PROVNEWS_SITE_MIN_INTERVAL = float(os.environ.get("PROVNEWS_SITE_MIN_INTERVAL", "0"))
# Seconds between saves of a running crawl's counters to its crawl_runs row.
PROVNEWS_RUN_SAVE_INTERVAL = float(os.environ.get("PROVNEWS_RUN_SAVE_INTERVAL", "30"))
# Live progress per site: auto (when stderr is a terminal), 1 or 0; and its interval in seconds.
PROVNEWS_PROGRESS = os.environ.get("PROVNEWS_PROGRESS", "auto")
PROVNEWS_PROGRESS_INTERVAL = float(os.environ.get("PROVNEWS_PROGRESS_INTERVAL", "5"))
# Discovery bounds: deepest page of a listing walk; URLs read per sitemap or feed; sitemap indexes nested
# below a registry sitemap; sitemaps and feeds fetched per site and run. Each limit hit is counted.
PROVNEWS_LISTING_WALK_MAX_PAGES = int(os.environ.get("PROVNEWS_LISTING_WALK_MAX_PAGES", "200"))
PROVNEWS_DISCOVERY_MAX_URLS = int(os.environ.get("PROVNEWS_DISCOVERY_MAX_URLS", "50000"))
PROVNEWS_SITEMAP_MAX_DEPTH = int(os.environ.get("PROVNEWS_SITEMAP_MAX_DEPTH", "3"))
# URLs left by earlier runs taken per site at a time (the next ones when the crawl runs out of work).
PROVNEWS_RESUME_PAGE = int(os.environ.get("PROVNEWS_RESUME_PAGE", "500"))
PROVNEWS_DISCOVERY_MAX_DOCUMENTS = int(os.environ.get("PROVNEWS_DISCOVERY_MAX_DOCUMENTS", "1000"))
