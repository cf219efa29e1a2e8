"""One table over every command and button: for each role (design §1) it is allowed or
refused, and a refusal changes nothing.

The roles: a resident (not the author of case 1), the author of case 1 (a resident too),
an evaluator of dongjie, a supervisor of dongjie, staff of dongjie (case 1's unit), staff of
xijie, and an organiser. A refusal is a reply or pop-up that says the role may not, or that
the case is not theirs to see; "allowed" is anything else.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from bot.cases.moves import MOVES
from bot.chat.callbacks import Kind
from bot.console.server import Console, ConsoleConfig
from bot.db import cases as case_store
from bot.runtime.health import Health, Instance
from bot.vocabulary import Move, Role
from tests.support.console import init_data
from tests.support.harness import Harness
from tests.support.helpers import declared, people, registered

REFUSALS = (
    "您的身份不能进行这项操作",  # the role may not
    "没有找到第 1 号",  # not a case this person may see
    "只有登记的测评代表",  # ballots are for evaluators
    "结果尚未公布",  # the live ranking is for organisers and supervisors only
)

ALL = frozenset({"resident", "author", "evaluator", "supervisor", "own", "other", "organiser"})
ORGANISER = frozenset({"organiser"})
CASE_1 = frozenset({"author", "supervisor", "own", "organiser"})  # who sees dongjie's case 1
TEAM = frozenset({"supervisor", "own", "other", "organiser"})  # case lists (own unit only)
WATCHERS = frozenset({"supervisor", "organiser"})  # the live results
# who may, as declared where the handler is registered (handlers/access.py)
DECLARED: frozenset[str] = frozenset({"declared"})
PEOPLE = {Role.ORGANISER: "organiser"}  # the people of the table who hold a declared role


def allowed_for(name: str, allowed: frozenset[str]) -> frozenset[str]:
    """The table's row, or, for a declared handler, the people its declaration admits."""
    if allowed is not DECLARED:
        return allowed
    key = name.split()[0] if name.startswith("/") else name.split(":")[0]
    return frozenset(PEOPLE[r] for r in declared()[key])


COMMANDS: list[tuple[str, frozenset[str]]] = [
    ("/start", ALL),
    ("/opinion", ALL),
    ("/new", ALL),
    ("/help", ALL),
    ("/myid", ALL),
    ("/status", ALL),
    ("/status 1", CASE_1),
    ("/history 1", CASE_1),
    ("/cases", TEAM),
    ("/overdue", TEAM),
    ("/rank", WATCHERS),
    ("/results dongjie", WATCHERS),
    ("/subscribe", ALL),
    ("/unsubscribe", ALL),
    ("/invite staff dongjie", DECLARED),
    ("/invite supervisor", DECLARED),
    ("/invite evaluator public_rep 1", DECLARED),
    ("/turnout", DECLARED),
    ("/daily dongjie 9", DECLARED),
    ("/flagged", DECLARED),
    ("/proposal dongjie 约谈所长", DECLARED),
    ("/finding dongjie general X1", DECLARED),
    ("/summary", DECLARED),
    ("/newcases", DECLARED),
    ("/hot", DECLARED),
    ("/export cases", DECLARED),
    ("/export results", DECLARED),
    ("/record", DECLARED),
    ("/publish", DECLARED),
    ("/ballots", DECLARED),
    ("/ballots close", DECLARED),
    ("/ballots open", DECLARED),
    ("/ballot", frozenset({"evaluator"})),
    ("/console", TEAM),
]

AS = {Role.STAFF: "own", Role.SUPERVISOR: "supervisor", Role.ORGANISER: "organiser"}

BUTTONS: list[tuple[str, frozenset[str]]] = [
    ("k:1", CASE_1),
    ("f:1", CASE_1),
    ("l:open", TEAM),
    ("l:overdue", TEAM),
    ("b:dongjie:service:0", frozenset({"evaluator"})),
    ("d:t:0", frozenset({"evaluator"})),
    ("d:back:0", frozenset({"evaluator"})),
    ("t:1:satisfied", frozenset({"author"})),  # the author's (now only "not yet": not done)
    ("w:reopen", DECLARED),
    ("w:early", DECLARED),
    ("p:again", DECLARED),
    ("p:0123456789ab", DECLARED),
    # an office chosen for a command: what runs is the person's own stored command, through
    # that command's handler and its check (tests/flows/test_by_name.py); none stored here
    ("o:dongjie:1", ALL),
    ("m:opinion", ALL),
    ("x:1", ALL),
    ("r:go:1:-", ALL),
    ("g:units:1", ALL),
    ("g:open:1", TEAM),
    ("u:dongjie", ALL),  # the steps of an opinion: anyone's own form
    ("i:service", ALL),
    ("a:done", ALL),
    ("n:anon", ALL),
    ("c:send", ALL),
    ("h:visit", ALL),
    # every move on case 1, by the roles its table names (staff: of its own unit only)
    *(
        (f"v:1:{move.value}", frozenset(AS[r] for r in MOVES[move].roles if r in AS))
        for move in Move
    ),
]


