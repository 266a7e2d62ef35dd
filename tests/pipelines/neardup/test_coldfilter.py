"""The cold index's Bloom filter: no stored copy is ever missed because of it."""

from __future__ import annotations

import asyncio

import numpy as np

from pipelines.neardup.coldfilter import BandFilter
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
    assert BandFilter(tmp_path / FILTER_FILE, crashed.neardup.store.identity(), LAYOUT.name).through == 0
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
