"""The near-duplicate index: MinHash LSH for candidates, signature estimates to confirm them.

Settings: NEARDUP_BANDS, NEARDUP_ROWS, NEARDUP_THRESHOLD, NEARDUP_CONTAINMENT,
NEARDUP_CONTAINMENT_MIN_SHINGLES.
"""

from __future__ import annotations

from dataclasses import dataclass

from datasketch import MinHashLSH

from .signatures import Signature, Signer, containment, jaccard


@dataclass(frozen=True)
class IndexedCopy:
    """One stored copy of a story, as the index knows it."""

    url: str
    cluster_id: str
    first_url: str  # the first stored copy of the story
    signature: Signature


@dataclass(frozen=True)
class Match:
    """A stored copy confirmed to be the same story as the text looked up."""

    copy: IndexedCopy
    similarity: float  # estimated Jaccard similarity
    containment: float  # estimated share of the shorter text found in the longer one


class SignatureIndex:
    """Finds the stored copy of a story that a new text repeats.

    Band layout: with b bands of r rows, a pair at Jaccard similarity J becomes a candidate with
    probability 1 - (1 - J^r)^b. The default 42 bands x 3 rows (126 of 128 permutations) gives
    0.94 at J = 0.4, 0.996 at J = 0.5 and 0.9999 at J = 0.6, so a copy that keeps half of a story
    (J near 0.5 even before edits) is still found, while unrelated news stories (J below 0.02)
    become candidates less than once in 2,500 pairs. datasketch's own optimiser for threshold 0.5
    picks fewer, longer bands, which misses one trimmed copy in ten. Every candidate is then
    confirmed by its estimated Jaccard similarity or containment, so a loose band layout costs
    lookups, not precision.
    """

    def __init__(
        self,
        signer: Signer,
        bands: int = 42,
        rows: int = 3,
        threshold: float = 0.5,
        containment_threshold: float = 0.7,
        containment_min_shingles: int = 20,
    ) -> None:
        if bands < 2 or rows < 1:
            raise ValueError("NEARDUP_BANDS must be at least 2 and NEARDUP_ROWS at least 1")
        if bands * rows > signer.num_perm:
            raise ValueError(
                f"NEARDUP_BANDS x NEARDUP_ROWS = {bands * rows} exceeds NEARDUP_NUM_PERM = {signer.num_perm}"
            )
        for name, value in (("NEARDUP_THRESHOLD", threshold), ("NEARDUP_CONTAINMENT", containment_threshold)):
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0.0, 1.0], got {value}")
        self._signer = signer
        self._lsh = MinHashLSH(num_perm=signer.num_perm, params=(bands, rows))
        self._copies: dict[str, IndexedCopy] = {}
        self._order: dict[str, int] = {}  # insertion number, for deterministic tie-breaks
        self._inserted = 0
        self.threshold = threshold
        self.containment_threshold = containment_threshold
        self.containment_min_shingles = containment_min_shingles

    def __len__(self) -> int:
        return len(self._copies)

    def __contains__(self, url: str) -> bool:
        return url in self._copies

    def get(self, url: str) -> IndexedCopy | None:
        return self._copies.get(url)

    def add(self, copy: IndexedCopy) -> None:
        """Index *copy*; a URL already indexed is left as it is."""
        if copy.url in self._copies or copy.signature.shingle_count == 0:
            return
        self._lsh.insert(copy.url, self._signer.minhash(copy.signature), check_duplication=False)
        self._copies[copy.url] = copy
        self._order[copy.url] = self._inserted
        self._inserted += 1

    def remove(self, url: str) -> None:
        if self._copies.pop(url, None) is not None:
            del self._order[url]
            self._lsh.remove(url)

    def best_match(self, signature: Signature) -> Match | None:
        """Return the confirmed stored copy most similar to *signature*, or None.

        Ties go to the copy indexed first, so the same input order gives the same decisions.
        """
        if signature.shingle_count == 0:
            return None
        best: Match | None = None
        best_rank: tuple[float, int] = (-1.0, 0)
        for url in self._lsh.query(self._signer.minhash(signature)):
            copy = self._copies[url]
            similarity = jaccard(signature, copy.signature)
            if not self._confirms(signature, copy.signature, similarity):
                continue
            rank = (similarity, -self._order[url])
            if rank > best_rank:
                best_rank = rank
                best = Match(copy, similarity, containment(signature, copy.signature, similarity))
        return best

    def _confirms(self, a: Signature, b: Signature, similarity: float) -> bool:
        if similarity >= self.threshold:
            return True
        if min(a.shingle_count, b.shingle_count) < self.containment_min_shingles:
            return False
        return containment(a, b, similarity) >= self.containment_threshold
