"""Every default of the news crawler. Environment modules import this and override a few names."""

from pathlib import Path

from scrapy.settings.default_settings import EXTENSIONS_BASE as SCRAPY_EXTENSIONS

from pipelines.items import EXPORT_FIELDS

BOT_NAME = "newsdedup"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

# --- Being a polite crawler -------------------------------------------------------------------
USER_AGENT = "newsdedup/1.0 (news archive crawler; +https://github.com/newsdedup/newsdedup)"
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
# News pages are rarely over a few megabytes; a larger body is a binary or a trap.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
# Scrapy's HTTP/1.1 handler, keeping a connection per request in flight, through a proxy too
DOWNLOAD_HANDLERS = {
    "http": "crawler.downloader.DownloadHandler",
    "https": "crawler.downloader.DownloadHandler",
}
# A page yields at most one article; Scrapy starts this many item tasks per response, so the
# default 100 costs far more than it could ever run in parallel here.
CONCURRENT_ITEMS = 8
TELNETCONSOLE_ENABLED = False
# Scrapy's HTTP endpoint that runs Python code sent to it, on loopback, for the crawl's length:
# off, like the telnet console, for crawls that cron starts unattended.
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"
STATS_CLASS = "crawler.stats.CrawlStats"
LOG_FORMATTER = "crawler.logformatter.ArticleLogFormatter"
FEED_EXPORT_ENCODING = "utf-8"
# Only the article fields go to feeds (pipelines.items.EXPORT_FIELDS): what the stages carry stays inside.
FEED_EXPORT_FIELDS = list(EXPORT_FIELDS)

# --- State between runs -----------------------------------------------------------------------
DATA_DIR = "data"

EXTENSIONS = {
    # first of all components: a second run on the same DATA_DIR stops before any store is opened
    "crawler.extensions.DataDirLock": 0,
    # opens the crawl's state once (a store that cannot be used stops the run before it fetches)
    "pipelines.state.CrawlState": 10,
    "crawler.extensions.RunSummary": 500,
    # Scrapy's, imported only when REMOTE_CONTROL_ENABLED is set (see EXTENSIONS_BASE)
    "crawler.extensions.RemoteControl": 0,
}
# Scrapy's own extensions but its remote control: Scrapy imports every extension it is given, even
# a disabled one, and that one's module imports aiohttp, a fifth of a second of every start-up.
EXTENSIONS_BASE = {
    name: order for name, order in SCRAPY_EXTENSIONS.items() if not name.endswith(".RemoteControl")
}
# Write a JSON summary of each run to DATA_DIR/runs/ (or, shared, to PostgreSQL) and log it.
RUN_SUMMARY_ENABLED = True
# The run a worker belongs to, when several share one (settings/prod.py sets it from NEWSDEDUP_RUN).
RUN_NAME = "run"
# Log an error and exit with status 5 when a source that yielded articles in its previous run
# yields none (its feed moved, its template changed, it blocks the crawler...).
RUN_ALARM_EMPTY_SOURCES = True

# --- Incremental crawling -------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's, fixed: every request waiting for a host's robots.txt is checked against it
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxtMiddleware": 100,
    # Scrapy's, asking once per host whether it bypasses the proxy
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
    "crawler.middlewares.ProxyMiddleware": 750,
    # Scrapy's, reading a page's text only when its head mentions a refresh
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.MetaRefreshMiddleware": 580,
    "crawler.middlewares.IncrementalMiddleware": 560,
    # after the incremental middleware, before Scrapy's retry middleware (550), on responses
    "crawler.middlewares.RetryAfterMiddleware": 555,
    # next to the network: sees responses before they are decompressed
    "crawler.warc.WarcMiddleware": 950,
}
# A 429/503 asking to come back later is retried after that long, if it is no longer than this.
RETRY_AFTER_ENABLED = True
RETRY_AFTER_MAX_SECONDS = 30.0
# Requests for one page (http/https, session ids, campaign parameters) are one request.
REQUEST_FINGERPRINTER_CLASS = "crawler.middlewares.PageFingerprinter"
INCREMENTAL_ENABLED = True
# An article page stored in an earlier run is fetched again (conditionally) only after this long.
INCREMENTAL_REVISIT_HOURS = 24.0

