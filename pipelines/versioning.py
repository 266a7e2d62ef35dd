"""Versioning stage: a new page, a new version of a stored one, or a fetch that brought nothing new.

A page stored before and fetched again (a revisit, see crawler.middlewares.IncrementalMiddleware)
is a new version when its cleaned text changed: the near-duplicate stage keeps it in its story,
and the storage stage stores it as `version` + 1, linked to the version it replaces. The same
text again, or a fetch before the page's revisit was due (a redirect, or a second worker after the
shared duplicate filter was lost, cleaning it differently), stores nothing: the fetch is recorded
and the item dropped (Unchanged).

Settings: VERSIONING_ENABLED, INCREMENTAL_REVISIT_HOURS.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import xxhash
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from pipelines import clock, require_asyncio
from pipelines.drops import Unchanged
from pipelines.items import ArticleItem, archived_location
from pipelines.state import CrawlState
from pipelines.state.interfaces import PageFetch, PageHistory

logger = logging.getLogger(__name__)


def text_hash(text: str) -> str:
    """What tells one version of a page's text from another."""
    return xxhash.xxh64_hexdigest(text.encode("utf-8"))


class VersioningPipeline:
    """Sets `version` (and the page's stored state, for a new version) on each article."""

    def __init__(self, stats: StatsCollector, pages: PageHistory, revisit: timedelta) -> None:
        self.stats = stats
        self.pages = pages
        self.revisit = revisit
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="versioning")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> VersioningPipeline:
        settings = crawler.settings
        if not settings.getbool("VERSIONING_ENABLED"):
            raise NotConfigured("versioning is off (VERSIONING_ENABLED = False)")
        require_asyncio(settings, "versioning")
        hours = settings.getfloat("INCREMENTAL_REVISIT_HOURS")
        if hours < 0:
            raise NotConfigured("INCREMENTAL_REVISIT_HOURS must be 0 or more")
        return cls(crawler.stats, CrawlState.of(crawler).pages, timedelta(hours=hours))

    async def close_spider(self) -> None:
        self._thread.shutdown(wait=True)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        carry = item.carry
        carry.text_hash = text_hash(item["text"])
        if carry.page_lookup is not None and [carry.page_lookup[0]] == carry.page_keys:
            state = carry.page_lookup[1]  # asked before the fetch, under the only key the page has
        else:
            state = await asyncio.get_running_loop().run_in_executor(
                self._thread, self.pages.page, carry.page_keys
            )
        previous = state if state is not None and state.article_id is not None else None
        if previous is None:
            item["version"] = 1
            return item
        if previous.text_hash == carry.text_hash:
            await self._nothing_new(item, "unchanged", "unchanged since it was stored")
        if self._fetched_recently(previous.fetched_at):
            await self._nothing_new(item, "refetched_early", "fetched again before its revisit was due")
        self.stats.inc_value("versioning/new_versions")
        item["version"] = previous.version + 1
        carry.previous = previous
        return item

    async def _nothing_new(self, item: ArticleItem, event: str, why: str) -> None:
        carry = item.carry
        location = await archived_location(carry)
        fetch = PageFetch(
            carry.page_keys,
            item["fetched_at"],
            carry.etag,
            carry.last_modified,
            location.payload_digest if location is not None else None,
        )
        await asyncio.get_running_loop().run_in_executor(self._thread, self.pages.touch_page, fetch)
        self.stats.inc_value(f"versioning/{event}")
        raise Unchanged(f"{why}: {item['url']}")

    def _fetched_recently(self, fetched_at: str) -> bool:
        try:
            age = clock.now() - datetime.fromisoformat(fetched_at)
        except ValueError:
            return False
        return age < self.revisit
