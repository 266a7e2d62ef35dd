"""MinHash signatures of article texts, and the similarity estimates drawn from them.

Settings: NEARDUP_NUM_PERM, NEARDUP_SHINGLE_SIZE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xxhash
from datasketch import MinHash

from .text import words

SCHEME = "affine32"


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
        assert self.shingles is not None, "only a freshly signed text carries its shingle set"
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
    hashes feed datasketch's `MinHash.update_batch`, which applies the permutations as one matrix
    operation.
    """

    def __init__(self, num_perm: int = 128, shingle_size: int = 5, seed: int = 1) -> None:
        if num_perm < 16:
            raise ValueError("num_perm must be at least 16 (NEARDUP_NUM_PERM)")
        if shingle_size < 1:
            raise ValueError("shingle_size must be at least 1 (NEARDUP_SHINGLE_SIZE)")
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self._seed = seed
        # Permutations are drawn once; drawing them per MinHash costs more than hashing a story.
        self._permutations = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations
        # Odd multipliers keep every word position significant in the 64-bit shingle hash.
        rng = np.random.RandomState(seed)
        self._weights = rng.randint(0, 2**62, size=shingle_size, dtype=np.uint64) * 2 + 1

    @property
    def scheme(self) -> str:
        """Names everything that makes two signatures comparable; stored beside them."""
        return (
            f"minhash-{SCHEME}-xxh32-words/perm={self.num_perm}/shingle={self.shingle_size}/seed={self._seed}"
        )

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
        permuted = np.multiply.outer(_fmix32(unique), a)  # uint32 arithmetic wraps, as intended
        permuted += b
        return Signature(permuted.min(axis=0), int(unique.size), unique)

    def minhash(self, signature: Signature) -> MinHash:
        """Wrap stored hash values as a datasketch MinHash (for MinHashLSH)."""
        return MinHash(
            seed=self._seed,
            hashvalues=signature.hashvalues,
            permutations=self._permutations,
            scheme=SCHEME,
        )


def word_hashes(text: str) -> np.ndarray:
    """The 32-bit xxHash of each normalised word of *text*, in order, as uint64 for shingling.

    Word hashes of consecutive paragraphs concatenate to the word hashes of the joined text, so
    they can be computed where the text is extracted and shingled after boilerplate removal.
    """
    tokens = words(text)
    return np.fromiter(
        (xxhash.xxh32_intdigest(token.encode()) for token in tokens), dtype=np.uint64, count=len(tokens)
    )


_EMPTY = np.uint32(0xFFFFFFFF)  # the hash value of a permutation that saw nothing


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique for a short array: a sort and a mask, a third of np.unique's time at this size."""
    values = np.sort(values)
    if len(values) > 1:
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    return values


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, which datasketch's affine32 scheme applies before permuting."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def jaccard(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity: the share of permutations whose minimum agrees."""
    return float(np.count_nonzero(a.hashvalues == b.hashvalues)) / len(a.hashvalues)


def containment(a: Signature, b: Signature, similarity: float) -> float:
    """Estimated share of the smaller shingle set found in the larger one.

    From J = |A∩B| / |A∪B| and |A∪B| = |A| + |B| - |A∩B| follows |A∩B| = J(|A|+|B|) / (1+J).
    """
    smaller = min(a.shingle_count, b.shingle_count)
    if smaller == 0:
        return 0.0
    overlap = similarity * (a.shingle_count + b.shingle_count) / (1.0 + similarity)
    return min(1.0, overlap / smaller)
