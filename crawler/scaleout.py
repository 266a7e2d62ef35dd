"""Running several crawler processes against shared Redis and PostgreSQL (settings/prod.py).

scrapy-redis holds the shared request queue and duplicate filter. PageDupeFilter makes the
filter see pages the way the rest of the crawler does (pipelines.urls.page_key). SharedQueueWorker
keeps a worker alive while the shared queue still has requests, or while other workers may still
add some, and then lets it stop.

Settings: SCHEDULER_* and REDIS_* (scrapy-redis), SCALEOUT_IDLE_SECONDS.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.statscollectors import StatsCollector
from scrapy_redis.dupefilter import RFPDupeFilter

from pipelines.urls import page_key

logger = logging.getLogger(__name__)


class PageDupeFilter(RFPDupeFilter):
    """scrapy-redis's shared duplicate filter, keyed by page (http/https, session ids and campaign
    parameters make no new page)."""

    def request_fingerprint(self, request: Request) -> str:
        digest = hashlib.sha1(request.method.encode(), usedforsecurity=False)
        digest.update(page_key(request.url).encode())
        digest.update(request.body or b"")
        return digest.hexdigest()


class SharedQueueWorker:
    """Stops a worker only after the shared queue has been empty for SCALEOUT_IDLE_SECONDS: another
    worker may still be parsing a page that adds requests.

    It also notices a Redis restart: Redis may keep nothing on disk, so the requests queued there
    are gone. The workers carry on (near-duplicates are still found in the article store's cold
    index), but the run ends with an error and exit status 3: pages it never fetched are fetched
    by the next run, since nothing of them was stored.
    """

    def __init__(self, stats: StatsCollector, scheduler: Callable[[], Any], idle_seconds: float) -> None:
        self.stats = stats
        self.scheduler = scheduler  # the engine's, once the engine exists
        self.idle_seconds = idle_seconds
        self._idle_since: float | None = None
        self._redis_run_id: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedQueueWorker:
        if "scrapy_redis" not in str(crawler.settings.get("SCHEDULER")):
            raise NotConfigured("only for the shared scrapy-redis scheduler")
        extension = cls(
            crawler.stats,
            lambda: crawler.engine.scheduler if crawler.engine else None,
            crawler.settings.getfloat("SCALEOUT_IDLE_SECONDS"),
        )
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def _run_id(self) -> str | None:
        scheduler = self.scheduler()
        try:
            return str(scheduler.server.info("server")["run_id"])
        except Exception:  # noqa: BLE001 - Redis down right now: judged again later
            return None

    def spider_opened(self, spider: Any) -> None:
        self._redis_run_id = self._run_id()
        logger.debug("Shared queue on the Redis server with run id %s", self._redis_run_id)

    def spider_closed(self, spider: Any, reason: str) -> None:
        now = self._run_id()
        if self._redis_run_id and now and now != self._redis_run_id:
            logger.error(
                "Redis restarted during this run: the requests queued in it were lost; the next run "
                "fetches the pages this one missed"
            )
            self.stats.set_value("run/failed", True)
            self.stats.set_value("run/redis_restarted", True)

    def request_scheduled(self, request: Any, spider: Any) -> None:
        self._idle_since = None

    def spider_idle(self, spider: Any) -> None:
        scheduler = self.scheduler()
        if scheduler is not None and scheduler.has_pending_requests():
            self._idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        if now - self._idle_since < self.idle_seconds:
            raise DontCloseSpider
