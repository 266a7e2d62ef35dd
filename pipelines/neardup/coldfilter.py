"""A Bloom filter in front of the cold near-duplicate index: which band keys are worth a probe.

The cold index (the store's band table) answers a lookup with one B-tree probe per band key: 64
random page reads, most of them for keys that no stored article has. This filter holds one bit
per key hash for every stored article the hot index does not hold (stored in earlier runs, or
evicted from the hot index in this one), and the cold index is probed only for keys whose bit is
set: a new story, or a copy of a story stored in this run and still hot, costs a few probes at
most. A set bit may be a false positive (one probe more); a key of an article outside the hot
index always has its bit set, so no copy is missed.

The filter is sized to the store: 16 bits per band key of the stored articles and of 100,000
more, rounded up to a power of two, from 2^24 bits (2 MiB) to 2^30 (128 MiB, at a million stored
articles 6% of its bits are set, at five million 26%). A store that outgrows its filter gets one
twice as large, rebuilt from the stored signatures when a run opens it (logged); a small archive
does not hold 128 MiB in memory or write it at every run's end. The filter is read into memory at
the start of a run and written back, whole and atomically, at its end, with the id of the last
stored article whose keys it holds. A run that did not end cleanly leaves the previous file, and
the next run adds the articles stored since from their signatures.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from pipelines import faults
from pipelines.signatures import BandLayout
from pipelines.state.interfaces import ArticleStore, StoreError

logger = logging.getLogger(__name__)

BITS_LOG2 = 30  # the largest filter
_SMALLEST_BITS_LOG2 = 24
_BITS_PER_KEY = 16
_HEADROOM_ARTICLES = 100_000
_HEADER_BYTES = 4096
_MAGIC = b"newsdedup band filter\n"
_MIX = np.uint64(0x9E3779B97F4A7C15)


class BandFilter:
    """One-hash Bloom filter over band keys (pipelines.core.index.BandLayout.keys), kept in a file.

    *through* is the id of the last stored article whose keys are all in the filter (0 for a new
    or unusable file). The file belongs to one store (*store_id*) and one band layout
    (*layout*); a file of another store or layout is not used.
    """

    def __init__(self, path: Path, store_id: str, layout: str, bits_log2: int = BITS_LOG2) -> None:
        self.path = Path(path)
        self.store_id = store_id
        self.layout = layout
        self.bits_log2 = bits_log2
        self._shift = np.uint64(64 - bits_log2)
        self.through = 0
        self._bits = self._read()

    def _header(self, through: int) -> bytes:
        fields = {
            "store": self.store_id,
            "layout": self.layout,
            "bits_log2": self.bits_log2,
            "through": through,
        }
        return (_MAGIC + json.dumps(fields).encode()).ljust(_HEADER_BYTES, b"\0")

    def _read(self) -> np.ndarray:
        """The bits of the file if it is this store's, of this layout, at least as large as asked
        for, and whole; else none set."""
        ours = {"store": self.store_id, "layout": self.layout}
        try:
            with self.path.open("rb") as handle:
                fields = _parse_header(handle.read(_HEADER_BYTES))
                size_log2 = fields.get("bits_log2")
                if (
                    all(fields.get(name) == value for name, value in ours.items())
                    and isinstance(size_log2, int)
                    and self.bits_log2 <= size_log2 <= BITS_LOG2
                ):
                    bits = np.fromfile(handle, dtype=np.uint8, count=1 << (size_log2 - 3))
                    if len(bits) == 1 << (size_log2 - 3):
                        self.bits_log2 = size_log2
                        self._shift = np.uint64(64 - size_log2)
                        self.through = int(fields.get("through", 0))
                        return bits
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            logger.warning("the band filter %s cannot be read (%s); it is rebuilt", self.path, exc)
        return np.zeros(1 << (self.bits_log2 - 3), dtype=np.uint8)

    def _positions(self, keys: np.ndarray) -> np.ndarray:
        return (np.asarray(keys, dtype=np.uint64).ravel() * _MIX) >> self._shift

    def may_contain(self, keys: np.ndarray) -> np.ndarray:
        """For each key, whether its bit is set: whether it may be in the cold index."""
        positions = self._positions(keys)
        bits = self._bits[positions >> np.uint64(3)] >> (positions & np.uint64(7)).astype(np.uint8)
        return (bits & 1).astype(bool)

    def add(self, keys: np.ndarray) -> None:
        """Set the bits of *keys*."""
        positions = self._positions(keys)
        masks = np.left_shift(np.uint8(1), (positions & np.uint64(7)).astype(np.uint8))
        np.bitwise_or.at(self._bits, positions >> np.uint64(3), masks)

    def save(self, through: int) -> None:
        """Write the filter, saying it holds the keys of every stored article up to *through*;
        a reader sees the previous file or this one, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.partial")
        with partial.open("wb") as handle:
            handle.write(self._header(through))
            self._bits.tofile(handle)
            handle.flush()
            os.fsync(handle.fileno())
        faults.reached("filter.saving")
        partial.replace(self.path)
        self.through = through


def bits_for(articles: int, bands: int) -> int:
    """The filter size (log2 of its bits) for a store of *articles* and room for more."""
    wanted = (articles + _HEADROOM_ARTICLES) * bands * _BITS_PER_KEY
    return min(BITS_LOG2, max(_SMALLEST_BITS_LOG2, (wanted - 1).bit_length()))


def _parse_header(header: bytes) -> dict:
    if not header.startswith(_MAGIC):
        raise ValueError("not a band filter file")
    return json.loads(header[len(_MAGIC) :].rstrip(b"\0"))


class ColdFilter:
    """The filter of one store's band keys outside the hot index, kept up with the store.

    `open` adds what the file lacks (every stored article for a new file, the last run's after a
    crash); the stage adds the signatures the hot index evicts (`add_signatures`); `save`, at the
    end of a run, adds the ones still hot and writes the file.
    """

    def __init__(self, bits: BandFilter, layout: BandLayout) -> None:
        self.bits = bits
        self.layout = layout

    @classmethod
    def open(cls, path: Path, store: ArticleStore, layout: BandLayout) -> ColdFilter:
        last = store.last_article_id()
        try:
            bits = BandFilter(path, store.identity(), layout.name, bits_for(last, layout.bands))
        except OSError as exc:
            raise StoreError(
                f"cannot open the band filter {path}: {exc}; set DATA_DIR to a writable directory"
            ) from exc
        cold = cls(bits, layout)
        if bits.through < last:
            added = 0
            for ids, matrix in store.signatures_after(bits.through):
                cold.add_signatures(matrix)
                added += len(ids)
                if added % 200_000 < len(ids):
                    logger.info("band filter: %d of the stored signatures added", added)
            bits.save(last)
            if added > 10_000:
                logger.warning("the band filter %s was brought up to date: %d signatures added", path, added)
        return cold

    def may_contain(self, keys: np.ndarray) -> np.ndarray:
        return self.bits.may_contain(keys)

    def add_signatures(self, matrix: np.ndarray) -> None:
        """Add the band keys of these signatures (one per row)."""
        self.bits.add(self.layout.keys(matrix.astype(np.uint32)))

    def save(self, hot: np.ndarray, store: ArticleStore) -> None:
        """Add the signatures still *hot* and write the filter as complete up to the store's last
        article; a failure is logged, and the next run catches up from the stored signatures."""
        try:
            if len(hot):
                self.add_signatures(hot)
            self.bits.save(store.last_article_id())
        except (OSError, StoreError) as exc:
            logger.error("could not save the band filter %s: %s", self.bits.path, exc)
