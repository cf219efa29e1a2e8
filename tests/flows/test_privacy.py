"""Privacy: what residents wrote, their names and phone numbers never reach the logs; an
anonymous resident's identity never reaches unit staff; an individual ballot never leaves
the tally."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook

from bot.cli import configure_logging
from tests.support.harness import Harness, reach
from tests.support.helpers import (
    invite_links,
    open_card,
    open_window,
    press,
    register,
    staffed,
    substantiate,
)

NAME, USERNAME, RESIDENT_ID = "王秀英", "wxy_private", 4501
PHONE, CONTACT = "13912345678", "13800001111"
TEXT = f"隐私测试内容甲乙丙，电话 {PHONE}，窗口工作人员态度差。"
CAPTION = "照片说明隐私丁戊"
VOTER, VOTER_ID = "测评人赵六", 5999


class Everything(logging.Handler):
    """Every record as it would be written: message, and traceback if any."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[Everything]:
    """The logs of `evalbot -v` (the most the bot ever writes)."""
    root = logging.getLogger()
    handler, level = Everything(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    configure_logging(verbose=True)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        configure_logging(verbose=False)


@pytest.mark.on_postgresql  # a copy of the database: what PostgreSQL keeps
async def test_logs_staff_and_tallies_keep_people_private(
    harness: Harness, logs: Everything
) -> None:
    staff = await staffed(harness, "dongjie", 4510)
    organiser = harness.organiser()
    resident = harness.standin.user(RESIDENT_ID, NAME, username=USERNAME)
    # an anonymous opinion with a phone number in it, a contact shared where text is
    # expected, a photo with a caption
    await reach(resident, "text")  # up to the text step
    await resident.send(TEXT)
    await resident.reply()
    await resident.send_other(contact={"phone_number": CONTACT, "first_name": NAME})
    await resident.reply()
    await resident.send_photo(CAPTION)
    await resident.reply()
    await resident.tap("下一步")
    await resident.reply()
    await resident.tap("对单位匿名")
    await resident.reply()
    await resident.tap("确认提交")
    await resident.reply()
    await harness.settle()
    # the unit's staff work on it; the organiser finds it substantiated
    staff.skip_unread()
    await open_card(staff, 1)
    await staff.reply()
    await staff.tap("开始核实")
    await staff.reply()
    await substantiate(harness, 1)
    await staff.send("/cases")
    await staff.reply()
    await staff.send("/status 1")
    await staff.reply()
    await staff.tap("照片和文件")
    await harness.settle()
    # an evaluator votes; the organiser looks, exports and publishes
    [code] = await invite_links(organiser, "/invite evaluator public_rep 1 dongjie")
    voter = harness.standin.user(VOTER_ID, VOTER)
    await register(harness, voter, code)
    await open_window(organiser)
    await harness.settle()
    await press(voter, "service", 2, harness)
    await press(voter, "integrity", 0, harness)
    harness.standin.channel(-1007777, "评议公示", "shebao_pingyi_demo")
    for command in ("/turnout", "/results dongjie", "/rank", "/export results", "/publish"):
        await organiser.send(command)
        await organiser.reply()
    await organiser.send(f"/daily dongjie {PHONE}")  # refused, and echoed to its sender only
    assert PHONE in (await organiser.reply()).text
    await harness.settle()

    written = "\n".join(logs.lines)
    assert "case 1 filed" in written  # the logs were captured
    for private in (NAME, USERNAME, PHONE, CONTACT, "隐私测试内容", CAPTION, VOTER):
        assert private not in written, private

    seen_by_staff = "\n".join(m.html for m in staff.transcript())
    assert "隐私测试内容" in seen_by_staff  # staff read the opinion …
    for identity in (NAME, USERNAME, str(RESIDENT_ID)):
        assert identity not in seen_by_staff, identity  # … never who wrote it

    # the ballots: only counts leave; the voter appears nowhere but in their own chat
    others = [organiser, staff, resident]
    shown = "\n".join(m.html for person in others for m in person.transcript())
    shown += "\n".join(m.html for m in harness.standin.group(-1007777, "").transcript())
    for upload in harness.standin.world.uploads:
        if upload.startswith(b"PK"):  # the spreadsheets
            book = load_workbook(io.BytesIO(upload), read_only=True)
            shown += "\n".join(
                str(cell)
                for sheet in book
                for row in sheet.iter_rows(values_only=True)
                for cell in row
            )
    assert "不满意" in shown or "1 票" in shown or "共 2 票" in shown
    for identity in (VOTER, str(VOTER_ID)):
        assert identity not in shown, identity
    entry = await harness.services.db.fetchone("SELECT * FROM ballot_log")
    assert entry is not None and "evaluator_id" not in list(entry.keys())
    voters = {r[0] for r in await harness.services.db.fetchall("SELECT voter FROM ballot_log")}
    assert voters and str(VOTER_ID) not in voters and all(len(v) >= 16 for v in voters)
