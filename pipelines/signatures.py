"""MinHash signatures of article texts, the LSH band keys they are found by, and the similarity
estimates drawn from them: shared by the near-duplicate stage, which decides, and the article
store, which keeps every signature and its band keys (the cold index).

Settings: NEARDUP_NUM_PERM, NEARDUP_SHINGLE_SIZE, NEARDUP_BANDS, NEARDUP_ROWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .text import fmix32, word_hashes

SCHEME = "affine32"
# How words are read (pipelines.text.words): "words" before scripts without spaces were read as
# character windows and letter variants folded. A store of an earlier version is signed again
# from its texts when opened (pipelines.state.sql).
WORDS = "words2"
# A band key is the band number (6 bits) above a 32-bit hash of the band's rows.
MAX_BANDS = 64
_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Signature:
    """A MinHash signature with the size of the shingle set it summarises.

    The set size is what turns an estimated Jaccard similarity into an estimated containment, so a
    copy that keeps only the first half of a story can still be recognised.
    """

    hashvalues: np.ndarray  # uint32, one value per permutation
    shingle_count: int
    # The exact set: sorted unique uint32 shingle hashes, for confirming borderline matches.
    # Present on a freshly signed text; signatures loaded for the index leave it in the store.
    shingles: np.ndarray | None = None

    def to_bytes(self) -> bytes:
        return self.hashvalues.astype("<u4").tobytes()

    def shingles_to_bytes(self) -> bytes:
        if self.shingles is None:
            raise ValueError("only a freshly signed text carries its shingle set")
        return self.shingles.astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, shingle_count: int) -> Signature:
        return cls(np.frombuffer(data, dtype="<u4").astype(np.uint32), shingle_count)


def shingles_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


class Signer:
    """Builds signatures: normalised words, *shingle_size*-word shingles, *num_perm* permutations.

    Each word is hashed once (xxHash32, `word_hashes`) and the hash of a shingle is a
    position-weighted sum of its word hashes, computed for all shingles at once with numpy; hashing
    every joined shingle string in Python costs about three times as much. The unique shingle
    hashes are permuted as datasketch's `MinHash` permutes them (its affine32 scheme), in one
    matrix operation, so a signature is datasketch's MinHash of the shingle hashes.
    """

    @classmethod
    def from_settings(cls, settings: Any) -> Signer:
        return cls(settings.getint("NEARDUP_NUM_PERM"), settings.getint("NEARDUP_SHINGLE_SIZE"))

    def __init__(self, num_perm: int = 128, shingle_size: int = 5, seed: int = 1) -> None:
        if num_perm < 16:
            raise ValueError("num_perm must be at least 16 (NEARDUP_NUM_PERM)")
        if shingle_size < 1:
            raise ValueError("shingle_size must be at least 1 (NEARDUP_SHINGLE_SIZE)")
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self._seed = seed
        # Permutations are drawn once; drawing them per MinHash costs more than hashing a story.
        self._permutations = affine32_permutations(num_perm, seed)
        # Odd multipliers keep every word position significant in the 64-bit shingle hash.
        rng = np.random.RandomState(seed)
        self._weights = rng.randint(0, 2**62, size=shingle_size, dtype=np.uint64) * 2 + 1

    @property
    def scheme(self) -> str:
        """Names everything that makes two signatures comparable; stored beside them."""
        return f"minhash-{SCHEME}-xxh32-{WORDS}/perm={self.num_perm}/shingle={self.shingle_size}/seed={self._seed}"

    def shingle_hashes(self, hashes: np.ndarray) -> np.ndarray:
        """The 32-bit hashes of the word shingles, from the text's word hashes (with repeats)."""
        if len(hashes) == 0:
            return np.empty(0, dtype=np.uint32)
        size = min(self.shingle_size, len(hashes))
        count = len(hashes) - size + 1
        combined = hashes[0:count] * self._weights[0]
        for position in range(1, size):
            combined += hashes[position : position + count] * self._weights[position]
        return (combined >> np.uint64(32)).astype(np.uint32)

    def sign(self, text: str) -> Signature:
        """Return the signature of *text*; an empty text has an empty shingle set."""
        return self.sign_words(word_hashes(text))

    def sign_words(self, hashes: np.ndarray) -> Signature:
        """Return the signature of a text given its word hashes (see `word_hashes`)."""
        unique = _sorted_unique(self.shingle_hashes(hashes))
        if unique.size == 0:
            return Signature(np.full(self.num_perm, _EMPTY, dtype=np.uint32), 0, unique)
        # datasketch's affine32 scheme (MinHash.update_batch), on the array at once: its hash
        # function would be called once per shingle from Python, the larger part of a signature.
        a, b = self._permutations
        permuted = np.multiply.outer(fmix32(unique), a)  # uint32 arithmetic wraps, as intended
        permuted += b
        return Signature(permuted.min(axis=0), int(unique.size), unique)


