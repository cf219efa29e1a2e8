"""``evalbot demo``: the real bot against the embedded stand-in, with scripted people.

Nothing here is faked on the bot's side: the stand-in serves the Bot API on loopback, the
bot polls it over HTTP with a fresh database, and scripted residents and an organiser use
it the way people would. The transcript shows what each of them sent and saw.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import aiohttp

from bot import rounds
from bot.app import EvalBot
from bot.ballots.evaluation import verify
from bot.campaign import Campaign, parse_campaign
from bot.chat import flows
from bot.clock import FakeClock
from bot.console import auth, fonts
from bot.console.server import ConsoleConfig
from bot.db import ballots as ballot_store
from bot.db import cases as case_store
from bot.db import open_database
from bot.db import users as user_store
from bot.results.publish import pages, report_deliveries, write_pages
from bot.results.ranking import current_ranking, snapshot
from bot.services import Services
from bot.standin import BotMessage, SimUser, StandIn
from bot.standin.process import free_port

Print = Callable[[str], None]

log = logging.getLogger(__name__)


class Actor:
    """A scripted person whose every action and every answer goes into the transcript."""

    def __init__(self, user: SimUser, role: str, out: Print) -> None:
        self.user = user
        self.role = role
        self.out = out

    @property
    def name(self) -> str:
        return self.user.first_name

    def _show(self, message: BotMessage) -> None:
        tag = "bot (edits its message)" if message.edited else "bot"
        lines = message.text.splitlines() or [""]
        if message.kind == "photo":
            lines[0] = "(a picture) " + lines[0]
        self.out(f"    {tag}: {lines[0]}")
        for line in lines[1:]:
            self.out(f"         {line}" if line else "")
        for row in message.buttons:
            self.out("         " + "  ".join(f"[{b}]" for b in row))

    async def read(self, count: int = 1) -> list[BotMessage]:
        got = await self.user.replies(count, timeout=15)
        for message in got:
            self._show(message)
        return got

    async def says(self, text: str, answers: int = 1) -> list[BotMessage]:
        shown = text if len(text) <= 80 else text[:77] + "…"
        self.out(f"  {self.name} ▶ {shown}")
        await self.user.send(text)
        return await self.read(answers)

    async def taps(self, label: str, answers: int = 1) -> list[BotMessage]:
        self.out(f"  {self.name} taps [{label}]")
        tap = await self.user.tap(label)
        got = await self.read(answers) if answers else []
        answer = await tap.answer()
        if answer.text:
            self.out(f"    bot (pop-up): {answer.text}")
        return got

    async def sends_photo(self, caption: str | None = None, answers: int = 1) -> None:
        self.out(f"  {self.name} ▶ (a photo{', caption: ' + caption if caption else ''})")
        await self.user.send_photo(caption)
        await self.read(answers)

    async def notified(self) -> None:
        """Print what was sent to this person by others' doings (notifications)."""
        for message in self.user.unread():
            self.out(f"  ({self.name} is notified)")
            self._show(message)
        self.user.skip_unread()

    async def sends_sticker(self) -> None:
        self.out(f"  {self.name} ▶ (a sticker)")
        await self.user.send_sticker()
        await self.read()


async def settle(bot: EvalBot, standin: StandIn) -> None:
    """Let the bot take every update and send every notification due."""
    while standin.pending_updates():  # noqa: ASYNC110 - the stand-in has no event for this
        await asyncio.sleep(0.01)
    await bot.idle()
    await bot.require_outbox().drained()


def heading(out: Print, title: str) -> None:
    out("")
    out(f"── {title} " + "─" * max(4, 72 - len(title)))