# --- WARC archive ---------------------------------------------------------------------------------
# Every fetched response, as received, in WARC/1.1 files (gzip per record) under WARC_DIR
# (default DATA_DIR/warc), a new file every WARC_MAX_SIZE bytes.
WARC_ENABLED = True
WARC_DIR = ""
WARC_MAX_SIZE = 1_000_000_000
WARC_PREFIX = "newsdedup"

# --- Spider `news` ----------------------------------------------------------------------------
# How many links deep a home or section page is followed within its host.
NEWS_FOLLOW_DEPTH = 2
# A page without structured article markup counts as an article only with this much body text.
NEWS_ARTICLE_MIN_WORDS = 150
# Links of one shape (host, path and parameter names, digits aside) followed per run, at most:
# an endless calendar or numbered-page trap stops here if the depth limit did not stop it.
NEWS_MAX_URLS_PER_PATTERN = 2000
# Start URLs are fetched even if something else already requested them (settings/prod.py turns
# this off, so several workers fetch each start URL once between them).
NEWS_START_DONT_FILTER = True

ITEM_PIPELINES = {
    "pipelines.extraction.ExtractionPipeline": 100,
    "pipelines.boilerplate.BoilerplatePipeline": 200,
    "pipelines.versioning.VersioningPipeline": 250,
    "pipelines.neardup.NearDuplicatePipeline": 300,
    "pipelines.storage.StoragePipeline": 400,
}

# --- Extraction stage -------------------------------------------------------------------------
EXTRACT_ENABLED = True
# Worker processes for trafilatura; 0 means one per CPU core.
EXTRACT_WORKERS = 0
# A page still being extracted after this many seconds (markup that sends a parser into a loop)
# stops its worker: the page is dropped (extract/timed_out), the crawl goes on. 0: no limit.
EXTRACT_TIMEOUT_SECONDS = 120.0
# Chosen on real pages (bench/articles.py): in balanced mode no page scores more than 0.02 below
# trafilatura's default; precision mode did on 7.8% of the WCXB articles (dropped paragraphs).
EXTRACT_FAVOR_PRECISION = False
EXTRACT_MIN_WORDS = 10

# --- Boilerplate stage ------------------------------------------------------------------------
BOILERPLATE_ENABLED = True
# A paragraph is a site's boilerplate once it appeared in this many different stories of the site...
BOILERPLATE_MIN_STORIES = 4
# ...and in at least this share of the site's stories since it first appeared.
BOILERPLATE_MIN_SHARE = 0.2
# A new site's first pages wait until this many different stories of it were seen, so they are
# cleaned with its template known; at most BOILERPLATE_HOLD_PAGES pages of a site and
# BOILERPLATE_HOLD_PAGES_TOTAL in all wait, for at most BOILERPLATE_HOLD_SECONDS, and all go on
# once no page has arrived for BOILERPLATE_HOLD_QUIET_SECONDS.
BOILERPLATE_WARMUP_STORIES = 5
BOILERPLATE_HOLD_PAGES = 16
BOILERPLATE_HOLD_PAGES_TOTAL = 64
BOILERPLATE_HOLD_SECONDS = 30.0
BOILERPLATE_HOLD_QUIET_SECONDS = 2.0
BOILERPLATE_SAVE_SECONDS = 60.0
# Per-site rules for known boilerplate (XPath pruned before extraction, patterns dropped after).
BOILERPLATE_RULES_FILE = str(
    Path(__file__).resolve().parent.parent / "pipelines" / "rules" / "boilerplate.toml"
)
# Wire agencies and credit lines ("LONDON (Reuters) -", "This article was originally published
# by ..."), read for the `wire` field and as evidence of a story's origin (pipelines.origin).
CREDITS_RULES_FILE = str(Path(__file__).resolve().parent.parent / "pipelines" / "rules" / "credits.toml")
# Pages held for boilerplate warm-up keep their responses counted here; room for them avoids
# throttling downloads while a few new sites warm up.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 50_000_000

