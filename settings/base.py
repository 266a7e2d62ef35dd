"""Every default of the news crawler. Environment modules import this and override a few names."""

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
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
LOG_FORMATTER = "crawler.logformatter.ArticleLogFormatter"
FEED_EXPORT_ENCODING = "utf-8"
# Only the article fields go to feeds; the raw page and the signature stay inside the pipeline.
FEED_EXPORT_FIELDS = [
    "url",
    "canonical_url",
    "site",
    "title",
    "authors",
    "published",
    "language",
    "text",
    "fetched_at",
    "cluster_id",
    "duplicate_of",
    "similarity",
    "word_count",
]

# --- State between runs -----------------------------------------------------------------------
DATA_DIR = "data"

# --- Spider `news` ----------------------------------------------------------------------------
# How many links deep a home or section page is followed within its host.
NEWS_FOLLOW_DEPTH = 2
# A page without structured article markup counts as an article only with this much body text.
NEWS_ARTICLE_MIN_WORDS = 150

ITEM_PIPELINES = {
    "pipelines.extraction.ExtractionPipeline": 100,
    "pipelines.neardup.NearDuplicatePipeline": 300,
    "pipelines.storage.StoragePipeline": 400,
}

# --- Extraction stage -------------------------------------------------------------------------
EXTRACT_ENABLED = True
# Worker processes for trafilatura; 0 means one per CPU core.
EXTRACT_WORKERS = 0
# Chosen on the article-extraction benchmark (bench/extraction.py): precision mode scores higher.
EXTRACT_FAVOR_PRECISION = True
EXTRACT_MIN_WORDS = 10

# --- Near-duplicate stage ---------------------------------------------------------------------
NEARDUP_ENABLED = True
NEARDUP_NUM_PERM = 128
NEARDUP_BANDS = 42
NEARDUP_ROWS = 3
NEARDUP_SHINGLE_SIZE = 5
# A candidate is the same story when its estimated Jaccard similarity reaches NEARDUP_THRESHOLD,
# or when the shorter text is contained in the longer one to NEARDUP_CONTAINMENT (trimmed copies).
NEARDUP_THRESHOLD = 0.5
NEARDUP_CONTAINMENT = 0.7
NEARDUP_CONTAINMENT_MIN_SHINGLES = 20
# By default every copy is stored and tagged; True drops (neither stores nor exports) later copies.
NEARDUP_DROP_DUPLICATES = False

# --- Storage stage ----------------------------------------------------------------------------
STORAGE_ENABLED = True
STORAGE_BACKEND = "sqlite"
