"""What the stand-in remembers: users, chats, the messages in them, pending updates, polls.

The world is plain data plus signals: whoever waits for something in one chat (or for new
updates) is woken only by a change there, so thousands of simulated users can wait at
once without waking each other (see :meth:`World.wait`).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
GRACE = 0.25  # seconds after a 429 in which calls already on their way are not blamed
UPDATES = "updates"  # the topic of new updates, for getUpdates


@dataclass
class Sent:
    """A message in a chat, as it stands now (edits change it in place)."""

    message_id: int
    chat_id: int
    from_bot: bool
    kind: str  # text | photo | document | poll | sticker | …
    text: str = ""  # text or caption, as sent (HTML when parse_mode is HTML)
    plain: str = ""  # what the user sees
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    poll_id: str | None = None
    date: int = 0
    edits: int = 0
    deleted: bool = False
    raw: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """Something the bot did in a chat, in order: a message, an edit, a deletion."""

    kind: str  # message | edit | delete
    message_id: int
    snapshot: Sent
    text_changed: bool = True  # False for an edit of the buttons only


@dataclass
class Poll:
    poll_id: str
    chat_id: int
    message_id: int
    question: str
    options: list[str]
    is_anonymous: bool
    allows_multiple_answers: bool
    closed: bool = False
    votes: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class CallbackAnswer:
    text: str | None
    show_alert: bool


class FloodLimits:
    """Telegram's limits on sending, as the stand-in enforces them when asked to.

    ``per_second``: messages a second over all chats (sliding window); ``per_chat``:
    messages a second into one private chat, edits included, as a bucket that holds
    ``chat_burst`` (the short bursts Telegram allows) and refills at ``per_chat``;
    ``per_group_minute``: a minute per group. ``edits_overall``: whether edits count
    against ``per_second`` too (Telegram does not say; the pessimistic case). ``None``
    turns a limit off.
    """

    def __init__(
        self,
        per_second: float | None = None,
        per_chat: float | None = None,
        per_group_minute: int | None = None,
        *,
        chat_burst: float = 3.0,
        edits_overall: bool = False,
    ) -> None:
        self.per_second = per_second
        self.per_chat = per_chat
        self.per_group_minute = per_group_minute
        self.chat_burst = chat_burst
        self.edits_overall = edits_overall
        self._all: deque[float] = deque()
        self._chats: dict[int, deque[float]] = {}
        self._buckets: dict[int, tuple[float, float]] = {}  # chat: (tokens, when)
        self.flood_until = 0.0  # a forced flood: every send refused until then
        self.flood_chats: dict[int, float] = {}  # the same, for some chats only
        self.refused = 0
        self.refused_overall = 0  # of those, refused by the bot's overall limit
        # A 429 says "retry after N seconds"; a send inside that time ignored the answer,
        # unless it was already on its way when the answer left (GRACE: a loopback round
        # trip on a busy machine) — concurrent calls cannot have heard it.
        self._told_all = (0.0, 0.0)  # (from, until)
        self._told_chat: dict[int, tuple[float, float]] = {}
        self.ignored = 0

    @classmethod
    def telegram(cls, *, edits_overall: bool = False) -> FloodLimits:
        """Telegram's limits as documented: 30 a second, one a second a chat (with short
        bursts), 20 a minute a group."""
        return cls(30, 1, 20, edits_overall=edits_overall)

    def check(self, chat_id: int, now: float, edit: bool = False) -> float | None:
        """Seconds to wait if this send (or edit) is over a limit (it is then not counted)."""
        for since, until in (self._told_all, self._told_chat.get(chat_id, (0.0, 0.0))):
            if since <= now < until:
                self.ignored += 1  # sent inside a retry_after this chat (or everyone) got
                break
        over = self._over(chat_id, now, edit)
        if over is None:
            return None
        wait, everyone = over
        if everyone:
            self.refused_overall += 1
        told = now + max(1, int(wait + 0.999)) - 0.05  # retry_after is whole seconds
        if everyone:
            if now >= self._told_all[1]:
                self._told_all = (now + GRACE, told)
            else:
                self._told_all = (self._told_all[0], max(self._told_all[1], told))
        else:
            since, until = self._told_chat.get(chat_id, (0.0, 0.0))
            self._told_chat[chat_id] = (
                (now + GRACE, told) if now >= until else (since, max(until, told))
            )
        return wait

    def _over(self, chat_id: int, now: float, edit: bool) -> tuple[float, bool] | None:
        """(seconds to wait, whether the limit is everyone's), or None within limits."""
        if now < self.flood_until:
            return self.flood_until - now, True
        if now < self.flood_chats.get(chat_id, 0.0):
            return self.flood_chats[chat_id] - now, False
        overall = self.per_second is not None and (self.edits_overall or not edit)
        if overall:
            window = self._all
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= (self.per_second or 0):
                return window[0] + 1.0 - now, True
        group = chat_id < 0
        tokens = 0.0
        if group and self.per_group_minute is not None:
            chat_window = self._chats.setdefault(chat_id, deque())
            while chat_window and chat_window[0] <= now - 60.0:
                chat_window.popleft()
            if len(chat_window) >= self.per_group_minute:
                return chat_window[0] + 60.0 - now, False
            chat_window.append(now)
        elif not group and self.per_chat is not None:
            held, since = self._buckets.get(chat_id, (self.chat_burst, now))
            tokens = min(self.chat_burst, held + (now - since) * self.per_chat)
            if tokens < 1.0:
                return (1.0 - tokens) / self.per_chat, False
            self._buckets[chat_id] = (tokens - 1.0, now)
        if overall:
            self._all.append(now)
        return None


class World:
    """Everything the stand-in knows, and the notifications of change."""

    def __init__(self, bot_id: int = 7000000001, bot_username: str = "evalbot_standin_bot") -> None:
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Evaluation bot",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._signals: dict[object, asyncio.Event] = {}
        self.updates: list[JSON] = []  # not yet confirmed by an offset
        self.delivered_up_to = 0  # the highest update id confirmed by the bot
        self._next_update = itertools.count(1)
        self._next_query = itertools.count(1)
        self._next_poll = itertools.count(1)
        self._next_file = itertools.count(1)
        self.messages: dict[int, dict[int, Sent]] = {}
        self._next_message: dict[int, itertools.count[int]] = {}
        self.events: dict[int, list[Event]] = {}
        self.chats: dict[int, JSON] = {}
        self.polls: dict[str, Poll] = {}
        self.queries: dict[str, tuple[int, float]] = {}  # id -> (chat id, when asked)
        self.answers: dict[str, CallbackAnswer] = {}
        self.blocked: set[int] = set()
        self.commands: dict[str, list[JSON]] = {}
        self.calls: dict[str, int] = {}
        self.webhook: JSON | None = None
        # every call refused other than by the flood limits: (method, code, description)
        self.refusals: list[tuple[str, int, str]] = []
        self.uploads: list[bytes] = []  # files the bot uploaded, in order
        self.menu_buttons: dict[int, JSON] = {}  # setChatMenuButton, per chat
        self.on_update: Callable[[JSON], None] | None = None
        self.started = time.time()

    # -- ids and chats -------------------------------------------------------------------------

    def new_message_id(self, chat_id: int) -> int:
        counter = self._next_message.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def new_query_id(self) -> str:
        return f"q{next(self._next_query)}"

    def new_poll_id(self) -> str:
        return f"5{next(self._next_poll):09d}"

    def file_bytes(self, file_id: str) -> bytes | None:
        """What a file users sent holds (None: no such file): a small JPEG for a photo,
        a stand-in PDF for a document, made from the id so it is the same every time."""
        if file_id.startswith("photo-file-"):
            from io import BytesIO

            from PIL import Image

            n = int(file_id.split("-")[2])
            image = Image.new("RGB", (160, 120), ((n * 53) % 256, (n * 97) % 256, 180))
            out = BytesIO()
            image.save(out, format="JPEG", quality=80)
            return out.getvalue()
        if file_id.startswith("doc-file-"):
            return b"%PDF-1.4\n% stand-in document " + file_id.encode() + b"\n%%EOF\n"
        return None

    def new_file(self, prefix: str) -> tuple[str, str]:
        n = next(self._next_file)
        return f"{prefix}-file-{n:06d}", f"{prefix}-u{n:06d}"

    def chat(self, chat_id: int) -> JSON | None:
        return self.chats.get(chat_id)

    # -- what the bot sends --------------------------------------------------------------------

    def record(self, kind: str, message: Sent) -> None:
        events = self.events.setdefault(message.chat_id, [])
        before = next(
            (e.snapshot for e in reversed(events) if e.message_id == message.message_id), None
        )
        changed = before is None or before.plain != message.plain or before.raw != message.raw
        self.messages.setdefault(message.chat_id, {})[message.message_id] = message
        snapshot = Sent(**{**message.__dict__, "raw": dict(message.raw)})
        events.append(Event(kind, message.message_id, snapshot, changed or kind != "edit"))
        self.pulse(message.chat_id)

    def message(self, chat_id: int, message_id: int) -> Sent | None:
        found = self.messages.get(chat_id, {}).get(message_id)
        return None if found is None or found.deleted else found

    # -- updates -------------------------------------------------------------------------------

    def push_update(self, body: JSON) -> int:
        update_id = next(self._next_update)
        update = {"update_id": update_id, **body}
        self.updates.append(update)
        if self.on_update is not None:
            self.on_update(update)
        self.pulse(UPDATES)
        return update_id

    def confirm(self, offset: int) -> None:
        """getUpdates with ``offset`` confirms every update before it."""
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            self.delivered_up_to = max(self.delivered_up_to, offset - 1)

    def count(self, method: str) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1

    # -- waiting -----------------------------------------------------------------------------

    def pulse(self, topic: object) -> None:
        """Wake whoever waits on ``topic``: a chat id, or :data:`UPDATES`."""
        signal = self._signals.pop(topic, None)
        if signal is not None:
            signal.set()

    async def wait(self, topic: object, ready: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``ready()`` holds, looking again after each pulse of ``topic``;
        False when ``timeout`` seconds pass first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not ready():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            signal = self._signals.setdefault(topic, asyncio.Event())
            try:
                await asyncio.wait_for(signal.wait(), remaining)
            except TimeoutError:
                return ready()
        return True
