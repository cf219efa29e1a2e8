"""The stand-in speaks the Bot API as PTB 22.8 expects, and refuses what Telegram refuses."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.runtime.pacing import retry_seconds
from bot.runtime.transport import AiohttpRequest
from bot.standin import FloodLimits, StandIn


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    async with StandIn() as s:
        yield s


@pytest.fixture
async def bot(standin: StandIn) -> AsyncIterator[Bot]:
    async with Bot(standin.token, base_url=standin.base_url) as b:
        yield b


async def test_get_me_and_updates_parse_in_ptb(standin: StandIn, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "evalbot_standin_bot"
    alice = standin.user(1001, "Alice", lang="en")
    await alice.send("/start src-poster1")
    await alice.send_photo(caption="看这里")
    updates = await bot.get_updates(timeout=1)
    assert [type(u) for u in updates] == [Update, Update]
    start = updates[0].message
    assert start is not None and start.text == "/start src-poster1"
    assert start.entities[0].type == "bot_command"
    assert updates[1].message is not None and updates[1].message.caption == "看这里"
    # the next call confirms them; nothing is delivered twice
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    assert standin.pending_updates() == 0


async def test_long_polling_waits_for_an_update(standin: StandIn, bot: Bot) -> None:
    alice = standin.user(1001, "Alice")
    polling = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not polling.done()
    await alice.send("hello")
    updates = await asyncio.wait_for(polling, 2)
    assert updates[0].message is not None and updates[0].message.text == "hello"


async def test_what_telegram_refuses_is_refused(standin: StandIn, bot: Bot) -> None:
    standin.user(1001, "Alice")
    with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
        await bot.send_message(1001, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(1001, "x" * 4097)
    await bot.send_message(1001, "&lt;" * 4096, parse_mode="HTML")  # 4096 after parsing is fine
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(
            1001,
            "x",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("b", callback_data="d" * 65)]]
            ),
        )
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "nobody")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(1001, "   ")


async def test_a_blocked_user_is_forbidden(standin: StandIn, bot: Bot) -> None:
    standin.user(1001, "Alice").block()
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(1001, "hi")


async def test_flood_limits_answer_429_with_retry_after() -> None:
    async with StandIn(limits=FloodLimits(per_chat=1, chat_burst=3)) as standin:
        standin.user(1001, "Alice")
        async with Bot(standin.token, base_url=standin.base_url) as bot:
            first = await bot.send_message(1001, "one")
            await bot.send_message(1001, "two")  # a short burst is allowed …
            await bot.edit_message_text("one, edited", 1001, first.message_id)  # (edits count)
            with pytest.raises(RetryAfter) as raised:  # … then one a second
                await bot.send_message(1001, "four")
            assert retry_seconds(raised.value) >= 1
            await asyncio.sleep(1.05)
            await bot.send_message(1001, "four")


async def test_edits_count_overall_only_when_asked() -> None:
    for edits_overall, refused in ((False, 0), (True, 1)):
        limits = FloodLimits(
            per_second=2, per_chat=100, chat_burst=100, edits_overall=edits_overall
        )
        async with StandIn(limits=limits) as standin:
            standin.user(1001, "Alice")
            async with Bot(standin.token, base_url=standin.base_url) as bot:
                sent = await bot.send_message(1001, "one")
                await bot.edit_message_text("two", 1001, sent.message_id)
                with contextlib.suppress(RetryAfter):
                    await bot.edit_message_text("three", 1001, sent.message_id)
            assert standin.limits.refused == refused


async def test_buttons_edits_and_callback_answers(standin: StandIn, bot: Bot) -> None:
    alice = standin.user(1001, "Alice")
    sent = await bot.send_message(
        1001,
        "Pick",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("甲", callback_data="p:a")]]),
    )
    shown = await alice.reply()
    assert shown.buttons == (("甲",),) and shown.data == (("p:a",),)
    tap = await alice.tap("甲")
    [update] = await bot.get_updates(timeout=1)
    assert update.callback_query is not None and update.callback_query.data == "p:a"
    await update.callback_query.answer("ok")
    assert (await tap.answer()).text == "ok"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await update.callback_query.answer("again")
    await bot.edit_message_text("Picked 甲", chat_id=1001, message_id=sent.message_id)
    edited = await alice.reply()
    assert edited.edited and edited.text == "Picked 甲" and edited.buttons == ()
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("Picked 甲", chat_id=1001, message_id=sent.message_id)


async def test_polls_carry_the_bot_api_10_fields(standin: StandIn, bot: Bot) -> None:
    alice = standin.user(1001, "Alice")
    message = await bot.send_poll(
        1001,
        "东街街道社保所 · 服务质量",
        ["满意", "基本满意", "不满意", "不了解"],
        is_anonymous=False,
    )
    assert message.poll is not None
    assert message.poll.allows_revoting is True
    assert message.poll.options[0].persistent_id.endswith("-0")
    await alice.vote(message.poll.id, [1])
    [update] = await bot.get_updates(timeout=1)
    assert update.poll_answer is not None and update.poll_answer.option_ids == (1,)
    stopped = await bot.stop_poll(1001, message.message_id)
    assert stopped.is_closed and stopped.options[1].voter_count == 1


async def test_limits_count_characters_and_buttons_as_telegram_does(
    standin: StandIn, bot: Bot
) -> None:
    standin.user(1001, "Alice")
    # 4,096 characters outside the BMP fit (Telegram counts code points, not UTF-16)
    await bot.send_message(1001, "😀" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(1001, "😀" * 4097)

    def keyboard(rows: int, per_row: int, text: str = "x") -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(text, callback_data=f"{r}:{c}") for c in range(per_row)]
                for r in range(rows)
            ]
        )

    await bot.send_message(1001, "ok", reply_markup=keyboard(12, 8, "社保所"))  # 96 buttons
    for too_much in (keyboard(101, 1), keyboard(1, 9), keyboard(50, 2, "长" * 60)):
        with pytest.raises(BadRequest, match=r"(?i)reply markup is too long"):
            await bot.send_message(1001, "no", reply_markup=too_much)


async def test_a_webhook_gets_updates_at_once_each_chat_in_order(
    standin: StandIn, bot: Bot
) -> None:
    """Telegram POSTs up to max_connections updates at once; a chat's next update only
    after the bot took the one before; an update refused (500) is sent again, still ahead
    of its chat's later ones."""
    flying: list[int] = []  # the chats of the requests being answered
    most = 0
    taken: dict[int, list[str]] = {}
    refused = False

    async def hook(request: web.Request) -> web.Response:
        nonlocal most, refused
        message = (await request.json())["message"]
        chat = message["chat"]["id"]
        assert chat not in flying, f"two updates of chat {chat} at once"
        flying.append(chat)
        most = max(most, len(flying))
        await asyncio.sleep(0.05)
        flying.remove(chat)
        if message["text"] == "2 of 1003" and not refused:
            refused = True
            return web.Response(status=500)
        taken.setdefault(chat, []).append(message["text"])
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        people = [standin.user(1001 + n, f"U{n}") for n in range(5)]
        for k in range(4):
            for person in people:
                await person.send(f"{k} of {person.chat_id}")
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", max_connections=3)
        assert (await bot.get_webhook_info()).max_connections == 3
        for _ in range(300):
            if standin.pending_updates() == 0:
                break
            await asyncio.sleep(0.02)
        assert standin.pending_updates() == 0
        assert taken == {p.chat_id: [f"{k} of {p.chat_id}" for k in range(4)] for p in people}
        assert most == 3 and refused and standin.webhook.refused == 1
        with pytest.raises(BadRequest, match="max_connections"):
            await bot.set_webhook(f"http://127.0.0.1:{port}/hook", max_connections=101)
    finally:
        await bot.delete_webhook()
        await runner.cleanup()


async def test_a_call_made_once_reads_telegram_s_answers_as_ptb_does(standin: StandIn) -> None:
    """The pop-up's short way to the Bot API (AiohttpRequest.call): the result, or
    Telegram's refusal as PTB's error."""
    request = AiohttpRequest()
    await request.initialize()
    try:
        url = f"{standin.base_url}{standin.token}"
        me = await request.call(url, "getMe", {})
        assert me["username"] == "evalbot_standin_bot"
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await request.call(url, "answerCallbackQuery", {"callback_query_id": "404"})
    finally:
        await request.shutdown()
