"""The organiser's workbench in the console: the ballot window, the daily-work scores (in
place and from a spreadsheet) and the audit, through the same domain as chat; forms
carry the session's token, and a spreadsheet is imported whole or not at all."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from io import BytesIO

import aiohttp
import pytest
from openpyxl import Workbook, load_workbook

from bot.ballots import evaluation as ballots
from bot.cases.opinions import Filer, Opinion, file_opinion
from bot.db import results as result_store
from bot.results.findings import UnitSummary, summaries
from bot.vocabulary import Role, Step
from scoring import fmt
from tests.support.console import link_of
from tests.support.harness import ORGANISER, Harness
from tests.support.helpers import errors_logged

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def signed_in(h: Harness, http: aiohttp.ClientSession) -> str:
    """The organiser's cookie session; its form token."""
    async with http.get(await link_of(h, h.organiser()), allow_redirects=False) as r:
        assert r.status == 303
    async with http.get(h.console_url + "/campaign") as r:
        found = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert found
    return found.group(1)


async def post(http: aiohttp.ClientSession, url: str, data: object) -> str:
    async with http.post(url, data=data) as r:
        assert r.status == 200, (url, r.status)
        return await r.text()


def spreadsheet(csrf: str, header: list[str], rows: Sequence[Sequence[object]]) -> aiohttp.FormData:
    """A spreadsheet filled in as an organiser would, ready to upload with the form's token."""
    book = Workbook()
    page = book.active
    assert page is not None
    page.append(header)
    for row in rows:
        page.append(list(row))
    buffer = BytesIO()
    book.save(buffer)
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("file", buffer.getvalue(), filename="import.xlsx")
    return form


async def scores(h: Harness) -> dict[str, str]:
    return {k: fmt(v) for k, v in (await result_store.daily_scores(h.services.db)).items()}


