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
    """A clock the tests and the demo can move: it starts at ``start`` and then runs like
    the wall clock (so waits and retries still pass), and :meth:`advance` jumps ahead."""

    def __init__(self, start: dt.datetime) -> None:
        self._offset = start.astimezone(UTC) - dt.datetime.now(UTC)

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC) + self._offset

    def advance(self, delta: dt.timedelta) -> None:
        self._offset += delta

    def set(self, moment: dt.datetime) -> None:
        self._offset = moment.astimezone(UTC) - dt.datetime.now(UTC)
