"""The kinds of state a crawl keeps between runs, one interface each, and the records they pass.

    ArticleStore   stored articles with their signatures and the cold near-duplicate index
    PageHistory    every fetched page under all its URLs: validators, last fetch, its article
    SegmentStats   learned boilerplate statistics, one state per site
    RunLog         run summaries, and what earlier runs yielded per source

The near-duplicate stage's hot index has its own interface beside that stage
(pipelines.neardup.matching.SignatureIndex). Backends: pipelines.state.sqlite (one crawler
process per DATA_DIR) and pipelines.state.postgres (shared by several), chosen by STORAGE_BACKEND.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from pipelines.items import EXPORT_FIELDS
from pipelines.origin.election import CopyEvidence, Origin
from pipelines.signatures import Signature

# A stored article: its exported fields, the version it replaces, and its text's hash.
# With the evidence for the story's origin that is not exported (see pipelines.items.Carried).
ARTICLE_COLUMNS = (*EXPORT_FIELDS, "previous_id", "text_hash", "site_name", "credited")


class StoreError(RuntimeError):
    """The store cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class PageFetch:
    """One fetch of a page: every key it is known under, and the validators the server sent."""

    keys: list[str]
    fetched_at: str
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None  # of the WARC record archived for this fetch


@dataclass(frozen=True)
class PageState:
    """What the store knows of one page (reached under any of its URLs), as of its latest fetch."""

    article_id: int | None  # the latest stored version; None if the page never held an article
    url: str | None
    version: int
    text_hash: str | None
    cluster_id: str | None
    duplicate_of: str | None
    similarity: float | None
    etag: str | None
    last_modified: str | None
    fetched_at: str
    payload_digest: str | None = None


@dataclass(frozen=True)
class ClusterMember:
    url: str
    site: str
    title: str | None
    cluster_id: str
    duplicate_of: str | None
    similarity: float | None
    origin_url: str | None = None
    origin_reason: str | None = None
    origin_confidence: float | None = None
    wire: str | None = None


@dataclass(frozen=True)
class IndexRows:
    """Stored articles as the near-duplicate index needs them, column by column, oldest first."""

    ids: list[int]
    urls: list[str]
    cluster_ids: list[str]
    first_urls: list[str]
    matrix: np.ndarray  # one MinHash signature per row
    shingle_counts: np.ndarray

    @classmethod
    def from_rows(cls, rows: list[tuple], num_perm: int) -> IndexRows:
        """From (id, url, cluster_id, duplicate_of, minhash bytes, shingle_count) rows."""
        matrix = np.frombuffer(b"".join(bytes(r[4]) for r in rows), dtype="<u4").reshape(len(rows), num_perm)
        return cls(
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] or r[1] for r in rows],
            matrix.astype(np.uint32),
            np.array([r[5] for r in rows], dtype=np.int64),
        )


class ArticleStore(Protocol):
    """Stored articles with their signatures; each article, its signature and its band keys (the
    cold near-duplicate index) are written in one transaction."""

    def add(self, article: dict[str, Any], signature: Signature, page: PageFetch) -> bool:
        """Store *article* (a version of the page *page* names), its *signature* and the
        signature's band keys, and record the fetch of the page, in one transaction. Returns
        False, storing nothing, when this version of the URL is already stored."""
        ...

    def add_and_elect(
        self,
        article: dict[str, Any],
        signature: Signature,
        page: PageFetch,
        elect: Callable[[list[CopyEvidence]], Origin],
    ) -> tuple[Origin, int] | None:
        """`add`, then `elect_origin` of the article's story (its `cluster_id`), in the same
        transaction: no stored row is ever left without its story's latest election. None, storing
        nothing, when this version of the URL is already stored."""
        ...

    def update_text(self, url: str, text: str, word_count: int, signature: Signature) -> str | None:
        """Replace a stored article's text and signature (after boilerplate re-cleaning): the
        article's story (`cluster_id`), or None if the URL has no current stored article."""
        ...

    def elect_origin(
        self, cluster_id: str, elect: Callable[[list[CopyEvidence]], Origin]
    ) -> tuple[Origin, int] | None:
        """Elect the origin of the story *cluster_id* over its current copies, oldest first, and
        write it to those of them that held another, in one transaction that excludes other
        elections of the story: the origin, and how many rows were rewritten. None if the story
        has no stored copy."""
        ...

    def candidates(self, keys: np.ndarray, stored_since: str | None = None) -> IndexRows:
        """The current stored articles with a band among *keys*, oldest first; with
        *stored_since* (ISO time), only those fetched since then."""
        ...

    def page_and_candidates(
        self, page_keys: list[str], band_keys: np.ndarray, stored_since: str | None = None
    ) -> tuple[PageState | None, IndexRows | None]:
        """PageHistory.page() and candidates() together: one round trip to a store across the
        network; without band keys, no candidates (None)."""
        ...

    def shingles(self, urls: list[str]) -> dict[str, np.ndarray]:
        """The exact shingle-hash sets of stored articles, by URL (missing URLs are left out)."""
        ...

    def identity(self) -> str:
        """A name of this store, made when it was first used: files derived from it carry it."""
        ...

    def last_article_id(self) -> int:
        """The id of the article stored last (0 for an empty store)."""
        ...

    def signatures_after(self, after: int) -> Iterator[tuple[list[int], np.ndarray]]:
        """The stored signatures of the articles after id *after*, in slices of (ids, matrix)."""
        ...

    def last_fetched_at(self) -> str | None:
        """When the article stored last was fetched (None for an empty store)."""
        ...

    def articles(self) -> Iterator[dict[str, Any]]:
        """Every stored article as a dict of ARTICLE_COLUMNS and "current" (the page's latest
        version), oldest first, streamed."""
        ...

    def cluster_members(self) -> Iterator[ClusterMember]:
        """Every stored article's place in its story's cluster, oldest first."""
        ...


class PageHistory(Protocol):
    """Every page fetched, under all its URLs (see pipelines.urls.page_key)."""

    def page(self, keys: list[str]) -> PageState | None:
        """The state of the page known under any of *keys*."""
        ...

    def touch_page(self, page: PageFetch) -> None:
        """Record a fetch that stored nothing (304 Not Modified, the same text, a refetch)."""
        ...


class SegmentStats(Protocol):
    """Learned boilerplate statistics, one JSON-able state per site."""

    def load(self, site: str) -> dict[str, Any] | None: ...

    def save(self, states: dict[str, dict[str, Any]]) -> None:
        """Replace the states of the given sites, all in one transaction."""
        ...


class RunLog(Protocol):
    """Where run summaries go, and what earlier runs yielded per source."""

    def started(self) -> None:
        """A worker of this run starts."""
        ...

    def finish(self, summary: dict[str, Any]) -> bool:
        """Record a worker's summary; True if it is the last worker of the run to finish."""
        ...

    def save(self) -> None:
        """Write what finish() recorded, where it is not written already."""
        ...

    def yields(self) -> dict[str, int]:
        """Articles per source in this run, over all its workers."""
        ...

    def previous_yield(self, source: str) -> tuple[str, int] | None:
        """(when, articles) of the latest earlier run that crawled *source*."""
        ...
