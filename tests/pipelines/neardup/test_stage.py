"""The near-duplicate stage, with the versioning and storage stages around it, built as Scrapy
builds them."""

from __future__ import annotations

import asyncio
import random
import threading
from datetime import timedelta

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler

from pipelines import clock
from pipelines.drops import LaterCopy, Unchanged
from pipelines.extraction import ExtractionPipeline
from pipelines.items import ArticleItem, new_cluster_id
from pipelines.neardup import NearDuplicatePipeline
from pipelines.neardup.matching import MatchRule
from pipelines.signatures import Signer
from pipelines.state import StoreError
from tests.fixtures.components import Stages, article, project_crawler
from tests.fixtures.crawls import stored_articles
from tests.fixtures.newsroom import edits
from tests.fixtures.newsroom.stories import load_stories


def test_copies_are_tagged_and_distinct_stories_are_not(tmp_path):
    stories = load_stories()
    rng = random.Random(5)
    original = list(stories[10].paragraphs)
    items = [
        article("http://a.test/1", original),
        article("http://b.test/1", edits.add_dateline(edits.trim_ending(original, rng), rng)),
        article("http://c.test/1", stories[11].paragraphs),
        article("http://d.test/1", edits.retypeset(original, rng)),
    ]
    first, trimmed, other, retyped = asyncio.run(Stages(tmp_path).run(items))
    assert first["cluster_id"] == new_cluster_id("http://a.test/1")
    assert first["duplicate_of"] is None
    for copy in (trimmed, retyped):
        assert copy["cluster_id"] == first["cluster_id"]
        assert copy["duplicate_of"] == "http://a.test/1"
        assert 0 < copy["similarity"] <= 1
    assert retyped["similarity"] == 1.0
    assert other["cluster_id"] != first["cluster_id"]
    assert other["duplicate_of"] is None
    assert "signature" not in first
    assert len(stored_articles(tmp_path)) == 4


def test_the_signature_made_in_the_extraction_worker_is_the_one_matched(tmp_path):
    stories = load_stories()
    first = article("http://a.test/1", stories[0].paragraphs)
    other = article("http://b.test/1", stories[1].paragraphs)
    # A worker's signature stands for the text it was made of: here, as if it were the first story.
    other.carry.signed = Signer().sign(first["text"])
    _, result = asyncio.run(Stages(tmp_path).run([first, other]))
    assert result["duplicate_of"] == "http://a.test/1"


def test_same_page_again_is_not_stored_twice(tmp_path):
    stories = load_stories()
    asyncio.run(Stages(tmp_path).run([article("http://a.test/1", stories[0].paragraphs)]))
    results = asyncio.run(
        Stages(tmp_path).run(
            [
                article("http://a.test/1", stories[0].paragraphs),
                article("http://b.test/9", stories[0].paragraphs),
            ]
        )
    )
    assert isinstance(results[0], Unchanged)
    assert results[1]["duplicate_of"] == "http://a.test/1"  # recognised from the earlier run
    assert len(stored_articles(tmp_path)) == 2


def test_drop_mode_drops_later_copies(tmp_path):
    stories = load_stories()
    results = asyncio.run(
        Stages(tmp_path, NEARDUP_DROP_DUPLICATES=True).run(
            [
                article("http://a.test/1", stories[0].paragraphs),
                article("http://b.test/1", stories[0].paragraphs),
            ]
        )
    )
    assert isinstance(results[1], LaterCopy)
    assert list(stored_articles(tmp_path)) == ["http://a.test/1"]


def test_decisions_are_deterministic_for_the_same_order(tmp_path):
    stories = load_stories()
    rng = random.Random(8)
    items = []
    for n in range(6):
        base = list(stories[20 + n % 3].paragraphs)
        items.append(article(f"http://s{n}.test/x", edits.trim_ending(base, rng)))
    first = asyncio.run(Stages(tmp_path / "one").run([ArticleItem(i) for i in items]))
    second = asyncio.run(Stages(tmp_path / "two").run([ArticleItem(i) for i in items]))
    assert [(r["cluster_id"], r["duplicate_of"]) for r in first] == [
        (r["cluster_id"], r["duplicate_of"]) for r in second
    ]
    assert len({r["cluster_id"] for r in first}) == 3


def test_an_unusable_store_stops_the_stage_with_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="DATA_DIR"):
        Stages(tmp_path / "file" / "data")


def test_disabled_stages_say_so(tmp_path):
    with pytest.raises(NotConfigured, match="NEARDUP_ENABLED"):
        build_from_crawler(
            NearDuplicatePipeline, project_crawler(NEARDUP_ENABLED=False, DATA_DIR=str(tmp_path))
        )
    with pytest.raises(NotConfigured, match="EXTRACT_WORKERS"):
        build_from_crawler(ExtractionPipeline, project_crawler(EXTRACT_WORKERS=-1))


def test_a_story_published_or_stored_years_ago_is_matched_in_a_later_run(tmp_path):
    stories = load_stories()
    rng = random.Random(8)
    old = article("http://a.test/old", stories[0].paragraphs)
    old["fetched_at"] = (clock.now() - timedelta(days=9 * 365)).isoformat(timespec="seconds")
    old["published"] = old["fetched_at"][:10]
    asyncio.run(Stages(tmp_path).run([old, article("http://b.test/fresh", stories[1].paragraphs)]))
    stages = Stages(tmp_path, NEARDUP_HOT_SIGNATURES=1000)
    late = article("http://c.test/late", edits.add_dateline(list(stories[0].paragraphs), rng))
    [copy] = asyncio.run(stages.run([late]))
    assert copy["duplicate_of"] == "http://a.test/old"
    assert copy["cluster_id"] == new_cluster_id("http://a.test/old")


