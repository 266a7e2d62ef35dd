"""The versioning stage: a new page, a new version of a stored one, or a fetch with nothing new."""

from __future__ import annotations

import asyncio
import sqlite3

from pipelines.drops import Unchanged
from tests.fixtures.components import Stages, article
from tests.fixtures.crawls import stored_articles
from tests.fixtures.newsroom.stories import load_stories


def test_a_changed_page_is_stored_as_a_new_version_of_the_same_story(tmp_path):
    stories = load_stories()
    story = list(stories[3].paragraphs)
    [first] = asyncio.run(Stages(tmp_path).run([article("http://a.test/1", story)]))
    [_copy] = asyncio.run(Stages(tmp_path).run([article("http://b.test/1", story[:-1])]))
    updated = [*story, "Update: the minister resigned on Friday evening, officials said."]
    [new_version, new_copy_version] = asyncio.run(
        Stages(tmp_path, INCREMENTAL_REVISIT_HOURS=0).run(
            [article("https://a.test/1", updated), article("http://b.test/1", updated)]
        )
    )
    assert new_version["version"] == 2
    assert new_version["cluster_id"] == first["cluster_id"]
    assert new_version["duplicate_of"] is None  # still the story's first copy
    assert new_copy_version["version"] == 2
    assert new_copy_version["duplicate_of"] == "http://a.test/1"
    db = sqlite3.connect(tmp_path / "articles.sqlite3")
    rows = db.execute("SELECT url, version, previous_id, current FROM articles ORDER BY id").fetchall()
    assert rows[2][1:] == (2, 1, 1)
    assert rows[0][3] == 0


def test_a_page_fetched_again_before_its_revisit_is_not_a_new_version(tmp_path):
    # e.g. a second worker after the shared duplicate filter was lost, cleaning it differently
    story = list(load_stories()[4].paragraphs)
    asyncio.run(Stages(tmp_path).run([article("http://a.test/1", story)]))
    [again] = asyncio.run(Stages(tmp_path).run([article("http://a.test/1", [*story, "A promo line."])]))
    assert isinstance(again, Unchanged)
    assert len(stored_articles(tmp_path)) == 1
