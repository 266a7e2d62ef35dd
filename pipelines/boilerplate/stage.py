"""Boilerplate stage: removes what a site repeats around its stories, before near-duplicate detection.

trafilatura keeps boilerplate that sits inside the article container: alternate-address footers,
app and newsletter promos, copyright lines, recurring captions. This stage learns it per site from
the segments (paragraphs) that recur across different stories, removes it, and applies the
per-site rules of BOILERPLATE_RULES_FILE.

Cold start: a site's first pages arrive before its template is known. They wait here until the
site has shown BOILERPLATE_WARMUP_STORIES different stories, so they are cleaned, and compared for
near-duplicates, with the template already learned. Waiting never stalls the crawl: a site's pages
go on when BOILERPLATE_HOLD_PAGES of them wait, when its latest pages bring no new story, when
BOILERPLATE_HOLD_SECONDS pass, when no page has arrived for BOILERPLATE_HOLD_QUIET_SECONDS (the crawl
is ending), and the oldest waiting site goes on when BOILERPLATE_HOLD_PAGES_TOTAL pages wait. Boilerplate learned later still is removed from the site's recently
stored articles too (signal `article_recleaned`; the store and the index update themselves).

Settings: BOILERPLATE_ENABLED, BOILERPLATE_MIN_STORIES, BOILERPLATE_MIN_SHARE,
BOILERPLATE_WARMUP_STORIES, BOILERPLATE_HOLD_PAGES, BOILERPLATE_HOLD_PAGES_TOTAL,
BOILERPLATE_HOLD_SECONDS, BOILERPLATE_HOLD_QUIET_SECONDS, BOILERPLATE_RULES_FILE, BOILERPLATE_SAVE_SECONDS, STORAGE_BACKEND, DATA_DIR.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.signalmanager import SignalManager
from scrapy.statscollectors import StatsCollector

from pipelines import require_asyncio
from pipelines.drops import OnlyBoilerplate
from pipelines.items import ArticleItem
from pipelines.signals import article_recleaned
from pipelines.siterules import Rules, RulesError, load_rules
from pipelines.state import CrawlState
from pipelines.state.interfaces import SegmentStats, StoreError
from pipelines.text import join_paragraphs, paragraph_key, paragraphs, word_units

from .segments import SiteSegments

logger = logging.getLogger(__name__)

# Recently stored pages per site kept for re-cleaning when more boilerplate is learned.
RECLEAN_WINDOW = 32


class BoilerplatePipeline:
    """Learns each site's boilerplate segments and removes them (and rule matches) from `text`."""

    def __init__(
        self,
        stats: StatsCollector,
        signals: SignalManager,
        store: SegmentStats,
        rules: Rules,
        *,
        min_stories: int,
        min_share: float,
        warmup_stories: int,
        hold_pages: int,
        hold_pages_total: int,
        hold_seconds: float,
        hold_quiet_seconds: float,
        save_seconds: float,
    ) -> None:
        SiteSegments(min_stories, min_share, warmup_stories)  # validates the numbers up front
        self.stats = stats
        self.signals = signals
        self.store = store
        self.rules = rules
        self.min_stories = min_stories
        self.min_share = min_share
        self.warmup_stories = warmup_stories
        self.hold_pages = hold_pages
        self.hold_pages_total = hold_pages_total
        self.hold_seconds = hold_seconds
        self.hold_quiet_seconds = hold_quiet_seconds
        self._last_arrival = time.monotonic()
        self._quiet_watch: asyncio.Task[None] | None = None
        self.save_seconds = save_seconds
        self.sites: dict[str, SiteSegments] = {}
        self._dirty: set[str] = set()
        self._waiting: dict[str, list[asyncio.Future[None]]] = defaultdict(list)
        self._stored: dict[str, deque[tuple[str, list[str]]]] = defaultdict(
            lambda: deque(maxlen=RECLEAN_WINDOW)
        )
        self._saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="boilerplate-stats")
        self._last_save = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BoilerplatePipeline:
        settings = crawler.settings
        if not settings.getbool("BOILERPLATE_ENABLED"):
            raise NotConfigured("boilerplate removal is disabled (BOILERPLATE_ENABLED = False)")
        require_asyncio(settings, "boilerplate")
        try:
            rules = load_rules(settings.get("BOILERPLATE_RULES_FILE"))
            pipeline = cls(
                crawler.stats,
                crawler.signals,
                CrawlState.of(crawler).segments,
                rules,
                min_stories=settings.getint("BOILERPLATE_MIN_STORIES"),
                min_share=settings.getfloat("BOILERPLATE_MIN_SHARE"),
                warmup_stories=settings.getint("BOILERPLATE_WARMUP_STORIES"),
                hold_pages=settings.getint("BOILERPLATE_HOLD_PAGES"),
                hold_pages_total=settings.getint("BOILERPLATE_HOLD_PAGES_TOTAL"),
                hold_seconds=settings.getfloat("BOILERPLATE_HOLD_SECONDS"),
                hold_quiet_seconds=settings.getfloat("BOILERPLATE_HOLD_QUIET_SECONDS"),
                save_seconds=settings.getfloat("BOILERPLATE_SAVE_SECONDS"),
            )
        except (RulesError, ValueError) as exc:
            raise NotConfigured(f"boilerplate settings are invalid: {exc}") from exc
        crawler.signals.connect(pipeline.item_scraped, signal=signals.item_scraped)
        return pipeline

    async def open_spider(self) -> None:
        self._quiet_watch = asyncio.create_task(self._release_when_quiet())

    async def close_spider(self) -> None:
        if self._quiet_watch is not None:
            self._quiet_watch.cancel()
        self._release_all()
        await asyncio.get_running_loop().run_in_executor(self._saver, self._save, self._take_dirty())
        self._saver.shutdown(wait=True)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        carry = item.carry
        site_name = item["site"]
        site = self._site(site_name)
        self._last_arrival = time.monotonic()
        parts = paragraphs(item["text"])
        hashes = carry.word_hashes
        if carry.segment_keys is not None and len(carry.segment_keys) == len(parts):
            keys = carry.segment_keys
        else:
            keys = [paragraph_key(p) for p in parts]
        _, learned = site.observe(keys, carry.template_lines or [])
        self._dirty.add(site_name)
        if learned:
            self._learned(site_name, learned)
        if site.warm or site.stalled:
            self._release(site_name)
        else:
            await self._hold(site_name)
        keep = self._keep(site_name, parts, keys)
        if not any(keep):
            self.stats.inc_value("boilerplate/only_boilerplate")
            raise OnlyBoilerplate(f"only boilerplate on {item['url']}")
        if not all(keep):
            text = join_paragraphs([part for part, kept in zip(parts, keep) if kept])
            item.update(text=text, word_count=word_units(text))
            carry.signed = None
            if hashes is not None and len(hashes) == len(parts):
                carry.word_hashes = hashes.kept(keep)
            else:
                carry.word_hashes = None  # the signature is then made from the text
            carry.segment_keys = [key for key, kept in zip(keys, keep) if kept]
        self._maybe_save()
        return item

    def _keep(self, site_name: str, parts: list[str], keys: list[str]) -> list[bool]:
        """For each paragraph, whether it is the story's (True) or the site's boilerplate."""
        site = self.sites[site_name]
        rules = self.rules.for_host(site_name)
        keep = []
        for part, key in zip(parts, keys):
            if site.is_boilerplate(key):
                self.stats.inc_value("boilerplate/segments_removed")
                keep.append(False)
            elif rules.drops(part):
                self.stats.inc_value("boilerplate/segments_removed")
                self.stats.inc_value("boilerplate/rule_matches")
                keep.append(False)
            else:
                keep.append(True)
        return keep

    def _site(self, site_name: str) -> SiteSegments:
        site = self.sites.get(site_name)
        if site is None:
            site = SiteSegments(self.min_stories, self.min_share, self.warmup_stories)
            state = self.store.load(site_name)
            if state:
                site.load_dict(state)
            self.sites[site_name] = site
        return site

    # --- cold start ---------------------------------------------------------------------------

    async def _hold(self, site_name: str) -> None:
        waiting = self._waiting[site_name]
        if len(waiting) + 1 >= self.hold_pages:
            self.stats.inc_value("boilerplate/hold_limit_reached")
            self._release(site_name)
            return
        if sum(len(w) for w in self._waiting.values()) >= self.hold_pages_total:
            self.stats.inc_value("boilerplate/hold_limit_reached")
            self._release(next(iter(self._waiting)))  # the site waiting longest
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[site_name].append(future)
        self.stats.inc_value("boilerplate/pages_held")
        started = time.monotonic()
        try:
            await asyncio.wait_for(asyncio.shield(future), self.hold_seconds)
        except TimeoutError:
            self.stats.inc_value("boilerplate/hold_timeouts")
            self._release(site_name)
        self.stats.inc_value("wait/boilerplate_hold_ms", round(1000 * (time.monotonic() - started)))

    async def _release_when_quiet(self) -> None:
        # When pages stop arriving the crawl is ending: nothing more will warm a waiting site up.
        while True:
            await asyncio.sleep(min(0.5, self.hold_quiet_seconds))
            if self._waiting and time.monotonic() - self._last_arrival >= self.hold_quiet_seconds:
                self.stats.inc_value("boilerplate/quiet_releases")
                self._release_all()

    def _release(self, site_name: str) -> None:
        for future in self._waiting.pop(site_name, []):
            if not future.done():
                future.set_result(None)

    def _release_all(self) -> None:
        for site_name in list(self._waiting):
            self._release(site_name)

    # --- learning later: re-cleaning stored pages ---------------------------------------------

    def item_scraped(self, item: Any, response: Any, spider: Any) -> None:
        if isinstance(item, ArticleItem):
            self._stored[item["site"]].append((item["url"], paragraphs(item["text"])))

    def _learned(self, site_name: str, learned: set[str]) -> None:
        self.stats.inc_value("boilerplate/segments_learned", len(learned))
        logger.debug("learned %d boilerplate segments of %s", len(learned), site_name)
        stored = self._stored.get(site_name)
        if not stored:
            return
        for position, (url, parts) in enumerate(stored):
            keys = [paragraph_key(p) for p in parts]
            if not learned.intersection(keys):
                continue
            kept = [part for part, keep in zip(parts, self._keep(site_name, parts, keys)) if keep]
            if not kept:
                continue  # never empty a stored article; its story may be mostly quotes of others
            stored[position] = (url, kept)
            text = join_paragraphs(kept)
            self.stats.inc_value("boilerplate/pages_recleaned")
            self.signals.send_catch_log(
                article_recleaned, url=url, site=site_name, text=text, word_count=word_units(text)
            )

    # --- persistence --------------------------------------------------------------------------

    def _take_dirty(self) -> dict[str, dict[str, Any]]:
        states = {name: self.sites[name].to_dict() for name in self._dirty}
        self._dirty.clear()
        return states

    def _maybe_save(self) -> None:
        if time.monotonic() - self._last_save >= self.save_seconds and self._dirty:
            self._last_save = time.monotonic()
            self._saver.submit(self._save, self._take_dirty())

    def _save(self, states: dict[str, dict[str, Any]]) -> None:
        if not states:
            return
        try:
            self.store.save(states)
        except StoreError as exc:  # learning continues in memory; the next save tries again
            logger.error("could not save boilerplate statistics: %s", exc)
