"""Near-duplicate stage: recognises a syndicated copy of a story already stored, in this run or an
earlier one, however long ago, and tags it with the story's cluster.

Each article is looked up in two indexes: the hot one (in memory, or in Redis when shared) of the
signatures added recently, and the cold one in the article store, which holds the band keys of
every stored signature. Publication dates never keep two texts from being compared.

Settings: NEARDUP_ENABLED, NEARDUP_NUM_PERM, NEARDUP_SHINGLE_SIZE, NEARDUP_BANDS, NEARDUP_ROWS,
NEARDUP_THRESHOLD, NEARDUP_CONTAINMENT, NEARDUP_CONTAINMENT_MIN_SHINGLES, NEARDUP_DROP_DUPLICATES,
NEARDUP_HOT_SIGNATURES, NEARDUP_FORGET_AFTER_DAYS, NEARDUP_BACKEND, STORAGE_BACKEND, DATA_DIR.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import xxhash
from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector

from crawler import clock
from crawler.items import ArticleItem
from crawler.urls import page_keys
from pipelines import require_asyncio
from pipelines.boilerplate import article_recleaned
from pipelines.core.bandfilter import BandFilter
from pipelines.core.index import (
    ALONE,
    BandLayout,
    Candidate,
    IndexedCopy,
    MatchRule,
    SignatureIndex,
    estimates,
)
from pipelines.core.redis_index import RedisSignatureIndex
from pipelines.core.signatures import Signature, Signer
from pipelines.core.store import ArticleStore, PageState, StoreConfig, StoreError, open_store

logger = logging.getLogger(__name__)

# The cold index's Bloom filter, under DATA_DIR.
FILTER_FILE = "cold-index.filter"


class LaterCopy(DropItem):
    """A later copy of a stored story, dropped because NEARDUP_DROP_DUPLICATES is on."""


class AlreadyStored(DropItem):
    """This very page (same URL) is already in the store."""


def new_cluster_id(url: str) -> str:
    """A story's cluster id, derived from its first copy's URL so it never changes."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


def build_signer(settings: BaseSettings) -> Signer:
    return Signer(settings.getint("NEARDUP_NUM_PERM"), settings.getint("NEARDUP_SHINGLE_SIZE"))


def build_layout(settings: BaseSettings) -> BandLayout:
    return BandLayout(
        settings.getint("NEARDUP_NUM_PERM"), settings.getint("NEARDUP_BANDS"), settings.getint("NEARDUP_ROWS")
    )


def build_index(settings: BaseSettings) -> SignatureIndex | RedisSignatureIndex:
    """The hot index named by NEARDUP_BACKEND: "memory" (this process's) or "redis" (shared)."""
    rule = MatchRule(
        threshold=settings.getfloat("NEARDUP_THRESHOLD"),
        containment=settings.getfloat("NEARDUP_CONTAINMENT"),
        min_shingles=settings.getint("NEARDUP_CONTAINMENT_MIN_SHINGLES"),
    )
    layout = build_layout(settings)
    capacity = settings.getint("NEARDUP_HOT_SIGNATURES")
    backend = settings.get("NEARDUP_BACKEND")
    if backend == "memory":
        return SignatureIndex(layout, rule, capacity)
    if backend == "redis":
        return RedisSignatureIndex(
            settings.get("NEARDUP_REDIS_URL"), settings.get("NEARDUP_REDIS_PREFIX"), layout, rule, capacity
        )
    raise ValueError(f"NEARDUP_BACKEND must be 'memory' or 'redis', got {backend!r}")


@dataclass
class Decision:
    """What the near-duplicate stage decided for one article."""

    fields: dict[str, Any]  # cluster_id, duplicate_of, similarity, version, previous_id
    unchanged: bool = False  # the same page with the same text: store nothing
    drop: str | None = None  # the reason to drop it (NEARDUP_DROP_DUPLICATES)


