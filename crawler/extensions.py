"""Run-level extensions: one crawl at a time per DATA_DIR, a summary of what each run did, and
Scrapy's remote control loaded only when it is enabled.

Settings: DATA_DIR, RUN_SUMMARY_ENABLED, RUN_ALARM_EMPTY_SOURCES, the run log's STORAGE_BACKEND
(pipelines.state), REMOTE_CONTROL_ENABLED.
"""

from __future__ import annotations

import fcntl
import logging
import os
import resource
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler.middlewares import known_article_seen
from pipelines import clock
from pipelines.drops import STILL_LISTED
from pipelines.items import ArticleItem
from pipelines.state import open_backend
from pipelines.state.interfaces import RunLog

logger = logging.getLogger(__name__)


class RemoteControl:
    """Scrapy's remote control extension, imported only when REMOTE_CONTROL_ENABLED is set: its
    module imports aiohttp, a fifth of a second of every crawl's start-up."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        if not crawler.settings.getbool("REMOTE_CONTROL_ENABLED"):
            raise NotConfigured  # no reason given: Scrapy would log a warning in every run
        from scrapy.extensions.remote_control import RemoteControl as ScrapyRemoteControl

        return ScrapyRemoteControl.from_crawler(crawler)


class DataDirBusy(RuntimeError):
    """Another crawl holds DATA_DIR."""


class DataDirLock:
    """Holds an exclusive lock on DATA_DIR/.lock for the whole run.

    Built before the item pipelines open any store, so a second run on the same DATA_DIR stops
    before touching anything. The operating system releases the lock when the process ends, even
    on SIGKILL, so a crashed run never blocks the next one.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / ".lock"
        self._file: TextIO | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DataDirLock:
        lock = cls(Path(crawler.settings.get("DATA_DIR")))
        try:
            lock.acquire()
        except DataDirBusy:
            if crawler.stats is not None:
                crawler.stats.set_value("run/data_dir_busy", True)
            raise
        crawler.signals.connect(lock.release, signal=signals.engine_stopped)
        return lock

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise RuntimeError(
                f"cannot lock {self.path}: {exc}; set DATA_DIR to a writable directory"
            ) from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise DataDirBusy(
                f"another crawl is running on DATA_DIR={self.path.parent} ({holder}); "
                "this run stops without touching it"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {clock.now_iso()}\n")
        handle.flush()
        self._file = handle


class RunSummary:
    """Counts pages, stored articles, duplicates and errors, overall, per site and per source,
    and raises an alarm when a source that yielded articles in its last run yields none now.

    A source "yields" an article when one of its pages is stored, found unchanged, or skipped as
    stored recently: a feed listing only known stories is still working.
    """

    def __init__(self, stats: StatsCollector, run_log: RunLog, started: datetime, alarm: bool) -> None:
        self.stats = stats
        self.run_log = run_log
        self.alarm = alarm
        self.started = started
        self._clock = time.monotonic()
        self._cpu_at_open = 0.0
        self.sites: dict[str, Counter[str]] = defaultdict(Counter)
        self.sources: dict[str, Counter[str]] = defaultdict(Counter)
        self.drops: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunSummary:
        if not crawler.settings.getbool("RUN_SUMMARY_ENABLED"):
            raise NotConfigured("run summaries are off (RUN_SUMMARY_ENABLED = False)")
        started = clock.now()
        # The run log is this extension's alone: it opens it (an extension cannot ask for another
        # extension, the crawl state, while extensions are being built).
        backend = open_backend(crawler.settings)
        run_log = backend.open_run_log(f"{started:%Y%m%dT%H%M%SZ}-{os.getpid()}")
        extension = cls(crawler.stats, run_log, started, crawler.settings.getbool("RUN_ALARM_EMPTY_SOURCES"))
        crawler.signals.connect(backend.close, signal=signals.engine_stopped)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.known_article_seen, signal=known_article_seen)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def response_received(self, response: Any, request: Any, spider: Any) -> None:
        self.sites[urlsplit(response.url).hostname or "?"]["pages_fetched"] += 1

    def item_scraped(self, item: Any, response: Any, spider: Any) -> None:
        site = self.sites[item.get("site") or "?"]
        site["articles_stored"] += 1
        if item.get("duplicate_of"):
            site["duplicates"] += 1
        self._source_article(_source(item))

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any) -> None:
        self.drops[type(exception).__name__] += 1
        if isinstance(exception, STILL_LISTED):
            self._source_article(_source(item))

    def known_article_seen(self, request: Any) -> None:
        self._source_article(request.meta.get("source"))

    def _source_article(self, source: str | None) -> None:
        if source:
            self.sources[source]["articles"] += 1

    def summary(self, reason: str) -> dict[str, Any]:
        stats = self.stats.get_stats()
        return {
            "started": self.started.isoformat(timespec="seconds"),
            "finished": clock.now_iso(),
            "seconds": round(time.monotonic() - self._clock, 2),
            "finish_reason": reason,
            "pages_fetched": stats.get("response_received_count", 0),
            "articles_stored": stats.get("storage/stored", 0),
            "duplicates": stats.get("neardup/duplicates", 0),
            "boilerplate_segments_removed": stats.get("boilerplate/segments_removed", 0),
            "errors": stats.get("log_count/ERROR", 0),
            "dropped": dict(sorted(self.drops.items())),
            # the crawler's start-up (imports, opening the store, starting workers) apart
            "cpu_seconds": {**_cpu_seconds(), "crawler_start_up": self._cpu_at_open},
            "peak_rss_mb": _peak_rss_mb(),
            # summed over items: pages waiting for an extraction worker (and its work), for the
            # boilerplate warm-up, for the store
            "waits_seconds": {
                key.removeprefix("wait/").removesuffix("_ms"): round(value / 1000, 2)
                for key, value in sorted(stats.items())
                if key.startswith("wait/")
            },
            "sites": {host: dict(counts) for host, counts in sorted(self.sites.items())},
            "sources": {name: dict(counts) for name, counts in sorted(self.sources.items())},
        }

    def spider_opened(self, spider: Any) -> None:
        self.run_log.started()
        self._cpu_at_open = _cpu_seconds()["crawler"]

    def empty_sources(self, spider: Any) -> list[str]:
        """Sources of this run that yielded no article, though they did in their previous run."""
        yields = self.run_log.yields()
        alarms = []
        for source in getattr(spider, "sources", []):
            if yields.get(source.name):
                continue
            previous = self.run_log.previous_yield(source.name)
            if previous and previous[1]:
                alarms.append(
                    f"source {source.name} yielded no articles this run; it yielded {previous[1]} "
                    f"in the run of {previous[0]}"
                )
        return alarms

    def spider_closed(self, spider: Any, reason: str) -> None:
        summary = self.summary(reason)
        last = self.run_log.finish(summary)
        summary["alarms"] = self.empty_sources(spider) if self.alarm and last else []
        for alarm in summary["alarms"]:
            logger.error("alarm: %s; check the source's URL and its pages", alarm)
        if summary["alarms"]:
            self.stats.set_value("run/alarms", len(summary["alarms"]))
        logger.info(
            "run summary: %(pages_fetched)d pages fetched, %(articles_stored)d articles stored, "
            "%(duplicates)d duplicates, %(errors)d errors, finished (%(finish_reason)s) in %(seconds).1f s",
            summary,
        )
        self.run_log.save()


def _source(item: Any) -> str | None:
    if isinstance(item, ArticleItem):
        return item.carry.source
    return item.get("source") if hasattr(item, "get") else None


def _peak_rss_mb() -> dict[str, float]:
    """Peak resident memory of the crawler process, and of the largest of its finished workers."""
    return {
        "crawler": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "largest_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


def _cpu_seconds() -> dict[str, float]:
    """CPU time of the crawler process and of its finished workers (the extraction pool)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "crawler": round(own.ru_utime + own.ru_stime, 2),
        "workers": round(workers.ru_utime + workers.ru_stime, 2),
    }