class ErrorCount(logging.Handler):
    """Counts what the bot logs as errors while the script runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@dataclass(frozen=True)
class DemoResult:
    cases: int  # cases in the database at the end
    expected: int  # opinions the script filed
    errors: int  # errors the bot logged
    on_page: int  # units whose name and score the public page shows


async def run_demo(
    campaign: Campaign,
    out: Print = print,
    workdir: Path | None = None,
    page_dir: Path | None = None,
    serve: bool = False,
) -> DemoResult:
    """Play the script; return what it left behind (see :class:`DemoResult`). With
    ``serve``, keep the bot and its web console running afterwards, until interrupted."""
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    try:
        cases, expected, on_page = await _run(campaign, out, workdir, page_dir, serve)
    finally:
        logging.getLogger().removeHandler(errors)
    return DemoResult(cases, expected, errors.count, on_page)


async def _run(
    campaign: Campaign, out: Print, workdir: Path | None, page_dir: Path | None, serve: bool
) -> tuple[int, int, int]:
    with tempfile.TemporaryDirectory(prefix="evalbot-demo-") as scratch:
        base = workdir or Path(scratch)
        db_path = base / "demo.sqlite3"
        if db_path.exists():
            db_path.unlink()
        clock = FakeClock(dt.datetime.now(dt.UTC))
        port = free_port()
        async with StandIn() as standin:
            bot = EvalBot(
                campaign,
                standin.token,
                str(db_path),
                base_url=standin.base_url,
                clock=clock,
                poll_timeout=1,
                run_jobs=False,
                console=ConsoleConfig(f"http://127.0.0.1:{port}/console/"),
                console_listen=("127.0.0.1", port),
            )
            await bot.start()
            stage = Stage(campaign, standin, bot, clock, out, page_dir)
            try:
                found = await _script(stage)
                await console_scene(stage.campaign, standin, stage.bot, clock, out, serve)
                return found
            finally:
                await stage.bot.stop()


STAFF_ID = 3010  # the script's member of staff


async def console_scene(
    campaign: Campaign, standin: StandIn, bot: EvalBot, clock: FakeClock, out: Print, serve: bool
) -> None:
    """The web console, as an organiser opens it inside Telegram (signed init data) and a
    member of staff from a /console link; with ``serve``, left open for a person."""
    heading(out, "The web console")
    base = f"http://127.0.0.1:{bot.console_port}/console/"
    organiser = min(campaign.organisers)
    user = json.dumps({"id": organiser, "first_name": "纠风办"}, ensure_ascii=False)
    signed = auth.sign_init_data(
        {"user": user, "auth_date": str(int(clock.now().timestamp()))}, standin.token
    )
    async with (
        aiohttp.ClientSession() as http,
        http.get(base, headers={"X-Telegram-Init-Data": signed}) as r,
    ):
        page = await r.text()
        offices = sum(1 for u in campaign.units if u.name in page)
        out(f"  the organiser's overview (Mini App): HTTP {r.status}, {offices} offices")
        if r.status != 200 or offices != len(campaign.units):
            log.error("the console's overview did not show every office")
    staff = standin.user(STAFF_ID, "东街社保所小张")
    if staff.transcript():  # the script registered them
        staff.skip_unread()
        await staff.send("/console")
        said = await staff.reply()
        link = re.search(r'href="([^"]+)"', said.html)
        out(f"  staff › /console\n  bot › {said.text.splitlines()[0]}")
        if serve and link:
            out(f"\n  Open as the staff member (once, 10 minutes): {link.group(1)}")
    if serve:
        mini_app = base + "#" + urlencode({"tgWebAppData": signed}, quote_via=quote)
        out(f"  Open as the organiser, as a Mini App would: {mini_app}")
        out("  (the demo's clock stands still: the organiser's link stays good; Ctrl-C to stop)")
        await asyncio.Event().wait()
    else:
        out("  `evalbot demo --serve` keeps the bot and its console open for you to look at")


@dataclass
class Stage:
    """Everything the scenes share: the bot, the stand-in, the clock, the people."""

    campaign: Campaign
    standin: StandIn
    bot: EvalBot
    clock: FakeClock
    out: Print
    page_dir: Path | None
    people: dict[str, Actor] = field(default_factory=dict)
    filed: int = 0  # opinions the script files (the demo checks they all were)
    on_page: int = 0

    @property
    def services(self) -> Services:
        return self.bot.require_services()

    def actor(self, key: str, user_id: int, name: str, role: str, lang: str = "zh-hans") -> Actor:
        self.people[key] = Actor(self.standin.user(user_id, name, lang=lang), role, self.out)
        return self.people[key]

    async def settle(self) -> None:
        await settle(self.bot, self.standin)


async def _script(stage: Stage) -> tuple[int, int, int]:
    campaign, standin, out = stage.campaign, stage.standin, stage.out
    out(
        f"evalbot demo — campaign {campaign.id!r}, {len(campaign.units)} units; the bot polls a "
        f"Bot API stand-in at {standin.base_url}"
    )
    organiser = stage.actor("organiser", min(campaign.organisers), "纠风办李主任", "organiser")
    await organiser.user.send("/start")  # organisers have opened the bot before
    await organiser.user.reply()
    for title, scene in SCENES:
        heading(out, title)
        await scene(stage)
    filed = await case_store.count_cases(stage.services.db)
    return filed, stage.filed, stage.on_page


# -- the scenes, in the order the campaign runs ------------------------------------------------


async def residents_file(stage: Stage) -> None:
    campaign = stage.campaign
    wang = stage.actor("wang", 3001, "王阿姨", "resident")
    source = campaign.sources[0].id if campaign.sources else ""
    await wang.says(f"/start src-{source}" if source else "/start")
    await wang.taps("提意见")
    await wang.taps(campaign.units[0].name)
    await wang.taps(campaign.items[2].name)
    await wang.says(
        "上个月去办理退休手续，窗口工作人员态度冷淡，材料清单也没有一次说清楚，"
        "我前后跑了三趟才办好。希望能一次告知所需材料。"
    )
    await wang.sends_photo()
    await wang.taps("下一步")
    await wang.taps("实名")
    await wang.taps("确认提交")
    stage.filed += 1


async def a_resident_in_english(stage: Stage) -> None:
    campaign = stage.campaign
    smith = stage.actor("smith", 3002, "John", "resident", lang="en")
    await smith.says("/opinion")
    await smith.says(campaign.units[1].label("en").split()[0])  # finds the office by its name
    await smith.taps(campaign.items[0].label("en"))
    await smith.says("The notice board still shows last year's <b>fees</b> & deadlines;")
    await smith.says("nobody at the desk could tell me the current ones.")
    await smith.taps("continue")
    await smith.taps("anonymous")
    await smith.taps("Submit")
    stage.filed += 1


async def a_sticker_then_cancel(stage: Stage) -> None:
    zhang = stage.actor("zhang", 3003, "张大爷", "resident")
    await zhang.says("/opinion")
    await zhang.taps(stage.campaign.units[2].name)
    await zhang.taps("其他")
    await zhang.sends_sticker()
    await zhang.says("/cancel")


async def a_form_left_alone(stage: Stage) -> None:
    li = stage.actor("li", 3004, "李先生", "resident")
    await li.says("/opinion")
    await stage.bot.idle()
    minutes = stage.campaign.intake.draft_timeout_minutes
    stage.clock.advance(dt.timedelta(minutes=minutes + 1))
    stage.out(f"  ({minutes + 1} minutes pass)")
    await flows.expire(stage.services)
    await li.read()


async def following_a_case(stage: Stage) -> None:
    wang = stage.people["wang"]
    await wang.says("/status")
    await wang.taps("第 1 号")


async def interrupted_and_resumed(stage: Stage) -> None:
    """A second opinion, interrupted by other things; nothing typed is lost."""
    campaign = stage.campaign
    wang = stage.people["wang"]
    await wang.says("/opinion")
    await wang.taps(campaign.units[0].name)
    await wang.taps(campaign.items[1].name)
    await wang.says("/status 1")  # something else in the middle …
    await wang.says("/opinion")  # … and back: the form is where she left it
    await wang.says("办事指南上写的办理时限和窗口说的不一样。")
    await wang.taps("下一步")
    await wang.taps("对单位匿名")
    await wang.taps("确认提交")
    stage.filed += 1


async def the_organiser_looks(stage: Stage) -> None:
    organiser = stage.people["organiser"]
    await stage.settle()
    organiser.user.skip_unread()  # the new-case notices (shown for 小张 below)
    await organiser.says("/status 2")
    stranger = stage.actor("stranger", 3005, "路人", "resident")
    await stranger.says("/status 2")


async def staff_are_invited(stage: Stage) -> None:
    organiser = stage.people["organiser"]
    await organiser.says("/invite staff 东街")  # an office by a part of its name
    link = organiser.user.latest().text.split("start=")[-1].split()[0]
    staff = stage.actor("staff", STAFF_ID, "东街社保所小张", "staff")
    await staff.says(f"/start {link}")


async def a_case_is_rectified(stage: Stage) -> None:
    wang, organiser, staff = (stage.people[k] for k in ("wang", "organiser", "staff"))
    await staff.says("/cases")
    await staff.taps("第 1 号")
    await staff.taps("开始核实")
    await stage.settle()
    await wang.notified()
    await organiser.notified()
    await organiser.says("/status 1")
    await organiser.taps("属实：一般问题")
    await organiser.says("经核实，窗口人员未一次性告知所需材料，服务态度确有问题。")
    await stage.settle()
    await wang.notified()
    await staff.notified()
    await staff.says("/status 1")
    await staff.taps("整改方案")
    await staff.says("对窗口人员进行服务规范培训，制作并张贴退休手续一次性告知清单。")
    await staff.says("15")
    await stage.settle()
    await wang.notified()
    await organiser.notified()
    await staff.says("/status 1")
    await staff.taps("整改完成")
    await staff.says("已完成全员培训，告知清单已在大厅张贴并放在窗口。")
    await stage.settle()
    await organiser.notified()
    await wang.notified()
    await wang.taps("满意")


async def findings_and_overview(stage: Stage) -> None:
    organiser = stage.people["organiser"]
    await organiser.says("/finding 西街 处分 HT-2026-031 区政务投诉中心查实")
    await organiser.says("/summary")
    await organiser.says("/hot")


async def the_ballots(stage: Stage) -> None:
    campaign, out, services = stage.campaign, stage.out, stage.services
    organiser = stage.people["organiser"]
    links = await evaluator_links(organiser, 4)
    voters = []
    for n, link in enumerate(links):
        voter = stage.actor(f"voter{n}", 3020 + n, f"群众代表{n + 1}", "evaluator")
        if n == 0:
            await voter.says(f"/start {link}")
        else:
            await voter.user.send(f"/start {link}")
            await voter.user.reply()
        voters.append(voter)
    asked = await organiser.says("/ballots open")  # before the plan's phase: it asks first
    if any(m.has_button("现在开放") for m in asked):
        await organiser.taps("现在开放测评")
    out("  (each evaluator receives one message: the ballot card, edited as they answer)")
    await stage.settle()
    first = voters[0]
    await first.read()
    # how the evaluators lean, per unit: indexes into 满意 基本满意 不满意 不了解
    leaning = ((0, 0, 1, 0), (0, 1, 0, 3), (0, 2, 1, 0), (1, 0, 3, 0))
    names = ("满意", "基本满意", "不满意", "不了解")
    for n, voter in enumerate(voters):
        for u, unit in enumerate(campaign.units):
            for m, item in enumerate(campaign.items):
                choice = leaning[u % len(leaning)][(n + m) % 4]
                stage.clock.advance(dt.timedelta(seconds=3))  # people read before they tap
                card = _card(voter)
                tap = await voter.user.press(card, f"b:{unit.id}:{item.id}:{choice}")
                toast = await tap.answer()
                if n == 0 and u == 0 and m < 2:
                    out(f"  {voter.name} taps [{names[choice]}] under {item.name}")
                    out(f"    bot (pop-up): {toast.text}")
            if n == 0 and u == 0:
                again = await voter.user.press(_card(voter), f"b:{unit.id}:{item.id}:{choice}")
                out(f"  {voter.name} taps [{names[choice]}] again (a double tap)")
                out(f"    bot (pop-up): {(await again.answer()).text}")
                await stage.settle()
                voter.user.skip_unread()
                voter._show(voter.user.current(_card(voter)))
                out(f"  {voter.name} taps [下一个 ▶️]")
                await voter.user.tap("下一个")
    out("  (the others answer their cards)")
    await stage.settle()
    await organiser.says("/turnout")
    await organiser.says("/ballots close")
    await stage.settle()
    out(f"  ({first.name}'s card after the close: the final answers, no buttons)")
    first._show(first.user.current(_card(first)))
    result = await verify(services.db.target, await ballot_store.head(services.db))
    out(
        f"  evalbot verify: {'OK' if result.ok else 'FAILED'} — {result.entries} log entries "
        f"recount to the stored tallies; chain head {result.head[:16]}…"
    )


async def evaluator_links(organiser: Actor, count: int) -> list[str]:
    """The organiser invites ``count`` evaluators (every office); their links' codes."""
    await organiser.says(f"/invite evaluator 群众代表 {count}", answers=2)
    listing = organiser.user.transcript()[-2].text
    return [word.split("start=")[-1] for word in listing.split() if "start=" in word]


