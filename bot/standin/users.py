"""Simulated Telegram users: they send what people send and read what the bot answered."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.standin.world import JSON, CallbackAnswer, Event, Sent

if TYPE_CHECKING:
    from bot.standin import StandIn


class NoReply(AssertionError):
    """The bot did not answer in time; the message lists what the chat holds."""


@dataclass(frozen=True)
class BotMessage:
    """A message from the bot as the user sees it (at one moment)."""

    message_id: int
    kind: str
    text: str  # what the user sees: HTML parsed
    html: str  # as the bot sent it
    buttons: tuple[tuple[str, ...], ...]
    data: tuple[tuple[str, ...], ...]  # callback data (or URL) behind each button
    edited: bool
    event: str  # message | edit | delete
    poll_id: str | None = None
    poll_options: tuple[str, ...] = ()

    @classmethod
    def of(cls, event: Event) -> BotMessage:
        sent = event.snapshot
        rows = (sent.reply_markup or {}).get("inline_keyboard") or []
        reply_rows = (sent.reply_markup or {}).get("keyboard") or []
        labels = tuple(tuple(str(b.get("text", "")) for b in row) for row in rows) + tuple(
            tuple(str(b.get("text", "")) if isinstance(b, dict) else str(b) for b in row)
            for row in reply_rows
        )
        data = tuple(
            tuple(str(b.get("callback_data") or b.get("url") or "") for b in row) for row in rows
        )
        poll = sent.raw.get("poll") or {}
        return cls(
            message_id=sent.message_id,
            kind=sent.kind,
            text=sent.plain,
            html=sent.text,
            buttons=labels,
            data=data,
            edited=event.kind == "edit",
            event=event.kind,
            poll_id=sent.poll_id,
            poll_options=tuple(o["text"] for o in poll.get("options", [])),
        )

    @property
    def labels(self) -> list[str]:
        return [label for row in self.buttons for label in row]

    def has_button(self, label: str) -> bool:
        return any(label in b for b in self.labels)

    def __str__(self) -> str:
        buttons = " ".join(f"[{b}]" for b in self.labels)
        tag = "(edited) " if self.edited else ""
        return f"{tag}{self.text}" + (f"\n    {buttons}" if buttons else "")


class Tap:
    """A button press; ``await tap.answer()`` gives the bot's answerCallbackQuery."""

    def __init__(self, user: SimUser, query_id: str, update_id: int = 0) -> None:
        self.user = user
        self.query_id = query_id
        self.update_id = update_id  # the update that carried the press

    async def answer(self, timeout: float = 10.0) -> CallbackAnswer:
        world = self.user.standin.world
        if not await world.wait(self.user.chat_id, lambda: self.query_id in world.answers, timeout):
            raise NoReply(f"the bot did not answer the button press {self.query_id}")
        return world.answers[self.query_id]


_media_groups = itertools.count(1)


