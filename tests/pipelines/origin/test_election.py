"""The election of a story's origin: each kind of evidence, strongest first, and bad evidence
falling back to weaker."""

from __future__ import annotations

import random
from datetime import timedelta, timezone

import pytest

from pipelines import clock
from pipelines.origin.election import CONFIDENCE, CopyEvidence, elect, names_outlet
from pipelines.signatures import Signer
from tests.fixtures.newsroom import edits
from tests.fixtures.newsroom.stories import load_stories

NOW = clock.now().replace(microsecond=0)
FETCHED = NOW.isoformat()
STORY = list(load_stories()[0].paragraphs)
SIGNER = Signer()


def copy(url: str, paragraphs: list[str] = STORY, **evidence) -> CopyEvidence:
    signature = SIGNER.sign("\n\n".join(paragraphs))
    evidence = {"fetched_at": FETCHED, **evidence}
    return CopyEvidence(
        url=url,
        site=url.split("/")[2],
        minhash=signature.hashvalues,
        shingle_count=signature.shingle_count,
        **evidence,
    )


def ago(hours: float, offset_hours: float = 0) -> str:
    """A publication time *hours* before now, written in the zone *offset_hours* from UTC."""
    return (NOW - timedelta(hours=hours)).astimezone(timezone(timedelta(hours=offset_hours))).isoformat()


def test_a_story_seen_once_is_its_own_origin():
    origin = elect([copy("http://a.test/1")])
    assert (origin.url, origin.reason) == ("http://a.test/1", "alone")


def test_copies_declaring_a_canonical_page_name_it_whatever_the_dates():
    original = copy("http://a.test/story", published=ago(2))
    early = copy("http://b.test/copy", published=ago(30), canonical_url="http://a.test/story?utm_source=x")
    chained = copy("http://c.test/copy", canonical_url="http://b.test/copy")  # b names a: so does c
    origin = elect([early, chained, original])
    assert (origin.url, origin.reason) == ("http://a.test/story", "canonical")


def test_a_credit_line_names_the_outlet_by_its_name_or_host():
    original = copy("http://www.meridian.test/story", site_name="The Meridian Herald", published=ago(1))
    by_name = copy("http://b.test/copy", credited="Meridian Herald", published=ago(5))
    by_host = copy("http://c.test/copy", credited="meridian.test")
    origin = elect([by_name, original, by_host])
    assert (origin.url, origin.reason) == ("http://www.meridian.test/story", "credit")
    assert names_outlet("https://www.meridian.test/2026/story", original)
    assert not names_outlet("Meridian Times", original)


def test_the_earliest_time_decides_with_time_zones_resolved():
    # 09:00 at UTC+9 is before 20:00 the evening before at UTC-5: read naively it would look later
    first = copy("http://a.test/1", published=ago(10, offset_hours=9))
    second = copy("http://b.test/1", published=ago(8, offset_hours=-5))
    origin = elect([second, first])
    assert (origin.url, origin.reason) == ("http://a.test/1", "earliest")
    assert origin.confidence > elect([copy("http://a.test/1", published=ago(72)[:10]), second]).confidence


def test_a_day_without_a_zone_is_sure_only_a_day_and_more_apart():
    day = (NOW - timedelta(days=3)).date().isoformat()
    timed = copy("http://a.test/1", published=f"{day}T06:00:00+00:00")
    days_before = copy("http://b.test/1", published=(NOW - timedelta(days=6)).date().isoformat())
    origin = elect([timed, days_before])
    assert (origin.url, origin.confidence) == ("http://b.test/1", CONFIDENCE["earliest_day"])
    # the same day: the copy likely first (the day taken at its midday), with less confidence
    same_day = copy("http://b.test/1", published=day)
    origin = elect([same_day, timed])
    assert (origin.url, origin.reason, origin.confidence) == ("http://a.test/1", "earliest", 0.6)
    close = copy("http://a.test/1", published=f"{day}T11:30:00+00:00")
    assert elect([same_day, close]).reason == "first_fetch"


def test_with_three_copies_the_one_the_others_derive_from_wins_a_tie():
    rng = random.Random(4)
    original = copy("http://a.test/1", STORY)
    trimmed = copy("http://b.test/1", edits.trim_ending(STORY, rng))
    noted = copy("http://c.test/1", edits.add_local_paragraph(edits.add_editor_note(STORY, rng), rng))
    origin = elect([trimmed, noted, original])
    assert (origin.url, origin.reason) == ("http://a.test/1", "containment")


def test_of_two_copies_the_longer_wins_when_the_shorter_is_its_cut():
    rng = random.Random(4)
    cut = copy("http://b.test/1", edits.trim_ending(STORY, rng, 0.4, 0.5))
    origin = elect([cut, copy("http://a.test/1", STORY)])
    assert (origin.url, origin.reason) == ("http://a.test/1", "containment")


def test_without_evidence_the_first_fetched_copy_is_the_origin():
    later = (NOW - timedelta(hours=1)).isoformat()
    origin = elect([copy("http://b.test/1"), copy("http://a.test/1", fetched_at=later)])
    assert (origin.url, origin.reason, origin.confidence) == ("http://a.test/1", "first_fetch", 0.3)


@pytest.mark.parametrize(
    ("bad", "note"),
    [
        ({"published": (NOW + timedelta(days=3)).isoformat()}, "date_after_fetch"),
        ({"published": "1970-01-01"}, "date_before_1995"),
        ({"canonical_url": "http://elsewhere.test/never-fetched"}, "canonical_not_a_copy"),
        ({"credited": "Some Other Paper"}, "credit_not_a_copy"),
    ],
)
def test_bad_evidence_is_noted_and_weaker_evidence_decides(bad, note):
    honest = copy("http://a.test/1", published=ago(5))
    liar = copy("http://b.test/1", **bad)
    origin = elect([liar, honest])
    assert note in origin.notes
    assert origin.url == "http://a.test/1"


def test_an_unreadable_date_is_no_evidence():
    origin = elect(
        [copy("http://b.test/1", published="not a date"), copy("http://a.test/1", published=ago(2))]
    )
    assert (origin.url, origin.reason) == ("http://a.test/1", "earliest")
