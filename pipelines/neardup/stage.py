"""Near-duplicate stage: recognises a syndicated copy of a story already stored, in this run or an
earlier one, however long ago, and tags it with the story's cluster.

Each article is looked up in two indexes: the hot one (pipelines.neardup.memory, or .shared in
Redis) of the signatures added recently, and the cold one in the article store, which holds the
band keys of every stored signature, behind a Bloom filter (pipelines.neardup.coldfilter) when
the hot index is this process's. Publication dates never keep two texts from being compared.

Settings: NEARDUP_ENABLED, NEARDUP_NUM_PERM, NEARDUP_SHINGLE_SIZE, NEARDUP_BANDS, NEARDUP_ROWS,
NEARDUP_THRESHOLD, NEARDUP_CONTAINMENT, NEARDUP_CONTAINMENT_MIN_SHINGLES, NEARDUP_DROP_DUPLICATES,
NEARDUP_HOT_SIGNATURES, NEARDUP_FORGET_AFTER_DAYS, NEARDUP_BACKEND, NEARDUP_BACKENDS, DATA_DIR.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.misc import load_object

from pipelines import clock, faults, require_asyncio
from pipelines.drops import LaterCopy
from pipelines.items import ArticleItem, new_cluster_id
from pipelines.signals import article_recleaned
from pipelines.signatures import BandLayout, Signature, Signer, estimates
from pipelines.state import CrawlState
from pipelines.state.interfaces import ArticleStore, StoreError

from .coldfilter import ColdFilter
from .matching import ALONE, Candidate, IndexedCopy, MatchRule, SignatureIndex

logger = logging.getLogger(__name__)

# The cold index's Bloom filter, under DATA_DIR.
FILTER_FILE = "cold-index.filter"


def open_index(settings: BaseSettings) -> SignatureIndex:
    """The hot index NEARDUP_BACKEND names in NEARDUP_BACKENDS ("memory" or "redis")."""
    rule = MatchRule(
        threshold=settings.getfloat("NEARDUP_THRESHOLD"),
        containment=settings.getfloat("NEARDUP_CONTAINMENT"),
        min_shingles=settings.getint("NEARDUP_CONTAINMENT_MIN_SHINGLES"),
    )
    name = settings.get("NEARDUP_BACKEND")
    backends = settings.getdict("NEARDUP_BACKENDS")
    if name not in backends:
        raise ValueError(f"NEARDUP_BACKEND must be one of {', '.join(sorted(backends))}, got {name!r}")
    index: SignatureIndex = load_object(backends[name]).from_settings(
        settings, BandLayout.from_settings(settings), rule
    )
    return index


@dataclass
class Decision:
    """What the stage decided for one article."""

    fields: dict[str, Any]  # cluster_id, duplicate_of, similarity
    drop: type[Exception] | None = None  # why it is dropped, if it is
    reason: str = ""
    reached_again: bool = False  # the page was reached before in this run


class _StoreNeeded(Exception):
    """A decision begun in the reactor thread needs the store: it is taken on the thread instead."""


class NearDuplicatePipeline:
    """Sets cluster_id, duplicate_of and similarity on each article, and its signature for storage.

    Decisions are taken one article at a time in arrival order, so the same input order gives the
    same clusters. One thread takes those that read the store or a shared index; a decision that
    needs neither is taken at once in the reactor thread, when that thread has nothing pending
    (see _decide_in_memory). With the shared index, decisions of several processes are
    serialised by the index's insert (see pipelines.neardup.shared.RedisIndex.insert).
    """

    def __init__(
        self,
        stats: StatsCollector,
        signer: Signer,
        index: SignatureIndex,
        store: ArticleStore,
        drop_duplicates: bool = False,
        forget_after_days: float = 0.0,
        filter_path: Path | None = None,
    ) -> None:
        if forget_after_days < 0:
            raise ValueError("NEARDUP_FORGET_AFTER_DAYS must be 0 (never forget) or more")
        self.forget_after = timedelta(days=forget_after_days) if forget_after_days else None
        self.stats = stats
        self.signer = signer
        self.index = index
        self.store = store
        # The cold index's filter can stand in front of it only for a hot index of this process's
        # own: with a shared one, other workers' articles leave the hot index unseen.
        self.filter_path = None if index.shared else filter_path
        self.filter: ColdFilter | None = None
        self.drop_duplicates = drop_duplicates
        self._decisions = asyncio.Lock()
        self._evicted = 0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neardup")
        self._last_job: Future[Any] | None = None  # the thread's last job: done when it is idle
        self._in_memory = False  # a decision is being taken in the reactor thread

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
            signer = Signer.from_settings(settings)
            index = open_index(settings)
            pipeline = cls(
                crawler.stats,
                signer,
                index,
                CrawlState.of(crawler).store,
                settings.getbool("NEARDUP_DROP_DUPLICATES"),
                settings.getfloat("NEARDUP_FORGET_AFTER_DAYS"),
                Path(settings.get("DATA_DIR")) / FILTER_FILE,
            )
        except ValueError as exc:
            raise NotConfigured(f"near-duplicate settings are invalid: {exc}") from exc
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
            self.filter = ColdFilter.open(self.filter_path, self.store, self.index.layout)
            self.index.on_evict = self.filter.add_signatures  # type: ignore[attr-defined]
        return self.store.last_fetched_at()

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

    async def _in_thread(self, function: Any, *args: Any) -> Any:
        return await asyncio.wrap_future(self._submit(function, *args))

    def _submit(self, function: Any, *args: Any) -> Future[Any]:
        self._last_job = self._thread.submit(function, *args)
        return self._last_job

    async def close_spider(self) -> None:
        self._thread.shutdown(wait=True)
        if self.filter is not None:
            # Every article stored in this run is in the hot index or was evicted into the filter.
            self.filter.save(self.index.signature_matrix(), self.store)  # type: ignore[attr-defined]
            self.filter = None
        self.index.close()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        carry = item.carry
        hashes, carry.word_hashes = carry.word_hashes, None
        if carry.signed is not None:
            signature = carry.signed  # signed in the extraction worker, and the text is unchanged
        elif hashes is not None:  # hashed in the extraction worker, paragraph by paragraph
            signature = self.signer.sign_words(hashes.words)
        else:
            signature = self.signer.sign(item["text"])
        async with self._decisions:  # FIFO: decisions in arrival order
            decision = self._decide_in_memory(item["url"], carry.previous, signature)
            if decision is None:
                decision = await self._in_thread(self._decide, item["url"], carry.previous, signature)
        faults.reached("neardup.decided")
        item.update(decision.fields)
        if decision.drop is not None:
            raise decision.drop(decision.reason)
        if decision.reached_again:
            carry.reached_again = True
            return item
        carry.signature = signature
        return item

    def _decide_in_memory(self, url: str, previous: Any, signature: Signature) -> Decision | None:
        """The decision, taken at once, if it needs neither the store nor a shared index: the hot
        index is this process's, the cold index's filter rules out every stored copy, and no exact
        comparison needs a copy's shingles from the store. Else None, and nothing is changed.

        Most decisions are such, and each hop to the thread and back costs the crawling process
        more CPU than the decision itself. Taken only while the thread is idle, so that the hot
        index is never touched from two threads at once and jobs keep their order.
        """
        if self.index.shared or self.filter is None or (self._last_job and not self._last_job.done()):
            return None
        if signature.shingle_count:
            keys = self.index.layout.keys(signature.hashvalues[np.newaxis, :])[0]
            if self.filter.may_contain(keys).any():
                return None
        self._in_memory = True
        try:
            return self._decide(url, previous, signature, stored=[])
        except _StoreNeeded:
            return None
        finally:
            self._in_memory = False

    def _decide(
        self, url: str, previous: Any, signature: Signature, stored: list[Candidate] | None = None
    ) -> Decision:
        decision = self._decide_once(url, previous, signature, stored)
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

    def _decide_once(
        self, url: str, previous: Any, signature: Signature, stored: list[Candidate] | None
    ) -> Decision:
        """*stored*: the stored copies sharing a band with *signature*, if already known."""
        if previous is not None:
            # A new version of a stored page (see the versioning stage): the same story.
            fields = {
                "cluster_id": previous.cluster_id,
                "duplicate_of": previous.duplicate_of,
                "similarity": previous.similarity,
            }
            self.index.remove(previous.url)
            self.index.insert(
                IndexedCopy(url, previous.cluster_id, previous.duplicate_of or previous.url, signature),
                signature.shingles,
            )
            return Decision(fields)
        # Decided on the stored copies, then added to the hot index only if no copy there shares
        # a band with it: one round trip to a shared index for most articles. Otherwise the
        # decision is taken again with the hot copies, and the copy added unless another process
        # added a copy sharing a band in the meantime (then again, with that one too).
        candidates = self._stored_candidates(signature) if stored is None else stored
        seen = ALONE
        while True:
            fields, first_url = self._story_of(url, signature, candidates)
            if self.drop_duplicates and fields["duplicate_of"]:
                self.stats.inc_value("neardup/duplicates")
                return Decision(fields, LaterCopy, f"later copy of {first_url}: {url}")
            view = self.index.insert(
                IndexedCopy(url, fields["cluster_id"], first_url, signature), signature.shingles, seen
            )
            if view is None:
                break
            if view.has_url:
                # The same page reached twice in this run (say, once through a redirect): the
                # storage stage records this fetch's URLs for the page and stores nothing.
                self.stats.inc_value("neardup/already_stored")
                return Decision({}, reached_again=True)
            if seen is not ALONE:
                self.stats.inc_value("neardup/decisions_retaken")
            known = {c.copy.url for c in candidates}
            candidates = candidates + [c for c in view.candidates if c.copy.url not in known]
            seen = view
        self.stats.inc_value("neardup/duplicates" if fields["duplicate_of"] else "neardup/first_copies")
        return Decision(fields)

    def _stored_candidates(self, signature: Signature) -> list[Candidate]:
        """The stored copies sharing a band with *signature*, oldest first, from the cold index."""
        if signature.shingle_count == 0:
            return []
        keys = self.index.layout.keys(signature.hashvalues[np.newaxis, :])[0]
        if self.filter is not None:  # only keys a copy outside the hot index may have
            keys = keys[self.filter.may_contain(keys)]
            if not len(keys):
                return []
        since = (clock.now() - self.forget_after).isoformat(timespec="seconds") if self.forget_after else None
        try:
            stored = self.store.candidates(keys, since)
        except StoreError as exc:
            # The article is still decided (against the hot index) and stored, but this run's
            # clusters may miss copies: it is counted, and the run exits with an error.
            if not self.stats.get_value("neardup/cold_lookup_failed"):
                logger.error("%s", exc)
            self.stats.inc_value("neardup/cold_lookup_failed")
            self.stats.set_value("run/failed", True)
            return []
        self.stats.inc_value("neardup/candidates_stored", len(stored.urls))
        similarity, containment = estimates(stored.matrix, stored.shingle_counts, signature)
        return [
            Candidate(
                IndexedCopy(
                    url, cluster, first, Signature(stored.matrix[row], int(stored.shingle_counts[row]))
                ),
                float(similarity[row]),
                float(containment[row]),
            )
            for row, (url, cluster, first) in enumerate(
                zip(stored.urls, stored.cluster_ids, stored.first_urls, strict=True)
            )
        ]

    def _story_of(
        self, url: str, signature: Signature, candidates: list[Candidate]
    ) -> tuple[dict[str, Any], str]:
        """The fields of a new page's story, and the URL of its first copy."""
        match = self._best_match(signature, candidates)
        if match is None:
            return {"cluster_id": new_cluster_id(url), "duplicate_of": None, "similarity": None}, url
        copy, similarity = match
        logger.debug("%s repeats %s (similarity %.2f)", url, copy.url, similarity)
        return {
            "cluster_id": copy.cluster_id,
            "duplicate_of": copy.first_url,
            "similarity": round(similarity, 4),
        }, copy.first_url

    def _best_match(
        self, signature: Signature, candidates: list[Candidate]
    ) -> tuple[IndexedCopy, float] | None:
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
        exact = self._exact_sets([c.copy.url for c in unsure]) if unsure else {}
        # counted once the sets are at hand: a decision that moves to the thread counts them there
        self.stats.inc_value("neardup/candidates_checked_exactly", len(unsure))
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
        """Exact shingle sets: of the copies added last (the hot index keeps them, some not yet
        stored), then of the article store."""
        found = self.index.recent_shingles(urls)
        missing = [url for url in urls if url not in found]
        if missing and self._in_memory:
            raise _StoreNeeded
        if missing:
            found.update(self.store.shingles(missing))
        return found

    def article_recleaned(self, url: str, text: str, **kwargs: Any) -> None:
        # Later copies are compared with the clean text of a page stored before its site was learned.
        self._submit(self._recleaned, url, self.signer.sign(text))

    def _recleaned(self, url: str, signature: Signature) -> None:
        self.index.update_signature(url, signature)
        if self.filter is not None:  # the page may have left the hot index: its new keys are cold
            self.filter.add_signatures(signature.hashvalues[np.newaxis, :])

    def item_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        # A later stage failed to store the article: forget it, so the index keeps matching the store.
        if isinstance(item, ArticleItem) and item.carry.signature is not None:
            self._submit(self.index.remove, item["url"])
