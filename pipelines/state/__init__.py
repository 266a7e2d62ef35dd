"""The state a crawl keeps between runs, opened once per crawl and handed to whoever needs it.

`CrawlState` is an extension: Scrapy builds it before the downloader middlewares and the item
pipelines, so the store is opened (and a store that cannot be used stops the run) before anything
is fetched. Components ask for it with `CrawlState.of(crawler)` in their from_crawler.

Backends are named by STORAGE_BACKEND and found in STORAGE_BACKENDS, the way Scrapy finds feed
storages by URI scheme in FEED_STORAGES: "sqlite" (pipelines.state.sqlite, files under DATA_DIR)
and "postgres" (pipelines.state.postgres, shared by several crawler processes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object

from pipelines.signatures import BandLayout, Signature, Signer

from .interfaces import ArticleStore, PageHistory, RunLog, SegmentStats, StoreError

logger = logging.getLogger(__name__)

__all__ = ["Backend", "CrawlState", "StoreError", "open_backend"]


class Backend(Protocol):
    """Where each kind of state lives; see pipelines.state.sqlite and pipelines.state.postgres."""

    def open_store(
        self,
        signature_scheme: str | None,
        layout: BandLayout | None,
        create: bool = True,
        sign: Callable[[str], Signature] | None = None,
    ) -> Any:
        """An object that is both the ArticleStore and the PageHistory (one transaction writes both)."""
        ...

    def open_segments(self) -> SegmentStats: ...

    def open_run_log(self, name: str) -> RunLog: ...

    def close(self) -> None: ...


def open_backend(settings: BaseSettings) -> Backend:
    """The backend STORAGE_BACKEND names in STORAGE_BACKENDS."""
    name = settings.get("STORAGE_BACKEND")
    backends = settings.getdict("STORAGE_BACKENDS")
    if name not in backends:
        raise StoreError(f"unknown STORAGE_BACKEND {name!r}; use one of {', '.join(sorted(backends))}")
    return load_object(backends[name]).from_settings(settings)


class CrawlState:
    """Opens the crawl's state once and closes it when the engine stops.

    `store` (articles and page history) is opened at once, with the signature scheme and band
    layout of the NEARDUP_* settings; `segments` when first asked for.
    """

    def __init__(self, backend: Backend, signer: Signer, layout: BandLayout) -> None:
        self.backend = backend
        self.store: ArticleStore = backend.open_store(signer.scheme, layout, sign=signer.sign)
        self.pages: PageHistory = self.store
        self._segments: SegmentStats | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlState:
        settings = crawler.settings
        try:
            state = cls(
                open_backend(settings),
                Signer.from_settings(settings),
                BandLayout.from_settings(settings),
            )
        except ValueError as exc:
            raise NotConfigured(f"near-duplicate settings are invalid: {exc}") from exc
        crawler.signals.connect(state.close, signal=signals.engine_stopped)
        return state

    @staticmethod
    def of(crawler: Crawler) -> CrawlState:
        """The crawl's state (for a component's from_crawler)."""
        state = crawler.get_extension(CrawlState)
        if state is None:
            raise NotConfigured("this component needs the extension pipelines.state.CrawlState in EXTENSIONS")
        return state

    @property
    def segments(self) -> SegmentStats:
        if self._segments is None:
            self._segments = self.backend.open_segments()
        return self._segments

    def close(self) -> None:
        self.backend.close()
