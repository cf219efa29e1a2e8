"""The Bot API methods the stand-in speaks, with Telegram's checks and error texts."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.standin.html import EntityError, plain
from bot.standin.webhook import MAX_CONNECTIONS
from bot.standin.world import JSON, UPDATES, CallbackAnswer, FloodLimits, Poll, Sent, World

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_BUTTONS = 100  # an inline keyboard's buttons …
MAX_ROW = 8  # … of which at most 8 in a row …
MAX_MARKUP_BYTES = 10_000  # … and about 10 kB of markup
QUERY_TIMEOUT = 15.0
SENDING = {"sendMessage", "sendPhoto", "sendDocument", "sendPoll", "sendMediaGroup"}
EDITING = {"editMessageText", "editMessageReplyMarkup", "editMessageCaption", "stopPoll"}


class ApiError(Exception):
    """A Bot API error answer: code, description and, for 429, retry_after."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _int(params: JSON, key: str, required: bool = True) -> int | None:
    value = params.get(key)
    if value is None:
        if required:
            raise bad(f"{key} is empty" if key != "chat_id" else "chat_id is empty")
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad(f"invalid {key} specified") from None


def _check_text(text: str, parse_mode: str | None, limit: int, what: str) -> str:
    try:
        shown = plain(text, parse_mode)
    except EntityError as exc:
        raise bad(str(exc)) from None
    if not shown.strip():
        raise bad(f"{what} is empty" if what == "message text" else f"{what} must be non-empty")
    if len(shown) > limit:  # Telegram counts characters (code points), not UTF-16 units
        raise bad("message is too long" if what == "message text" else f"{what} is too long")
    return shown


