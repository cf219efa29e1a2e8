"""Limits on how fast one account may act (kept in memory: a restart forgets them, which is
harmless — they only slow a burst down, they decide nothing)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque

BURST = (12, dt.timedelta(seconds=10))  # at most 12 ballot answers in 10 s from one account


class Throttle:
    """Slows down a burst of answers from one account (a script, a stuck finger). Time is
    the campaign clock's, so a test or the demo can let it pass. Asked from SQLite's writer
    thread too (inside a press's transaction), so it holds a lock."""

    def __init__(self, most: int = BURST[0], window: dt.timedelta = BURST[1]) -> None:
        self.most, self.window = most, window
        self._seen: dict[int, deque[dt.datetime]] = {}
        self._lock = threading.Lock()

    def allow(self, user_id: int, now: dt.datetime) -> bool:
        with self._lock:
            seen = self._seen.setdefault(user_id, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.most:
                return False
            seen.append(now)
            return True
