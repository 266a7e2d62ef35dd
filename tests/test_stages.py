"""The extraction, near-duplicate and storage stages built as Scrapy builds them."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from datetime import timedelta

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler

from crawler import clock
from crawler.items import ArticleItem, PageItem
from pipelines.core.store import StoreError
from pipelines.extraction import ExtractionPipeline, NoArticleText, NotAnArticle
from pipelines.neardup import LaterCopy, NearDuplicatePipeline, new_cluster_id
from pipelines.storage import Unchanged
from tests.conftest import Stages, project_crawler, stored_articles
from tests.newsroom import edits
from tests.newsroom.stories import load_stories


def article(url: str, paragraphs) -> ArticleItem:
    text = "\n\n".join(paragraphs)
    return ArticleItem(
        url=url,
        canonical_url=url,
        site=url.split("/")[2],
        title="t",
        authors=[],
        published=None,
        language="en",
        text=text,
        word_count=len(text.split()),
        fetched_at=clock.now_iso(),
    )


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
    assert first["cluster_id"] == new_cluster_id("http://a.test/1") and first["duplicate_of"] is None
    for copy in (trimmed, retyped):
        assert copy["cluster_id"] == first["cluster_id"]
        assert copy["duplicate_of"] == "http://a.test/1"
        assert 0 < copy["similarity"] <= 1
    assert retyped["similarity"] == 1.0
    assert other["cluster_id"] != first["cluster_id"] and other["duplicate_of"] is None
    assert "signature" not in first
    assert len(stored_articles(tmp_path)) == 4


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


def test_a_changed_page_is_stored_as_a_new_version_of_the_same_story(tmp_path):
    stories = load_stories()
    story = list(stories[3].paragraphs)
    [first] = asyncio.run(Stages(tmp_path).run([article("http://a.test/1", story)]))
    [copy] = asyncio.run(Stages(tmp_path).run([article("http://b.test/1", story[:-1])]))
    updated = story + ["Update: the minister resigned on Friday evening, officials said."]
    [new_version, new_copy_version] = asyncio.run(
        Stages(tmp_path, INCREMENTAL_REVISIT_HOURS=0).run(
            [article("https://a.test/1", updated), article("http://b.test/1", updated)]
        )
    )
    assert new_version["version"] == 2 and new_version["cluster_id"] == first["cluster_id"]
    assert new_version["duplicate_of"] is None  # still the story's first copy
    assert new_copy_version["version"] == 2 and new_copy_version["duplicate_of"] == "http://a.test/1"
    db = sqlite3.connect(tmp_path / "articles.sqlite3")
    rows = db.execute("SELECT url, version, previous_id, current FROM articles ORDER BY id").fetchall()
    assert rows[2][1:] == (2, 1, 1) and rows[0][3] == 0  # linked to the version it replaces


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


def test_extraction_runs_in_worker_processes(newsroom):
    crawler = project_crawler(EXTRACT_WORKERS=1)
    stage = build_from_crawler(ExtractionPipeline, crawler)
    target = newsroom.articles[0]

    def page(url: str, body: bytes) -> PageItem:
        return PageItem(url=url, site=url.split("/")[2], body=body, encoding="utf-8", fetched_at="x")

    article_page = page(target.url, newsroom.pages[target.host][target.url.split(target.host, 1)[1]].body)
    front = page(f"http://{target.host}/", newsroom.pages[target.host]["/"].body)
    # marked up as an article, but with no text to speak of (a video page, say)
    empty = page(
        f"http://{target.host}/2026/01/01/empty-story",
        b'<html><head><meta property="og:type" content="article"><script type="application/ld+json">'
        b'{"@type": "NewsArticle"}</script></head><body><p>Watch.</p></body></html>',
    )

    async def run():
        await stage.open_spider()
        try:
            pages = (article_page, front, empty)
            return await asyncio.gather(*(stage.process_item(p) for p in pages), return_exceptions=True)
        finally:
            await stage.close_spider()

    item, listing, nothing = asyncio.run(run())
    assert isinstance(item, ArticleItem) and item["title"] == target.headline
    assert len(item["word_hashes"]) == len(item["text"].split("\n\n"))
    assert isinstance(listing, NotAnArticle) and isinstance(nothing, NoArticleText)
    assert crawler.stats.get_value("extract/not_article") == 1


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


def test_a_page_fetched_again_before_its_revisit_is_not_a_new_version(tmp_path):
    # e.g. a second worker after the shared duplicate filter was lost, cleaning it differently
    story = list(load_stories()[4].paragraphs)
    asyncio.run(Stages(tmp_path).run([article("http://a.test/1", story)]))
    [again] = asyncio.run(Stages(tmp_path).run([article("http://a.test/1", story + ["A promo line."])]))
    assert isinstance(again, Unchanged)
    assert len(stored_articles(tmp_path)) == 1


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