def check_markup(markup: Any) -> JSON | None:
    """Telegram's checks on reply_markup: button texts, callback_data of 1–64 bytes."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad(
                'can\'t parse inline keyboard button: field "inline_keyboard" must be '
                "an Array of Arrays"
            )
        size = len(json.dumps(markup, ensure_ascii=False).encode("utf-8"))
        if (
            sum(len(r) for r in rows) > MAX_BUTTONS
            or any(len(r) > MAX_ROW for r in rows)
            or size > MAX_MARKUP_BYTES
        ):
            raise bad("reply markup is too long")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                    raise bad("can't parse inline keyboard button: Text must be non-empty")
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode("utf-8"))
                    if not 1 <= size <= MAX_CALLBACK_DATA:
                        raise bad("BUTTON_DATA_INVALID")
                elif not any(
                    k in button
                    for k in ("url", "switch_inline_query", "copy_text", "web_app", "login_url")
                ):
                    raise bad(
                        "can't parse inline keyboard button: Text buttons are unallowed "
                        "in the inline keyboard"
                    )
    elif "keyboard" in markup:
        for row in markup["keyboard"]:
            for button in row:
                text = button.get("text") if isinstance(button, dict) else button
                if not str(text or "").strip():
                    raise bad("can't parse keyboard button: Text must be non-empty")
    return markup


class Api:
    """Bot API semantics over a :class:`World`."""

    def __init__(self, world: World, limits: FloodLimits | None = None) -> None:
        self.world = world
        self.limits = limits or FloodLimits()
        self.allowed_updates: list[str] = []
        self.methods: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            "getMe": self.get_me,
            "logOut": self.ok,
            "close": self.ok,
            "deleteWebhook": self.delete_webhook,
            "setWebhook": self.set_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "getUpdates": self.get_updates,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "sendPoll": self.send_poll,
            "stopPoll": self.stop_poll,
            "sendChatAction": self.ok,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "getChat": self.get_chat,
            "getFile": self.get_file,
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
        }

    async def call(self, method: str, params: JSON) -> Any:
        handler = self.methods.get(method)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        self.world.count(method)
        if method in SENDING or method in EDITING:
            try:
                chat_id = int(self._chat(params)["id"])  # "@name" too
            except ApiError:
                chat_id = 0  # the method itself answers for an unknown chat
            wait = self.limits.check(chat_id, time.monotonic(), edit=method in EDITING)
            if wait is not None:
                self.limits.refused += 1
                seconds = max(1, int(wait + 0.999))
                raise ApiError(429, f"Too Many Requests: retry after {seconds}", seconds)
        try:
            return await handler(params)
        except ApiError as exc:
            self.world.refusals.append((method, exc.code, exc.description))
            raise

    # -- plumbing ------------------------------------------------------------------------------

    async def ok(self, params: JSON) -> bool:
        return True

    async def get_me(self, params: JSON) -> JSON:
        return self.world.bot_user

    async def delete_webhook(self, params: JSON) -> bool:
        self.world.webhook = None
        if params.get("drop_pending_updates"):
            self.world.updates.clear()
        return True

    async def set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self.world.webhook = None
            return True
        if not url.startswith(("http://", "https://")):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (
            1 <= len(str(secret)) <= 256
            and all(c.isascii() and (c.isalnum() or c in "_-") for c in str(secret))
        ):
            raise bad("bad webhook: secret token contains unallowed characters")
        connections = params.get("max_connections", MAX_CONNECTIONS)
        if not isinstance(connections, int) or not 1 <= connections <= 100:
            raise bad("bad webhook: max_connections must be between 1 and 100")
        self.world.webhook = {"url": url, "secret_token": secret, "max_connections": connections}
        self.world.pulse(UPDATES)  # the pusher starts delivering
        return True

    async def get_webhook_info(self, params: JSON) -> JSON:
        hook = self.world.webhook or {}
        return {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.updates),
            **({"max_connections": hook["max_connections"]} if hook else {}),
        }

    async def get_updates(self, params: JSON) -> list[JSON]:
        if self.world.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params, "offset", required=False) or 0
        limit = max(1, min(100, _int(params, "limit", required=False) or 100))
        timeout = float(params.get("timeout") or 0)
        if params.get("allowed_updates") is not None:
            self.allowed_updates = list(params["allowed_updates"])
        world = self.world
        world.confirm(offset)
        deadline = time.monotonic() + timeout

        def ready() -> list[JSON]:
            found = [u for u in world.updates if u["update_id"] >= offset]
            if self.allowed_updates:
                found = [u for u in found if any(k in u for k in self.allowed_updates)]
            return found[:limit]

        await world.wait(UPDATES, lambda: bool(ready()), max(0.0, deadline - time.monotonic()))
        return ready()

    async def set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            name = str(command.get("command", ""))
            if (
                not name
                or len(name) > 32
                or not name.replace("_", "").isalnum()
                or name.lower() != name
            ):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.world.commands[self._scope_key(params)] = commands
        return True

    async def get_my_commands(self, params: JSON) -> list[JSON]:
        return self.world.commands.get(self._scope_key(params), [])

    async def delete_my_commands(self, params: JSON) -> bool:
        self.world.commands.pop(self._scope_key(params), None)
        return True

    @staticmethod
    def _scope_key(params: JSON) -> str:
        scope = params.get("scope") or {"type": "default"}
        key = scope.get("type", "default")
        if "chat_id" in scope:
            key += f":{scope['chat_id']}"
        if "user_id" in scope:
            key += f"/{scope['user_id']}"
        return f"{key}|{params.get('language_code') or ''}"

    async def get_chat(self, params: JSON) -> JSON:
        return self._chat(params)

    async def get_file(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id") or "")
        data = self.world.file_bytes(file_id)
        if data is None:
            raise bad("invalid file_id")
        folder = "photos" if file_id.startswith("photo") else "documents"
        return {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_size": len(data),
            "file_path": f"{folder}/{file_id}",
        }

    async def set_chat_menu_button(self, params: JSON) -> bool:
        button = params.get("menu_button") or {"type": "default"}
        if isinstance(button, str):
            button = json.loads(button)
        if button.get("type") == "web_app":
            url = str((button.get("web_app") or {}).get("url") or "")
            if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
                raise bad(
                    "BUTTON_URL_INVALID"
                )  # Telegram takes only https (loopback: the stand-in)
            if not str(button.get("text") or "").strip():
                raise bad("menu button text is empty")
        chat = params.get("chat_id")
        self.world.menu_buttons[int(chat) if chat else 0] = button
        return True

    async def get_chat_menu_button(self, params: JSON) -> JSON:
        chat = params.get("chat_id")
        key = int(chat) if chat else 0
        return self.world.menu_buttons.get(key) or {"type": "default"}

    # -- sending -------------------------------------------------------------------------------

    def _chat(self, params: JSON) -> JSON:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            found = next(
                (c for c in self.world.chats.values() if c.get("username") == raw[1:]), None
            )
        else:
            found = self.world.chat(_int(params, "chat_id") or 0)
        if found is None:
            raise bad("chat not found")
        if found["id"] in self.world.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return found

    def _message_json(self, sent: Sent) -> JSON:
        chat = self.world.chat(sent.chat_id) or {"id": sent.chat_id, "type": "private"}
        body: JSON = {
            "message_id": sent.message_id,
            "date": sent.date,
            "chat": chat,
            "from": self.world.bot_user,
            **sent.raw,
        }
        if sent.edits:
            body["edit_date"] = int(time.time())
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            body["reply_markup"] = sent.reply_markup
        return body

    async def _deliver(self, sent: Sent) -> JSON:
        self.world.record("message", sent)
        return self._message_json(sent)

    def _new(self, chat: JSON, kind: str, params: JSON) -> Sent:
        return Sent(
            message_id=self.world.new_message_id(chat["id"]),
            chat_id=chat["id"],
            from_bot=True,
            kind=kind,
            parse_mode=params.get("parse_mode") or None,
            reply_markup=check_markup(params.get("reply_markup")),
            date=int(time.time()),
        )

    async def send_message(self, params: JSON) -> JSON:
        chat = self._chat(params)
        text = str(params.get("text") or "")
        sent = self._new(chat, "text", params)
        sent.text = text
        sent.plain = _check_text(text, sent.parse_mode, MAX_TEXT, "message text")
        sent.raw = {"text": sent.plain}
        return await self._deliver(sent)

    async def _send_file(self, params: JSON, kind: str) -> JSON:
        chat = self._chat(params)
        sent = self._new(chat, kind, params)
        caption = str(params.get("caption") or "")
        sent.text = caption
        sent.plain = (
            _check_text(caption, sent.parse_mode, MAX_CAPTION, "message caption") if caption else ""
        )
        upload = params.get(kind)
        if upload is None or upload == "":
            raise bad(f"there is no {kind} in the request")
        if isinstance(upload, str):
            file_id, unique = upload, f"u-{upload}"
        else:
            file_id, unique = self.world.new_file(kind)
            content = getattr(upload, "file", None)
            self.world.uploads.append(content.read() if content is not None else b"")
        if kind == "photo":
            sent.raw = {
                "photo": [
                    {
                        "file_id": file_id,
                        "file_unique_id": unique,
                        "width": 800,
                        "height": 600,
                        "file_size": 1000,
                    }
                ]
            }
        else:
            name = getattr(upload, "filename", None) or "file"
            sent.raw = {
                "document": {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "file_name": name,
                    "file_size": 1000,
                }
            }
        if caption:
            sent.raw["caption"] = sent.plain
        return await self._deliver(sent)

    async def send_photo(self, params: JSON) -> JSON:
        return await self._send_file(params, "photo")

    async def send_document(self, params: JSON) -> JSON:
        return await self._send_file(params, "document")

    async def edit_message_text(self, params: JSON) -> JSON:
        sent = self._editable(params)
        text = str(params.get("text") or "")
        parse_mode = params.get("parse_mode") or None
        shown = _check_text(text, parse_mode, MAX_TEXT, "message text")
        markup = check_markup(params.get("reply_markup"))
        if sent.kind != "text":
            raise bad("there is no text in the message to edit")
        if shown == sent.plain and markup == sent.reply_markup:
            raise bad(
                "message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of "
                "the message"
            )
        sent.text, sent.plain, sent.parse_mode, sent.reply_markup = text, shown, parse_mode, markup
        sent.raw = {"text": shown}
        return await self._edited(sent)

    async def edit_message_reply_markup(self, params: JSON) -> JSON:
        sent = self._editable(params)
        markup = check_markup(params.get("reply_markup"))
        if markup == sent.reply_markup:
            raise bad(
                "message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of "
                "the message"
            )
        sent.reply_markup = markup
        return await self._edited(sent)

    def _editable(self, params: JSON) -> Sent:
        chat = self._chat(params)
        message_id = _int(params, "message_id")
        sent = self.world.message(chat["id"], message_id or 0)
        if sent is None:
            raise bad("message to edit not found")
        if not sent.from_bot:
            raise bad("message can't be edited")
        return sent

    async def _edited(self, sent: Sent) -> JSON:
        sent.edits += 1
        self.world.record("edit", sent)
        return self._message_json(sent)

    async def delete_message(self, params: JSON) -> bool:
        chat = self._chat(params)
        sent = self.world.message(chat["id"], _int(params, "message_id") or 0)
        if sent is None:
            raise bad("message to delete not found")
        sent.deleted = True
        self.world.record("delete", sent)
        return True

    async def answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        asked = self.world.queries.get(query_id)
        if asked is None or query_id in self.world.answers:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        if time.monotonic() - asked[1] > QUERY_TIMEOUT:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad("MESSAGE_TOO_LONG")
        self.world.answers[query_id] = CallbackAnswer(
            str(text) if text else None, str(params.get("show_alert")).lower() == "true"
        )
        self.world.pulse(asked[0])
        return True

    # -- polls ---------------------------------------------------------------------------------

    async def send_poll(self, params: JSON) -> JSON:
        chat = self._chat(params)
        question = str(params.get("question") or "")
        if not 1 <= len(question) <= 300:
            raise bad("POLL_QUESTION_INVALID" if question else "poll question must be non-empty")
        raw_options = params.get("options") or []
        options = [o.get("text", "") if isinstance(o, dict) else str(o) for o in raw_options]
        if not 2 <= len(options) <= 12:
            raise bad(
                "poll must have at least 2 option"
                if len(options) < 2
                else "poll can't have more than 12 options"
            )
        if any(not 1 <= len(o) <= 100 for o in options):
            raise bad("POLL_OPTION_INVALID")
        is_anonymous = str(params.get("is_anonymous", "true")).lower() != "false"
        multiple = str(params.get("allows_multiple_answers", "false")).lower() == "true"
        poll = Poll(
            self.world.new_poll_id(), chat["id"], 0, question, options, is_anonymous, multiple
        )
        sent = self._new(chat, "poll", params)
        sent.text = sent.plain = question
        sent.poll_id = poll.poll_id
        poll.message_id = sent.message_id
        self.world.polls[poll.poll_id] = poll
        sent.raw = {"poll": self.poll_json(poll)}
        return await self._deliver(sent)

    async def stop_poll(self, params: JSON) -> JSON:
        chat = self._chat(params)
        sent = self.world.message(chat["id"], _int(params, "message_id") or 0)
        if sent is None or sent.poll_id is None:
            raise bad("message with poll to stop not found")
        poll = self.world.polls[sent.poll_id]
        if poll.closed:
            raise bad("poll has already been closed")
        poll.closed = True
        sent.raw = {"poll": self.poll_json(poll)}
        self.world.record("edit", sent)
        return self.poll_json(poll)

    @staticmethod
    def poll_json(poll: Poll) -> JSON:
        counts = [0] * len(poll.options)
        for chosen in poll.votes.values():
            for i in chosen:
                counts[i] += 1
        return {
            "id": poll.poll_id,
            "question": poll.question,
            "options": [
                {"text": text, "voter_count": counts[i], "persistent_id": f"{poll.poll_id}-{i}"}
                for i, text in enumerate(poll.options)
            ],
            "total_voter_count": len(poll.votes),
            "is_closed": poll.closed,
            "is_anonymous": poll.is_anonymous,
            "type": "regular",
            "allows_multiple_answers": poll.allows_multiple_answers,
            "allows_revoting": True,
            "members_only": False,
        }
