"""The cold index's Bloom filter: no stored copy is ever missed because of it."""

from __future__ import annotations

import asyncio

import numpy as np

from pipelines.neardup.coldfilter import BandFilter, ColdFilter, bits_for
from pipelines.neardup.matching import IndexedCopy
from pipelines.neardup.stage import FILTER_FILE
from pipelines.signatures import BandLayout, Signature
from tests.fixtures.components import Stages, article
from tests.fixtures.crawls import stored_articles
from tests.fixtures.newsroom.stories import load_stories

LAYOUT = BandLayout()


def random_keys(seed: int, documents: int) -> np.ndarray:
    matrix = np.random.default_rng(seed).integers(0, 2**32, size=(documents, 128), dtype=np.uint32)
    return LAYOUT.keys(matrix)


def test_every_key_added_is_found_and_few_others_are(tmp_path):
    band_filter = BandFilter(tmp_path / "f", "store", LAYOUT.name, bits_log2=24)
    added = random_keys(1, 2000)
    band_filter.add(added)
    assert band_filter.may_contain(added).all()
    # 128,000 keys in 2^24 bits: under 1% of other keys pass
    assert band_filter.may_contain(random_keys(2, 1000)).mean() < 0.02


def test_a_saved_filter_is_read_back_only_by_its_own_store_and_layout(tmp_path):
    path = tmp_path / "f"
    keys = random_keys(3, 10)
    band_filter = BandFilter(path, "store", LAYOUT.name, bits_log2=24)
    band_filter.add(keys)
    band_filter.save(42)
    again = BandFilter(path, "store", LAYOUT.name, bits_log2=24)
    assert again.through == 42
    assert again.may_contain(keys).all()
    for other in (
        BandFilter(path, "another store", LAYOUT.name, 24),
        BandFilter(path, "store", "bands=32", 24),
    ):
        assert other.through == 0
        assert not other.may_contain(keys).any()
    path.write_bytes(path.read_bytes()[:5000])  # cut short
    assert BandFilter(path, "store", LAYOUT.name, bits_log2=24).through == 0


def hot_fillers(count: int) -> list[IndexedCopy]:
    matrix = np.random.default_rng(9).integers(0, 2**32, size=(count, 128), dtype=np.uint32)
    return [IndexedCopy(f"http://filler.test/{n}", "f", "f", Signature(matrix[n], 500)) for n in range(count)]


def test_a_copy_of_a_story_evicted_from_the_hot_index_is_found_in_the_cold_one(tmp_path):
    stories = load_stories()
    stages = Stages(tmp_path, NEARDUP_HOT_SIGNATURES=1000)

    async def run():
        await stages.neardup.open_spider()
        first = await stages.storage.process_item(
            await stages.neardup.process_item(article("http://a.test/1", stories[0].paragraphs))
        )
        stages.neardup.index.add_many(hot_fillers(1200))  # a long run later: the story left the hot index
        assert "http://a.test/1" not in stages.neardup.index
        copy = await stages.storage.process_item(
            await stages.neardup.process_item(article("http://b.test/1", stories[0].paragraphs))
        )
        await stages.storage.close_spider()
        await stages.neardup.close_spider()
        return first, copy

    first, copy = asyncio.run(run())
    assert copy["duplicate_of"] == "http://a.test/1"
    assert copy["cluster_id"] == first["cluster_id"]


def test_a_run_that_did_not_end_leaves_the_next_one_to_catch_up(tmp_path):
    stories = load_stories()
    crashed = Stages(tmp_path)

    async def run_without_closing():
        await crashed.neardup.open_spider()
        item = await crashed.neardup.process_item(article("http://a.test/1", stories[0].paragraphs))
        await crashed.storage.process_item(item)
        await crashed.storage.close_spider()  # stored; the near-duplicate stage never closes

    asyncio.run(run_without_closing())
    opened = BandFilter(
        tmp_path / FILTER_FILE, crashed.neardup.store.identity(), LAYOUT.name, bits_for(0, 64)
    )
    assert opened.bits_log2 == bits_for(0, 64)  # the file opened at the start of the run
    assert opened.through == 0
    [copy] = asyncio.run(Stages(tmp_path).run([article("http://b.test/1", stories[0].paragraphs)]))
    assert copy["duplicate_of"] == "http://a.test/1"


def test_a_new_store_beside_an_old_filter_does_not_trust_it(tmp_path):
    stories = load_stories()
    asyncio.run(Stages(tmp_path).run([article("http://a.test/1", stories[0].paragraphs)]))
    for path in tmp_path.glob("articles.sqlite3*"):
        path.unlink()
    crashed = Stages(tmp_path)

    async def run_without_closing():
        await crashed.neardup.open_spider()
        item = await crashed.neardup.process_item(article("http://c.test/1", stories[1].paragraphs))
        await crashed.storage.process_item(item)
        await crashed.storage.close_spider()

    asyncio.run(run_without_closing())
    [copy] = asyncio.run(Stages(tmp_path).run([article("http://d.test/1", stories[1].paragraphs)]))
    assert copy["duplicate_of"] == "http://c.test/1"
    assert set(stored_articles(tmp_path)) == {"http://c.test/1", "http://d.test/1"}


def test_the_filter_is_sized_to_the_store_and_grows_with_it(tmp_path):
    assert bits_for(0, 64) == 27  # 16 MiB for a new store, not 128
    assert bits_for(1_000_000, 64) == 30
    path = tmp_path / "f"
    small = BandFilter(path, "store", LAYOUT.name, bits_log2=24)
    keys = random_keys(4, 10)
    small.add(keys)
    small.save(7)
    # a larger filter is asked for: the small file is not used, and the keys are added again
    assert BandFilter(path, "store", LAYOUT.name, bits_log2=25).through == 0
    # a smaller one is asked for (the file was made for more): the larger file serves
    kept = BandFilter(path, "store", LAYOUT.name, bits_log2=22)
    assert (kept.bits_log2, kept.through) == (24, 7)
    assert kept.may_contain(keys).all()


class _Store:
    """The little of an article store ColdFilter.open reads."""

    def __init__(self, signatures: np.ndarray) -> None:
        self.signatures = signatures

    def identity(self) -> str:
        return "store"

    def last_article_id(self) -> int:
        return len(self.signatures)

    def signatures_after(self, after: int):
        yield list(range(after + 1, len(self.signatures) + 1)), self.signatures[after:]


def test_a_store_that_outgrew_its_filter_gets_a_larger_one_with_every_key(tmp_path, monkeypatch):
    signatures = np.random.default_rng(5).integers(0, 2**32, size=(50, 128), dtype=np.uint32)
    ColdFilter.open(tmp_path / "f", _Store(signatures[:10]), LAYOUT).bits.save(10)
    monkeypatch.setattr("pipelines.neardup.coldfilter._HEADROOM_ARTICLES", 200_000)  # now "larger"
    grown = ColdFilter.open(tmp_path / "f", _Store(signatures), LAYOUT)
    assert grown.bits.bits_log2 == 28
    assert grown.may_contain(LAYOUT.keys(signatures)).all()