def _card(voter: Actor) -> int:
    """The message id of the evaluator's card."""
    return max(m.message_id for m in voter.user.transcript() if m.text.startswith("🗳"))


async def results_and_publication(stage: Stage) -> None:
    campaign, out, services = stage.campaign, stage.out, stage.services
    wang, organiser = stage.people["wang"], stage.people["organiser"]
    channel = stage.standin.channel(-1007777, "政风行风评议公示", "shebao_pingyi_demo")
    await wang.says("/subscribe")
    await organiser.says("/daily 街道 9.5")  # fits three offices: the bot asks which
    await organiser.taps(campaign.units[0].name)
    await organiser.says(f"/daily {campaign.units[1].name} 十分")
    for n, unit in enumerate(campaign.units[1:], start=1):
        await organiser.says(f"/daily {unit.name} {8 + n / 2:.1f}")
    await organiser.says("/rank")
    ranking = await current_ranking(services)
    await organiser.says(f"/results {campaign.units[0].name}")
    await organiser.says("/flagged")
    flagged = [
        campaign.require_unit(u.result.unit_id).name for u in ranking.units if u.result.flagged
    ]
    if flagged:
        await organiser.says(
            f"/proposal {flagged[0]} 约谈所长，限期一个月整改，整改情况书面报区纠风办。"
        )
        await organiser.says("/flagged")
    await organiser.says("/publish")  # first what would go out, and what is not ready
    await organiser.taps("公布")
    await stage.settle()
    for message in channel.transcript():
        headline = (message.text.splitlines() or [""])[0]
        out(f"  (the channel @shebao_pingyi_demo receives a {message.kind}) {headline}")
    await wang.notified()
    await report_deliveries(services)  # (the bot's job does this every 15 s)
    await stage.settle()
    await organiser.notified()
    await organiser.says("/publish")
    found = await pages(services)
    html, chart = found[0].html, found[0].chart
    folder = stage.page_dir or Path(services.db.target).parent / "page"
    write_pages(folder, found, await asyncio.to_thread(fonts.web_font))
    shown = "" if stage.page_dir else " (a scratch folder: `evalbot demo --page DIR` keeps it)"
    out(
        f"  evalbot publish-page: index.html ({len(html.encode())} bytes) and ranking.png "
        f"({len(chart)} bytes) written to {folder}{shown}"
    )
    scores = {r.name: r.composite for r in snapshot(ranking, campaign)}
    stage.on_page = sum(
        f">{name}<" in html and f">{score}<" in html for name, score in scores.items()
    )


