"""Storage stage: writes each article and its signature to the article store, off the reactor thread.

Settings: STORAGE_ENABLED, STORAGE_BACKEND, DATA_DIR.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler.items import ArticleItem
from crawler.urls import page_keys
from crawler.warc import PendingRecord, WarcLocation
from pipelines import require_asyncio
from pipelines.boilerplate import article_recleaned
from pipelines.core.signatures import Signer
from pipelines.core.store import ARTICLE_COLUMNS, ArticleStore, PageFetch, StoreConfig, open_store
from pipelines.neardup import AlreadyStored, build_layout, build_signer, new_cluster_id

logger = logging.getLogger(__name__)


class Unchanged(DropItem):
    """The page's text is the same as its stored version's: the fetch is recorded, nothing stored."""


class StoragePipeline:
    """Stores articles; a URL already stored is dropped, so reruns store nothing twice."""

    def __init__(self, stats: StatsCollector, store: ArticleStore, signer: Signer) -> None:
        self.stats = stats
        self.store = store
        self.signer = signer
        # One writer thread: SQLite allows one writer, and a single thread keeps writes in order.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="article-store")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        settings = crawler.settings
        if not settings.getbool("STORAGE_ENABLED"):
            raise NotConfigured("storage is disabled (STORAGE_ENABLED = False)")
        require_asyncio(settings, "storage")
        signer = build_signer(settings)
        # Opened here, not in open_spider: an unusable store fails the run before anything is fetched.
        store = open_store(StoreConfig.from_settings(settings), signer.scheme, layout=build_layout(settings))
        pipeline = cls(crawler.stats, store, signer)
        crawler.signals.connect(pipeline.article_recleaned, signal=article_recleaned)
        return pipeline

    async def close_spider(self) -> None:
        # Queued re-cleaning updates run before the writer stops; shutdown waits for them.
        self._writer.shutdown(wait=True)
        self.store.close()

    async def _archived(self, record: PendingRecord | None) -> WarcLocation | None:
        """Where the WARC archive put this article's response (its write may still be under way)."""
        if record is None or record.future is None:
            return None
        try:
            return await asyncio.wrap_future(record.future)
        except Exception:  # noqa: BLE001 - counted and logged by the archive; the article is still stored
            return None

    def article_recleaned(self, url: str, text: str, word_count: int, **kwargs: Any) -> None:
        signature = self.signer.sign(text)
        future = self._writer.submit(self.store.update_text, url, text, word_count, signature)
        future.add_done_callback(self._report_update)

    def _report_update(self, future: Any) -> None:
        if future.exception() is not None:
            self.stats.inc_value("storage/update_failed")
            logger.error("could not update a re-cleaned article: %s", future.exception())

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        article = ItemAdapter(item)
        article.pop("word_hashes", None)
        location = await self._archived(article.pop("warc_record", None))
        if location is not None:
            article.update(warc_file=location.file, warc_offset=location.offset)
        fetch = PageFetch(
            article.get("page_keys") or page_keys(article["url"], article.get("request_url")),
            article["fetched_at"],
            article.get("etag"),
            article.get("last_modified"),
            location.payload_digest if location is not None else None,
        )
        loop = asyncio.get_running_loop()
        if article.get("unchanged"):
            await loop.run_in_executor(self._writer, self.store.touch_page, fetch)
            self.stats.inc_value("storage/unchanged")
            raise Unchanged(f"unchanged since it was stored: {article['url']}")
        signature = article.get("signature")
        if signature is None:  # the near-duplicate stage is off: every article is its own story
            signature = self.signer.sign(article["text"])
            article.update(cluster_id=new_cluster_id(article["url"]), duplicate_of=None, similarity=None)
        record = {column: article.get(column) for column in ARTICLE_COLUMNS}
        stored = await loop.run_in_executor(self._writer, self.store.add, record, signature, fetch)
        if not stored:
            self.stats.inc_value("storage/already_stored")
            raise AlreadyStored(f"already stored: {article['url']}")
        # Kept until stored, so that a failed write lets the near-duplicate stage forget it.
        del article["signature"]
        self.stats.inc_value("storage/stored")
        return item
