"""The hot index in this process's memory: MinHash LSH over the signatures added recently.

Setting: NEARDUP_BACKEND = "memory" (the default), NEARDUP_HOT_SIGNATURES.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from pipelines.signatures import BandLayout, Signature, estimates

from .matching import ALONE, Candidate, HotView, IndexedCopy, MatchRule

# A band key is the band number above a 32-bit hash of the band's rows (38 bits in all). In the
# hot index every band entry of every copy is one uint64 in one sorted array: the band key, then
# the copy's number in the low 26 bits. Two copies whose bands differ share a 32-bit hash once in
# 4 billion pairs: a spare candidate, which the confirmation step turns away.
_BAND_BITS = 6
_ID_BITS = 26
MAX_COPIES = 1 << _ID_BITS
DEFAULT_LAYOUT = BandLayout()
DEFAULT_RULE = MatchRule()
# Exact shingle sets kept for the copies added last (see MemoryIndex.add).
RECENT_SHINGLES = 1024
_ID_MASK = np.uint64(MAX_COPIES - 1)


class MemoryIndex:
    """The hot index: in-memory MinHash LSH over the signatures added recently.

    It holds at most *capacity* copies (NEARDUP_HOT_SIGNATURES); past that the copies added
    first leave it (they are in the article store's cold index by then), so its memory does not
    grow with the archive.

    Storage: datasketch's in-memory MinHashLSH keeps a Python set and bytes key per band and
    document (about 8.8 KB per document at 25 bands, 22 KB at 64). Here every band entry of every
    document is one uint64 in one sorted array (8 bytes per band and document, 0.5 KB per document
    at 64 bands), searched for all bands of a query at once; new entries wait in a small dict
    that is merged in when it fills. Everything else about a copy sits in columns: its signature
    in a uint32 matrix, its URL and cluster in lists.
    """

    shared = False  # in this process's memory, written by it alone
    lost = 0  # times it was found emptied under the process: never

    @classmethod
    def from_settings(cls, settings: Any, layout: BandLayout, rule: MatchRule) -> MemoryIndex:
        return cls(layout, rule, settings.getint("NEARDUP_HOT_SIGNATURES"))

    def __init__(
        self, layout: BandLayout = DEFAULT_LAYOUT, rule: MatchRule = DEFAULT_RULE, capacity: int = 20_000
    ) -> None:
        if capacity < 1000:
            raise ValueError("NEARDUP_HOT_SIGNATURES must be at least 1000")
        if capacity > MAX_COPIES // 2:
            raise ValueError(f"NEARDUP_HOT_SIGNATURES can be at most {MAX_COPIES // 2:,}")
        self.layout = layout
        self.num_perm = layout.num_perm
        self.rule = rule
        self.capacity = capacity
        self.evicted = 0  # copies that left because the index was full
        # Told the signatures (a matrix, one row each) of copies that left because it was full.
        self.on_evict: Callable[[np.ndarray], None] | None = None
        self._ids: dict[str, int] = {}
        # Parallel columns, one row per indexed copy in the order added; a removed copy's url becomes None.
        self._urls: list[str | None] = []
        self._clusters: list[str] = []
        self._firsts: list[str] = []
        self._matrix = np.zeros((1024, layout.num_perm), dtype=np.uint32)
        self._counts = np.zeros(1024, dtype=np.int64)
        self._oldest = 0  # no live copy sits before this position
        self._entries = np.empty(0, dtype=np.uint64)  # sorted band entries, see _BAND_BITS
        self._index_entries()
        # Keys added since the last merge: a dict, so a query looks each of its bands up directly.
        self._pending: dict[int, list[int]] = {}
        self._pending_docs = 0
        self._removed = 0
        # Exact shingle sets of the copies added last, for confirming a match before the article
        # store has them: a copy is written within moments of being added.
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, url: str) -> bool:
        return url in self._ids

    def signature_matrix(self) -> np.ndarray:
        """The signatures of every copy held, one row each."""
        return self._matrix[sorted(self._ids.values())]

    def get(self, url: str) -> IndexedCopy | None:
        position = self._ids.get(url)
        return None if position is None else self._copy(position)

    def _copy(self, position: int) -> IndexedCopy:
        signature = Signature(self._matrix[position].copy(), int(self._counts[position]))
        return IndexedCopy(self._urls[position], self._clusters[position], self._firsts[position], signature)  # type: ignore[arg-type]

    # --- adding and removing ------------------------------------------------------------------

    def add(self, copy: IndexedCopy, shingles: np.ndarray | None = None) -> None:
        """Index *copy* (with its exact *shingles*, kept while it is among the last added); a URL
        already indexed stays as it is."""
        if shingles is not None and copy.url not in self._ids:
            self._recent[copy.url] = shingles
            while len(self._recent) > RECENT_SHINGLES:
                self._recent.popitem(last=False)
        self.add_many([copy])

    def add_many(self, copies: list[IndexedCopy]) -> None:
        """Index many copies at once: one vectorised pass over their bands.

        A URL already indexed, or repeated in *copies*, keeps its first entry; a copy with no
        shingles is not indexed. Past the capacity, the copies added first leave.
        """
        batch: dict[str, IndexedCopy] = {}
        for copy in copies:
            if copy.url not in self._ids and copy.url not in batch and copy.signature.shingle_count > 0:
                batch[copy.url] = copy
        if not batch:
            return
        kept = list(batch.values())
        if len(self._urls) + len(kept) >= MAX_COPIES:
            self._compact()  # positions of removed copies are given out again
        start = len(self._urls)
        self._reserve(start + len(kept))
        ids = np.arange(start, start + len(kept), dtype=np.int64)
        self._ids.update(zip(batch, ids.tolist()))
        self._urls.extend(batch)
        self._clusters.extend(c.cluster_id for c in kept)
        self._firsts.extend(c.first_url for c in kept)
        matrix = np.stack([c.signature.hashvalues for c in kept])
        self._matrix[ids] = matrix
        self._counts[ids] = [c.signature.shingle_count for c in kept]
        if len(ids) > 256:
            self._merge(self._band_entries(matrix, ids))  # a bulk load goes straight into the sorted array
        else:
            self._add_pending(self.layout.keys(matrix), ids)
        self._evict_over_capacity()

    def _evict_over_capacity(self) -> None:
        evicted = []
        while len(self._ids) > self.capacity:
            url = self._urls[self._oldest]
            self._oldest += 1
            if url is not None:
                evicted.append(self._matrix[self._ids[url]].copy())  # a removal may renumber
                self.remove(url)
                self.evicted += 1
        if evicted and self.on_evict is not None:
            self.on_evict(np.stack(evicted))

    def remove(self, url: str) -> None:
        self._recent.pop(url, None)
        position = self._ids.pop(url, None)
        if position is None:
            return
        self._urls[position] = None  # its band keys stay until the next compaction
        self._removed += 1
        if self._removed > 1024 and self._removed * 4 > len(self._urls):
            self._compact()

    def update_signature(self, url: str, signature: Signature) -> None:
        """Replace the signature of an indexed copy (its text changed), keeping its cluster."""
        position = self._ids.get(url)
        if position is not None:
            copy = self._copy(position)
            self.remove(url)
            self.add(IndexedCopy(copy.url, copy.cluster_id, copy.first_url, signature))

    def insert(
        self, copy: IndexedCopy, shingles: np.ndarray | None = None, seen: HotView | None = None
    ) -> HotView | None:
        """Index *copy* and return None, unless *seen* is ALONE and a copy held shares a band with
        it, or its URL is held: then add nothing and return the view of them (see the shared
        index's insert). In one process nothing is added between a view and this insert, so a
        view it returned is never out of date."""
        if seen is ALONE:
            view = self.lookup(copy.signature, None, copy.url)
            if view.has_url or view.candidates:
                return view
        elif copy.url in self._ids:
            return HotView([], True)
        self.add(copy, shingles)
        return None

    def recent_shingles(self, urls: list[str]) -> dict[str, np.ndarray]:
        """Exact shingle sets of copies among the last added."""
        return {url: self._recent[url] for url in urls if url in self._recent}

    def mark_loaded(self) -> None:
        """Nothing to mark: an index in memory cannot be lost without its process."""

    def close(self) -> None:
        """Nothing to close: the index goes with its process."""

    # --- looking up ---------------------------------------------------------------------------

    def lookup(self, signature: Signature, keys: np.ndarray | None = None, url: str = "") -> HotView:
        """The copies sharing a band with *signature*, and whether *url* is held."""
        return HotView(self.candidates(signature, keys), url in self._ids)

    def candidates(self, signature: Signature, keys: np.ndarray | None = None) -> list[Candidate]:
        """Indexed copies sharing a band with *signature* (whose band *keys* may be given), oldest
        first, with their estimates."""
        if signature.shingle_count == 0 or not self._ids:
            return []
        if keys is None:
            keys = self.layout.keys(signature.hashvalues[np.newaxis, :])[0]
        # A handful of copies at most: Python sets beat numpy's fixed costs at this size.
        found = set(self._lookup_sorted(keys).tolist())
        if self._pending:
            for key in keys.tolist():
                found.update(self._pending.get(key, ()))
        live = sorted(i for i in found if self._urls[i] is not None)
        if not live:
            return []
        ids = np.array(live, dtype=np.int64)
        similarity, containment = estimates(self._matrix[ids], self._counts[ids], signature)
        return [
            Candidate(self._copy(i), float(s), float(c))
            for i, s, c in zip(ids.tolist(), similarity.tolist(), containment.tolist())
        ]

    # --- band entries -------------------------------------------------------------------------

    def _lookup_sorted(self, keys: np.ndarray) -> np.ndarray:
        """The copies whose band entries hold one of *keys*.

        A binary search over the whole sorted array misses the CPU cache at nearly every step
        (the array is megabytes). The directory, small enough to stay cached, says where the
        entries of each key prefix start, so a key costs one gather of its prefix's few entries.
        """
        if len(self._entries) == 0:
            return np.empty(0, dtype=np.int64)
        prefixes = (keys >> self._prefix_shift).astype(np.int64)
        starts = self._directory[prefixes]
        ends = self._directory[prefixes + 1]
        width = int((ends - starts).max())
        if width == 0:
            return np.empty(0, dtype=np.int64)
        positions = starts[:, np.newaxis] + np.arange(width)
        inside = positions < ends[:, np.newaxis]
        entries = self._entries[np.minimum(positions, len(self._entries) - 1)]
        match = inside & ((entries >> np.uint64(_ID_BITS)) == keys[:, np.newaxis])
        return (entries[match] & _ID_MASK).astype(np.int64)

    def _index_entries(self) -> None:
        """Rebuild the prefix directory of the sorted entries (after a merge): about 16 entries
        per prefix, whatever the index holds."""
        prefix_bits = int(np.clip(np.ceil(np.log2(max(1, len(self._entries)) / 16)), 4, 24))
        self._prefix_shift = np.uint64(_BAND_BITS + 32 - prefix_bits)
        prefixes = self._entries >> np.uint64(_ID_BITS) >> self._prefix_shift
        self._directory = np.searchsorted(prefixes, np.arange((1 << prefix_bits) + 1, dtype=np.uint64))

    def _band_entries(self, matrix: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """The band entries of many copies, computed slice by slice to keep the peak memory low."""
        entries = np.empty((len(ids), self.layout.bands), dtype=np.uint64)
        for start in range(0, len(ids), 50_000):
            end = start + 50_000
            keys = self.layout.keys(matrix[start:end])
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
        if self._pending_docs >= max(1024, len(self._entries) // (32 * self.layout.bands)):
            entries = [(key << _ID_BITS) | doc for key, docs in self._pending.items() for doc in docs]
            self._pending, self._pending_docs = {}, 0
            self._merge(np.array(entries, dtype=np.uint64))

    def _merge(self, entries: np.ndarray) -> None:
        entries.sort()  # in place: the array is ours
        if len(self._entries) == 0:
            self._entries = entries
        else:
            self._entries = np.insert(self._entries, np.searchsorted(self._entries, entries), entries)
        self._index_entries()

    def _compact(self) -> None:
        """Drop removed copies: renumber the live ones, in the order added, and rebuild the bands."""
        live = [i for i, url in enumerate(self._urls) if url is not None]
        copies = [self._copy(i) for i in live]
        self._ids, self._urls, self._clusters, self._firsts = {}, [], [], []
        self._oldest = 0
        self._entries = np.empty(0, dtype=np.uint64)
        self._index_entries()
        self._pending, self._pending_docs, self._removed = {}, 0, 0
        self.add_many(copies)

    def _reserve(self, size: int) -> None:
        if size <= len(self._matrix):
            return
        capacity = max(size, 2 * len(self._matrix))
        matrix = np.zeros((capacity, self.num_perm), dtype=np.uint32)
        matrix[: len(self._matrix)] = self._matrix
        counts = np.zeros(capacity, dtype=np.int64)
        counts[: len(self._counts)] = self._counts
        self._matrix, self._counts = matrix, counts