def next_year(campaign: Campaign) -> str:
    """The campaign file of the year after ``campaign``'s: its id, year, name and every
    date one year on (what an organiser writes for the next round)."""
    year = campaign.year
    text = campaign.text
    new_id = campaign.id.replace(str(year), str(year + 1))
    if new_id == campaign.id:
        new_id = f"{campaign.id[:19]}-{year + 1}"
    text = re.sub(r'(?m)^id = "' + re.escape(campaign.id) + '"', f'id = "{new_id}"', text)
    text = re.sub(r"(?m)^year = \d+", f"year = {year + 1}", text)

    def later(found: re.Match[str]) -> str:
        day = min(int(found.group(3)), 28) if found.group(2) == "02" else int(found.group(3))
        return f"{int(found.group(1)) + 1:04d}-{found.group(2)}-{day:02d}"

    text = re.sub(r"\b(\d{4})-(\d{2})-(\d{2})\b", later, text)
    return text.replace(f"{year}年度", f"{year + 1}年度").replace(str(year) + " ", f"{year + 1} ")


async def next_round(stage: Stage) -> None:
    """A year later: the organiser opens next year's round in the same database; what
    carried over, an earlier round as published, and this year's evaluation."""
    out, services = stage.out, stage.services
    organiser, wang, staff = (stage.people[k] for k in ("organiser", "wang", "staff"))
    text = next_year(stage.campaign)
    following = parse_campaign(text, Path(f"campaign-{stage.campaign.year + 1}.toml"))
    out(f"  (the bot is stopped; the organiser writes {following.id}'s file and opens it)")
    await stage.settle()
    await stage.bot.stop()
    db = await open_database(services.db.target)
    try:
        stage.clock.advance(dt.timedelta(days=365))
        opening = await rounds.start(db, following, stage.clock.now())
    finally:
        await db.close()
    out(f"  $ evalbot round start campaign-{following.year}.toml")
    for line in opening.report():
        out(f"    {line.strip()}")
    stage.bot = EvalBot(
        following,
        stage.standin.token,
        str(services.db.target),
        base_url=stage.standin.base_url,
        clock=stage.clock,
        poll_timeout=1,
        run_jobs=False,
        console=stage.bot.console,
        console_listen=stage.bot.console_listen,
    )
    await stage.bot.start()
    last_year, stage.campaign = stage.campaign, following
    await wang.says("/status 1")
    await staff.says("/cases")
    await organiser.says(f"/rank {last_year.year}")
    links = await evaluator_links(organiser, 2)
    voters = []
    for n, link in enumerate(links):
        voter = stage.actor(f"voter-next{n}", 3040 + n, f"新代表{n + 1}", "evaluator")
        await voter.user.send(f"/start {link}")
        await voter.user.reply()
        voters.append(voter)
    await organiser.user.send("/ballots open")
    asked = await organiser.user.reply()
    if asked.has_button("现在开放"):
        await organiser.user.tap("现在开放", asked)
        await organiser.user.reply()
    await stage.settle()
    for n, voter in enumerate(voters):
        for u, unit in enumerate(following.units):
            for m, item in enumerate(following.items):
                tap = await voter.user.press(
                    _card(voter), f"b:{unit.id}:{item.id}:{(u + m + n) % 2}"
                )
                await tap.answer()
    out("  (two evaluators answer this year's cards)")
    for n, unit in enumerate(following.units):
        await organiser.user.send(f"/daily {unit.name} {9 - n / 2:.1f}")
        await organiser.user.reply()
    await stage.settle()
    await organiser.says("/rank")
    found = await pages(stage.services)
    folder = stage.page_dir or Path(stage.services.db.target).parent / "page"
    written = write_pages(folder, found, await asyncio.to_thread(fonts.web_font))
    out(
        "  evalbot publish-page: "
        + ", ".join(
            f"{p.relative_to(folder)} ({page.year})" for p, page in zip(written, found, strict=True)
        )
    )