# --- Versioning stage ---------------------------------------------------------------------------
# A stored page fetched again: a new version when its text changed, else only the fetch is
# recorded (the revisit interval is INCREMENTAL_REVISIT_HOURS).
VERSIONING_ENABLED = True

# --- Near-duplicate stage ---------------------------------------------------------------------
NEARDUP_ENABLED = True
NEARDUP_NUM_PERM = 128
# The hot index: "memory" (this process's; one crawler process per DATA_DIR) or "redis" (shared
# by every crawler process, settings/prod.py), found in NEARDUP_BACKENDS.
NEARDUP_BACKEND = "memory"
NEARDUP_BACKENDS = {
    "memory": "pipelines.neardup.memory.MemoryIndex",
    "redis": "pipelines.neardup.shared.RedisIndex",
}
NEARDUP_REDIS_URL = "redis://127.0.0.1:6379/0"
NEARDUP_REDIS_PREFIX = "newsdedup:"
# LSH banding: 64 bands x 2 rows finds pairs down to Jaccard 0.25 (see pipelines/core/index.py).
NEARDUP_BANDS = 64
NEARDUP_ROWS = 2
NEARDUP_SHINGLE_SIZE = 5
# Two texts are one story when their Jaccard similarity reaches NEARDUP_THRESHOLD, or when the
# shorter one's shingles are found in the longer one to NEARDUP_CONTAINMENT (a trimmed copy, or
# one with a few paragraphs added), for texts of NEARDUP_CONTAINMENT_MIN_SHINGLES shingles or more.
NEARDUP_THRESHOLD = 0.5
NEARDUP_CONTAINMENT = 0.5
NEARDUP_CONTAINMENT_MIN_SHINGLES = 20
# Every stored signature is matched against, through the store's band table (the cold index); the
# last NEARDUP_HOT_SIGNATURES added are also held in memory (in Redis when shared), so that copies
# not yet written to the store are found too: about 2 KB each, and only minutes' worth of articles
# is needed. Memory and start-up do not grow with the archive.
NEARDUP_HOT_SIGNATURES = 20_000
# Forgetting is opt-in: with a number of days, stories stored longer ago than that (by fetch time)
# are no longer matched against, and their later copies start new stories. 0 = never forget.
NEARDUP_FORGET_AFTER_DAYS = 0
# By default every copy is stored and tagged; True drops (neither stores nor exports) later copies.
NEARDUP_DROP_DUPLICATES = False

# --- Storage stage and the state kept between runs -------------------------------------------
STORAGE_ENABLED = True
# Where state lives (pipelines.state): "sqlite", files under DATA_DIR; "postgres", a PostgreSQL
# schema shared by several crawler processes. Found in STORAGE_BACKENDS.
STORAGE_BACKEND = "sqlite"
STORAGE_BACKENDS = {
    "sqlite": "pipelines.state.sqlite.SQLiteBackend",
    "postgres": "pipelines.state.postgres.PostgresBackend",
}
STORAGE_POSTGRES_DSN = ""
STORAGE_POSTGRES_SCHEMA = "newsdedup"
# A lost PostgreSQL connection is reopened and the operation retried for this long.
STORAGE_RETRY_SECONDS = 30.0

# --- Scale-out (settings/prod.py) --------------------------------------------------------------
# A worker stops once the shared request queue has been empty this long.
SCALEOUT_IDLE_SECONDS = 10.0
