"""How the near-duplicate stage tells a copy: the rule, what a hot index answers, and its interface.

Candidates come from two places, both asked for every article: the hot index (in memory, or in
Redis when shared: `SignatureIndex`) of the signatures added recently, and the cold index in the
article store, which holds the band keys of every stored signature. Both use the band keys of
pipelines.signatures.BandLayout, so a copy is found whenever it was stored.

Settings: NEARDUP_THRESHOLD, NEARDUP_CONTAINMENT, NEARDUP_CONTAINMENT_MIN_SHINGLES.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from pipelines.signatures import BandLayout, Signature


@dataclass(frozen=True)
class IndexedCopy:
    """One stored copy of a story, as the index knows it."""

    url: str
    cluster_id: str
    first_url: str  # the first stored copy of the story
    signature: Signature


@dataclass(frozen=True)
class Candidate:
    """A stored copy that shares an LSH band with the text looked up, with similarity estimates."""

    copy: IndexedCopy
    similarity: float  # estimated Jaccard similarity of the shingle sets
    containment: float  # estimated share of the smaller set found in the larger one


@dataclass(frozen=True)
class HotView:
    """What a hot index held when a decision looked: the candidates, whether it held the page's
    URL, and the number of the copy it added last (-1 when additions cannot race, in one process),
    so that an insert can tell whether another process added a copy since."""

    candidates: list[Candidate]
    has_url: bool
    last_added: int = -1


# What an insert that has looked at nothing "saw": the copy is added only if no copy in the hot
# index shares a band with it (see SignatureIndex.insert).
ALONE = HotView([], False, 0)


@dataclass(frozen=True)
class MatchRule:
    """When two texts are the same story.

    Same story: Jaccard similarity >= *threshold*, or the smaller text's shingles found in the
    larger one's >= *containment* (a copy trimmed to its first half, or one with a few paragraphs
    added, still matches), for texts of at least *min_shingles* shingles.

    Measured on the syndication benchmark (bench/syndication.py): copies that keep half of a story
    or more have exact containment >= 0.6; different stories sharing 20-40% of their text in
    quoted paragraphs stay below 0.4. MinHash estimates at these similarities are too noisy to
    decide between the two (+-0.1 with 128 permutations on a short story), so an estimate only
    decides when it is far from the boundary; the rest are confirmed on exact shingle sets.
    """

    threshold: float = 0.5
    containment: float = 0.5
    min_shingles: int = 20
    # Estimates this far past the thresholds decide without the exact check.
    sure_similarity: float = 0.7
    unsure_below: float = 0.25
    exact_below_shingles: int = 60

    def __post_init__(self) -> None:
        for name, value in (("NEARDUP_THRESHOLD", self.threshold), ("NEARDUP_CONTAINMENT", self.containment)):
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0.0, 1.0], got {value}")
        if self.min_shingles < 1:
            raise ValueError("NEARDUP_CONTAINMENT_MIN_SHINGLES must be at least 1")

    def judge_estimate(self, candidate: Candidate, signature: Signature) -> bool | None:
        """True or False when the estimates are conclusive, None when the exact sets must decide."""
        if candidate.similarity >= max(self.sure_similarity, self.threshold):
            return True
        if max(candidate.similarity, candidate.containment) < self.unsure_below:
            return False
        return None

    def judge_exact(self, a: np.ndarray, b: np.ndarray) -> tuple[bool, float, float]:
        """Decide on exact sorted shingle-hash sets; returns (same story, Jaccard, containment)."""
        if len(a) == 0 or len(b) == 0:
            return False, 0.0, 0.0
        shared = len(np.intersect1d(a, b, assume_unique=True))
        similarity = shared / (len(a) + len(b) - shared)
        smaller = min(len(a), len(b))
        contained = shared / smaller
        same = similarity >= self.threshold or (
            smaller >= self.min_shingles and contained >= self.containment
        )
        return same, similarity, contained


class SignatureIndex(Protocol):
    """The hot index: the signatures added recently, by this process (pipelines.neardup.memory)
    or by every worker (pipelines.neardup.shared). At most `capacity` copies are held; the
    oldest added leave first (`evicted` counts them), since the store's cold index has them."""

    layout: BandLayout
    rule: MatchRule
    capacity: int
    evicted: int
    lost: int  # times the index was found emptied under the crawl (a shared one, restarted)
    shared: bool  # a round trip away, written by other processes too

    def lookup(self, signature: Signature, keys: np.ndarray | None = None, url: str = "") -> HotView: ...

    def insert(
        self, copy: IndexedCopy, shingles: np.ndarray | None = None, seen: HotView | None = None
    ) -> HotView | None:
        """Add *copy*, decided on what the view *seen* showed, and return None; or, when a copy
        sharing a band with it was added after that view (by another process), or its URL is held,
        add nothing and return the view of those copies. With *seen* None, add it whatever was
        added; with ALONE, only if no copy shares a band with it."""
        ...

    def remove(self, url: str) -> None: ...

    def update_signature(self, url: str, signature: Signature) -> None:
        """Replace the signature of a held copy (its text was cleaned again), keeping its story."""
        ...

    def recent_shingles(self, urls: list[str]) -> dict[str, np.ndarray]:
        """Exact shingle sets of copies added in the last minutes by other processes."""
        ...

    def mark_loaded(self) -> None:
        """Mark the index as in use, so that a lookup can tell it was lost since."""
        ...

    def close(self) -> None: ...

    def __contains__(self, url: Any) -> bool: ...

    def __len__(self) -> int: ...