class SimUser:
    """One person in a private chat with the bot."""

    def __init__(
        self,
        standin: StandIn,
        user_id: int,
        first_name: str,
        last_name: str = "",
        username: str = "",
        lang: str = "zh-hans",
    ) -> None:
        self.standin = standin
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.lang = lang
        self.cursor = 0  # events of this chat already read
        self.sent: list[int] = []
        # the transcript so far, and how many of the chat's events it has read (events are
        # only ever appended: each is read once, not at every look at the chat)
        self._transcript: list[BotMessage] = []
        self._read = 0
        standin.world.chats[user_id] = self.chat_json()

    @property
    def chat_id(self) -> int:
        return self.id

    def user_json(self) -> JSON:
        body: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            body["last_name"] = self.last_name
        if self.username:
            body["username"] = self.username
        if self.lang:
            body["language_code"] = self.lang
        return body

    def chat_json(self) -> JSON:
        body: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            body["last_name"] = self.last_name
        if self.username:
            body["username"] = self.username
        return body

    # -- sending -------------------------------------------------------------------------------

    def _message(self, chat: JSON, **content: Any) -> JSON:
        message_id = self.standin.world.new_message_id(chat["id"])
        self.sent.append(message_id)
        user_message = Sent(
            message_id, chat["id"], from_bot=False, kind="user", date=int(time.time())
        )
        self.standin.world.messages.setdefault(chat["id"], {})[message_id] = user_message
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": self.user_json(),
            **content,
        }

    async def push(self, body: JSON) -> int:
        return self.standin.world.push_update(body)

    async def send(self, text: str, chat: JSON | None = None) -> int:
        """Type and send ``text`` (a leading /command is marked as Telegram marks it)."""
        content: JSON = {"text": text}
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0]) if text.strip() else 1
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self.push({"message": self._message(chat or self.chat_json(), **content)})

    async def send_photo(self, caption: str | None = None, media_group: str | None = None) -> int:
        file_id, unique = self.standin.world.new_file("photo")
        content: JSON = {
            "photo": [
                {
                    "file_id": file_id + "-s",
                    "file_unique_id": unique + "s",
                    "width": 90,
                    "height": 67,
                    "file_size": 1200,
                },
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "width": 1280,
                    "height": 960,
                    "file_size": 120000,
                },
            ]
        }
        if caption is not None:
            content["caption"] = caption
        if media_group:
            content["media_group_id"] = media_group
        return await self.push({"message": self._message(self.chat_json(), **content)})

    async def send_album(self, count: int) -> list[int]:
        group = f"mg{next(_media_groups)}"
        return [await self.send_photo(media_group=group) for _ in range(count)]

    async def send_document(self, file_name: str = "材料.pdf", caption: str | None = None) -> int:
        file_id, unique = self.standin.world.new_file("doc")
        content: JSON = {
            "document": {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_name": file_name,
                "mime_type": "application/pdf",
                "file_size": 50000,
            }
        }
        if caption is not None:
            content["caption"] = caption
        return await self.push({"message": self._message(self.chat_json(), **content)})

    async def send_sticker(self) -> int:
        file_id, unique = self.standin.world.new_file("sticker")
        return await self.push(
            {
                "message": self._message(
                    self.chat_json(),
                    sticker={
                        "file_id": file_id,
                        "file_unique_id": unique,
                        "type": "regular",
                        "width": 512,
                        "height": 512,
                        "is_animated": False,
                        "is_video": False,
                        "emoji": "👍",
                    },
                )
            }
        )

    async def send_other(self, **content: Any) -> int:
        """Send a message of any other kind (location, contact, voice …) as given."""
        return await self.push({"message": self._message(self.chat_json(), **content)})

    async def edit(self, message_id: int, text: str) -> int:
        """Edit one of this user's earlier text messages."""
        return await self.push(
            {
                "edited_message": {
                    "message_id": message_id,
                    "date": int(time.time()) - 5,
                    "edit_date": int(time.time()),
                    "chat": self.chat_json(),
                    "from": self.user_json(),
                    "text": text,
                }
            }
        )

    # -- buttons and polls ---------------------------------------------------------------------

    async def tap(self, label: str, message: BotMessage | None = None) -> Tap:
        """Press the button whose text contains ``label`` on ``message`` (default: the latest
        bot message in the chat that has such a button)."""
        target = message or self.find_button(label)
        sent = self.standin.world.message(self.chat_id, target.message_id)
        if sent is None:
            raise AssertionError(f"message {target.message_id} is gone")
        rows = (sent.reply_markup or {}).get("inline_keyboard") or []
        for row in rows:
            for button in row:
                if label in str(button.get("text", "")) and "callback_data" in button:
                    return await self.press(target.message_id, str(button["callback_data"]))
        raise AssertionError(f"no button {label!r} on message {target.message_id}: {target}")

    async def press(self, message_id: int, data: str) -> Tap:
        """Send a callback query with ``data`` from message ``message_id`` (may be forged)."""
        world = self.standin.world
        sent = world.message(self.chat_id, message_id)
        message = (
            self.standin.api._message_json(sent)
            if sent is not None
            else {"message_id": message_id, "date": 0, "chat": self.chat_json()}
        )
        query_id = world.new_query_id()
        world.queries[query_id] = (self.chat_id, time.monotonic())
        update_id = await self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user_json(),
                    "message": message,
                    "chat_instance": f"ci{self.chat_id}",
                    "data": data,
                }
            }
        )
        return Tap(self, query_id, update_id)

    async def press_inline(self, data: str) -> Tap:
        """A button on an inline message (sent through the bot in another chat): the
        press carries an ``inline_message_id`` and no message."""
        world = self.standin.world
        query_id = world.new_query_id()
        world.queries[query_id] = (self.chat_id, time.monotonic())
        update_id = await self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user_json(),
                    "inline_message_id": f"AAAA{query_id}",
                    "chat_instance": f"ci{self.chat_id}",
                    "data": data,
                }
            }
        )
        return Tap(self, query_id, update_id)

    async def vote(self, poll_id: str, option_ids: list[int]) -> int:
        """Answer (or, with no options, retract) a non-anonymous poll."""
        poll = self.standin.world.polls[poll_id]
        if option_ids:
            poll.votes[self.id] = list(option_ids)
        else:
            poll.votes.pop(self.id, None)
        return await self.push(
            {
                "poll_answer": {
                    "poll_id": poll_id,
                    "user": self.user_json(),
                    "option_ids": option_ids,
                    "option_persistent_ids": [f"{poll_id}-{i}" for i in option_ids],
                }
            }
        )

    def block(self) -> None:
        """Block the bot: it can no longer write to this user."""
        self.standin.world.blocked.add(self.id)

    def unblock(self) -> None:
        self.standin.world.blocked.discard(self.id)

    # -- reading -------------------------------------------------------------------------------

    def events(self) -> list[Event]:
        """What the bot did in this chat, leaving out edits that only took buttons away."""
        return [e for e in self.standin.world.events.get(self.chat_id, []) if e.text_changed]

    def transcript(self) -> list[BotMessage]:
        """Every message and edit from the bot in this chat, in order."""
        events = self.standin.world.events.get(self.chat_id, [])
        if len(events) < self._read:  # (a new world)
            self._transcript, self._read = [], 0
        self._transcript += [BotMessage.of(e) for e in events[self._read :] if e.text_changed]
        self._read = len(events)
        return list(self._transcript)

    def unread(self) -> list[BotMessage]:
        return self.transcript()[self.cursor :]

    def latest(self) -> BotMessage:
        """The newest bot message in the chat, as it stands now."""
        messages = self.standin.world.messages.get(self.chat_id, {})
        mine = [m for m in messages.values() if m.from_bot and not m.deleted]
        if not mine:
            raise NoReply(f"the bot has sent nothing to {self.first_name}")
        newest = max(mine, key=lambda m: m.message_id)
        return BotMessage.of(Event("message", newest.message_id, newest))

    def current(self, message_id: int) -> BotMessage:
        """Message ``message_id`` as it stands now (also after an edit of its buttons only)."""
        sent = self.standin.world.message(self.chat_id, message_id)
        if sent is None:
            raise NoReply(f"message {message_id} is not in {self.first_name}'s chat")
        return BotMessage.of(Event("message", sent.message_id, sent))

    def last_changed(self) -> BotMessage | None:
        """The bot message that changed last (sent or edited), as it stands now: where a
        person's eyes go."""
        world = self.standin.world
        for event in reversed(world.events.get(self.chat_id, [])):
            sent = world.message(self.chat_id, event.message_id)
            if sent is not None and sent.from_bot:
                return BotMessage.of(Event("message", sent.message_id, sent))
        return None

    def find_button(self, label: str) -> BotMessage:
        messages = self.standin.world.messages.get(self.chat_id, {})
        for sent in sorted(messages.values(), key=lambda m: -m.message_id):
            if sent.from_bot and not sent.deleted:
                view = BotMessage.of(Event("message", sent.message_id, sent))
                if view.has_button(label):
                    return view
        raise AssertionError(f"no message to {self.first_name} has a button {label!r}")

    async def reply(self, timeout: float = 10.0) -> BotMessage:
        """Wait for the bot's next message or edit in this chat, and read it."""
        [message] = await self.replies(1, timeout)
        return message

    async def replies(self, count: int, timeout: float = 10.0) -> list[BotMessage]:
        world = self.standin.world
        arrived = await world.wait(
            self.chat_id, lambda: len(self.events()) >= self.cursor + count, timeout
        )
        if not arrived:
            seen = "\n".join(f"  {m}" for m in self.transcript()[-5:]) or "  (nothing)"
            raise NoReply(
                f"{self.first_name} waited {timeout}s for {count} answer(s); the last ones:\n{seen}"
            )
        got = self.transcript()[self.cursor : self.cursor + count]
        self.cursor += count
        return got

    def skip_unread(self) -> None:
        self.cursor = len(self.events())


class SimGroup:
    """A group chat the bot is in; members send through :meth:`send`."""

    def __init__(self, standin: StandIn, chat_id: int, title: str) -> None:
        self.standin = standin
        self.chat_id = chat_id
        self.title = title
        standin.world.chats[chat_id] = self.chat_json()

    def chat_json(self) -> JSON:
        return {"id": self.chat_id, "type": "supergroup", "title": self.title}

    async def send(self, member: SimUser, text: str) -> int:
        return await member.send(text, chat=self.chat_json())

    def transcript(self) -> list[BotMessage]:
        return [BotMessage.of(e) for e in self.standin.world.events.get(self.chat_id, [])]
