"""The edits an outlet makes when it republishes a wire story.

Each edit takes the story's paragraphs and a seeded random generator and returns new paragraphs,
so a newsroom built with the same seed is the same newsroom.
"""

from __future__ import annotations

import random
import re

CITIES = ("LONDON", "WASHINGTON", "PARIS", "NEW YORK", "BERLIN", "TOKYO", "NAIROBI", "SYDNEY", "MADRID")
AGENCIES = ("Reuters", "AP", "AFP", "Bloomberg", "dpa")
REPORTERS = (
    "Dana Whitfield",
    "Tomasz Lenart",
    "Amara Okafor",
    "Li Wen",
    "Graham Pritchard",
    "Sofia Marchetti",
    "Rahul Menon",
    "Ingrid Solberg",
    "Keanu Akana",
    "Beatriz Duarte",
)
EDITOR_NOTES = (
    "Editor's note: This story has been updated with additional details.",
    "Correction: An earlier version of this article misstated the date of the announcement.",
    "This article was amended on {day} to correct a quotation.",
    "Editor's note: An earlier version of this report gave an incorrect figure; it has been corrected.",
)
LOCAL_ANGLES = (
    "Officials in {place} said on {day} that they were following the developments closely and would "
    "brief residents at a public meeting next week.",
    "The news was watched closely in {place}, where {number} local businesses depend on the sector, "
    "according to the regional chamber of commerce.",
    "A spokesperson for the {place} council said the authority had not yet been contacted but would "
    "review any guidance once it was published.",
)
PLACES = ("Springfield", "Riverton", "Lakeside County", "Port Albany", "Greenhill", "Marston Vale")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")

_CURLY_TO_STRAIGHT = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-", "\u2013": "-"}
)
_STRAIGHT_DOUBLE = re.compile(r'"([^"]*)"')


def retitle(headline: str, rng: random.Random) -> str:
    """A new headline for the same story, the way copy desks rewrite them."""
    words = headline.split()
    choice = rng.randrange(4)
    if choice == 0:
        return "UPDATE: " + headline
    if choice == 1 and len(words) > 6:
        return " ".join(words[: len(words) - 2])
    if choice == 2:
        return headline.rstrip(".") + ", report says"
    return headline.replace(" the ", " a ", 1) if " the " in headline else headline + " (updated)"


def add_dateline(paragraphs: list[str], rng: random.Random) -> list[str]:
    """Prefix a wire dateline: "LONDON (Reuters) — " or "(AFP) — "."""
    agency = rng.choice(AGENCIES)
    lead = f"{rng.choice(CITIES)} ({agency}) \u2014 " if rng.random() < 0.6 else f"({agency}) \u2014 "
    return [lead + paragraphs[0], *paragraphs[1:]]


def byline(rng: random.Random) -> tuple[str, str]:
    """An author and the byline crediting wire copy: "By Dana Whitfield | Reuters"."""
    author = rng.choice(REPORTERS)
    return author, f"By {author} | {rng.choice(AGENCIES)}"


def trim_ending(paragraphs: list[str], rng: random.Random, low: float = 0.2, high: float = 0.5) -> list[str]:
    """Cut the last *low* to *high* share of the words: whole paragraphs, then whole sentences."""
    total = sum(len(p.split()) for p in paragraphs)
    keep_words = total * (1.0 - rng.uniform(low, high))
    kept: list[str] = []
    count = 0
    for paragraph in paragraphs:
        size = len(paragraph.split())
        if count + size <= keep_words:
            kept.append(paragraph)
            count += size
            continue
        # the paragraph that crosses the cut keeps its opening sentences up to it
        sentences = re.split(r"(?<=[.!?\u201d\"])\s+", paragraph)
        part: list[str] = []
        for sentence in sentences:
            if count + len(sentence.split()) > keep_words and (part or kept):
                break
            part.append(sentence)
            count += len(sentence.split())
        if part:
            kept.append(" ".join(part))
        break
    return kept


def add_editor_note(paragraphs: list[str], rng: random.Random) -> list[str]:
    return [*paragraphs, rng.choice(EDITOR_NOTES).format(day=rng.choice(DAYS))]


def add_local_paragraph(paragraphs: list[str], rng: random.Random) -> list[str]:
    """Insert a local-angle paragraph after the first third of the story."""
    text = rng.choice(LOCAL_ANGLES).format(
        place=rng.choice(PLACES), day=rng.choice(DAYS), number=rng.randrange(12, 400)
    )
    position = max(1, len(paragraphs) // 3)
    return [*paragraphs[:position], text, *paragraphs[position:]]


def add_update(paragraphs: list[str], rng: random.Random, fresh: list[str]) -> list[str]:
    """An updated version: one to three new paragraphs (*fresh*, real text) near the top."""
    new = fresh[: rng.randint(1, len(fresh))]
    return [paragraphs[0], *new, *paragraphs[1:]]


def retypeset(paragraphs: list[str], rng: random.Random) -> list[str]:
    """Swap curly and straight quotes and dashes, and put non-breaking spaces after some words."""
    result = []
    for paragraph in paragraphs:
        if "\u201c" in paragraph or "\u2019" in paragraph or "\u2014" in paragraph:
            paragraph = paragraph.translate(_CURLY_TO_STRAIGHT)
        else:
            paragraph = _STRAIGHT_DOUBLE.sub("\u201c\\1\u201d", paragraph).replace("'", "\u2019")
            paragraph = paragraph.replace(" - ", " \u2014 ")
        if rng.random() < 0.5:
            paragraph = paragraph.replace(" ", "\u00a0", 3)
        result.append(paragraph)
    return result


_REWORDINGS = (
    (" said ", " told reporters "),
    (" says ", " said "),
    (" percent", " per cent"),
    (" but ", " however "),
    (" also ", " "),
    (" about ", " around "),
    (" because ", " as "),
    (" However, ", " But "),
    (" more than ", " over "),
    (" announced ", " unveiled "),
    (" people ", " residents "),
    ("ize", "ise"),
    (" color", " colour"),
    (" center", " centre"),
    (" the ", " this "),
)


def reword(paragraphs: list[str], rng: random.Random) -> list[str]:
    """A light copy-edit: a few words changed in most paragraphs (house style, synonyms)."""
    result = []
    for paragraph in paragraphs:
        for old, new in rng.sample(_REWORDINGS, 4):
            paragraph = paragraph.replace(old, new, 1)
        result.append(paragraph)
    return result


def reorder(paragraphs: list[str], rng: random.Random) -> list[str]:
    """Move one paragraph after the lead elsewhere, and merge two short neighbours into one."""
    result = list(paragraphs)
    if len(result) > 3:
        moved = result.pop(rng.randrange(1, len(result)))
        result.insert(rng.randrange(1, len(result)), moved)
    if len(result) > 2:
        at = rng.randrange(1, len(result) - 1)
        result[at : at + 2] = [result[at] + " " + result[at + 1]]
    return result