async def summary(stage: Stage) -> None:
    await stage.bot.idle()
    filed = await case_store.count_cases(stage.services.db)
    sources = await user_store.count_by_source(stage.services.db)
    posters = {
        (found.name if (found := stage.campaign.source(code)) else code): n
        for code, n in sources.items()
    }
    stage.out(f"  cases filed: {filed}; residents by poster: {posters or 'none'}")


Scene = Callable[[Stage], Awaitable[None]]

# The demo's table of contents.
SCENES: tuple[tuple[str, Scene], ...] = (
    ("王阿姨, a resident who saw a poster at her residents' committee", residents_file),
    ("Mr Smith, an English-speaking resident, anonymous, writing in two parts",
     a_resident_in_english),
    ("张大爷 sends a sticker where words are expected, then cancels", a_sticker_then_cancel),
    ("李先生 starts an opinion and walks away; the bot closes it after a while",
     a_form_left_alone),
    ("王阿姨 follows her opinion", following_a_case),
    ("王阿姨 starts another, looks at something else midway, and finishes it",
     interrupted_and_resumed),
    ("The organiser (区纠风办) looks at the anonymous case", the_organiser_looks),
    ("The organiser invites staff of the first office; 小张 registers", staff_are_invited),
    ("Case 1 is verified, found substantiated, rectified and rated", a_case_is_rectified),
    ("The organiser records a finding from the complaint centre and looks around",
     findings_and_overview),
    ("The democratic evaluation: four evaluators vote, the log recounts them", the_ballots),
    ("Daily-work scores, the ranking, the results and their publication",
     results_and_publication),
    ("A year later: next year's round in the same database", next_round),
    ("Summary", summary),
)  # fmt: skip
