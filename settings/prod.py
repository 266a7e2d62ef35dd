"""Scale-out: several crawler processes, on one machine or many, sharing Redis (request queue,
duplicate filter, near-duplicate index) and PostgreSQL (articles, page records, boilerplate
statistics). Addresses come from the environment:

    NEWSDEDUP_REDIS_URL      redis://host:6379/0
    NEWSDEDUP_POSTGRES_DSN   postgresql://user@host/dbname
    NEWSDEDUP_NAMESPACE      keys prefix and PostgreSQL schema (default newsdedup)
    NEWSDEDUP_RUN            one name per scheduled run, shared by its workers (default "run")
"""

import os

from .base import *  # noqa: F403
from .base import EXTENSIONS

NAMESPACE = os.environ.get("NEWSDEDUP_NAMESPACE", "newsdedup")
RUN = os.environ.get("NEWSDEDUP_RUN", "run")
# Run summaries of every worker go to PostgreSQL under this name (pipelines/state/runlog.py).
RUN_NAME = RUN
REDIS_URL = os.environ.get("NEWSDEDUP_REDIS_URL", "redis://127.0.0.1:6379/0")

# scrapy-redis: one request queue and one duplicate filter per run, shared by its workers.
SCHEDULER = "scrapy_redis.scheduler.Scheduler"
SCHEDULER_QUEUE_KEY = f"{NAMESPACE}:{RUN}:%(spider)s:requests"
SCHEDULER_DUPEFILTER_KEY = f"{NAMESPACE}:{RUN}:%(spider)s:dupefilter"
DUPEFILTER_CLASS = "crawler.scaleout.PageDupeFilter"
# A worker that finishes must not clear the queue the others are still working on.
SCHEDULER_PERSIST = True
REDIS_PARAMS = {"socket_timeout": 30, "socket_connect_timeout": 10, "retry_on_timeout": True}
# Start URLs go through the shared duplicate filter, so each is fetched once per run.
NEWS_START_DONT_FILTER = False
# A worker takes only as many pages from the shared queue as it can process soon: pages it
# hoarded would wait for its extraction pool while another worker sat idle.
CONCURRENT_REQUESTS = 16
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 8_000_000
BOILERPLATE_HOLD_PAGES_TOTAL = 16

NEARDUP_BACKEND = "redis"
NEARDUP_REDIS_URL = REDIS_URL
NEARDUP_REDIS_PREFIX = f"{NAMESPACE}:index:"

STORAGE_BACKEND = "postgres"
STORAGE_POSTGRES_DSN = os.environ.get("NEWSDEDUP_POSTGRES_DSN", "postgresql://127.0.0.1/newsdedup")
STORAGE_POSTGRES_SCHEMA = NAMESPACE

# Workers share state by design: no DATA_DIR lock; the shared queue idles them out.
EXTENSIONS = {
    **{name: order for name, order in EXTENSIONS.items() if name != "crawler.extensions.DataDirLock"},
    "crawler.scaleout.SharedQueueWorker": 600,
}
