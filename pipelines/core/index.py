"""The near-duplicate index: MinHash LSH banding for candidates, then a two-step confirmation.

Settings: NEARDUP_BANDS, NEARDUP_ROWS, NEARDUP_THRESHOLD, NEARDUP_CONTAINMENT,
NEARDUP_CONTAINMENT_MIN_SHINGLES.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .signatures import Signature

# Every band entry of every copy is one uint64 in one sorted array: the band number in the top
# 6 bits, a 32-bit hash of the band's rows, then the copy's number in the low 26 bits. Two copies
# whose bands differ share a 32-bit hash once in 4 billion pairs: a spare candidate, which the
# confirmation step turns away.
_BAND_BITS = 6
_ID_BITS = 26
MAX_BANDS = 1 << _BAND_BITS
MAX_COPIES = 1 << _ID_BITS
_ID_MASK = np.uint64(MAX_COPIES - 1)
_MIX = np.uint64(0x9E3779B97F4A7C15)


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


class SignatureIndex:
    """In-memory MinHash LSH over the stored signatures, sized for a long-running archive.

    Band layout: with b bands of r rows, a pair at Jaccard similarity J becomes a candidate with
    probability 1 - (1 - J^r)^b. The default 64 bands x 2 rows (all 128 permutations) gives 0.98
    at J = 0.25, 0.9994 at J = 0.33 (the lowest similarity of a real copy on the syndication
    benchmark: half a story plus a local paragraph and an update) and 0.99999 at J = 0.4; an
    unrelated pair (J near 0.005) becomes a candidate about once in 600 pairs, and candidates cost
    one vectorised comparison each. datasketch's MinHashLSH(threshold=0.9) picks 5 x 25 and
    finds a J = 0.8 pair 2% of the time; its own optimiser at 0.5 still misses one trimmed copy in
    ten.

    Storage: datasketch's in-memory MinHashLSH keeps a Python set and bytes key per band and
    document (about 8.8 KB per document at 25 bands, 22 KB at 64) and takes 13.6 s to unpickle
    per 100k. Here every band entry of every document is one uint64 in one sorted array (8 bytes per
    band and document, 0.5 KB per document at 64 bands), built from the stored signatures with a
    few vectorised passes and searched for all bands of a query at once; new entries wait in a
    small dict that is merged in when it fills. Everything else about a copy sits in columns:
    its signature in a uint32 matrix, its URL and cluster in lists.
    """

    def __init__(
        self, num_perm: int = 128, bands: int = 64, rows: int = 2, rule: MatchRule = MatchRule()
    ) -> None:
        if bands < 2 or rows < 1:
            raise ValueError("NEARDUP_BANDS must be at least 2 and NEARDUP_ROWS at least 1")
        if bands > MAX_BANDS:
            raise ValueError(f"NEARDUP_BANDS can be at most {MAX_BANDS}")
        if bands * rows > num_perm:
            raise ValueError(
                f"NEARDUP_BANDS x NEARDUP_ROWS = {bands * rows} exceeds NEARDUP_NUM_PERM = {num_perm}"
            )
        self.num_perm = num_perm
        self.bands = bands
        self.rows = rows
        self.rule = rule
        self._ids: dict[str, int] = {}
        # Parallel columns, one row per indexed copy; a removed copy's url becomes None.
        self._urls: list[str | None] = []
        self._clusters: list[str] = []
        self._firsts: list[str] = []
        self._matrix = np.zeros((1024, num_perm), dtype=np.uint32)
        self._counts = np.zeros(1024, dtype=np.int64)
        self._days = np.zeros(1024, dtype=np.int32)  # window date, days since 1970-01-01
        self._entries = np.empty(0, dtype=np.uint64)  # sorted band entries, see _BAND_BITS
        # Keys added since the last merge: a dict, so a query looks each of its bands up directly.
        self._pending: dict[int, list[int]] = {}
        self._pending_docs = 0
        self._removed = 0

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, url: str) -> bool:
        return url in self._ids

    def get(self, url: str) -> IndexedCopy | None:
        position = self._ids.get(url)
        return None if position is None else self._copy(position)

    def _copy(self, position: int) -> IndexedCopy:
        signature = Signature(self._matrix[position].copy(), int(self._counts[position]))
        return IndexedCopy(self._urls[position], self._clusters[position], self._firsts[position], signature)  # type: ignore[arg-type]

    # --- adding and removing ------------------------------------------------------------------

    def add(self, copy: IndexedCopy, day: int = 0) -> None:
        """Index *copy*, dated *day* (days since 1970) for the window; a URL already indexed stays."""
        if copy.url in self._ids or copy.signature.shingle_count == 0:
            return
        self.load(
            [copy.url],
            [copy.cluster_id],
            [copy.first_url],
            copy.signature.hashvalues[np.newaxis, :],
            np.array([copy.signature.shingle_count]),
            np.array([day]),
        )

    def add_many(self, copies: list[IndexedCopy], day: int = 0) -> None:
        """Index many copies dated *day* at once."""
        if copies:
            self.load(
                [c.url for c in copies],
                [c.cluster_id for c in copies],
                [c.first_url for c in copies],
                np.stack([c.signature.hashvalues for c in copies]),
                np.array([c.signature.shingle_count for c in copies]),
                np.full(len(copies), day),
            )

    def load(
        self,
        urls: list[str],
        clusters: list[str],
        firsts: list[str],
        matrix: np.ndarray,
        counts: np.ndarray,
        days: np.ndarray,
    ) -> None:
        """Index many copies at once (loading a store): one vectorised pass over their bands.

        A URL already indexed, or repeated in *urls*, keeps its first entry.
        """
        keep = []
        batch: set[str] = set()
        for row, url in enumerate(urls):
            if url not in self._ids and url not in batch and counts[row] > 0:
                batch.add(url)
                keep.append(row)
        if not keep:
            return
        if len(keep) < len(urls):
            matrix, counts, days = matrix[keep], counts[keep], days[keep]
            urls = [urls[i] for i in keep]
            clusters = [clusters[i] for i in keep]
            firsts = [firsts[i] for i in keep]
        start = len(self._urls)
        self._reserve(start + len(urls))
        ids = np.arange(start, start + len(urls), dtype=np.int64)
        self._ids.update(zip(urls, ids.tolist()))
        self._urls.extend(urls)
        self._clusters.extend(clusters)
        self._firsts.extend(firsts)
        self._matrix[ids] = matrix
        self._counts[ids] = counts
        self._days[ids] = days
        if len(ids) > 256:
            self._merge(self._band_entries(matrix, ids))  # a bulk load goes straight into the sorted array
        else:
            self._add_pending(self._band_keys(matrix), ids)

    def remove(self, url: str) -> None:
        position = self._ids.pop(url, None)
        if position is None:
            return
        self._urls[position] = None  # its band keys stay until the next compaction
        self._removed += 1
        if self._removed > 1024 and self._removed * 4 > len(self._urls):
            self._compact()

    def expire(self, before_day: int) -> int:
        """Remove the copies dated before *before_day*; returns how many left the index."""
        used = len(self._urls)
        old = np.nonzero(self._days[:used] < before_day)[0]
        gone = [self._urls[i] for i in old.tolist() if self._urls[i] is not None]
        for url in gone:
            self.remove(url)  # type: ignore[arg-type]
        return len(gone)

    def update_signature(self, url: str, signature: Signature) -> None:
        """Replace the signature of an indexed copy (its text changed), keeping its cluster and date."""
        position = self._ids.get(url)
        if position is not None:
            copy, day = self._copy(position), int(self._days[position])
            self.remove(url)
            self.add(IndexedCopy(copy.url, copy.cluster_id, copy.first_url, signature), day)

    # --- looking up ---------------------------------------------------------------------------

    def candidates(self, signature: Signature) -> list[Candidate]:
        """Indexed copies sharing a band with *signature*, oldest first, with their estimates."""
        if signature.shingle_count == 0 or not self._ids:
            return []
        keys = self._band_keys(signature.hashvalues[np.newaxis, :])[0]
        found = [self._lookup_sorted(keys)]
        if self._pending:
            pending = [i for key in keys.tolist() for i in self._pending.get(key, ())]
            found.append(np.array(pending, dtype=np.int64))
        ids = np.unique(np.concatenate(found))
        ids = np.array([i for i in ids.tolist() if self._urls[i] is not None], dtype=np.int64)
        if len(ids) == 0:
            return []
        agree = np.count_nonzero(self._matrix[ids] == signature.hashvalues, axis=1)
        similarity = agree / self.num_perm
        counts = self._counts[ids]
        overlap = similarity * (counts + signature.shingle_count) / (1.0 + similarity)
        containment = np.minimum(1.0, overlap / np.maximum(1, np.minimum(counts, signature.shingle_count)))
        return [
            Candidate(self._copy(i), float(s), float(c))
            for i, s, c in zip(ids.tolist(), similarity.tolist(), containment.tolist())
        ]

    # --- band keys ----------------------------------------------------------------------------

    def _band_keys(self, matrix: np.ndarray) -> np.ndarray:
        """(documents x bands) keys: the band number above a 32-bit hash of the band's rows."""
        used = matrix[:, : self.bands * self.rows]
        if self.rows == 2:  # two uint32 rows are one uint64 already
            combined = np.ascontiguousarray(used).view(np.uint64) * _MIX
        else:
            values = used.astype(np.uint64).reshape(len(matrix), self.bands, self.rows)
            combined = values[:, :, 0].copy()
            for row in range(1, self.rows):
                combined = combined * _MIX + values[:, :, row]
            combined *= _MIX
        band_numbers = np.arange(self.bands, dtype=np.uint64) << np.uint64(32)
        return (combined >> np.uint64(32)) | band_numbers

    def _lookup_sorted(self, keys: np.ndarray) -> np.ndarray:
        if len(self._entries) == 0:
            return np.empty(0, dtype=np.int64)
        low = keys << np.uint64(_ID_BITS)
        left = np.searchsorted(self._entries, low, side="left")
        right = np.searchsorted(self._entries, low | _ID_MASK, side="right")
        hits = np.nonzero(right > left)[0]
        if len(hits) == 0:
            return np.empty(0, dtype=np.int64)
        entries = np.concatenate([self._entries[left[h] : right[h]] for h in hits])
        return (entries & _ID_MASK).astype(np.int64)

    def _band_entries(self, matrix: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """The band entries of many copies, computed slice by slice to keep the peak memory low."""
        entries = np.empty((len(ids), self.bands), dtype=np.uint64)
        for start in range(0, len(ids), 50_000):
            end = start + 50_000
            keys = self._band_keys(matrix[start:end])
            entries[start:end] = (keys << np.uint64(_ID_BITS)) | ids[start:end].astype(np.uint64)[
                :, np.newaxis
            ]
        return entries.ravel()

    def _add_pending(self, keys: np.ndarray, ids: np.ndarray) -> None:
        for row, doc in zip(keys.tolist(), ids.tolist()):
            for key in row:
                self._pending.setdefault(key, []).append(doc)
        self._pending_docs += len(ids)
        # A merge costs one pass over the sorted array, so it waits for a sizeable buffer.
        if self._pending_docs >= max(1024, len(self._entries) // (32 * self.bands)):
            entries = [(key << _ID_BITS) | doc for key, docs in self._pending.items() for doc in docs]
            self._pending, self._pending_docs = {}, 0
            self._merge(np.array(entries, dtype=np.uint64))

    def _merge(self, entries: np.ndarray) -> None:
        entries.sort()  # in place: the array is ours
        if len(self._entries) == 0:
            self._entries = entries
        else:
            self._entries = np.insert(self._entries, np.searchsorted(self._entries, entries), entries)

    def _compact(self) -> None:
        """Drop removed copies: renumber the live ones and rebuild the band arrays."""
        live = [i for i, url in enumerate(self._urls) if url is not None]
        urls = [self._urls[i] for i in live]
        clusters = [self._clusters[i] for i in live]
        firsts = [self._firsts[i] for i in live]
        matrix, counts, days = self._matrix[live], self._counts[live], self._days[live]
        self._ids, self._urls, self._clusters, self._firsts = {}, [], [], []
        self._entries = np.empty(0, dtype=np.uint64)
        self._pending, self._pending_docs, self._removed = {}, 0, 0
        self.load(urls, clusters, firsts, matrix, counts, days)  # type: ignore[arg-type]

    def _reserve(self, size: int) -> None:
        if size > MAX_COPIES:
            raise ValueError(f"the index holds at most {MAX_COPIES:,} copies; shorten NEARDUP_WINDOW_DAYS")
        if size <= len(self._matrix):
            return
        capacity = max(size, 2 * len(self._matrix))
        matrix = np.zeros((capacity, self.num_perm), dtype=np.uint32)
        matrix[: len(self._matrix)] = self._matrix
        counts = np.zeros(capacity, dtype=np.int64)
        counts[: len(self._counts)] = self._counts
        days = np.zeros(capacity, dtype=np.int32)
        days[: len(self._days)] = self._days
        self._matrix, self._counts, self._days = matrix, counts, days
