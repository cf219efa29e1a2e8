"""Time, passed in rather than read from the wall, so tests can move it."""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC


def iso(moment: dt.datetime) -> str:
    """A moment as stored: UTC ISO-8601 with microseconds, so text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class Clock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class FakeClock(Clock):
    """A clock the tests and the demo move by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = start.astimezone(UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta

    def set(self, moment: dt.datetime) -> None:
        self._now = moment.astimezone(UTC)
