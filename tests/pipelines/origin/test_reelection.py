"""The origin through the stages: elected again as copies arrive, on every stored copy, with bad
evidence counted."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from pipelines import clock
from tests.fixtures.components import Stages, article
from tests.fixtures.crawls import stored_articles
from tests.fixtures.newsroom import edits
from tests.fixtures.newsroom.stories import load_stories


def copy(url: str, paragraphs: list[str], days_ago: float | None = None, **fields):
    item = article(url, paragraphs)
    if days_ago is not None:
        item["published"] = (clock.now() - timedelta(days=days_ago)).isoformat(timespec="seconds")
    item.update(fields)
    return item


def test_a_later_copy_with_stronger_evidence_moves_the_origin_of_every_copy(tmp_path):
    story = list(load_stories()[3].paragraphs)
    rng = random.Random(2)
    stages = Stages(tmp_path)
    items = [
        copy("http://b.test/copy", edits.add_local_paragraph(story, rng), days_ago=1),
        copy("http://a.test/original", story, days_ago=3),
        # a copy from the future is no evidence: counted, and the dates of the others decide
        copy("http://d.test/copy", edits.add_editor_note(story, rng), days_ago=-30),
    ]
    results = asyncio.run(stages.run(items))
    assert [r["origin_url"] for r in results] == ["http://b.test/copy"] + ["http://a.test/original"] * 2
    assert results[2]["origin_reason"] == "earliest"
    stats = stages.crawler.stats.get_stats()
    assert stats["origin/date_after_fetch"] == 1
    stored = stored_articles(tmp_path)
    assert {row["origin_url"] for row in stored.values()} == {"http://a.test/original"}
    cluster = stored["http://a.test/original"]["cluster_id"]

    # a new run: a copy declares the first copy the canonical page, which outweighs any date
    stages = Stages(tmp_path)
    declared = copy(
        "http://c.test/copy",
        edits.add_editor_note(story, rng),
        days_ago=2,
        canonical_url="http://b.test/copy",
    )
    [result] = asyncio.run(stages.run([declared]))
    assert (result["origin_url"], result["origin_reason"]) == ("http://b.test/copy", "canonical")
    stored = stored_articles(tmp_path)
    assert {row["origin_url"] for row in stored.values()} == {"http://b.test/copy"}
    assert {row["cluster_id"] for row in stored.values()} == {cluster}
    # the new row and the three the origin moved on: never more rows than the story has
    assert stages.crawler.stats.get_value("origin/rows_rewritten") == 4


def test_a_story_seen_once_is_its_own_origin_and_credits_its_agency(tmp_path):
    story = list(load_stories()[5].paragraphs)
    [result] = asyncio.run(Stages(tmp_path).run([copy("http://a.test/1", story, wire="AP")]))
    assert (result["origin_url"], result["origin_reason"], result["wire"]) == (
        "http://a.test/1",
        "alone",
        "AP",
    )
    assert stored_articles(tmp_path)["http://a.test/1"]["wire"] == "AP"


def test_a_copy_cleaned_again_is_elected_over_again(tmp_path):
    story = list(load_stories()[6].paragraphs)
    rng = random.Random(5)
    stages = Stages(tmp_path)
    items = [
        copy("http://a.test/original", story),
        copy("http://b.test/copy", edits.add_local_paragraph(story, rng)),
        copy("http://c.test/copy", story[:-2]),
    ]

    async def crawl() -> None:
        await stages.open()
        for item in items:
            await stages.process(item)
        assert stored_articles(tmp_path)["http://c.test/copy"]["origin_reason"] == "containment"
        # boilerplate learned later strips most of the original's text: the copy the others
        # derive from is not what its text now shows
        text = story[0]
        stages.storage.article_recleaned("http://a.test/original", text, len(text.split()))
        await stages.close()

    asyncio.run(crawl())
    stored = stored_articles(tmp_path)
    assert stored["http://a.test/original"]["text"] == story[0]
    assert {(row["origin_url"], row["origin_reason"]) for row in stored.values()} != {
        ("http://a.test/original", "containment")
    }
