"""Near-duplicate stage: recognises a syndicated copy of a story already stored, in this run or an
earlier one, and tags it with the story's cluster.

Settings: NEARDUP_ENABLED, NEARDUP_NUM_PERM, NEARDUP_SHINGLE_SIZE, NEARDUP_BANDS, NEARDUP_ROWS,
NEARDUP_THRESHOLD, NEARDUP_CONTAINMENT, NEARDUP_CONTAINMENT_MIN_SHINGLES, NEARDUP_DROP_DUPLICATES,
STORAGE_BACKEND, DATA_DIR.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector

from crawler.items import ArticleItem
from pipelines.core.index import IndexedCopy, SignatureIndex
from pipelines.core.signatures import Signer
from pipelines.core.store import ArticleStore, open_store

logger = logging.getLogger(__name__)


class LaterCopy(DropItem):
    """A later copy of a stored story, dropped because NEARDUP_DROP_DUPLICATES is on."""


class AlreadyStored(DropItem):
    """This very page (same URL) is already in the store."""


def new_cluster_id(url: str) -> str:
    """A story's cluster id, derived from its first copy's URL so it never changes."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


def build_signer(settings: BaseSettings) -> Signer:
    return Signer(settings.getint("NEARDUP_NUM_PERM"), settings.getint("NEARDUP_SHINGLE_SIZE"))


def build_index(settings: BaseSettings, signer: Signer) -> SignatureIndex:
    return SignatureIndex(
        signer,
        bands=settings.getint("NEARDUP_BANDS"),
        rows=settings.getint("NEARDUP_ROWS"),
        threshold=settings.getfloat("NEARDUP_THRESHOLD"),
        containment_threshold=settings.getfloat("NEARDUP_CONTAINMENT"),
        containment_min_shingles=settings.getint("NEARDUP_CONTAINMENT_MIN_SHINGLES"),
    )


class NearDuplicatePipeline:
    """Sets cluster_id, duplicate_of and similarity on each article, and its signature for storage."""

    def __init__(
        self, stats: StatsCollector, signer: Signer, index: SignatureIndex, store: ArticleStore,
        drop_duplicates: bool = False,
    ) -> None:
        self.stats = stats
        self.signer = signer
        self.index = index
        self.store = store
        self.drop_duplicates = drop_duplicates

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NearDuplicatePipeline:
        settings = crawler.settings
        if not settings.getbool("NEARDUP_ENABLED"):
            raise NotConfigured("near-duplicate detection is disabled (NEARDUP_ENABLED = False)")
        try:
            signer = build_signer(settings)
            index = build_index(settings, signer)
        except ValueError as exc:
            raise NotConfigured(f"near-duplicate settings are invalid: {exc}") from exc
        store = open_store(settings.get("STORAGE_BACKEND"), settings.get("DATA_DIR"), signer.scheme)
        pipeline = cls(crawler.stats, signer, index, store, settings.getbool("NEARDUP_DROP_DUPLICATES"))
        crawler.signals.connect(pipeline.item_error, signal=signals.item_error)
        return pipeline

    def open_spider(self) -> None:
        started = time.perf_counter()
        for copy in self.store.copies():
            self.index.add(IndexedCopy(copy.url, copy.cluster_id, copy.first_url, copy.signature))
        self.store.close()
        logger.info(
            "near-duplicate index loaded: %d stored signatures in %.2f s",
            len(self.index), time.perf_counter() - started,
        )
        self.stats.set_value("neardup/index_loaded", len(self.index))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        article = ItemAdapter(item)
        url = article["url"]
        if url in self.index:
            self.stats.inc_value("neardup/already_stored")
            raise AlreadyStored(f"already stored: {url}")
        signature = self.signer.sign(article["text"])
        match = self.index.best_match(signature)
        if match is None:
            self.stats.inc_value("neardup/first_copies")
            cluster_id, first_url = new_cluster_id(url), url
            article.update(cluster_id=cluster_id, duplicate_of=None, similarity=None)
        else:
            self.stats.inc_value("neardup/duplicates")
            cluster_id, first_url = match.copy.cluster_id, match.copy.first_url
            article.update(cluster_id=cluster_id, duplicate_of=first_url, similarity=round(match.similarity, 4))
            logger.debug(
                "%s repeats %s (similarity %.2f, containment %.2f)",
                url, match.copy.url, match.similarity, match.containment,
            )
            if self.drop_duplicates:
                raise LaterCopy(f"later copy of {first_url}: {url}")
        self.index.add(IndexedCopy(url, cluster_id, first_url, signature))
        article["signature"] = signature
        return item

    def item_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        # A later stage failed to store the article: forget it, so the index keeps matching the store.
        if isinstance(item, ArticleItem) and item.get("signature") is not None:
            self.index.remove(item["url"])
