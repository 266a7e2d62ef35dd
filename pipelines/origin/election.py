"""Which copy of a story is its origin: an election over the evidence its stored copies carry.

Evidence, strongest first; each kind narrows the copies still standing, and the kind that leaves
one copy names the reason (`origin_reason`):

    canonical    other copies declare it their canonical page (rel=canonical or og:url)
    credit       other copies credit its outlet ("This article was originally published by ...")
    earliest     its publication is surely the earliest: date-times with their time zones are
                 compared to the minute, a date alone or a time without a zone counts only a day
                 and more apart (a day spans UTC+14 to UTC-12)
    containment  it is the version the others derive from: the most similar to all the others
                 (with three copies or more), or the longer of two that holds the other, cut
    earliest     (again, with less confidence) when neither decides: it was likely published
                 first, a day taken at its midday in UTC, leading the next by an hour
    first_fetch  it was fetched first (the weakest: an accident of crawl order)
    alone        the story has one stored copy

Bad evidence falls back to the next kind and is noted for the caller to count: a date after the
page's fetch or before 1995, a canonical link or a credit naming a page or outlet that is not
among the copies.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

import numpy as np

from pipelines.urls import page_key

# `origin_confidence` per kind of evidence: below how often it named the true original in
# bench/syndication.py (every time but for the first fetch, about four times in ten), leaving room
# for the real web, where canonical links and dates are sometimes wrong.
CONFIDENCE = {
    "canonical": 0.95,
    "credit": 0.95,
    "earliest": 0.9,
    "earliest_day": 0.75,
    "earliest_likely": 0.6,
    "containment": 0.6,
    "first_fetch": 0.3,
    "alone": 0.5,
}
EARLIEST_PLAUSIBLE = date(1995, 1, 1)  # before the web had news sites
_CLOCK_SKEW = timedelta(hours=1)  # a page's clock ahead of ours
_EAST, _WEST = timedelta(hours=14), timedelta(hours=12)  # the zones furthest from UTC
_LIKELY_LEAD = timedelta(hours=1)  # a likely-first copy must lead the next by this much
_MEDOID_LEAD = 0.02  # a most-similar copy must lead the next by this much
_CUT_COPY = 1.25  # the longer of two copies is this much longer when the shorter is its cut
_HOLDS = 0.8  # ... and holds this much of it


@dataclass(frozen=True)
class CopyEvidence:
    """What one stored copy of a story says about where the story came from."""

    url: str
    site: str
    fetched_at: str
    published: str | None = None
    canonical_url: str | None = None
    credited: str | None = None  # the outlet it credits as the story's first publisher
    site_name: str | None = None
    minhash: np.ndarray | None = None
    shingle_count: int = 0


@dataclass(frozen=True)
class Origin:
    url: str
    reason: str
    confidence: float
    notes: tuple[str, ...] = field(default=(), compare=False)  # bad evidence set aside, to count


def elect(copies: list[CopyEvidence]) -> Origin:
    """The origin of the story *copies* (its current stored copies, oldest first) tell."""
    notes: list[str] = []
    declaring = [copy for copy in copies if copy.canonical_url and copy.canonical_url != copy.url]
    by_key = {page_key(copy.url): copy for copy in copies} if declaring else {}
    standing = list(copies)
    for reason, scores in (
        ("canonical", _canonical_votes(declaring, by_key, notes)),
        ("credit", _credit_votes(copies, notes)),
    ):
        standing = _best(standing, scores)
        if len(standing) == 1 and len(copies) > 1:
            return Origin(standing[0].url, reason, CONFIDENCE[reason], tuple(notes))
    if len(copies) == 1:
        return Origin(copies[0].url, "alone", CONFIDENCE["alone"], tuple(notes))
    dates = {copy.url: _published(copy, notes) for copy in standing}
    standing, exact = _earliest(standing, dates)
    if len(standing) == 1:
        reason = "earliest" if exact else "earliest_day"
        return Origin(standing[0].url, "earliest", CONFIDENCE[reason], tuple(notes))
    standing = _containing(standing, copies)
    if len(standing) == 1:
        return Origin(standing[0].url, "containment", CONFIDENCE["containment"], tuple(notes))
    likely = _likely_earliest(standing, dates)
    if likely is not None:
        return Origin(likely.url, "earliest", CONFIDENCE["earliest_likely"], tuple(notes))
    first = min(standing, key=lambda copy: (copy.fetched_at, copy.url))
    return Origin(first.url, "first_fetch", CONFIDENCE["first_fetch"], tuple(notes))


def _best(standing: list[CopyEvidence], scores: Counter[str]) -> list[CopyEvidence]:
    """The copies with the most votes, if any copy still standing has one."""
    top = max((scores[copy.url] for copy in standing), default=0)
    return [copy for copy in standing if scores[copy.url] == top] if top else standing


def _canonical_votes(
    declaring: list[CopyEvidence], by_key: dict[str, CopyEvidence], notes: list[str]
) -> Counter[str]:
    """A copy declaring another copy (*by_key*) its canonical page votes for the page that one
    declares in turn, to the end of the chain."""
    votes: Counter[str] = Counter()
    for copy in declaring:
        target = _declared(copy, by_key, notes)
        seen = {copy.url}
        while target is not None and target.url not in seen:
            seen.add(target.url)
            onward = _declared(target, by_key, [])
            if onward is None:
                break
            target = onward
        if target is not None and target.url != copy.url:
            votes[target.url] += 1
    return votes


def _declared(copy: CopyEvidence, by_key: dict[str, CopyEvidence], notes: list[str]) -> CopyEvidence | None:
    if not copy.canonical_url or copy.canonical_url == copy.url:
        return None
    if page_key(copy.canonical_url) == page_key(copy.url):
        return None
    target = by_key.get(page_key(copy.canonical_url))
    if target is None:
        notes.append("canonical_not_a_copy")  # unfetched, another story, or a foreign page
    return target


def _credit_votes(copies: list[CopyEvidence], notes: list[str]) -> Counter[str]:
    votes: Counter[str] = Counter()
    for copy in copies:
        if not copy.credited or names_outlet(copy.credited, copy):
            continue
        named = [other for other in copies if other is not copy and names_outlet(copy.credited, other)]
        if not named:
            notes.append("credit_not_a_copy")
        for other in named:
            votes[other.url] += 1
    return votes


def names_outlet(credit: str, copy: CopyEvidence) -> bool:
    """Whether *credit* ("The Meridian Herald", "meridianherald.example", a URL) names the outlet
    that published *copy*: its site's name, its host or the host's name part."""
    host = copy.site.lower().removeprefix("www.")
    if "." in credit and " " not in credit.strip():
        named = urlsplit(credit if "://" in credit else f"http://{credit}").hostname or ""
        named = named.removeprefix("www.")
        return bool(named) and (host == named or host.endswith("." + named))
    key = _squash(credit)
    names = {_squash(copy.site_name or ""), _squash(host), _squash(host.rsplit(".", 1)[0])}
    return bool(key) and key in names


def _squash(text: str) -> str:
    text = text.casefold().strip()
    text = text[4:] if text.startswith("the ") else text
    return "".join(c for c in text if c.isalnum())


@dataclass(frozen=True)
class _When:
    day: date  # the local day the page gives
    instant: datetime | None  # in UTC, when the page gives a time and its zone
    guess: datetime  # the instant, or a time without its zone as if in UTC, or the day's midday


def _published(copy: CopyEvidence, notes: list[str]) -> _When | None:
    if not copy.published:
        return None
    try:
        value = datetime.fromisoformat(copy.published.replace("Z", "+00:00"))
        fetched = datetime.fromisoformat(copy.fetched_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.date() < EARLIEST_PLAUSIBLE:
        notes.append("date_before_1995")
        return None
    timed = len(copy.published) > 10 and value.tzinfo is not None
    fetched = fetched if fetched.tzinfo else fetched.replace(tzinfo=UTC)
    # A day alone may be a day ahead of UTC in the page's zone.
    latest = fetched + (_CLOCK_SKEW if timed else _EAST)
    if (value if timed else datetime.combine(value.date(), time(), UTC)) > latest:
        notes.append("date_after_fetch")
        return None
    instant = value.astimezone(UTC) if timed else None
    if instant is None and len(copy.published) > 10:
        guess = value.replace(tzinfo=UTC)
    else:
        guess = instant or datetime.combine(value.date(), time(12), UTC)
    return _When(value.date(), instant, guess)


def _earliest(
    standing: list[CopyEvidence], dates: dict[str, _When | None]
) -> tuple[list[CopyEvidence], bool]:
    """The copies that may have been published first (*dates*: each one's usable publication),
    and whether exact times decided it. A copy without a usable date gives way to dated ones."""
    dated = [(copy, when) for copy in standing if (when := dates[copy.url]) is not None]
    if not dated:
        return standing, False
    first = [
        (copy, when)
        for copy, when in dated
        if not any(_before(other, when) for _, other in dated if other is not when)
    ]
    if not first:  # time zones made the order circular: no date decides
        return [copy for copy, _ in dated], False
    exact = len(first) == 1 and all(when.instant is not None for _, when in dated)
    return [copy for copy, _ in first], exact


def _before(a: _When, b: _When) -> bool:
    """Whether *a* was surely published before *b*. A day without its zone spans the day in
    every zone, from UTC+14 to UTC-12, against a time that has one."""
    if a.instant is not None and b.instant is not None:
        return a.instant < b.instant
    if a.instant is None and b.instant is None:
        return a.day < b.day
    if a.instant is None:
        return datetime.combine(a.day + timedelta(days=1), time(), UTC) + _WEST < b.instant  # type: ignore[operator]
    return a.instant < datetime.combine(b.day, time(), UTC) - _EAST


def _likely_earliest(standing: list[CopyEvidence], dates: dict[str, _When | None]) -> CopyEvidence | None:
    """The copy most likely published first when no date was sure to: a day without its zone
    taken at its midday in UTC, a time without a zone as if in UTC. None if two are close."""
    estimates = [(when.guess, copy) for copy in standing if (when := dates[copy.url]) is not None]
    if not estimates:
        return None
    estimates.sort(key=lambda pair: pair[0])
    if len(estimates) > 1 and estimates[1][0] - estimates[0][0] < _LIKELY_LEAD:
        return None
    return estimates[0][1]


def _containing(standing: list[CopyEvidence], copies: list[CopyEvidence]) -> list[CopyEvidence]:
    """The copy the others derive from. Each copy differs from the original by its own edits and
    from another copy by both of theirs, so with three copies or more the original is the most
    similar to all the others; of two, the longer is the original when the shorter is its cut."""
    signed = [copy for copy in copies if copy.minhash is not None and copy.shingle_count]
    if len(signed) < 2 or any(copy.minhash is None for copy in standing):
        return standing
    matrix = np.stack([np.asarray(copy.minhash) for copy in signed])
    if len(signed) >= 3:
        agree = (matrix[:, np.newaxis, :] == matrix[np.newaxis, :, :]).mean(axis=2)
        mean = (agree.sum(axis=1) - 1.0) / (len(signed) - 1)
        score = {copy.url: float(value) for copy, value in zip(signed, mean, strict=True)}
        ranked = sorted(standing, key=lambda copy: score.get(copy.url, 0.0), reverse=True)
        if score.get(ranked[0].url, 0.0) - score.get(ranked[1].url, 0.0) >= _MEDOID_LEAD:
            return ranked[:1]
        return standing
    if len(standing) != 2:
        return standing
    shorter, longer = sorted(standing, key=lambda copy: copy.shingle_count)
    similarity = float(np.mean(np.asarray(shorter.minhash) == np.asarray(longer.minhash)))
    held = (
        similarity
        * (shorter.shingle_count + longer.shingle_count)
        / ((1 + similarity) * shorter.shingle_count)
    )
    if longer.shingle_count >= _CUT_COPY * shorter.shingle_count and held >= _HOLDS:
        return [longer]
    return standing
