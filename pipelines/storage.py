"""Storage stage: writes each article, its signature and the fetch of its page to the article
store, in one transaction, off the reactor thread.

Settings: STORAGE_ENABLED, and the store's STORAGE_BACKEND (see pipelines.state).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from pipelines import require_asyncio
from pipelines.drops import AlreadyStored
from pipelines.items import ArticleItem, archived_location, new_cluster_id
from pipelines.signals import article_recleaned
from pipelines.signatures import Signer
from pipelines.state import CrawlState
from pipelines.state.interfaces import ARTICLE_COLUMNS, ArticleStore, PageFetch, PageHistory

logger = logging.getLogger(__name__)


class StoragePipeline:
    """Stores articles; a URL already stored is dropped, so reruns store nothing twice."""

    def __init__(
        self, stats: StatsCollector, store: ArticleStore, pages: PageHistory, signer: Signer
    ) -> None:
        self.stats = stats
        self.store = store
        self.pages = pages
        self.signer = signer
        # One writer thread: SQLite allows one writer, and a single thread keeps writes in order.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="article-store")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        settings = crawler.settings
        if not settings.getbool("STORAGE_ENABLED"):
            raise NotConfigured("storage is disabled (STORAGE_ENABLED = False)")
        require_asyncio(settings, "storage")
        state = CrawlState.of(crawler)
        pipeline = cls(crawler.stats, state.store, state.pages, Signer.from_settings(settings))
        crawler.signals.connect(pipeline.article_recleaned, signal=article_recleaned)
        return pipeline

    async def close_spider(self) -> None:
        # Queued re-cleaning updates run before the writer stops; shutdown waits for them.
        self._writer.shutdown(wait=True)

    def article_recleaned(self, url: str, text: str, word_count: int, **kwargs: Any) -> None:
        signature = self.signer.sign(text)
        future = self._writer.submit(self.store.update_text, url, text, word_count, signature)
        future.add_done_callback(self._report_update)

    def _report_update(self, future: Future[bool]) -> None:
        if future.exception() is not None:
            self.stats.inc_value("storage/update_failed")
            logger.error("could not update a re-cleaned article: %s", future.exception())

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        carry = item.carry
        location = await archived_location(carry)
        if location is not None:
            item.update(warc_file=location.file, warc_offset=location.offset)
        fetch = PageFetch(
            carry.page_keys,
            item["fetched_at"],
            carry.etag,
            carry.last_modified,
            location.payload_digest if location is not None else None,
        )
        loop = asyncio.get_running_loop()
        if carry.reached_again:
            # The page was reached twice in this run (say, once through a redirect): its first
            # fetch is stored, or about to be by this writer, and this fetch's URLs join it.
            await loop.run_in_executor(self._writer, self.pages.touch_page, fetch)
            self.stats.inc_value("storage/already_stored")
            raise AlreadyStored(f"reached twice in this run: {item['url']}")
        signature = carry.signature
        if signature is None:  # the near-duplicate stage is off: every article is its own story
            signature = self.signer.sign(item["text"])
            item.update(cluster_id=new_cluster_id(item["url"]), duplicate_of=None, similarity=None)
        record = {column: item.get(column) for column in ARTICLE_COLUMNS}
        record["version"] = item.get("version") or 1
        record["text_hash"] = carry.text_hash
        record["previous_id"] = carry.previous.article_id if carry.previous is not None else None
        started = time.monotonic()
        stored = await loop.run_in_executor(self._writer, self.store.add, record, signature, fetch)
        self.stats.inc_value("wait/store_ms", round(1000 * (time.monotonic() - started)))
        if not stored:
            self.stats.inc_value("storage/already_stored")
            raise AlreadyStored(f"already stored: {item['url']}")
        self.stats.inc_value("storage/stored")
        return item