class NearDuplicatePipeline:
    """Sets cluster_id, duplicate_of and similarity on each article, and its signature for storage.

    Decisions are taken one article at a time in arrival order, on one thread that alone touches
    the hot index, so the same input order gives the same clusters. With the shared Redis index, a
    Redis lock also serialises decisions across crawler processes.
    """

    def __init__(
        self,
        stats: StatsCollector,
        signer: Signer,
        index: SignatureIndex | RedisSignatureIndex,
        store: ArticleStore,
        drop_duplicates: bool = False,
        revisit_seconds: float = 86400.0,
        forget_after_days: float = 0.0,
        filter_path: Path | None = None,
    ) -> None:
        if forget_after_days < 0:
            raise ValueError("NEARDUP_FORGET_AFTER_DAYS must be 0 (never forget) or more")
        self.revisit_seconds = revisit_seconds
        self.forget_after = timedelta(days=forget_after_days) if forget_after_days else None
        self.stats = stats
        self.signer = signer
        self.index = index
        self.store = store
        # The cold index's Bloom filter (pipelines.core.bandfilter), for a hot index of this
        # process's own: with a shared one, other workers' articles leave it unseen.
        self.filter_path = filter_path if isinstance(index, SignatureIndex) else None
        self.filter: BandFilter | None = None
        self.drop_duplicates = drop_duplicates
        self._decisions = asyncio.Lock()
        # Exact shingle sets of articles indexed but maybe not yet written by the storage stage.
        self._in_flight: dict[str, np.ndarray] = {}
        self._evicted = 0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neardup")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NearDuplicatePipeline:
        settings = crawler.settings
        if not settings.getbool("NEARDUP_ENABLED"):
            raise NotConfigured("near-duplicate detection is disabled (NEARDUP_ENABLED = False)")
        require_asyncio(settings, "near-duplicate")
        if settings.get("NEARDUP_WINDOW_DAYS") is not None:
            logger.warning(
                "NEARDUP_WINDOW_DAYS is no longer used: every stored story is matched against; to "
                "forget stories stored long ago, set NEARDUP_FORGET_AFTER_DAYS"
            )
        try:
            signer = build_signer(settings)
            index = build_index(settings)
            layout = build_layout(settings)
        except ValueError as exc:
            raise NotConfigured(f"near-duplicate settings are invalid: {exc}") from exc
        store = open_store(StoreConfig.from_settings(settings), signer.scheme, layout=layout)
        try:
            pipeline = cls(
                crawler.stats,
                signer,
                index,
                store,
                settings.getbool("NEARDUP_DROP_DUPLICATES"),
                settings.getfloat("INCREMENTAL_REVISIT_HOURS") * 3600,
                settings.getfloat("NEARDUP_FORGET_AFTER_DAYS"),
                Path(settings.get("DATA_DIR")) / FILTER_FILE,
            )
        except ValueError as exc:
            store.close()
            raise NotConfigured(f"near-duplicate settings are invalid: {exc}") from exc
        crawler.signals.connect(pipeline.item_done, signal=signals.item_scraped)
        crawler.signals.connect(pipeline.item_done, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.item_error, signal=signals.item_error)
        crawler.signals.connect(pipeline.article_recleaned, signal=article_recleaned)
        return pipeline

    async def open_spider(self) -> None:
        started = time.perf_counter()
        last = await self._in_thread(self._prepare)
        logger.info(
            "near-duplicate index ready in %.2f s: every stored signature is matched against (the "
            "cold index in the store), the last %d added are also held hot%s",
            time.perf_counter() - started,
            self.index.capacity,
            f"; copies of stories stored over {self.forget_after.days} days ago are not recognised "
            "(NEARDUP_FORGET_AFTER_DAYS)"
            if self.forget_after
            else "",
        )
        if last is not None:
            self._check_clock(last)

    def _prepare(self) -> str | None:
        self.index.mark_loaded()
        if self.filter_path is not None:
            self._open_filter(self.filter_path)
        return self.store.last_fetched_at()

    def _open_filter(self, path: Path) -> None:
        """Open the cold index's filter and add the articles it lacks: all of them for a new
        filter, the last run's after a crash."""
        layout = self.index.layout
        try:
            band_filter = BandFilter(path, self.store.identity(), layout.name)
        except OSError as exc:
            raise StoreError(f"cannot open the band filter {path}: {exc}; set DATA_DIR to a writable directory") from exc
        last = self.store.last_article_id()
        if band_filter.through < last:
            added = 0
            for ids, matrix in self.store.signatures_after(band_filter.through):
                band_filter.add(layout.keys(matrix.astype(np.uint32)))
                added += len(ids)
                if added % 200_000 < len(ids):
                    logger.info("band filter: %d of the stored signatures added", added)
            band_filter.save(last)
            if added > 10_000:
                logger.warning("the band filter %s was brought up to date: %d signatures added", path, added)
        self.index.on_evict = lambda matrix: band_filter.add(layout.keys(matrix))  # type: ignore[union-attr]
        self.filter = band_filter

    def _close_filter(self) -> None:
        """Every article stored in this run is in the hot index or was evicted into the filter:
        with the hot ones added, the filter holds every stored article."""
        band_filter = self.filter
        if band_filter is None:
            return
        self.filter = None
        try:
            matrix = self.index.signature_matrix()  # type: ignore[union-attr]
            if len(matrix):
                band_filter.add(self.index.layout.keys(matrix))
            band_filter.save(self.store.last_article_id())
        except (OSError, StoreError) as exc:  # the next run catches up from the stored signatures
            logger.error("could not save the band filter %s: %s", self.filter_path, exc)

    def _check_clock(self, last_fetch: str) -> None:
        # A clock behind the store makes stored pages look fetched in the future: they would not
        # be revisited, and a fetch would not count as a new version, until the clock caught up.
        try:
            ahead = datetime.fromisoformat(last_fetch) - clock.now()
        except ValueError:
            return
        if ahead > timedelta(hours=1):
            self.stats.set_value("neardup/clock_behind_store", True)
            logger.error(
                "the clock (%s) is %s behind the newest article in the store (fetched %s): fix the "
                "system clock or %s; matching is unaffected, revisits wait until the clock catches up",
                clock.now_iso(),
                ahead,
                last_fetch,
                clock.ENVIRONMENT,
            )

    def _fetched_recently(self, fetched_at: str) -> bool:
        try:
            age = clock.now() - datetime.fromisoformat(fetched_at)
        except ValueError:
            return False
        return age.total_seconds() < self.revisit_seconds

    async def _in_thread(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    async def close_spider(self) -> None:
        self._thread.shutdown(wait=True)
        self._close_filter()
        self.store.close()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        article = ItemAdapter(item)
        hashes = article.pop("word_hashes", None)
        if hashes is not None:  # hashed in the extraction worker, paragraph by paragraph
            signature = self.signer.sign_words(np.concatenate(hashes) if hashes else np.empty(0, np.uint64))
        else:
            signature = self.signer.sign(article["text"])
        article["text_hash"] = xxhash.xxh64_hexdigest(article["text"].encode("utf-8"))
        facts = {name: article.get(name) for name in ("url", "text_hash", "fetched_at")}
        facts["page_keys"] = article.get("page_keys") or page_keys(article["url"], article.get("request_url"))
        async with self._decisions:  # FIFO: decisions in arrival order
            decision = await self._in_thread(self._decide, facts, signature)
        if decision.unchanged:
            article["unchanged"] = True  # the storage stage records the fetch and drops it
            return item
        article.update(decision.fields)
        if decision.drop:
            raise LaterCopy(decision.drop)
        article["signature"] = signature
        return item

    def _decide(self, facts: dict[str, Any], signature: Signature) -> Decision:
        decision = self._decide_once(facts, signature)
        self._count_index_events()
        return decision

    def _count_index_events(self) -> None:
        if self.index.evicted > self._evicted:
            self.stats.inc_value("neardup/hot_evicted", self.index.evicted - self._evicted)
            self._evicted = self.index.evicted
        if self.index.lost:
            self.stats.inc_value("neardup/hot_index_lost", self.index.lost)
            logger.warning(
                "the shared hot index was empty (Redis restarted?): matching goes on against the "
                "store's cold index, which holds every stored signature"
            )
            self.index.lost = 0

    def _stored(
        self, page_keys: list[str], keys: np.ndarray, signature: Signature
    ) -> tuple[PageState | None, list[Candidate]]:
        """The page's stored state, and the stored copies sharing a band with *signature*
        (oldest first) from the cold index: one round trip to a store across the network."""
        if signature.shingle_count == 0:
            keys = keys[:0]
        elif self.filter is not None:  # only keys a copy outside the hot index may have
            keys = keys[self.filter.may_contain(keys)]
        since = (clock.now() - self.forget_after).isoformat(timespec="seconds") if self.forget_after else None
        try:
            state, stored = self.store.page_and_candidates(page_keys, keys, since)
        except StoreError as exc:
            if not len(keys):
                raise
            # The article is still decided (against the hot index) and stored, but this run's
            # clusters may miss copies: it is counted, and the run exits with an error.
            if not self.stats.get_value("neardup/cold_lookup_failed"):
                logger.error("%s", exc)
            self.stats.inc_value("neardup/cold_lookup_failed")
            self.stats.set_value("run/failed", True)
            return self.store.page(page_keys), []
        if stored is None:
            return state, []
        self.stats.inc_value("neardup/candidates_stored", len(stored.urls))
        similarity, containment = estimates(stored.matrix, stored.shingle_counts, signature)
        return state, [
            Candidate(
                IndexedCopy(url, cluster, first, Signature(stored.matrix[row], int(stored.shingle_counts[row]))),
                float(similarity[row]),
                float(containment[row]),
            )
            for row, (url, cluster, first) in enumerate(zip(stored.urls, stored.cluster_ids, stored.first_urls))
        ]

    def _decide_once(self, facts: dict[str, Any], signature: Signature) -> Decision:
        url = facts["url"]
        keys = self.index.layout.keys(signature.hashvalues[np.newaxis, :])[0]
        state, cold = self._stored(facts["page_keys"], keys, signature)
        previous = state if state is not None and state.article_id is not None else None
        if previous is not None and previous.text_hash == facts["text_hash"]:
            self.stats.inc_value("neardup/unchanged")
            return Decision({}, unchanged=True)
        if previous is not None and self._fetched_recently(previous.fetched_at):
            # Fetched again before its revisit was due (a redirect, or another worker after the
            # shared duplicate filter was lost): a different text here is different cleaning, not
            # a new version of the page.
            self.stats.inc_value("neardup/refetched_early")
            return Decision({}, unchanged=True)
        if previous is not None:
            # The page changed since it was stored: a new version of the same story.
            self.stats.inc_value("neardup/new_versions")
            fields = {
                "cluster_id": previous.cluster_id,
                "duplicate_of": previous.duplicate_of,
                "similarity": previous.similarity,
                "version": previous.version + 1,
                "previous_id": previous.article_id,
            }
            self.index.remove(previous.url)  # type: ignore[arg-type]
            self.index.insert(
                IndexedCopy(url, previous.cluster_id, previous.duplicate_of or previous.url, signature),  # type: ignore[arg-type]
                signature.shingles,
            )
        else:
            # Decided on the stored copies, then added to the hot index only if no copy there
            # shares a band with it: one round trip to a shared index for most articles. Otherwise
            # the decision is taken again with the hot copies, and added unless another process
            # added a copy sharing a band in the meantime (then again, with that one too).
            candidates = cold
            seen = ALONE
            while True:
                fields, first_url = self._story_of(url, signature, candidates)
                if self.drop_duplicates and fields["duplicate_of"]:
                    self.stats.inc_value("neardup/duplicates")
                    return Decision(fields, drop=f"later copy of {first_url}: {url}")
                copy = IndexedCopy(url, fields["cluster_id"], first_url, signature)
                view = self.index.insert(copy, signature.shingles, seen)
                if view is None:
                    break
                if view.has_url:
                    # The same page reached twice in this run (say, once through a redirect): the
                    # storage stage records this fetch's URLs for the page and stores nothing.
                    self.stats.inc_value("neardup/already_stored")
                    return Decision({}, unchanged=True)
                if seen is not ALONE:
                    self.stats.inc_value("neardup/decisions_retaken")
                known = {c.copy.url for c in candidates}
                candidates = candidates + [c for c in view.candidates if c.copy.url not in known]
                seen = view
            self.stats.inc_value("neardup/duplicates" if fields["duplicate_of"] else "neardup/first_copies")
        self._in_flight[url] = signature.shingles  # type: ignore[assignment]
        return Decision(fields)

    def _story_of(
        self, url: str, signature: Signature, candidates: list[Candidate]
    ) -> tuple[dict[str, Any], str]:
        """The fields of a new page's story, and the URL of its first copy."""
        match = self._best_match(signature, candidates)
        if match is None:
            return {"cluster_id": new_cluster_id(url), "duplicate_of": None, "similarity": None, "version": 1}, url
        copy, similarity = match
        logger.debug("%s repeats %s (similarity %.2f)", url, copy.url, similarity)
        fields = {
            "cluster_id": copy.cluster_id,
            "duplicate_of": copy.first_url,
            "similarity": round(similarity, 4),
            "version": 1,
        }
        return fields, copy.first_url

    def _best_match(self, signature: Signature, candidates: list[Candidate]) -> tuple[IndexedCopy, float] | None:
        """The most similar confirmed copy; ties go to the copy stored first."""
        confirmed: list[tuple[float, IndexedCopy]] = []
        unsure: list[Candidate] = []
        rule = self.index.rule
        for candidate in candidates:
            verdict = rule.judge_estimate(candidate, signature)
            if verdict is None:
                unsure.append(candidate)
            elif verdict:
                confirmed.append((candidate.similarity, candidate.copy))
        self.stats.inc_value("neardup/candidates_checked_exactly", len(unsure))
        if unsure:
            exact = self._exact_sets([c.copy.url for c in unsure])
            for candidate in unsure:
                other = exact.get(candidate.copy.url)
                if other is None:
                    continue
                same, similarity, _ = rule.judge_exact(signature.shingles, other)  # type: ignore[arg-type]
                if same:
                    confirmed.append((similarity, candidate.copy))
        if not confirmed:
            return None
        best_similarity = max(similarity for similarity, _ in confirmed)
        best = next(copy for similarity, copy in confirmed if similarity == best_similarity)
        return best, best_similarity

    def _exact_sets(self, urls: list[str]) -> dict[str, np.ndarray]:
        """Exact shingle sets: this process's recent articles, other processes' (shared index),
        then the article store."""
        found = {url: self._in_flight[url] for url in urls if url in self._in_flight}
        missing = [url for url in urls if url not in found]
        if missing:
            found.update(self.index.recent_shingles(missing))
            missing = [url for url in urls if url not in found]
        if missing:
            found.update(self.store.shingles(missing))
        return found

    def item_done(self, item: Any, **kwargs: Any) -> None:
        if isinstance(item, ArticleItem):
            self._in_flight.pop(item.get("url"), None)

    def article_recleaned(self, url: str, text: str, **kwargs: Any) -> None:
        # Later copies are compared with the clean text of a page stored before its site was learned.
        signature = self.signer.sign(text)
        self._thread.submit(self._recleaned, url, signature)

    def _recleaned(self, url: str, signature: Signature) -> None:
        self.index.update_signature(url, signature)
        if self.filter is not None:  # the page may have left the hot index: its new keys are cold
            self.filter.add(self.index.layout.keys(signature.hashvalues[np.newaxis, :]))

    def item_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        # A later stage failed to store the article: forget it, so the index keeps matching the store.
        if isinstance(item, ArticleItem) and item.get("signature") is not None:
            self._thread.submit(self.index.remove, item["url"])
            self._in_flight.pop(item["url"], None)
