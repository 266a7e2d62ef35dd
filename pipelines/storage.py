"""Storage stage: writes each article, its signature and the fetch of its page to the article
store, off the reactor thread, and in the same transaction elects its story's origin again
(pipelines.origin.election) over every stored copy, the new one included; the item carries the
result. A stored text cleaned again later (more boilerplate learned) is elected over again too.

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
from pipelines.origin.election import CONFIDENCE, Origin, elect
from pipelines.signals import article_recleaned
from pipelines.signatures import Signature, Signer
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
        future = self._writer.submit(self._update, url, text, word_count, signature)
        future.add_done_callback(self._report_update)

    def _update(self, url: str, text: str, word_count: int, signature: Signature) -> None:
        cluster_id = self.store.update_text(url, text, word_count, signature)
        if cluster_id is not None:  # the text is evidence of which copy is the original
            self._elect(cluster_id)

    def _report_update(self, future: Future[None]) -> None:
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
            signature = carry.signed or self.signer.sign(item["text"])
            item.update(cluster_id=new_cluster_id(item["url"]), duplicate_of=None, similarity=None)
        # Until an election says otherwise, a page is the origin of its story.
        item.update(origin_url=item["url"], origin_reason="alone", origin_confidence=CONFIDENCE["alone"])
        record = {column: item.get(column) for column in ARTICLE_COLUMNS}
        record["version"] = item.get("version") or 1
        record["text_hash"] = carry.text_hash
        record["previous_id"] = carry.previous.article_id if carry.previous is not None else None
        record["site_name"] = carry.site_name
        record["credited"] = carry.credited
        started = time.monotonic()
        stored = await loop.run_in_executor(self._writer, self._store, record, signature, fetch)
        self.stats.inc_value("wait/store_ms", round(1000 * (time.monotonic() - started)))
        if stored is None:
            self.stats.inc_value("storage/already_stored")
            raise AlreadyStored(f"already stored: {item['url']}")
        self.stats.inc_value("storage/stored")
        item.update(origin_url=stored.url, origin_reason=stored.reason, origin_confidence=stored.confidence)
        return item

    def _store(self, record: dict[str, Any], signature: Signature, fetch: PageFetch) -> Origin | None:
        """Store the article and elect its story's origin again, in one transaction: the story's
        origin, or None if this version of the page was stored already. A story's first copy is
        elected too: with several crawler processes a later copy can be stored, and elected over,
        before the first copy's row is committed."""
        elected = self.store.add_and_elect(record, signature, fetch, elect)
        return None if elected is None else self._count(*elected)

    def _elect(self, cluster_id: str) -> None:
        elected = self.store.elect_origin(cluster_id, elect)
        if elected is not None:  # None: the story's copies were replaced meanwhile
            self._count(*elected)

    def _count(self, origin: Origin, rewritten: int) -> Origin:
        for note in origin.notes:
            self.stats.inc_value(f"origin/{note}")
        self.stats.inc_value(f"origin/elected_{origin.reason}")
        # The new row, and the rows of the story whose origin or its evidence changed.
        self.stats.inc_value("origin/rows_rewritten", rewritten)
        return origin
