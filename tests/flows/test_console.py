"""The web console over HTTP (design §11): who gets in, who sees what, and what a form can
do. The bot runs against the stand-in with its console on a loopback port; requests are
made as a Mini App (signed init data) or with a session a /console link opened."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook

from bot.db import cases as case_store
from bot.results import export
from tests.support.console import init_data, link_of
from tests.support.harness import Harness, file_one, reach
from tests.support.helpers import people, staffed
from tests.support.records import cast

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # a cookie jar that keeps cookies for an IP address (unsafe=True): the console is on 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def get(
    http: aiohttp.ClientSession, url: str, data: str | None = None, **kw: Any
) -> tuple[int, str]:
    headers = {"X-Telegram-Init-Data": data} if data is not None else {}
    async with http.get(url, headers=headers, allow_redirects=False, **kw) as r:
        return r.status, await r.text(errors="replace")


async def test_init_data_is_checked_on_every_request(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    everyone = await people(h)
    organiser, author = everyone["organiser"], everyone["author"]
    url = h.console_url + "/"
    status, page = await get(http, url, init_data(h, organiser))
    assert status == 200 and "东街街道社保所" in page
    forged = init_data(h, organiser).replace("auth_date=", "auth_date=1")
    for bad in (
        forged,
        init_data(h, organiser, token="123456:another-bot"),
        init_data(h, organiser, age=3601),
        "user=%7B%22id%22%3A100000001%7D&auth_date=1&hash=00",
        "",
    ):
        assert (await get(http, url, bad))[0] == 401, bad
    # a move with init data that does not hold changes nothing
    before = await case_store.get_case(h.services.db, 1)
    async with http.post(
        h.console_url + "/cases/1/move",
        data={"move": "verify", "nonce": "n1"},
        headers={"X-Telegram-Init-Data": init_data(h, organiser, age=7200)},
    ) as r:
        assert r.status == 401
    assert await case_store.get_case(h.services.db, 1) == before
    # a resident (the author of the case included) gets 403
    for resident in (everyone["resident"], author, everyone["evaluator"]):
        assert (await get(http, url, init_data(h, resident)))[0] == 403
        assert (await get(http, h.console_url + "/cases/1", init_data(h, resident)))[0] == 403


async def test_a_console_link_works_once_for_ten_minutes(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    staff = await staffed(h)
    link = await link_of(h, staff)
    async with http.get(link, allow_redirects=False) as r:
        assert r.status == 303
        cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http on loopback; https sets it
    status, page = await get(http, h.console_url + "/")
    assert status == 200 and "东街街道社保所" in page and "西街街道社保所" not in page
    # used: refused, and the session it opened is unaffected
    async with aiohttp.ClientSession() as fresh:
        assert (await get(fresh, link))[0] == 403
        stale = await link_of(h, staff)
        h.clock.advance(dt.timedelta(minutes=10, seconds=1))
        assert (await get(fresh, stale))[0] == 403
        # nor does a made-up token open anything
        assert (await get(fresh, h.console_url + "/login?t=x"))[0] == 403
        status, shell = await get(fresh, h.console_url + "/cases")
        assert status == 200 and "东街" not in shell  # the page shell, no data
    # the session ends after eight hours
    h.clock.advance(dt.timedelta(hours=8))
    status, page = await get(http, h.console_url + "/")
    assert "东街街道社保所" not in page


async def test_nobody_sees_a_case_their_role_does_not_allow(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    everyone = await people(h)
    xi = h.resident(3900, "西街居民")
    await file_one(xi)  # case 2 … is dongjie's too: the helper picks 东街
    await h.settle()
    ids = [c.id for c in await case_store.list_cases(h.services.db, limit=100)]
    expected = {
        "organiser": set(ids),
        "supervisor": set(ids),  # of dongjie
        "own": set(ids),
        "other": set(),  # xijie's staff
    }
    for who, allowed in expected.items():
        data = init_data(h, everyone[who])
        for case_id in [*ids, 999, 0]:
            status, _ = await get(http, f"{h.console_url}/cases/{case_id}", data)
            assert status == (200 if case_id in allowed else 404), (who, case_id)
            status, _ = await get(http, f"{h.console_url}/cases/{case_id}/files/0", data)
            assert status == 404, (who, case_id)  # no attachments, or not theirs
        status, listing = await get(http, h.console_url + "/cases", data)
        shown = {int(n) for n in re.findall(r'/console/cases/(\d+)"', listing)}
        assert shown == allowed, who
    # only organisers see the name of a resident who stayed anonymous to the office
    _, for_staff = await get(http, h.console_url + "/cases/1", init_data(h, everyone["own"]))
    _, for_org = await get(http, h.console_url + "/cases/1", init_data(h, everyone["organiser"]))
    assert "王阿姨" not in for_staff and "匿名" in for_staff
    assert "王阿姨" in for_org
    # exports are for organisers
    for who, status in (("organiser", 200), ("supervisor", 403), ("own", 403)):
        async with http.get(
            h.console_url + "/export/cases.xlsx",
            headers={"X-Telegram-Init-Data": init_data(h, everyone[who])},
        ) as r:
            assert r.status == status, who
            if status == 200:
                assert zipfile.is_zipfile(io.BytesIO(await r.read()))


async def test_a_move_from_the_console_tells_the_resident(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    staff = await staffed(h)
    author = h.resident(3806, "王阿姨")
    await file_one(author)
    await h.settle()
    author.skip_unread()
    # a cookie session: a form post without the session's token is refused
    async with http.get(await link_of(h, staff), allow_redirects=False) as r:
        assert r.status == 303
    async with http.post(
        h.console_url + "/cases/1/move", data={"move": "verify", "nonce": "a"}
    ) as r:
        assert r.status == 403
    assert (await case_store.get_case(h.services.db, 1)).state == "filed"  # type: ignore[union-attr]
    _, page = await get(http, h.console_url + "/cases/1")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page)
    assert csrf and nonce
    form = {"move": "verify", "nonce": nonce.group(1), "csrf": csrf.group(1)}
    for _ in range(2):  # a double submit makes the move once
        async with http.post(h.console_url + "/cases/1/move", data=form) as r:
            assert r.status == 200
    case = await case_store.get_case(h.services.db, 1)
    assert case is not None and case.state == "verifying"
    history = await case_store.case_history(h.services.db, 1)
    assert [e.move for e in history] == ["file", "verify"]
    await h.settle()
    told = await author.reply()
    assert "核实" in told.text and "第 1 号" in told.text
    # a move the role may not make is refused in words, and changes nothing
    async with http.post(
        h.console_url + "/cases/1/move",
        data={"move": "close", "nonce": "b", "csrf": csrf.group(1), "reason": "x"},
    ) as r:
        assert r.status == 200 and "不能" in await r.text()
    assert (await case_store.get_case(h.services.db, 1)).state == "verifying"  # type: ignore[union-attr]
    # signing out needs the session's token too; with it the session ends
    async with http.post(h.console_url + "/logout", data={"csrf": "forged"}) as r:
        assert r.status == 403
    status, _ = await get(http, h.console_url + "/cases/1")
    assert status == 200
    async with http.post(
        h.console_url + "/logout", data={"csrf": csrf.group(1)}, allow_redirects=False
    ) as r:
        assert r.status == 303
    async with http.get(h.console_url + "/cases/1", headers={"X-Console-Fragment": "1"}) as r:
        assert r.status == 401


@pytest.mark.on_postgresql
async def test_search_finds_a_word_inside_a_sentence(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    organiser = h.organiser()
    texts = [
        "窗口办事效率太低，排队两个小时。",
        "工作人员态度很差，说话很不耐烦。",
        "养老保险转移接续手续太复杂了",
    ]
    for n, text in enumerate(texts):
        await file_one(h.resident(4000 + n, f"居民{n}"), text)
    await h.settle()
    data = init_data(h, organiser)
    for query, expected in (
        ("排队", {1}),
        ("态度", {2}),
        ("保险", {3}),  # inside 养老保险
        ("转移", {3}),
        ("手续 复杂", {3}),
        ("差", {2}),  # one character
        ("办事 态度", set()),  # every word must be found
        ('"); DROP TABLE cases; --', set()),  # typed, not FTS syntax
    ):
        status, page = await get(http, h.console_url + "/cases", data, params={"q": query})
        assert status == 200, query
        found = {int(n) for n in re.findall(r'/console/cases/(\d+)"', page)}
        assert found == expected, query


async def test_user_text_is_shown_as_text_and_the_logs_hold_none(
    console_harness: Harness, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    h = console_harness
    organiser = h.organiser()
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">投诉秘密内容'
    await file_one(h.resident(4100, "张秘密"), evil)
    await h.settle()
    caplog.set_level(logging.DEBUG)
    data = init_data(h, organiser)
    _, page = await get(http, h.console_url + "/cases/1", data)
    assert (
        "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    )
    assert "<img src=x" not in page
    _, listing = await get(http, h.console_url + "/cases", data, params={"q": "秘密内容"})
    assert "/console/cases/1" in listing
    console_logs = [r.getMessage() for r in caplog.records if r.name.startswith("bot.console")]
    assert console_logs  # the console logs its requests …
    for line in console_logs:  # … without names, texts or what was searched
        for secret in ("张秘密", "秘密内容", "script", "王阿姨", "q="):
            assert secret not in line, line


async def test_the_menu_button_and_help_follow_the_roles(console_harness: Harness) -> None:
    h = console_harness
    organiser = h.organiser()
    await organiser.send("/start")
    await organiser.reply()
    await h.settle()
    buttons = h.standin.world.menu_buttons
    assert buttons[organiser.id]["type"] == "web_app"
    assert buttons[organiser.id]["web_app"]["url"].endswith("/console/")
    staff = await staffed(h)
    await h.settle()
    assert buttons[staff.id]["type"] == "web_app"
    resident = h.resident(4200)
    await resident.send("/help")
    help_resident = (await resident.reply()).text
    assert resident.id not in buttons
    organiser.skip_unread()
    await organiser.send("/help")
    help_organiser = (await organiser.reply()).text
    staff.skip_unread()
    await staff.send("/help")
    help_staff = (await staff.reply()).text
    assert "/publish" in help_organiser and "/console" in help_organiser
    assert "/cases" in help_staff and "/console" in help_staff and "/publish" not in help_staff
    assert "/cases" not in help_resident and "/console" not in help_resident
    assert "/opinion" in help_resident and "/opinion" in help_staff


async def test_attachments_come_through_the_bot_api_for_the_team_only(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    everyone = await people(h)  # case 1, without attachments
    author = h.resident(4300, "拍照的居民")
    await reach(author, "attach", "大厅的排号机坏了，见照片。")
    await author.send_photo()
    await author.reply()
    await author.send_document("说明.pdf")
    await author.reply()
    for label in ("下一步", "对单位匿名", "确认提交"):
        await author.tap(label)
        await author.reply()
    await h.settle()
    case_id = 2
    for who, status in (("own", 200), ("organiser", 200), ("supervisor", 200), ("other", 404)):
        data = init_data(h, everyone[who])
        async with http.get(
            f"{h.console_url}/cases/{case_id}/files/0",
            headers={"X-Telegram-Init-Data": data},
        ) as r:
            assert r.status == status, who
            if status == 200:
                assert r.content_type == "image/jpeg"
                assert (await r.read()).startswith(b"\xff\xd8")  # a JPEG, from the stand-in
        async with http.get(
            f"{h.console_url}/cases/{case_id}/files/1",
            headers={"X-Telegram-Init-Data": data},
        ) as r:
            assert r.status == status, who
            if status == 200:
                assert (await r.read()).startswith(b"%PDF")
                assert "filename*=UTF-8''%E8%AF%B4%E6%98%8E.pdf" in r.headers["Content-Disposition"]
    data = init_data(h, everyone["resident"])
    assert (await get(http, f"{h.console_url}/cases/{case_id}/files/0", data))[0] == 403
    _, page = await get(http, f"{h.console_url}/cases/{case_id}", init_data(h, everyone["own"]))
    assert "说明.pdf" in page and f"/cases/{case_id}/files/0" in page


async def test_results_and_an_office_s_breakdown(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    h = console_harness
    everyone = await people(h)
    organiser = everyone["organiser"]
    await organiser.send("/daily dongjie 9.5")
    await organiser.reply()
    await organiser.send("/finding dongjie general X1 窗口推诿")
    await organiser.reply()
    data = init_data(h, organiser)
    status, ranking = await get(http, h.console_url + "/results", data)
    assert status == 200 and "/console/results/dongjie" in ranking and 'id="chart"' in ranking
    status, office = await get(http, h.console_url + "/results/dongjie", data)
    assert status == 200
    shows = ("东街街道社保所", "民主测评得分（D）", "日常工作考核得分（A）", "9.50", "X1", "共扣")
    for shown in shows:
        assert shown in office, shown
    async with http.get(
        h.console_url + "/results/chart.png", headers={"X-Telegram-Init-Data": data}
    ) as r:
        assert r.status == 200 and (await r.read()).startswith(b"\x89PNG")
    # staff: the ranking as published (nothing yet), no live breakdown
    staff = init_data(h, everyone["own"])
    status, page = await get(http, h.console_url + "/results", staff)
    assert status == 200 and "结果尚未公布" in page
    assert (await get(http, h.console_url + "/results/dongjie", staff))[0] == 404
    assert (await get(http, h.console_url + "/results/chart.png", staff))[0] == 404


async def test_a_move_s_answers_are_read_alike_in_chat_and_in_the_console(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    """One reading of what a move needs: a reason over the campaign's limit is refused in
    the same words by the console and by chat (the console used to cut it at 2,000
    characters and move); an empty one asks for the reason; nothing moves."""
    h = console_harness
    organiser = h.organiser()
    await file_one(h.resident(3807, "王阿姨"))
    await h.settle()
    limit = h.campaign.intake.max_text
    too_long = "情" * (limit + 1)
    refusal = f"您的文字有 {limit + 1} 字，超过了 {limit} 字的上限"
    url = h.console_url + "/cases/1/move"
    headers = {"X-Telegram-Init-Data": init_data(h, organiser)}
    for reason, said in ((too_long, refusal), ("   ", "请填写理由")):
        form = {"move": "unfounded", "nonce": f"n{len(reason)}", "reason": reason}
        async with http.post(url, data=form, headers=headers) as r:
            assert r.status == 200
            assert said in await r.text()
    assert (await case_store.get_case(h.services.db, 1)).state == "filed"  # type: ignore[union-attr]
    # chat: the same move, the same reason, the same words
    organiser.skip_unread()
    await organiser.send("/status 1")
    await organiser.reply()
    await organiser.tap("经核实不属实")
    await organiser.reply()
    await organiser.send(too_long)
    assert refusal in (await organiser.reply()).text
    assert (await case_store.get_case(h.services.db, 1)).state == "filed"  # type: ignore[union-attr]
    await organiser.send("经核实，反映的情况不属实。")
    await organiser.reply()
    await h.settle()
    assert (await case_store.get_case(h.services.db, 1)).state == "closed"  # type: ignore[union-attr]


async def test_any_id_date_or_query_gets_words_not_a_500(
    console_harness: Harness, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """Ids beyond 64 bits, far dates, numbers in other scripts, unknown names: 404 or 400
    in words, and no traceback in the log."""
    h = console_harness
    organiser = h.organiser()
    await file_one(h.resident(4200, "居民"))
    await h.settle()
    data = init_data(h, organiser)
    caplog.set_level(logging.INFO)
    big = str(2**63)
    wrong = {
        f"/cases/{big}": 404,
        "/cases/99999999999999999999999999": 404,
        "/cases/0": 404,
        "/cases/-1": 404,
        "/cases/１": 404,
        "/cases/1e3": 404,
        f"/cases/1/files/{big}": 404,
        "/cases/1/files/-1": 404,
        "/results/nowhere": 404,
        "/export/everything.xlsx": 404,
        "/static/../../etc/passwd": 404,
    }
    for path, expected in wrong.items():
        status, text = await get(http, h.console_url + path, data)
        assert status == expected and text.strip(), (path, status)
    for query in (
        {"since": "0001-01-01"},
        {"until": "9999-12-31"},
        {"since": "2026-13-45"},
        {"until": "yesterday"},
    ):
        status, text = await get(http, h.console_url + "/cases", data, params=query)
        assert status == 400 and "YYYY-MM-DD" in text, (query, status)
    for query in (
        {"since": "2026-01-01", "until": "2030-12-31"},
        {"page": "9" * 5000},
        {"page": "-3"},
        {"sort": "'; DROP TABLE cases; --"},
        {"state": "nonsense", "unit": "nowhere", "item": "x", "channel": "y"},
        {"q": "\x00" * 50},
    ):
        status, _ = await get(http, h.console_url + "/cases", data, params=query)
        assert status == 200, (query, status)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_small_groups_stay_secret(
    console_harness: Harness, http: aiohttp.ClientSession
) -> None:
    """With 1 and with k−1 answers no item's or category's figures are shown, in chat, the
    console or the spreadsheet; with k they are."""
    h = console_harness
    organiser = h.organiser()
    data = init_data(h, organiser)
    k = h.services.campaign.ballots.smallest_group
    hidden = f"不足 {k} 份作答"
    n = 1
    for more in (1, k - 2, 1):  # 1, k - 1, then k answers on 服务质量 of 西街
        n = await cast(h, "xijie", {"satisfied": more}, n)
        secret = n - 1 < k
        organiser.skip_unread()
        await organiser.send("/results xijie")
        card = (await organiser.reply()).text
        line = next(x for x in card.splitlines() if x.startswith("· 服务质量"))
        assert (hidden in line) == secret and ("满意 100.00%" in line) == (not secret), line
        _, page = await get(http, h.console_url + "/results/xijie", data)
        row = re.search(r"<tr><td>服务质量</td>.*?</tr>", page)
        assert row is not None
        assert (hidden in row.group(0)) == secret and ("100.00" in row.group(0)) == (not secret)
        category = re.search(r"<tr><td>社会群众代表</td>.*?</tr>", page)
        assert category is not None and (hidden in category.group(0)) == secret
        book = load_workbook(
            io.BytesIO(await export.results_workbook(h.services, "zh", organiser.id))
        )
        [sheet_row] = [
            r
            for sheet in book.worksheets
            for r in sheet.iter_rows(values_only=True)
            if r[:2] == ("西街街道社保所", "服务质量")
        ]
        assert (sheet_row[2] == hidden) == secret and (sheet_row[6] == 100) == (not secret)
