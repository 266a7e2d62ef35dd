"""Extraction stage: raw page -> article fields, in a pool of worker processes.

trafilatura takes tens of milliseconds of CPU per page. Run on the reactor thread it would stall
every download behind it, so pages go to worker processes, one per core (pipelines.extraction.pool),
and the stage awaits the result. The workers also decode the page, judge whether it is an article at all
(pipelines.extraction.judge: fronts, section and tag pages are dropped here) and hash and sign its
words for the near-duplicate stage, so the crawling process does as little per page as it can.
Scrapy stops scheduling downloads while too many responses wait in the item pipelines
(SCRAPER_SLOT_MAX_ACTIVE_SIZE), which bounds the queue in front of the pool.

Settings: EXTRACT_ENABLED, EXTRACT_WORKERS, EXTRACT_TIMEOUT_SECONDS, EXTRACT_FAVOR_PRECISION,
EXTRACT_MIN_WORDS, and the prune_xpath rules of BOILERPLATE_RULES_FILE.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
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

from .pool import CallTimedOut, WorkerDied, WorkerPool
from .task import ExtractOptions, PageResult
from .worker import process_page, start

logger = logging.getLogger(__name__)


class ExtractionPipeline:
    """Turns a PageItem into an ArticleItem; drops pages without article text."""

    def __init__(
        self,
        stats: StatsCollector,
        workers: int,
        options: ExtractOptions,
        rules: Rules | None = None,
        timeout: float | None = None,
    ) -> None:
        self.stats = stats
        self.workers = workers or os.cpu_count() or 1
        self.timeout = timeout
        self.options = options
        self.rules = rules or Rules()
        self._pool: WorkerPool | None = None
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
        timeout = settings.getfloat("EXTRACT_TIMEOUT_SECONDS")
        if timeout < 0:
            raise NotConfigured("EXTRACT_TIMEOUT_SECONDS must be 0 (no limit) or a positive number")
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
        return cls(crawler.stats, workers, options, rules, timeout or None)

    async def open_spider(self) -> None:
        began = time.monotonic()
        self._pool = WorkerPool(
            self.workers, initializer=start, on_death=self._worker_died, call_timeout=self.timeout
        )
        # Not awaited: the workers start (imports and the language model, a second or so) while
        # the crawl fetches its first pages, which wait for them meanwhile.
        self._starting = asyncio.ensure_future(self._started(self._pool, began))

    async def _started(self, pool: WorkerPool, began: float) -> None:
        try:
            await pool.started()
        except WorkerDied as exc:  # the pages then fail one by one, each counted
            logger.error("the extraction workers could not start: %s", exc)
            return
        logger.info(
            "extraction pool started with %d worker processes in %.1f s",
            self.workers,
            time.monotonic() - began,
        )

    def _worker_died(self, reason: str) -> None:
        self.stats.inc_value("extract/worker_crashed")
        logger.error("%s; another takes its place", reason)

    async def close_spider(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
        if self._pool is not None:
            self._pool.close()
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
        try:
            return await pool.run(
                process_page, body, http_charset, url, language, options, request_url, fetched_on
            )
        except CallTimedOut as exc:
            # Markup that keeps a parser busy this long would do so again: not tried once more.
            self.stats.inc_value("extract/timed_out")
            self.stats.inc_value("extract/failed")
            logger.error("%s: %s", exc, url)
            raise ExtractionFailed(f"extraction took too long on {url}: {exc}") from None
        except WorkerDied as exc:
            # A worker died (out of memory, or a crash inside lxml) holding this page and perhaps
            # the one queued behind it; another has taken its place. Each page gets one more try.
            if retry:
                return await self._process(
                    body, http_charset, url, language, options, request_url, fetched_on, retry=False
                )
            self.stats.inc_value("extract/failed")
            raise ExtractionFailed(f"extraction failed twice on {url}: {exc}") from None
        except Exception as exc:  # lxml and trafilatura raise many kinds on broken markup
            self.stats.inc_value("extract/failed")
            logger.warning("extraction failed on %s: %r", url, exc)
            raise ExtractionFailed(f"extraction failed on {url}: {exc!r}") from exc
