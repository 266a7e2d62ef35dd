"""What time it is: the one place the crawler, its stages, the tests and the benchmarks ask.

Tests, benchmarks and replays set the clock, either in-process with `set_now` or for a whole
crawl (a subprocess, its extraction workers included) with the environment variable
NEWSDEDUP_NOW, an ISO 8601 time: the clock then starts at that moment and runs on from there.
Nothing else in the project reads the wall clock for dates; `time.monotonic` still measures
durations.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta

ENVIRONMENT = "NEWSDEDUP_NOW"
EPOCH = date(1970, 1, 1)

# (wall-clock start, monotonic start) of a set clock, or None for the real time.
_anchor: tuple[datetime, float] | None = None


def _parse(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"{ENVIRONMENT} must be an ISO 8601 time such as 2031-06-01T12:00:00Z, got {value!r}"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def set_now(moment: datetime | str | None) -> None:
    """Make the clock start at *moment* and run on from there; None goes back to the real time."""
    global _anchor
    if moment is None:
        _anchor = None
        return
    start = _parse(moment) if isinstance(moment, str) else moment
    _anchor = (start.astimezone(UTC), time.monotonic())


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    if _anchor is not None:
        start, ticks = _anchor
        return start + timedelta(seconds=time.monotonic() - ticks)
    return datetime.now(UTC)


def now_iso() -> str:
    """The current time as stored: ISO 8601 in UTC, to the second."""
    return now().isoformat(timespec="seconds")


def today() -> int:
    """Today's date in days since 1970-01-01."""
    return (now().date() - EPOCH).days


def day_of(value: str | None) -> int | None:
    """The date of an ISO 8601 date or date-time, in days since 1970-01-01, or None."""
    try:
        return (date.fromisoformat(str(value)[:10]) - EPOCH).days
    except ValueError:
        return None


if os.environ.get(ENVIRONMENT):
    set_now(os.environ[ENVIRONMENT])