async def state(harness: Harness) -> dict[str, Any]:
    """Everything a command or a button could change (drafts aside: a flow's place; and
    the intake's offset, which every update moves)."""
    db = harness.services.db
    tables = [
        "cases", "case_events", "case_attachments", "findings", "invites", "roles",
        "ballots", "ballot_log", "tallies", "daily_scores", "proposals", "publications",
        "subscribers", "meta", "outbox",
    ]  # fmt: skip
    found: dict[str, Any] = {}
    for table in tables:
        rows = await db.fetchall(f"SELECT * FROM {table}")  # our own table names
        found[table] = sorted(tuple(r) for r in rows if table != "meta" or r[0] != "intake_offset")
    return found


def refused(text: str) -> bool:
    return any(marker in text for marker in REFUSALS)


async def test_every_command_and_button_for_every_role(harness: Harness) -> None:
    who = await people(harness)
    wrong: list[str] = []
    for command, row in COMMANDS:
        allowed = allowed_for(command, row)
        for role, person in who.items():
            before = await state(harness)
            person.skip_unread()
            await person.send(command)
            reply = await person.reply()
            await harness.settle()
            if role in allowed:
                if refused(reply.text):
                    wrong.append(f"{command} refused to {role}: {reply.text[:60]}")
            elif not refused(reply.text):
                wrong.append(f"{command} allowed to {role}: {reply.text[:60]}")
            elif (after := await state(harness)) != before:
                changed = [t for t in before if before[t] != after[t]]
                wrong.append(f"{command} refused to {role} but changed {changed}")
            if command in ("/record", "/opinion", "/new") and role in allowed:
                await person.send("/cancel")
                await person.reply()
    for data, row in BUTTONS:
        allowed = allowed_for(data, row)
        for role, person in who.items():
            before = await state(harness)
            person.skip_unread()
            tap = await person.press(person.latest().message_id, data)
            popup = (await tap.answer()).text or ""
            await harness.settle()
            said = " ".join([popup, *(m.text for m in person.unread())])
            if role in allowed:
                if refused(said):
                    wrong.append(f"{data} refused to {role}: {said[:60]}")
            elif not refused(said):
                wrong.append(f"{data} allowed to {role}: {said[:60]}")
            elif (after := await state(harness)) != before:
                changed = [t for t in before if before[t] != after[t]]
                wrong.append(f"{data} refused to {role} but changed {changed}")
            await person.send("/cancel")  # leave whatever the button started
            await person.reply()
    assert not wrong, "\n".join(wrong)


async def test_other_staff_see_only_their_own_unit(harness: Harness) -> None:
    who = await people(harness)
    for command in ("/cases", "/overdue"):
        who["other"].skip_unread()
        await who["other"].send(command)
        assert "第 1 号" not in (await who["other"].reply()).text
    who["own"].skip_unread()
    await who["own"].send("/cases")
    assert "第 1 号" in (await who["own"].reply()).text


def test_the_table_covers_every_command_and_button() -> None:
    """A command or a button kind joins this table the day it is added."""
    commands, kinds = registered()
    tabled = {c.split()[0].lstrip("/") for c, _ in COMMANDS}
    assert commands - tabled - {"cancel"} == set()  # /cancel follows every step
    assert kinds - {Kind(d.split(":")[0]) for d, _ in BUTTONS} == set()
    # a row reads the declaration exactly where the registration declares one
    rows = [(c.split()[0], a) for c, a in COMMANDS] + [(d.split(":")[0], a) for d, a in BUTTONS]
    assert {name for name, a in rows if a is DECLARED} == set(declared())


# -- the web console's routes ----------------------------------------------------------------

OUTSIDERS = frozenset({"resident", "author", "evaluator"})  # 403 on every console page


def team_status(allowed: frozenset[str], ok: int = 200, refused: int = 404) -> dict[str, int]:
    """What each role gets from a console route: outsiders 403, ``allowed`` ``ok``, the
    rest of the team ``refused`` (404: as for something that does not exist)."""
    return {r: 403 if r in OUTSIDERS else ok if r in allowed else refused for r in ALL}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ALL, status)


