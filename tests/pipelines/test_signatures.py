from __future__ import annotations

import numpy as np
import pytest

from pipelines.signatures import Signature, Signer, estimates
from tests.fixtures.newsroom.stories import load_stories


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer(num_perm=128, shingle_size=5)


@pytest.fixture(scope="module")
def story() -> str:
    return "\n\n".join(load_stories()[0].paragraphs)


def jaccard(a: Signature, b: Signature) -> float:
    return float(estimates(a.hashvalues[np.newaxis, :], np.array([a.shingle_count]), b)[0][0])


def containment(a: Signature, b: Signature) -> float:
    return float(estimates(a.hashvalues[np.newaxis, :], np.array([a.shingle_count]), b)[1][0])


def test_signature_is_stable_and_round_trips(signer, story):
    first, second = signer.sign(story), signer.sign(story)
    assert np.array_equal(first.hashvalues, second.hashvalues)
    restored = Signature.from_bytes(first.to_bytes(), first.shingle_count)
    assert np.array_equal(restored.hashvalues, first.hashvalues)
    assert restored.shingle_count == first.shingle_count == len(first.shingles)


def test_typography_and_case_do_not_change_the_signature(signer, story):
    retyped = story.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"').upper()
    assert jaccard(signer.sign(story), signer.sign(retyped)) == 1.0


def test_estimates_follow_the_exact_sets(signer, story):
    half = story[: len(story) // 2]
    full, trimmed = signer.sign(story), signer.sign(half)
    shared = len(np.intersect1d(full.shingles, trimmed.shingles))
    exact = shared / (full.shingle_count + trimmed.shingle_count - shared)
    assert abs(jaccard(full, trimmed) - exact) < 0.15
    assert containment(full, trimmed) > 0.8


def test_unrelated_stories_are_far_apart(signer):
    stories = load_stories()
    a, b = signer.sign(" ".join(stories[1].paragraphs)), signer.sign(" ".join(stories[2].paragraphs))
    assert jaccard(a, b) < 0.1


def test_empty_and_tiny_texts(signer):
    assert signer.sign("").shingle_count == 0
    assert signer.sign("two words").shingle_count == 1


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="NEARDUP_NUM_PERM"):
        Signer(num_perm=4)
    with pytest.raises(ValueError, match="NEARDUP_SHINGLE_SIZE"):
        Signer(shingle_size=0)


def test_signatures_are_datasketchs_minhash_of_the_shingle_hashes(signer):
    # stored signatures stay comparable: the permutations and their vectorised application are
    # datasketch's affine32 scheme
    from datasketch import MinHash

    for story in load_stories()[:5]:
        signature = signer.sign("\n\n".join(story.paragraphs))
        # datasketch draws its own permutations, from the same seed
        reference = MinHash(num_perm=128, seed=1, hashfunc=lambda value: value, scheme="affine32")
        reference.update_batch(signature.shingles)
        assert np.array_equal(signature.hashvalues, reference.hashvalues.astype(np.uint32))
    assert signer.sign("").shingle_count == 0


def test_paragraph_hashes_keep_the_paragraphs_asked_for_and_cross_processes_whole():
    import pickle

    from pipelines.signatures import ParagraphHashes
    from pipelines.text import word_hashes

    parts = ["Share this story.", "", "The council met on Tuesday.", "Read more at our site."]
    hashes = ParagraphHashes.of([word_hashes(part) for part in parts])
    assert len(hashes) == 4
    kept = pickle.loads(pickle.dumps(hashes)).kept([False, True, True, False])  # noqa: S301 - our own bytes
    assert kept.counts == (0, len(word_hashes(parts[2])))
    assert kept.words.tolist() == word_hashes(parts[2]).tolist()
    signer = Signer()
    assert (
        signer.sign_words(hashes.words).hashvalues.tolist()
        == signer.sign("\n\n".join(parts)).hashvalues.tolist()
    )
