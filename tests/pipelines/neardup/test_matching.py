from __future__ import annotations

import random

import numpy as np
import pytest

from pipelines.neardup.matching import IndexedCopy, MatchRule
from pipelines.neardup.memory import MemoryIndex as SignatureIndex
from pipelines.signatures import BandLayout, Signer
from tests.fixtures.newsroom import edits
from tests.fixtures.newsroom.stories import load_stories


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


def copy_of(signer: Signer, url: str, text: str, cluster: str | None = None) -> IndexedCopy:
    return IndexedCopy(url, cluster or url, url, signer.sign(text))


def test_a_trimmed_copy_is_a_candidate_and_confirmed_exactly(signer):
    story = load_stories()[3]
    index = SignatureIndex()
    original = copy_of(signer, "http://a/1", "\n\n".join(story.paragraphs))
    index.add(original)
    trimmed = edits.trim_ending(list(story.paragraphs), random.Random(1), 0.5, 0.5)
    signature = signer.sign("\n\n".join(trimmed))
    candidates = index.candidates(signature)
    assert [c.copy.url for c in candidates] == ["http://a/1"]
    stored = original.signature.shingles  # the index keeps signatures only; exact sets stay in the store
    same, similarity, contained = index.rule.judge_exact(signature.shingles, stored)
    assert same
    assert similarity < 0.7
    assert contained > 0.95


def test_unrelated_stories_are_not_candidates(signer):
    stories = load_stories()
    index = SignatureIndex()
    index.add_many(
        [copy_of(signer, f"http://a/{i}", " ".join(s.paragraphs)) for i, s in enumerate(stories[:40])]
    )
    probe = signer.sign(" ".join(stories[50].paragraphs))
    assert all(not index.rule.judge_estimate(c, probe) for c in index.candidates(probe))


def test_remove_and_update(signer):
    stories = load_stories()
    index = SignatureIndex()
    index.add(copy_of(signer, "http://a/1", " ".join(stories[0].paragraphs)))
    assert "http://a/1" in index
    assert len(index) == 1
    index.update_signature("http://a/1", signer.sign(" ".join(stories[1].paragraphs)))
    assert index.get("http://a/1").cluster_id == "http://a/1"
    assert index.candidates(signer.sign(" ".join(stories[1].paragraphs)))
    assert not index.candidates(signer.sign(" ".join(stories[0].paragraphs)))
    index.remove("http://a/1")
    assert "http://a/1" not in index
    assert not index.candidates(signer.sign(" ".join(stories[1].paragraphs)))


def test_bulk_and_single_inserts_find_the_same_candidates(signer):
    stories = load_stories()[:60]
    copies = [copy_of(signer, f"http://a/{i}", " ".join(s.paragraphs)) for i, s in enumerate(stories)]
    bulk, single = SignatureIndex(), SignatureIndex()
    bulk.add_many(copies * 5)  # repeats are ignored
    for copy in copies:
        single.add(copy)
    assert len(bulk) == len(single) == 60
    for copy in copies[:10]:
        assert [c.copy.url for c in bulk.candidates(copy.signature)] == [
            c.copy.url for c in single.candidates(copy.signature)
        ]


def test_compaction_after_many_removals_keeps_the_rest_findable(signer):
    rng = np.random.default_rng(3)
    index = SignatureIndex()
    copies = []
    for i in range(3000):
        text = " ".join(f"w{n}" for n in rng.integers(0, 50_000, 60))
        copies.append(copy_of(signer, f"http://a/{i}", text))
    index.add_many(copies)
    for copy in copies[:2000]:
        index.remove(copy.url)
    assert len(index) == 1000
    for copy in copies[2000:2010]:
        assert copy.url in [c.copy.url for c in index.candidates(copy.signature)]


def test_rule_rejects_bad_thresholds():
    with pytest.raises(ValueError, match="NEARDUP_CONTAINMENT"):
        MatchRule(containment=1.5)
    with pytest.raises(ValueError, match="NEARDUP_BANDS"):
        BandLayout(bands=100, rows=1)
    with pytest.raises(ValueError, match="exceeds NEARDUP_NUM_PERM"):
        BandLayout(num_perm=128, bands=64, rows=3)
    with pytest.raises(ValueError, match="NEARDUP_HOT_SIGNATURES"):
        SignatureIndex(capacity=10)


def test_exact_rule_separates_quoted_paragraphs_from_copies(signer):
    stories = load_stories()
    original = list(stories[5].paragraphs)
    other = list(stories[6].paragraphs)
    rule = MatchRule()
    quoting = other[:3] + original[2:4] + other[3:]
    a, b = signer.sign(" ".join(original)), signer.sign(" ".join(quoting))
    same, _, contained = rule.judge_exact(a.shingles, b.shingles)
    assert not same
    assert contained < 0.5
    kept_half = signer.sign(" ".join(edits.trim_ending(original, random.Random(2), 0.5, 0.5)))
    assert rule.judge_exact(a.shingles, kept_half.shingles)[0]


def test_the_hot_index_holds_its_capacity_and_lets_the_oldest_added_go(signer):
    stories = load_stories()
    index = SignatureIndex(capacity=1000)
    rng = np.random.default_rng(4)
    filler = [
        copy_of(signer, f"http://f/{i}", " ".join(f"w{n}" for n in rng.integers(0, 50_000, 40)))
        for i in range(1200)
    ]
    index.add(copy_of(signer, "http://a/first", " ".join(stories[0].paragraphs)))
    for copy in filler:
        index.add(copy)
    index.add(copy_of(signer, "http://a/last", " ".join(stories[1].paragraphs)))
    assert len(index) == 1000
    assert index.evicted == 202
    assert "http://a/first" not in index
    assert "http://f/0" not in index
    assert "http://f/201" in index
    assert not index.candidates(signer.sign(" ".join(stories[0].paragraphs)))
    assert [c.copy.url for c in index.candidates(signer.sign(" ".join(stories[1].paragraphs)))] == [
        "http://a/last"
    ]
