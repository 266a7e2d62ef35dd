"""The hot index: one contract, the same tests on every backend (this process's memory, and the
real Redis of this machine, shared by several processes)."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from pipelines.neardup.matching import IndexedCopy
from pipelines.neardup.memory import MemoryIndex
from pipelines.neardup.shared import RedisIndex
from pipelines.signatures import Signer
from tests.fixtures.newsroom.stories import load_stories
from tests.fixtures.scaleout import REDIS_URL


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.services)])
def index(request):
    if request.param == "memory":
        yield MemoryIndex(capacity=1000)
        return
    shared = RedisIndex(REDIS_URL, f"t{uuid.uuid4().hex[:10]}:index:", capacity=1000)
    yield shared
    shared.clear()
    shared.close()


@pytest.fixture
def shared_index():
    shared = RedisIndex(REDIS_URL, f"t{uuid.uuid4().hex[:10]}:index:", capacity=1000)
    yield shared
    shared.clear()
    shared.close()


def test_add_find_update_and_remove(index):
    signer = Signer()
    stories = load_stories()[:20]
    signatures = [signer.sign(" ".join(s.paragraphs)) for s in stories]
    for number, signature in enumerate(signatures):
        url = f"https://a.example/{number}"
        index.add(IndexedCopy(url, f"c{number}", url, signature), shingles=signature.shingles)
    assert len(index) == 20
    assert "https://a.example/3" in index
    [found] = [c for c in index.candidates(signatures[3]) if c.similarity == 1.0]
    assert found.copy.cluster_id == "c3"
    assert found.copy.first_url == "https://a.example/3"
    assert found.copy.url == "https://a.example/3"
    assert found.copy.signature.shingle_count == signatures[3].shingle_count
    assert (
        index.recent_shingles(["https://a.example/3"])["https://a.example/3"].tolist()
        == signatures[3].shingles.tolist()
    )
    index.update_signature("https://a.example/4", signatures[0])
    assert {c.copy.url for c in index.candidates(signatures[0]) if c.similarity == 1.0} == {
        "https://a.example/0",
        "https://a.example/4",
    }
    assert not [c for c in index.candidates(signatures[4]) if c.similarity == 1.0]
    index.remove("https://a.example/3")
    assert not [c for c in index.candidates(signatures[3]) if c.similarity == 1.0]
    assert len(index) == 19
    assert "https://a.example/3" not in index


def test_candidates_come_oldest_first_and_a_url_is_added_once(index):
    signer = Signer()
    signature = signer.sign(" ".join(load_stories()[5].paragraphs))
    for url in ("https://b.example/1", "https://a.example/2", "https://b.example/1"):
        index.add(IndexedCopy(url, "c", url, signature))
    assert [c.copy.url for c in index.candidates(signature)] == ["https://b.example/1", "https://a.example/2"]


def test_past_its_capacity_the_oldest_added_leave(index):
    signer = Signer()
    story = signer.sign(" ".join(load_stories()[7].paragraphs))
    index.add(IndexedCopy("https://a.example/first", "c", "https://a.example/first", story))
    rng = np.random.default_rng(2)
    for number in range(1300):
        text = " ".join(f"w{n}" for n in rng.integers(0, 50_000, 30))
        url = f"https://f.example/{number}"
        index.add(IndexedCopy(url, url, url, signer.sign(text)))
    assert 1000 <= len(index) <= 1300
    assert index.evicted >= 1
    assert "https://a.example/first" not in index
    assert not index.candidates(story)


@pytest.mark.services
def test_a_restarted_redis_is_noticed_once(shared_index):
    index = shared_index
    signature = Signer().sign(" ".join(load_stories()[2].paragraphs))
    index.mark_loaded()
    index.candidates(signature)
    assert index.lost == 0
    index.client.delete(index.prefix + b"loaded")  # what a restart without persistence leaves
    index.candidates(signature)
    index.candidates(signature)
    assert index.lost == 1


@pytest.mark.services
def test_signatures_of_an_earlier_way_of_reading_words_leave_the_shared_index(shared_index):
    signature = Signer().sign(" ".join(load_stories()[2].paragraphs))
    shared_index.add(IndexedCopy("http://a/1", "c1", "http://a/1", signature))
    again = RedisIndex(REDIS_URL, shared_index.prefix.decode(), capacity=1000)
    assert "http://a/1" in again  # the same way of reading words: kept
    shared_index.client.set(shared_index.prefix + b"words", b"words")
    upgraded = RedisIndex(REDIS_URL, shared_index.prefix.decode(), capacity=1000)
    assert "http://a/1" not in upgraded
    assert upgraded.candidates(signature) == []
    again.close()
    upgraded.close()
