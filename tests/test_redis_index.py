"""The shared index on the real Redis: datasketch's layout, one round trip per operation."""

from __future__ import annotations

import uuid

import pytest
from datasketch import MinHashLSH

from pipelines.core.index import IndexedCopy
from pipelines.core.redis_index import RedisSignatureIndex
from pipelines.core.signatures import Signer
from tests.newsroom.stories import load_stories
from tests.scaleout import REDIS_URL


@pytest.fixture
def index():
    shared = RedisSignatureIndex(REDIS_URL, f"t{uuid.uuid4().hex[:10]}:index:")
    yield shared
    shared.clear()


def test_add_find_remove_and_expire(index):
    signer = Signer()
    stories = load_stories()[:20]
    signatures = [signer.sign(" ".join(s.paragraphs)) for s in stories]
    for number, signature in enumerate(signatures):
        url = f"https://a.example/{number}"
        index.add(
            IndexedCopy(url, f"c{number}", url, signature), day=100 + number, shingles=signature.shingles
        )
    assert len(index) == 20 and "https://a.example/3" in index
    [found] = [c for c in index.candidates(signatures[3]) if c.similarity == 1.0]
    assert found.copy.cluster_id == "c3" and found.copy.first_url == "https://a.example/3"
    assert (
        index.recent_shingles(["https://a.example/3"])["https://a.example/3"].tolist()
        == signatures[3].shingles.tolist()
    )
    index.remove("https://a.example/3")
    assert not [c for c in index.candidates(signatures[3]) if c.similarity == 1.0]
    assert index.expire(110) == 9  # days 100..109, one of them already removed
    assert len(index) == 10


def test_datasketch_reads_what_the_crawler_wrote(index):
    signer = Signer()
    signature = signer.sign(" ".join(load_stories()[5].paragraphs))
    index.add(IndexedCopy("https://a.example/x", "c", "https://a.example/x", signature), day=1)
    plain = MinHashLSH(
        num_perm=128,
        params=(64, 2),
        storage_config={
            "type": "redis",
            "basename": index.prefix + b"lsh",
            "redis": {"host": "127.0.0.1", "port": 6379},
        },
        prepickle=False,
    )
    assert plain.query(signer.minhash(signature)) == [b"https://a.example/x"]


def test_reload_marker_and_bulk_load(index):
    assert not index.loaded
    signer = Signer()
    signatures = [signer.sign(" ".join(s.paragraphs)) for s in load_stories()[:3]]
    import numpy as np

    index.load(
        ["u0", "u1", "u2"],
        ["c0", "c1", "c2"],
        ["u0", "u1", "u2"],
        np.stack([s.hashvalues for s in signatures]),
        np.array([s.shingle_count for s in signatures]),
        np.array([5, 6, 7]),
    )
    index.mark_loaded()
    assert index.loaded and len(index) == 3
    with index.claim():
        assert [c.copy.url for c in index.candidates(signatures[1]) if c.similarity == 1.0] == ["u1"]