def concatenated(paragraph_hashes: list[np.ndarray]) -> np.ndarray:
    """A text's word hashes from its paragraphs' (`word_hashes` of each): shingles run on across
    paragraphs, as they do over the text."""
    return np.concatenate(paragraph_hashes) if paragraph_hashes else np.empty(0, np.uint64)


@dataclass(frozen=True)
class ParagraphHashes:
    """A text's word hashes, its paragraphs' in one array. The extraction worker sends them back
    so: an array per paragraph cost the crawling process more to unpickle than the rest of a page's
    result together."""

    words: np.ndarray  # every paragraph's word hashes, in order (`concatenated`)
    counts: tuple[int, ...]  # each paragraph's number of words

    @classmethod
    def of(cls, paragraph_hashes: list[np.ndarray]) -> ParagraphHashes:
        return cls(concatenated(paragraph_hashes), tuple(len(h) for h in paragraph_hashes))

    def __len__(self) -> int:
        return len(self.counts)

    def kept(self, keep: list[bool]) -> ParagraphHashes:
        """The hashes of the paragraphs *keep* marks."""
        mask = np.repeat(np.asarray(keep, dtype=bool), self.counts)
        return ParagraphHashes(self.words[mask], tuple(n for n, kept in zip(self.counts, keep) if kept))


def affine32_permutations(num_perm: int, seed: int) -> np.ndarray:
    """The permutations (a, b) of datasketch's `MinHash(num_perm, seed, scheme="affine32")`, drawn
    alike: importing datasketch loads scipy, about 0.7 s of every crawl's start-up."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.array([a, b])


_EMPTY = np.uint32(0xFFFFFFFF)  # the hash value of a permutation that saw nothing


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique for a short array: a sort and a mask, a third of np.unique's time at this size."""
    values = np.sort(values)
    if len(values) > 1:
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    return values


@dataclass(frozen=True)
class BandLayout:
    """How signatures are cut into LSH bands: *bands* bands of *rows* permutations each.

    With b bands of r rows, a pair at Jaccard similarity J becomes a candidate with probability
    1 - (1 - J^r)^b. The default 64 bands x 2 rows (all 128 permutations) gives 0.98 at J = 0.25,
    0.9994 at J = 0.33 (the lowest similarity of a real copy on the syndication benchmark: half a
    story plus a local paragraph and an update) and 0.99999 at J = 0.4. datasketch's
    MinHashLSH(threshold=0.9) picks 5 x 25 and finds a J = 0.8 pair 2% of the time.
    """

    num_perm: int = 128
    bands: int = 64
    rows: int = 2

    @classmethod
    def from_settings(cls, settings: Any) -> BandLayout:
        return cls(
            settings.getint("NEARDUP_NUM_PERM"),
            settings.getint("NEARDUP_BANDS"),
            settings.getint("NEARDUP_ROWS"),
        )

    def __post_init__(self) -> None:
        if self.bands < 2 or self.rows < 1:
            raise ValueError("NEARDUP_BANDS must be at least 2 and NEARDUP_ROWS at least 1")
        if self.bands > MAX_BANDS:
            raise ValueError(f"NEARDUP_BANDS can be at most {MAX_BANDS}")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"NEARDUP_BANDS x NEARDUP_ROWS = {self.bands * self.rows} exceeds NEARDUP_NUM_PERM = {self.num_perm}"
            )

    @property
    def name(self) -> str:
        """Stored beside the band keys: keys of another layout cannot be looked up with these."""
        return f"bands={self.bands}/rows={self.rows}/hash=mix32"

    def keys(self, matrix: np.ndarray) -> np.ndarray:
        """(documents x bands) uint64 keys: the band number above a 32-bit hash of the band's rows."""
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


def estimates(matrix: np.ndarray, counts: np.ndarray, signature: Signature) -> tuple[np.ndarray, np.ndarray]:
    """Estimated Jaccard similarity and containment of *signature* with each row of *matrix*.

    The similarity is the share of permutations whose minimum agrees. From J = |A∩B| / |A∪B| and
    |A∪B| = |A| + |B| - |A∩B| follows |A∩B| = J(|A|+|B|) / (1+J), and the containment is that
    overlap over the smaller set's size (*counts* are the rows' set sizes): a copy that keeps only
    the first half of a story can still be recognised.
    """
    similarity = np.count_nonzero(matrix == signature.hashvalues, axis=1) / len(signature.hashvalues)
    overlap = similarity * (counts + signature.shingle_count) / (1.0 + similarity)
    containment = np.minimum(1.0, overlap / np.maximum(1, np.minimum(counts, signature.shingle_count)))
    return similarity, containment