# route name -> (method, path under /console, form, the status for each role)
ROUTES: dict[str, tuple[str, str, dict[str, str] | None, dict[str, int]]] = {
    "root": ("GET", "", None, everyone(302)),
    "overview": ("GET", "/", None, team_status(TEAM)),
    "login": ("GET", "/login", None, everyone(403)),  # no token
    "logout": ("POST", "/logout", {}, everyone(401)),  # init data: no session to end
    "cases": ("GET", "/cases", None, team_status(TEAM)),
    "case": ("GET", "/cases/1", None, team_status(CASE_1)),
    # a move that does not exist: 400 for who may see the case, so nothing changes
    "move": ("POST", "/cases/1/move", {"move": "x", "nonce": "n"}, team_status(CASE_1, 400)),
    "file": ("GET", "/cases/1/files/0", None, team_status(frozenset(), 200)),  # none attached
    "results": ("GET", "/results", None, team_status(TEAM)),
    "chart": ("GET", "/results/chart.png", None, team_status(WATCHERS)),  # staff: unpublished
    "office": ("GET", "/results/dongjie", None, team_status(WATCHERS)),
    "export": ("GET", "/export/cases.xlsx", None, team_status(ORGANISER, refused=403)),
    # the organiser's workbench: 403 to the rest of the team (a page for organisers alone);
    # the forms as posted here change nothing (a state that is none, no scores, no file)
    "campaign": ("GET", "/campaign", None, team_status(ORGANISER, refused=403)),
    "window": ("POST", "/campaign/window", {"state": "x"}, team_status(ORGANISER, 400, 403)),
    "daily": ("GET", "/daily", None, team_status(ORGANISER, refused=403)),
    "daily_save": ("POST", "/daily", {}, team_status(ORGANISER, refused=403)),
    "daily_template": ("GET", "/daily/template.xlsx", None, team_status(ORGANISER, refused=403)),
    "daily_import": ("POST", "/daily/import", {}, team_status(ORGANISER, refused=403)),
    "audit": ("GET", "/audit", None, team_status(ORGANISER, refused=403)),
    "invites": ("GET", "/invites", None, team_status(ORGANISER, refused=403)),
    "invites_make": ("POST", "/invites", {"role": "x"}, team_status(ORGANISER, 400, 403)),
    "invites_sheet": ("GET", "/invites/sheet.png", None, team_status(ORGANISER, 404, 403)),
    "revoke": ("POST", "/invites/revoke", {"role": "x"}, team_status(ORGANISER, 400, 403)),
    "findings": ("GET", "/findings", None, team_status(ORGANISER, refused=403)),
    "finding_add": ("POST", "/findings", {}, team_status(ORGANISER, 400, 403)),  # no nonce
    "finding_withdraw": ("POST", "/findings/withdraw", {}, team_status(ORGANISER, 400, 403)),
    "findings_import": ("POST", "/findings/import", {}, team_status(ORGANISER, refused=403)),
    "proposals": ("GET", "/proposals", None, team_status(ORGANISER, refused=403)),
    "proposal_add": ("POST", "/proposals", {}, team_status(ORGANISER, 400, 403)),
    "publication": ("GET", "/publish", None, team_status(ORGANISER, refused=403)),
    "publish": ("POST", "/publish", {}, team_status(ORGANISER, 400, 403)),
    "findings_template": (
        "GET",
        "/findings/template.xlsx",
        None,
        team_status(ORGANISER, refused=403),
    ),
    "static": ("GET", "/static/console.js", None, everyone(200)),
    "font": ("GET", "/font.woff2", None, everyone(200)),
    "lang": ("GET", "/lang?to=en", None, everyone(303)),  # a preference, for anyone
}


async def test_every_console_route_for_every_role(console_harness: Harness) -> None:
    h = console_harness
    app = web.Application()
    Console(h.services, h.standin.token, ConsoleConfig(h.console_url + "/")).routes(app)
    assert {r.name for r in app.router.routes()} == set(ROUTES)  # a new route needs a line
    everyone_ = await people(h)
    before = await case_store.get_case(h.services.db, 1)
    async with aiohttp.ClientSession() as http:
        for name, (method, path, form, expected) in ROUTES.items():
            for who, status in expected.items():
                headers = {"X-Telegram-Init-Data": init_data(h, everyone_[who])}
                async with http.request(
                    method,
                    h.console_url + path,
                    headers=headers,
                    data=form,
                    allow_redirects=False,
                ) as r:
                    assert r.status == status, (name, who, r.status)
    assert await case_store.get_case(h.services.db, 1) == before  # nothing was changed


# The routes served beside the console (or the webhook): no one signs in to them. Who asks
# is the machine itself, or anyone through the TLS proxy (which adds X-Forwarded-For).
HEALTH_ROUTES: dict[str, tuple[str, dict[str, int]]] = {
    "healthz": ("/healthz", {"this machine": 200, "through the proxy": 200}),
    "readyz": ("/readyz", {"this machine": 200, "through the proxy": 200}),
    "metrics": ("/metrics", {"this machine": 200, "through the proxy": 404}),
}


async def test_the_health_routes_for_the_machine_and_through_the_proxy(
    console_harness: Harness,
) -> None:
    h = console_harness
    app = web.Application()
    Health(h.services.db, Instance(lambda: "poller", lambda: None)).routes(app)
    assert {r.name for r in app.router.routes()} == set(HEALTH_ROUTES)  # a new route: a line
    base = h.console_url.removesuffix("/console")
    asking = {"this machine": {}, "through the proxy": {"X-Forwarded-For": "203.0.113.9"}}
    async with aiohttp.ClientSession() as http:
        for name, (path, expected) in HEALTH_ROUTES.items():
            for who, status in expected.items():
                async with http.get(base + path, headers=asking[who]) as r:
                    assert r.status == status, (name, who, r.status)
