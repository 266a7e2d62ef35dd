"""Extraction stage: raw page -> article fields, in a pool of worker processes.

trafilatura takes tens of milliseconds of CPU per page. Run on the reactor thread it would stall
every download behind it, so pages go to a process pool with one worker per core and the stage
awaits the result. The workers also decode the page, judge whether it is an article at all
(pipelines.extraction.judge: fronts, section and tag pages are dropped here) and hash and sign its
words for the near-duplicate stage, so the crawling process does as little per page as it can.
Scrapy stops scheduling downloads while too many responses wait in the item pipelines
(SCRAPER_SLOT_MAX_ACTIVE_SIZE), which bounds the queue in front of the pool.

Settings: EXTRACT_ENABLED, EXTRACT_WORKERS, EXTRACT_FAVOR_PRECISION, EXTRACT_MIN_WORDS, and the
prune_xpath rules of BOILERPLATE_RULES_FILE.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from pipelines import require_asyncio
from pipelines.drops import ExtractionFailed, NoArticleText, NotAnArticle
from pipelines.items import ArticleItem, Carried, PageItem
from pipelines.origin.credits import DEFAULT_RULES_FILE, load_credit_rules
from pipelines.siterules import Rules, RulesError, load_rules

from .task import ExtractOptions, PageResult
from .worker import process_page, start

logger = logging.getLogger(__name__)


class ExtractionPipeline:
    """Turns a PageItem into an ArticleItem; drops pages without article text."""

    def __init__(
        self, stats: StatsCollector, workers: int, options: ExtractOptions, rules: Rules | None = None
    ) -> None:
        self.stats = stats
        self.workers = workers or os.cpu_count() or 1
        self.options = options
        self.rules = rules or Rules()
        self._pool: ProcessPoolExecutor | None = None
        self._starting: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPipeline:
        settings = crawler.settings
        if not settings.getbool("EXTRACT_ENABLED"):
            raise NotConfigured("extraction is disabled (EXTRACT_ENABLED = False)")
        require_asyncio(settings, "extraction")
        workers = settings.getint("EXTRACT_WORKERS")
        if workers < 0:
            raise NotConfigured("EXTRACT_WORKERS must be 0 (one per core) or a positive number")
        options = ExtractOptions(
            favor_precision=settings.getbool("EXTRACT_FAVOR_PRECISION"),
            min_words=settings.getint("EXTRACT_MIN_WORDS"),
            article_min_words=settings.getint("NEWS_ARTICLE_MIN_WORDS"),
            credits_file=settings.get("CREDITS_RULES_FILE") or DEFAULT_RULES_FILE,
            signer=(settings.getint("NEARDUP_NUM_PERM"), settings.getint("NEARDUP_SHINGLE_SIZE")),
        )
        try:
            rules = load_rules(settings.get("BOILERPLATE_RULES_FILE"))
            load_credit_rules(options.credits_file)  # checked here: a mistake stops the crawl at once
        except RulesError as exc:
            raise NotConfigured(str(exc)) from exc
        return cls(crawler.stats, workers, options, rules)

    async def open_spider(self) -> None:
        self._pool, spawned = self._start_pool()
        # Not awaited: the workers start (imports and the language model, a second or two) while
        # the crawl fetches its first pages, which wait in the pool's queue meanwhile.
        self._starting = asyncio.ensure_future(self._started(spawned))

    async def _started(self, spawned: list[Future[int]]) -> None:
        began = time.monotonic()
        try:
            await asyncio.gather(*map(asyncio.wrap_future, spawned))
        except BrokenProcessPool as exc:  # the pages then fail one by one, each counted
            logger.error("the extraction workers could not start: %s", exc)
            return
        logger.info(
            "extraction pool started with %d worker processes in %.1f s",
            self.workers,
            time.monotonic() - began,
        )

    def _start_pool(self) -> tuple[ProcessPoolExecutor, list[Future[int]]]:
        """A pool whose workers are starting, and a task given to each (done once it has started)."""
        # "spawn": a forked copy of the crawler process would inherit the reactor and its threads.
        pool = ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=start
        )
        # The pool starts a worker for each task it is given while no worker is idle.
        with _main_script_hidden():
            spawned = [pool.submit(os.getpid) for _ in range(self.workers)]
        return pool, spawned

    async def close_spider(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        page = ItemAdapter(item)
        url = page["url"]
        started = time.monotonic()
        result = await self._process(
            page["body"],
            page.get("http_charset"),
            url,
            page.get("declared_language"),
            self._options(page["site"]),
            page.get("request_url"),
            (page.get("fetched_at") or "")[:10] or None,
        )
        # how long pages wait for a worker and its work (bench/crawl.py reports it)
        self.stats.inc_value("wait/extraction_ms", round(1000 * (time.monotonic() - started)))
        self.stats.inc_value(f"extract/{result.outcome}")
        for note in result.notes:
            self.stats.inc_value(f"extract/{note}")
        if result.outcome == "not_article":
            raise NotAnArticle(f"not an article ({'; '.join(result.reasons)})")
        if result.outcome != "article" or result.fields is None:
            raise NoArticleText(f"no article text found ({result.outcome})")
        fields = dict(result.fields)
        carried = Carried(
            request_url=page.get("request_url") or url,
            page_keys=fields.pop("page_keys"),
            etag=page.get("etag"),
            last_modified=page.get("last_modified"),
            source=page.get("source"),
            warc_record=page.get("warc_record"),
            page_lookup=page.get("page_lookup"),
            word_hashes=fields.pop("word_hashes"),
            signed=fields.pop("signature", None),
            segment_keys=fields.pop("segment_keys"),
            template_lines=fields.pop("template_lines"),
            site_name=fields.pop("site_name"),
            credited=fields.pop("credited"),
        )
        return ArticleItem(
            url=url,
            site=page["site"],
            fetched_at=page["fetched_at"],
            cluster_id=None,
            duplicate_of=None,
            similarity=None,
            carried=carried,
            **fields,
        )

    def _options(self, site: str) -> ExtractOptions:
        prune = self.rules.for_host(site).prune_xpath
        return dataclasses.replace(self.options, prune_xpath=prune) if prune else self.options

    async def _process(
        self,
        body: bytes,
        http_charset: str | None,
        url: str,
        language: str | None,
        options: ExtractOptions,
        request_url: str | None = None,
        fetched_on: str | None = None,
        retry: bool = True,
    ) -> PageResult:
        pool = self._pool
        if pool is None:
            raise RuntimeError("the extraction pool is not running: open_spider() starts it")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                pool, process_page, body, http_charset, url, language, options, request_url, fetched_on
            )
        except BrokenProcessPool:
            # A worker died (out of memory, or a crash inside lxml) and took every page queued in
            # the pool with it: start one new pool, and give each of those pages one more try.
            if self._pool is pool:
                self.stats.inc_value("extract/worker_crashed")
                logger.error("an extraction worker died; restarting the pool")
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool, _ = self._start_pool()
            if retry:
                return await self._process(
                    body, http_charset, url, language, options, request_url, fetched_on, retry=False
                )
            self.stats.inc_value("extract/failed")
            raise ExtractionFailed(f"extraction worker crashed twice on {url}") from None
        except Exception as exc:  # lxml and trafilatura raise many kinds on broken markup
            self.stats.inc_value("extract/failed")
            logger.warning("extraction failed on %s: %r", url, exc)
            raise ExtractionFailed(f"extraction failed on {url}: {exc!r}") from exc


@contextmanager
def _main_script_hidden() -> Iterator[None]:
    """While worker processes are spawned, the program's main script is not named to them.

    A spawned process runs the parent's main script again (multiprocessing does, so that
    functions defined there can be unpickled), and the `scrapy` script imports Scrapy, Twisted
    and the crawl command: a third of a second and about 30 MB in every worker, which only ever
    runs pipelines.extraction.worker's functions. (`python -m scrapy` names a package's
    __main__, which multiprocessing leaves alone.)
    """
    main = sys.modules["__main__"]
    path = getattr(main, "__file__", None)
    if path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path
