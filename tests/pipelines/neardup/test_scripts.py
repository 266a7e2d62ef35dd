"""Copies of real stories in the scripts written without spaces and in right-to-left ones are
found as copies, whatever the edits an outlet in that language makes, and other stories are not."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest

from tests.fixtures.components import Stages, article
from tests.fixtures.wirecopies import EDITS, EDITS_OF, short_story

STORIES = json.loads((Path(__file__).parents[2] / "fixtures" / "texts" / "stories.json").read_text("utf-8"))


def edited(language: str, paragraphs: list[str], edits: tuple[str, ...], seed: int) -> list[str]:
    rng = random.Random(seed)
    for edit in edits:
        if edit in ("local_paragraph", "update"):  # other news, a third of the story at most
            paragraphs = [*paragraphs, paragraphs[-1][: len("".join(paragraphs)) // 4][::-1]]
        else:
            paragraphs = EDITS[edit](language, paragraphs, rng)
    return paragraphs


@pytest.mark.parametrize("language", sorted(STORIES))
def test_copies_in_every_script_join_their_story_and_nothing_else(tmp_path, language):
    story, other = STORIES[language]
    kinds = [(edit,) for edit in EDITS_OF[language]] + [tuple(EDITS_OF[language])]
    copies = [edited(language, story, kind, seed) for seed, kind in enumerate(kinds)]
    items = [article(f"http://{language}.test/story", story), article(f"http://{language}.test/other", other)]
    items += [article(f"http://copy{n}.test/story", copy) for n, copy in enumerate(copies)]
    for item in items:
        item["language"] = language
    results = asyncio.run(Stages(tmp_path).run(items))
    first, unrelated, *joined = results
    assert unrelated["cluster_id"] != first["cluster_id"]
    for kind, copy in zip(kinds, joined, strict=True):
        assert copy["cluster_id"] == first["cluster_id"], kind


@pytest.mark.parametrize("language", sorted(STORIES))
def test_a_short_story_and_its_copy_in_every_script(tmp_path, language):
    short = short_story(language, tuple(STORIES[language][1]))
    assert short is not None
    copy = EDITS["dateline"](language, list(short), random.Random(1))
    items = [article("http://a.test/1", short), article("http://b.test/1", copy)]
    items.append(article("http://c.test/1", STORIES[language][0]))
    first, again, other = asyncio.run(Stages(tmp_path).run(items))
    assert again["cluster_id"] == first["cluster_id"]
    assert other["cluster_id"] != first["cluster_id"]