def test_forgetting_is_opt_in_and_counts_by_the_time_a_story_was_stored(tmp_path):
    stories = load_stories()
    old = article("http://a.test/old", stories[0].paragraphs)
    old["published"] = clock.now_iso()[:10]  # published recently, but stored long ago
    old["fetched_at"] = (clock.now() - timedelta(days=400)).isoformat(timespec="seconds")
    asyncio.run(Stages(tmp_path).run([old]))
    [copy] = asyncio.run(
        Stages(tmp_path, NEARDUP_FORGET_AFTER_DAYS=365).run(
            [article("http://b.test/1", stories[0].paragraphs)]
        )
    )
    assert copy["duplicate_of"] is None
    [copy] = asyncio.run(Stages(tmp_path).run([article("http://c.test/1", stories[0].paragraphs)]))
    assert copy["duplicate_of"] == "http://a.test/old"


def test_an_unreadable_cold_index_is_a_counted_failure_and_the_article_is_still_stored(tmp_path):
    stories = load_stories()
    asyncio.run(Stages(tmp_path).run([article("http://a.test/1", stories[0].paragraphs)]))
    stages = Stages(tmp_path)

    def unreadable(*args, **kwargs):
        raise StoreError("the cold near-duplicate index cannot be read: database disk image is malformed")

    stages.neardup.store.candidates = unreadable
    # a copy of the stored story: its band keys are in the cold index, which must be read
    [item] = asyncio.run(stages.run([article("http://b.test/1", stories[0].paragraphs)]))
    assert item["duplicate_of"] is None
    assert stages.crawler.stats.get_value("neardup/cold_lookup_failed") == 1
    assert stages.crawler.stats.get_value("run/failed") is True
    assert set(stored_articles(tmp_path)) == {"http://a.test/1", "http://b.test/1"}


def test_a_clock_set_behind_the_store_is_reported(tmp_path, caplog):
    stories = load_stories()
    ahead = article("http://a.test/1", stories[0].paragraphs)
    ahead["fetched_at"] = (clock.now() + timedelta(days=30)).isoformat(timespec="seconds")
    asyncio.run(Stages(tmp_path).run([ahead]))
    stages = Stages(tmp_path)
    with caplog.at_level("ERROR"):
        [copy] = asyncio.run(stages.run([article("http://b.test/1", stories[0].paragraphs)]))
    assert stages.crawler.stats.get_value("neardup/clock_behind_store") is True
    assert "behind the newest article in the store" in caplog.text
    assert copy["duplicate_of"] == "http://a.test/1"  # matching does not depend on the clock


def _threads_inserting(stages: Stages) -> list[str]:
    """The name of the thread of each insert into the stage's hot index, in order."""
    names: list[str] = []
    insert = stages.neardup.index.insert

    def recorded(*args, **kwargs):
        names.append(threading.current_thread().name)
        return insert(*args, **kwargs)

    stages.neardup.index.insert = recorded
    return names


def test_decisions_without_the_store_are_taken_at_once_and_the_others_on_the_thread(tmp_path):
    stories = load_stories()
    asyncio.run(Stages(tmp_path).run([article("http://a.test/1", stories[0].paragraphs)]))
    stages = Stages(tmp_path)
    threads = _threads_inserting(stages)
    new, stored_copy, new_copy = asyncio.run(
        stages.run(
            [
                article("http://b.test/1", stories[1].paragraphs),
                article("http://c.test/1", stories[0].paragraphs),  # its keys are in the cold index
                article("http://d.test/1", stories[1].paragraphs),  # a copy held in the hot index
            ]
        )
    )
    assert new["duplicate_of"] is None
    assert stored_copy["duplicate_of"] == "http://a.test/1"
    assert new_copy["duplicate_of"] == "http://b.test/1"
    reactor = threading.current_thread().name
    assert threads[0] == reactor
    assert set(threads[2:]) == {reactor}
    assert threads[1].startswith("neardup")


def test_a_decision_that_needs_a_copy_from_the_store_moves_to_the_thread(tmp_path, monkeypatch):
    stories = load_stories()
    # Every candidate compared on its exact shingles, none of them held in memory: the store's.
    monkeypatch.setattr(MatchRule, "judge_estimate", lambda self, candidate, signature: None)
    stages = Stages(tmp_path)
    monkeypatch.setattr(stages.neardup.index, "recent_shingles", lambda urls: {})
    threads = _threads_inserting(stages)
    _, copy = asyncio.run(
        stages.run(
            [
                article("http://a.test/1", stories[0].paragraphs),
                article("http://b.test/1", stories[0].paragraphs),
            ]
        )
    )
    assert copy["duplicate_of"] == "http://a.test/1"
    assert copy["similarity"] == 1.0
    # the copy's first try, in the reactor thread, met its story in the hot index and stopped there
    assert threads[:2] == [threading.current_thread().name] * 2
    assert threads[2].startswith("neardup")
    assert stages.crawler.stats.get_value("neardup/candidates_checked_exactly") == 1