async def test_the_window_opens_with_a_confirmation_before_the_plan(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    csrf = await signed_in(h, http)
    url = h.console_url + "/campaign/window"
    async with http.post(url, data={"state": "open"}) as r:  # no token: refused
        assert r.status == 403
    page = await post(http, url, {"state": "open", "csrf": csrf})
    assert "测评阶段从" in page and 'name="confirm"' in page  # asked first: before the phase
    assert not await ballots.is_open(h.services)
    page = await post(http, url, {"state": "open", "confirm": "1", "csrf": csrf})
    assert await ballots.is_open(h.services) and "测评已开放" in page
    page = await post(http, url, {"state": "closed", "csrf": csrf})
    assert not await ballots.is_open(h.services) and "重新开放" in page
    page = await post(http, url, {"state": "open", "csrf": csrf})  # again: asked again
    assert 'name="confirm"' in page and not await ballots.is_open(h.services)


async def test_daily_scores_in_place_all_or_none(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    csrf = await signed_in(h, http)
    url = h.console_url + "/daily"
    page = await post(http, url, {"csrf": csrf, "score:dongjie": "9.5", "score:xijie": "11"})
    assert "没有保存" in page and "第 2 行" in page and "11 不符合" in page
    assert await scores(h) == {}
    assert 'value="11"' in page  # what was typed stays in its box
    page = await post(http, url, {"csrf": csrf, "score:dongjie": "9.5", "score:xijie": "8"})
    assert "已保存 2 个得分" in page
    assert await scores(h) == {"dongjie": "9.50", "xijie": "8.00"}
    organiser = h.organiser()
    organiser.skip_unread()
    await organiser.send("/daily 南苑 7")
    await organiser.reply()
    async with http.get(h.console_url + "/audit") as r:
        audit = await r.text()
    rows = re.findall(r"<tr><td>.*?</tr>", audit)
    assert len(rows) == 3
    assert "南苑街道社保所" in rows[0] and "聊天" in rows[0] and "7.00" in rows[0]
    assert all("管理台" in row for row in rows[1:]) and "dongjie" not in audit


async def test_daily_scores_from_the_template(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    csrf = await signed_in(h, http)
    async with http.get(h.console_url + "/daily/template.xlsx") as r:
        assert r.status == 200
        book = load_workbook(BytesIO(await r.read()))
    sheet = book.worksheets[0]
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["东街街道社保所", "西街街道社保所", "南苑街道社保所"]

    def upload(rows: Sequence[Sequence[object]]) -> aiohttp.FormData:
        return spreadsheet(csrf, ["单位", "日常工作考核得分"], rows)

    url = h.console_url + "/daily/import"
    page = await post(http, url, upload([("东街", 9.5), ("北街", 9), ("南苑街道社保所", "九")]))
    assert "第 3 行" in page and "北街" in page and "第 4 行" in page
    assert await scores(h) == {}  # nothing half imported
    page = await post(http, url, upload([("东街街道社保所", 9.5), ("西街", 8.25), ("南苑", None)]))
    assert "已导入 2 个得分" in page
    assert await scores(h) == {"dongjie": "9.50", "xijie": "8.25"}
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("file", b"not a spreadsheet", filename="x.xlsx")
    assert "不是" in await post(http, url, form)


async def test_invitations_made_printed_used_and_a_role_revoked(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    csrf = await signed_in(h, http)
    async with http.get(h.console_url + "/invites") as r:
        nonce = re.search(r'name="nonce" value="([^"]+)"', await r.text())
    assert nonce
    form = {"csrf": csrf, "nonce": nonce.group(1), "role": "staff", "offices": "街道"}
    page = await post(http, h.console_url + "/invites", form)
    assert "有几个单位都符合“街道”" in page  # a name that fits several: said, nothing made
    form["offices"] = "东街"
    page = await post(http, h.console_url + "/invites", form)
    assert "1 个邀请" in page
    again = await post(http, h.console_url + "/invites", form)  # a double submit
    links = re.findall(r"start=(inv-[A-Za-z0-9_-]+)", page)
    assert links and re.findall(r"start=(inv-[A-Za-z0-9_-]+)", again)[:1] == links[:1]
    rows = await h.services.db.fetchall("SELECT role, units FROM invites")
    assert [tuple(r) for r in rows] == [("staff", '["dongjie"]')]
    evaluators = {
        **form,
        "nonce": "n2",
        "role": "evaluator",
        "offices": "",
        "category": "人大",
        "count": "3",
    }
    page = await post(http, h.console_url + "/invites", evaluators)
    batch = re.search(r'sheet\.pdf\?batch=([^"]+)"', page)
    assert batch
    async with http.get(
        h.console_url + "/invites/sheet.pdf?batch=" + batch.group(1).replace("&amp;", "&")
    ) as r:
        assert r.status == 200 and (await r.read()).startswith(b"%PDF")
    async with http.get(h.console_url + "/invites/sheet.png?batch=" + batch.group(1)) as r:
        assert r.status == 200 and (await r.read()).startswith(b"\x89PNG")

    # the staff member registers; the page says who used the link; the role is revoked
    staff = h.standin.user(4301, "东街小张")
    await staff.send(f"/start {links[0]}")
    await staff.reply()
    await h.settle()
    assert h.standin.world.menu_buttons.get(4301, {}).get("type") == "web_app"
    async with http.get(h.console_url + "/invites") as r:
        page = await r.text()
    assert "东街小张" in page and "已由 东街小张" in page
    revoke = {"csrf": csrf, "user": "4301", "role": "staff"}
    page = await post(http, h.console_url + "/invites/revoke", revoke)
    assert 'name="confirm"' in page and "东街小张" in page  # asked first
    assert await h.services.db.fetchval("SELECT COUNT(*) FROM roles") == 1
    staff.skip_unread()
    page = await post(http, h.console_url + "/invites/revoke", {**revoke, "confirm": "1"})
    assert "已告知本人" in page
    assert await h.services.db.fetchval("SELECT COUNT(*) FROM roles") == 0
    await h.settle()
    told = await staff.reply()
    assert "东街街道社保所" in told.text and "工作人员" in told.text
    assert h.standin.world.menu_buttons.get(4301, {}).get("type") == "default"
    staff.skip_unread()
    await staff.send("/cases")
    assert "您的身份不能进行这项操作" in (await staff.reply()).text
    async with http.get(h.console_url + "/audit") as r:
        audit = await r.text()
    assert "撤销身份" in audit and "东街小张" in audit and "邀请" in audit


async def test_the_findings_register(console_harness: Harness, http: aiohttp.ClientSession) -> None:
    h = console_harness
    csrf = await signed_in(h, http)
    url = h.console_url + "/findings"
    form = {
        "csrf": csrf,
        "nonce": "f1",
        "office": "西街",
        "severity": "一般",
        "ref": "HT-1",
        "text": "投诉中心查实",
    }
    page = await post(http, url, form)
    assert "已登记" in page
    await post(http, url, form)  # a double submit records once
    rows = await h.services.db.fetchall("SELECT id, unit_id, severity, ref FROM findings")
    assert [tuple(r)[1:] for r in rows] == [("xijie", "general", "HT-1")]
    first = rows[0][0]
    # raised to punished: the same reference again, counted once at 10
    page = await post(http, url, {"csrf": csrf, "nonce": "f2", "raise": str(first)})
    summary = {s.unit_id: s for s in await findings_summaries(h)}
    assert summary["xijie"].complaint.deductions == 10
    # withdrawn with a reason: listed, struck out, no longer counted
    page = await post(http, url + "/withdraw", {"csrf": csrf, "id": str(first), "reason": ""})
    assert "请说明撤销的理由" in page
    for fid in [r[0] for r in await h.services.db.fetchall("SELECT id FROM findings")]:
        page = await post(
            http, url + "/withdraw", {"csrf": csrf, "id": str(fid), "reason": "重复登记"}
        )
    assert "重复登记" in page and 'class="withdrawn"' in page
    summary = {s.unit_id: s for s in await findings_summaries(h)}
    assert summary["xijie"].complaint.deductions == 0

    def sheet(rows: Sequence[Sequence[object]]) -> aiohttp.FormData:
        return spreadsheet(csrf, ["单位", "性质", "编号", "查实的问题"], rows)

    before = await h.services.db.fetchval("SELECT COUNT(*) FROM findings")
    bad = [["东街", "一般", "A-1", ""], ["东", "严重", "A-2", ""], ["北街", "处分", "A-3", ""]]
    page = await post(http, url + "/import", sheet(bad))
    assert "第 3 行" in page and "严重" in page and "第 4 行" in page and "北街" in page
    assert await h.services.db.fetchval("SELECT COUNT(*) FROM findings") == before
    good = [
        ["东街", "一般", "A-1", "甲"],
        ["南苑", "处分", "第1号", ""],
        ["东街街道社保所", "general", "A-2", ""],
    ]
    page = await post(http, url + "/import", sheet(good))
    assert "已导入 3 条" in page
    page = await post(http, url + "/import", sheet(good))  # the same file again
    assert "已导入 0 条" in page
    refs = await h.services.db.fetchall(
        "SELECT ref FROM findings WHERE withdrawn_at IS NULL ORDER BY id"
    )
    assert [r[0] for r in refs] == ["A-1", "case-1", "A-2"]
    async with http.get(url) as r:
        register = await r.text()
    assert "第 1 号" in register and "case-1" not in register
    async with http.get(url + "/template.xlsx") as r:
        assert r.status == 200
        header = next(
            load_workbook(BytesIO(await r.read())).worksheets[0].iter_rows(values_only=True)
        )
    assert header[0] == "单位"


async def findings_summaries(h: Harness) -> list[UnitSummary]:
    return await summaries(h.services, "zh")


async def test_proposals_and_a_publication_from_the_console(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    csrf = await signed_in(h, http)
    async with http.get(h.console_url + "/proposals") as r:
        assert "目前没有单位低于 85 分" in await r.text()  # no ballots: nobody flagged
    proposal = {"csrf": csrf, "nonce": "p1", "office": "xijie", "text": "约谈所长"}
    for _ in range(2):  # a double submit records once
        page = await post(http, h.console_url + "/proposals", proposal)
    assert "已记录对西街街道社保所的处理意见" in page
    rows = await h.services.db.fetchall("SELECT unit_id, text FROM proposals")
    assert [tuple(r) for r in rows] == [("xijie", "约谈所长")]
    subscriber = h.resident(4401, "订阅的居民")
    await subscriber.send("/subscribe")
    await subscriber.reply()
    async with http.get(h.console_url + "/publish") as r:
        page = await r.text()
    assert "有 3 个单位还没有测评票" in page
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', page)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page)
    assert fingerprint and nonce
    form = {"csrf": csrf, "nonce": nonce.group(1), "fingerprint": fingerprint.group(1)}
    page = await post(http, h.console_url + "/publish", form)  # the box not ticked
    assert "请先确认已核对" in page
    assert await h.services.db.fetchval("SELECT COUNT(*) FROM publications") == 0
    stale = {**form, "fingerprint": "0123456789ab", "reviewed": "1"}
    page = await post(http, h.console_url + "/publish", stale)
    assert "排名有了变化" in page
    for _ in range(2):  # a double submit publishes once
        page = await post(http, h.console_url + "/publish", {**form, "reviewed": "1"})
    assert await h.services.db.fetchval("SELECT COUNT(*) FROM publications") == 1
    await h.settle()
    assert "📢" in (await subscriber.reply()).text
    async with http.get(h.console_url + "/publish") as r:
        page = await r.text()
    report = page.split('id="deliveries"')[1].split("</table>")[0]
    assert "频道" in report and "未送达" in report  # the channel does not exist here
    assert "已送达 1 / 1" in report
    async with http.get(h.console_url + "/audit") as r:
        assert "公布结果" in await r.text()


PAGES = (
    "/",
    "/cases",
    "/results",
    "/invites",
    "/campaign",
    "/findings",
    "/daily",
    "/proposals",
    "/publish",
    "/audit",
)


async def test_the_console_in_english_with_its_switch_and_who_is_signed_in(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    await signed_in(h, http)
    async with http.get(h.console_url + "/") as r:
        page = await r.text()
    assert "当前登录：纠风办李主任 · 区纠风办" in page and ">English</a>" in page
    switch = h.console_url + "/lang?to=en&back=" + "/console/cases%3Fstate%3Dfiled"
    async with http.get(switch, allow_redirects=False) as r:
        assert r.status == 303 and r.headers["Location"] == "/console/cases?state=filed"
    async with http.get(
        h.console_url + "/lang?to=en&back=//evil.example/", allow_redirects=False
    ) as r:
        assert r.headers["Location"] == "/console/"  # never away from the console
    chinese = re.compile(r"[\u4e00-\u9fff]+")
    allowed = {"纠风办李主任", "区纠风办", "一般", "处分", "中文", "响应率", "按期办结率", "满意率"}
    for path in PAGES:
        async with http.get(h.console_url + path) as r:
            assert r.status == 200, path
            page = await r.text()
        assert '<html lang="en">' in page and "Signed in: 纠风办李主任" in page, path
        # (what the channel will read is in the channel's language, as it will go out)
        page = re.sub(
            r'<blockquote class="text" id="preview">.*?</blockquote>', "", page, flags=re.S
        )
        left = set(chinese.findall(page)) - allowed
        assert not left, (path, sorted(left)[:10])
    async with http.get(h.console_url + "/", headers={"X-Console-Fragment": "1"}) as r:
        fragment = await r.text()
    assert (
        fragment.startswith('<template id="frame-next" data-lang="en"') and "Signed in" in fragment
    )


async def test_any_input_to_the_workbench_gets_words_not_a_500(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    csrf = await signed_in(h, http)
    odd = ["", "0", "-1", "9" * 30, str(2**63), "１２", "abc", "<script>", "\x00", "1e9", "NaN"]
    with errors_logged() as errors:
        await fuzz(h, http, csrf, odd)
    assert errors.records == []  # nothing failed inside
    assert await h.services.db.fetchval("SELECT COUNT(*) FROM publications") == 0


async def fuzz(h: Harness, http: aiohttp.ClientSession, csrf: str, odd: list[str]) -> None:
    for value in odd:
        for path in ("/audit", "/findings"):
            async with http.get(h.console_url + path, params={"page": value}) as r:
                assert r.status == 200, (path, value)
        async with http.get(h.console_url + "/invites/sheet.pdf", params={"batch": value}) as r:
            assert r.status == 404, value
        for path, form in (
            ("/findings/withdraw", {"id": value, "reason": "x"}),
            ("/invites/revoke", {"user": value, "role": "staff"}),
            ("/campaign/window", {"state": value}),
            ("/daily", {"score:dongjie": value}),
            (
                "/findings",
                {"nonce": "n" + value[:5], "office": value, "severity": value, "ref": value},
            ),
            ("/invites", {"nonce": "m" + value[:5], "role": "staff", "offices": value}),
            ("/proposals", {"nonce": "p", "office": value, "text": value}),
            ("/publish", {"nonce": "q", "fingerprint": value, "reviewed": "1"}),
        ):
            async with http.post(h.console_url + path, data={"csrf": csrf, **form}) as r:
                assert r.status in (200, 400, 404), (path, value, r.status)


async def test_an_opinion_recorded_by_an_organiser_is_in_the_audit(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    await signed_in(h, http)
    opinion = Opinion(
        step=Step.CONFIRM, unit_id="xijie", item_id="service", parts=((1, "来信反映"),),
        anonymous=True,
    )  # fmt: skip
    filer = Filer(ORGANISER, Role.ORGANISER, None, "来信人", "zh", None, "letter")
    case_id, _ = await file_opinion(h.services, opinion, filer, 77_001)
    async with http.get(h.console_url + "/audit") as r:
        audit = await r.text()
    assert f"第 {case_id} 号" in audit and "代为登记意见" in audit and ">file<" not in audit
