"""Property-based fuzzing: thousands of generated updates of every kind, from people in every
role, through the real bot and the stand-in. Whatever arrives: no unhandled exception, every
call the bot makes is accepted by the API, and nothing changes that its sender was not
entitled to change."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.chat.callbacks import Kind
from bot.standin import SimUser
from tests.support.harness import Harness
from tests.support.helpers import done, errors_logged, people

COMMANDS = [
    "/start", "/help", "/opinion", "/new", "/cancel", "/status", "/history", "/cases",
    "/overdue", "/invite", "/ballots", "/turnout", "/daily", "/rank", "/results", "/flagged",
    "/proposal", "/publish", "/subscribe", "/unsubscribe", "/record", "/finding", "/summary",
    "/hot", "/export", "/nosuchcommand",
]  # fmt: skip
WORDS = [
    "dongjie", "xijie", "nanyuan", "1", "2", "0", "-1", "99999999999999999999", "9.5", "abc",
    "staff", "supervisor", "evaluator", "public_rep", "general", "punished", "open", "close",
    "cases", "results", "<b>", "&amp;", "'", '"', "%s", "{{ x }}", "\u200b", "🙂", "东街",
]  # fmt: skip
KINDS = [k.value for k in Kind]

# Code points that break careless code: control characters (openpyxl refuses them),
# direction marks, joiners, a BOM, the replacement character, non-characters.
UNUSUAL = [chr(c) for c in (*range(0, 32), 0x7F, 0x85, 0xA0, 0xAD)] + [
    "\u200b", "\u200d", "\u200e", "\u202e", "\u2028", "\ufeff", "\ufffd", "\uffff",
    "\U0001f600", "\U0001f3f3\ufe0f\u200d\U0001f308", "\U000e0001",
]  # fmt: skip
# Every script's digits, and characters str.isdigit() calls digits that int() refuses.
ZEROS = [0x30, 0x660, 0x6F0, 0x966, 0x9E6, 0xE50, 0x1040, 0xFF10, 0x1D7CE, 0x1D7EC]
NOT_DECIMAL = ["²", "³", "¹", "①", "⑩", "¼", "Ⅻ", "〇", "五"]

# Any character a person can send: whatever UTF-8 can carry (a lone surrogate cannot
# reach Telegram, nor come from it).
unusual_text = st.lists(
    st.one_of(st.characters(codec="utf-8"), st.sampled_from(UNUSUAL)), max_size=300
).map("".join)
emoji_text = st.text(  # up to a whole message of characters outside the BMP
    alphabet=st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
    min_size=1,
    max_size=4096,
)


def _in_script(number: int, zero: int) -> str:
    return "".join(chr(zero + int(d)) for d in str(number))


numbers = st.one_of(
    st.builds(_in_script, st.integers(0, 400), st.sampled_from(ZEROS)),
    st.lists(st.sampled_from(NOT_DECIMAL), min_size=1, max_size=3).map("".join),
    st.builds(lambda a, b: f"{a}{b}", st.integers(0, 9), st.sampled_from(NOT_DECIMAL)),
)
# the commands that take numbers, each with a number written in any of those forms
numeric_commands = st.one_of(
    st.builds(lambda n: f"/status {n}", numbers),
    st.builds(lambda n: f"/history {n}", numbers),
    st.builds(lambda n: f"/hot {n}", numbers),
    st.builds(lambda n: f"/hot dongjie {n}", numbers),
    st.builds(lambda n: f"/invite evaluator public_rep {n}", numbers),
    st.builds(lambda n: f"/daily dongjie {n}", numbers),
    st.builds(lambda n, m: f"/daily dongjie {n}.{m}", numbers, numbers),
)

texts = st.one_of(
    st.text(max_size=300),
    unusual_text,
    emoji_text,
    numeric_commands,
    st.builds(
        lambda c, args: " ".join([c, *args]),
        st.sampled_from(COMMANDS),
        st.lists(
            st.one_of(st.sampled_from(WORDS), st.text(max_size=12), unusual_text, numbers),
            max_size=4,
        ),
    ),
    st.sampled_from(["东街街道社保所", "服务质量", "下一步", "对单位匿名", "确认提交", "满意"]),
)
callback_data = st.one_of(
    st.text(max_size=70),
    st.builds(
        lambda k, args: ":".join([k, *args]),
        st.sampled_from(KINDS),
        st.lists(
            st.one_of(st.sampled_from(WORDS), st.integers(-5, 50).map(str), st.text(max_size=8)),
            max_size=4,
        ),
    ),
)
common = st.one_of(
    st.tuples(st.just("text"), texts),
    st.tuples(st.just("press"), callback_data),
    st.tuples(st.just("inline_press"), callback_data),  # a press with no message
    st.tuples(
        st.just("tap"),
        st.sampled_from(["东街街道社保所", "服务质量", "下一步", "实名", "确认提交", "开始核实"]),
    ),
    st.tuples(
        st.just("other"),
        st.sampled_from(["sticker", "photo", "document", "location", "contact", "voice", "album"]),
    ),
    st.tuples(st.just("edit"), texts),
    st.tuples(st.just("poll_answer"), st.integers(0, 3)),
    st.tuples(st.just("group"), texts),
)
# An organiser stores such a text (an offline /record, or a proposal) and exports: rarer,
# as each record notifies people at Telegram's pace of one message a second a chat.
stored = st.one_of(
    st.tuples(st.just("record"), unusual_text), st.tuples(st.just("proposal"), unusual_text)
)


def _with(base: list[Any], extra: list[tuple[int, Any]]) -> list[Any]:
    script = list(base)
    for at, action in extra:
        script.insert(at % (len(script) + 1), (6, action))  # the organiser stores
    return script


steps = st.builds(
    _with,
    st.lists(st.tuples(st.integers(0, 6), common), min_size=40, max_size=80),
    st.lists(st.tuples(st.integers(0, 80), stored), max_size=2),
)


async def act(person: SimUser, action: tuple[str, Any], harness: Harness) -> None:
    kind, arg = action
    if kind == "text":
        await person.send(arg)
    elif kind == "press":
        transcript = person.transcript()
        message = transcript[-1].message_id if transcript else 1
        await person.press(message, arg)
    elif kind == "tap":
        try:
            await person.tap(arg)
        except AssertionError:  # no such button on screen: a press on nothing instead
            await person.press(
                person.transcript()[-1].message_id if person.transcript() else 1, "x:1"
            )
    elif kind == "other":
        if arg == "sticker":
            await person.send_sticker()
        elif arg == "photo":
            await person.send_photo("<i>照片</i> & 说明")
        elif arg == "document":
            await person.send_document()
        elif arg == "album":
            await person.send_album(3)
        elif arg == "location":
            await person.send_other(location={"latitude": 31.2, "longitude": 121.5})
        elif arg == "contact":
            await person.send_other(contact={"phone_number": "13800000000", "first_name": "某"})
        else:
            await person.send_other(voice={"file_id": "v1", "file_unique_id": "v1u", "duration": 3})
    elif kind == "inline_press":  # pressed on an inline message: the query has no message
        await person.press_inline(arg)
    elif kind in ("record", "proposal"):  # stored by an organiser, then exported
        await stored_and_exported(harness, kind, arg)
    elif kind == "edit":
        mine = person.sent[-1] if person.sent else 1
        await person.edit(mine, arg)
    elif kind == "poll_answer":  # for a poll the bot never sent; odd ones malformed
        answer: dict[str, Any] = {
            "poll_id": f"unknown-{arg}",
            "user": person.user_json(),
            "option_ids": [arg],
            "option_persistent_ids": [f"unknown-{arg}-{arg}"],
        }
        if arg % 2:
            del answer["option_persistent_ids"]  # as Bot API before 9.6 sent it
        await person.push({"poll_answer": answer})
    elif kind == "group":
        group = harness.standin.group(-100500, "街道居民群")
        await group.send(person, arg)


async def stored_and_exported(harness: Harness, kind: str, text: str) -> None:
    """An organiser stores ``text`` (an offline record, or a proposal), then exports."""
    organiser = harness.organiser()
    if kind == "record":
        for say in ("/cancel", "/record"):
            await done(harness, await organiser.send(say))
        for step in ("走访", "东街街道社保所", "服务质量"):
            await tapped(harness, organiser, step)
        await done(harness, await organiser.send(text or "空"))
        for step in ("不加附件", "对单位匿名", "确认提交"):
            await tapped(harness, organiser, step)
    else:
        await done(harness, await organiser.send(f"/proposal dongjie {text}"))
    for which in ("cases", "results"):
        await organiser.send(f"/export {which}")


async def tapped(harness: Harness, person: SimUser, label: str) -> None:
    with contextlib.suppress(AssertionError):  # the step did not come (text refused): go on
        await done(harness, (await person.tap(label)).update_id)


# Telegram's answers to an edit or deletion of a message that is unchanged or gone: the
# bot cannot know beforehand (a forged press names any message) and expects them.
BENIGN = {
    "editMessageText": ("message is not modified", "message to edit not found"),
    "editMessageReplyMarkup": ("message is not modified", "message to edit not found"),
    "deleteMessage": ("message to delete not found", "message can't be deleted"),
}


def benign(refusal: tuple[str, int, str]) -> bool:
    method, code, description = refusal
    return code == 400 and any(d in description for d in BENIGN.get(method, ()))


async def entitled(harness: Harness, who: dict[str, SimUser]) -> list[str]:
    """What changed that its maker was not entitled to change."""
    db = harness.services.db
    organiser = who["organiser"].id
    wrong = []
    for table, column in (
        ("daily_scores", "set_by"),
        ("proposals", "made_by"),
        ("publications", "published_by"),
        ("findings", "recorded_by"),
        ("invites", "created_by"),
    ):
        for row in await db.fetchall(f"SELECT {column} FROM {table}"):  # our own names
            if row[0] != organiser:
                wrong.append(f"{table} by {row[0]}")
    evaluator = harness.services.ballot_key.pseudonym(who["evaluator"].id)
    for row in await db.fetchall("SELECT DISTINCT voter FROM ballots"):
        if row[0] != evaluator:
            wrong.append(f"a ballot by {row[0]}")
    events = await db.fetchall(
        "SELECT e.actor_id, e.actor_role, e.to_state, c.unit_id, c.author_id, e.from_state "
        "FROM case_events e JOIN cases c ON c.id = e.case_id"
    )
    for actor, role, to_state, unit, author, from_state in events:
        if role == "organiser":
            ok = actor == organiser
        elif role == "staff":
            ok = (actor == who["own"].id and unit == "dongjie") or (
                actor == who["other"].id and unit == "xijie"
            )
        elif role == "supervisor":
            ok = actor == who["supervisor"].id and unit == "dongjie"
        elif role == "resident":
            ok = from_state is None or actor == author  # filing, or the author's rating
        else:
            ok = role == "system"
        if not ok:
            wrong.append(f"case move to {to_state} by {actor} as {role} on {unit}")
    return wrong


@pytest.mark.timeout(900)
@settings(
    max_examples=60,
    deadline=None,
    # one bot lives through every example (its state grows, as in a campaign), so a failing
    # script is reported as generated, not shrunk: shrinking would replay it on a changed bot
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=steps)
async def test_generated_updates_break_nothing(harness: Harness, script: list[Any]) -> None:
    who = FUZZ_PEOPLE.get(id(harness))
    if who is None:
        who = FUZZ_PEOPLE[id(harness)] = await people(harness)
        harness.standin.channel(-1007777, "评议公示", "shebao_pingyi_demo")  # for /publish
    cast = list(who.values())
    harness.standin.world.refusals.clear()
    with errors_logged() as errors:
        for index, action in script:
            await act(cast[index], action, harness)
        await harness.settle(timeout=60)
    assert not [r.getMessage() for r in errors.records]
    refused = [r for r in harness.standin.world.refusals if not benign(r)]
    assert not refused
    assert not await entitled(harness, who)


FUZZ_PEOPLE: dict[int, dict[str, SimUser]] = {}


async def test_an_update_that_cannot_be_read_does_not_stop_the_intake(harness: Harness) -> None:
    resident = harness.resident(3901)
    odd = await resident.push(
        {"poll_answer": {"poll_id": "p", "user": resident.user_json(), "option_ids": [0]}}
    )
    await resident.send("/start")
    assert "政风行风" in (await resident.reply()).text
    row = await harness.services.db.fetchone(
        "SELECT done_at FROM inbox WHERE update_id = ?", (odd,)
    )
    assert row is not None and row[0] is not None  # kept, and not tried again


async def test_a_button_pressed_on_a_document_is_answered_in_a_new_message(
    harness: Harness,
) -> None:
    organiser = harness.organiser()
    await organiser.send("/record")
    [cancel] = [d for row in (await organiser.reply()).data for d in row if d.startswith("x:")]
    await organiser.send("/export cases")
    document = await organiser.reply()
    assert document.kind == "document"
    harness.standin.world.refusals.clear()
    await organiser.press(document.message_id, cancel)  # forged: a document has no buttons
    assert "已取消" in (await organiser.reply()).text  # said, not edited into it
    assert harness.standin.world.refusals == []
