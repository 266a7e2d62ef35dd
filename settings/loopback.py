"""Crawling a newsroom served on loopback (demo, tests, benchmarks): no politeness delays."""

from .base import *  # noqa: F403

AUTOTHROTTLE_ENABLED = False
DOWNLOAD_DELAY = 0
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 16
RETRY_ENABLED = False
DOWNLOAD_TIMEOUT = 10
