"""Real article texts (the article-extraction benchmark's hand-labelled bodies) as newsroom stories."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import py3langid

DATA = Path(__file__).resolve().parent / "data" / "ground-truth.json.gz"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
# "LONDON (Reuters) — ", "(AP) - ", "MADRID — ": a dateline, not part of the headline
_LEAD_IN = re.compile(r"^\s*(?:[A-Z][A-Za-z ,.]*)?(?:\([A-Za-z ]+\))?\s*[\u2014\u2013-]+\s+")


@dataclass(frozen=True)
class Story:
    story_id: str
    headline: str
    paragraphs: tuple[str, ...]

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


@lru_cache(maxsize=1)
def load_stories() -> tuple[Story, ...]:
    """Every English prose body of at least 120 words in three or more paragraphs, ordered by id."""
    with gzip.open(DATA, "rt", encoding="utf-8") as handle:
        truth = json.load(handle)
    stories = []
    for story_id in sorted(truth):
        paragraphs = tuple(p.strip() for p in truth[story_id]["articleBody"].split("\n") if p.strip())
        text = " ".join(paragraphs)
        # Prose only: lists of short lines (app pages, deal roundups) are not wire stories.
        if len(paragraphs) < 3 or len(text.split()) < 120 or len(text.split()) / len(paragraphs) < 15:
            continue
        if py3langid.classify(text)[0] != "en":
            continue
        stories.append(Story(story_id[:12], headline_from(paragraphs), paragraphs))
    return tuple(stories)


def headline_from(paragraphs: tuple[str, ...]) -> str:
    """A headline made from the opening sentence: its first dozen words, without a dateline."""
    first = _LEAD_IN.sub("", paragraphs[0])
    words = _SENTENCE_END.split(first, maxsplit=1)[0].split()[:12]
    if len(words) < 6:  # "Walt Disney Co." ends no sentence
        words = first.split()[:10]
    if len(words) == len(first.split()) and len(words) > 7:  # a one-sentence lead: say less
        words = words[:-2]
    headline = " ".join(words).rstrip(",.;:")
    return headline[:1].upper() + headline[1:]
