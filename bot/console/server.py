"""The console's HTTP side (design §11): aiohttp routes under ``/console``.

Every request is authenticated afresh: Telegram's init data in the ``X-Telegram-Init-Data``
header (a Mini App), or the session cookie a ``/console`` link set (an office browser).
Role and scope come from the database each time (``bot.console.views.viewer``). A request
without either gets the page shell, whose script finds the init data (from Telegram's
script, or from the URL fragment when that script cannot load) and asks again with it.

A page asked for with ``X-Console-Fragment: 1`` is answered with its content alone (the
Mini App's script swaps it in); otherwise with the whole page. Form posts from a cookie
session carry its CSRF token; init data in a header cannot come from another site.
The log holds methods, route names and statuses: never a query, a name or a text.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Middleware
from markupsafe import Markup

from bot.cases import access
from bot.cases.moves import MOVES, Actor, apply_move, read_fields
from bot.cases.view import Reader
from bot.chat import labels
from bot.console import auth, charts, fonts
from bot.console import views as console
from bot.console.http import ASKER, FIRST_DAY, LAST_DAY, Asker, Door, disposition, number, signed
from bot.console.workbench import Workbench
from bot.db import cases as case_store
from bot.db import console as console_store
from bot.db import results as result_store
from bot.db import search
from bot.db import users as user_store
from bot.errors import UserError
from bot.results import export
from bot.results import ranking as results
from bot.results.chart import ranking_chart
from bot.services import Services
from bot.texts import DEFAULT_LANG, LANGS, N_, lang_of
from bot.vocabulary import CaseState, Move, Need
from scoring import fmt_change

log = logging.getLogger(__name__)

PREFIX = "/console"
LANG_COOKIE = "evalbot_lang"  # the console's language, as its switch chose
INIT_HEADER = "X-Telegram-Init-Data"
FRAGMENT_HEADER = "X-Console-Fragment"
FetchFile = Callable[[str], Awaitable[tuple[bytes, str]]]  # file_id → (bytes, file path)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class ConsoleConfig:
    public_url: str  # where people open it, e.g. https://bot.example.org/console/
    init_data_max_age: dt.timedelta = dt.timedelta(hours=1)

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")


CSP = (
    "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; "
    "img-src 'self' blob: data:; font-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)


class Console:
    def __init__(
        self,
        services: Services,
        token: str,
        config: ConsoleConfig,
        fetch_file: FetchFile | None = None,
        bot_username: str = "",
    ) -> None:
        self.services = services
        self.bot_username = bot_username  # for invitation links (t.me/<bot>?start=…)
        self.token = token
        self.config = config
        self.fetch_file = fetch_file
        self.doors: dict[str, Door] = {}

    # -- the application ---------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        """Add the console's routes to ``app`` (its own, or the webhook's, which then takes
        :attr:`middlewares` too). Each route says who may ask: the middlewares sign the
        person in, check a form's CSRF token and add the security headers, once for all."""
        table: list[tuple[str, str, Handler, str, Door]] = [
            ("GET", "", self.redirect_root, "root", Door.OPEN),
            ("GET", "/", self.page(self.overview), "overview", Door.PAGE),
            ("GET", "/login", self.login, "login", Door.OPEN),
            ("POST", "/logout", self.logout, "logout", Door.ANYONE),
            ("GET", "/cases", self.page(self.cases), "cases", Door.PAGE),
            ("GET", "/cases/{id}", self.page(self.case), "case", Door.PAGE),
            ("POST", "/cases/{id}/move", self.page(self.move), "move", Door.PAGE),
            ("GET", "/cases/{id}/files/{n}", self.file, "file", Door.TEAM),
            ("GET", "/results", self.page(self.ranking), "results", Door.PAGE),
            ("GET", "/results/chart.png", self.chart, "chart", Door.TEAM),
            ("GET", "/results/{unit}", self.page(self.office), "office", Door.PAGE),
            ("GET", "/export/{which}.xlsx", self.download, "export", Door.TEAM),
            ("GET", "/static/{name}", self.static, "static", Door.OPEN),
            ("GET", "/font.woff2", self.font, "font", Door.OPEN),
            ("GET", "/lang", self.switch_language, "lang", Door.OPEN),
        ]
        bench = Workbench(self)
        for method, path, build, raw, name in bench.table():
            table.append((method, path, self.page(build) if build else raw, name, Door.ORGANISER))
        for method, path, handler, name, door in table:
            app.router.add_route(method, PREFIX + path, handler, name=name)
            self.doors[name] = door

    @property
    def middlewares(self) -> list[Middleware]:
        return [self.secured, self.signed_in]

    def application(self) -> web.Application:
        app = web.Application(middlewares=self.middlewares)
        self.routes(app)
        return app

    def door(self, request: web.Request) -> Door | None:
        """The console route's door; None for a route that is not the console's."""
        name = request.match_info.route.name
        return self.doors.get(name) if name else None

    @web.middleware
    async def secured(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Security headers on every answer, and one log line: method, route, status (never
        the query, which may hold a search)."""
        if self.door(request) is None:
            return await handler(request)
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPException as exc:
            response = exc
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        log.info("console %s %s %s", request.method, request.match_info.route.name, response.status)
        if isinstance(response, web.HTTPException):
            raise response
        return response

    @web.middleware
    async def signed_in(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Who asks (request[ASKER]), a form's CSRF token, and the door's answer to someone
        it does not let in: the sign-in shell or 401, the residents' page or 403."""
        door = self.door(request)
        if door is None or door is Door.OPEN:
            return await handler(request)
        asker = await self.asker(request)
        request[ASKER] = asker
        if asker is not None and asker.csrf is not None and request.method == "POST":
            form = await request.post()  # (kept: the handler reads the same form)
            if not secrets.compare_digest(str(form.get("csrf", "")), asker.csrf):
                raise web.HTTPForbidden(text="the form's token does not match this session")
        if door is Door.ANYONE:
            return await handler(request)
        fragment = request.headers.get(FRAGMENT_HEADER) == "1"
        if asker is None:
            if door in (Door.PAGE, Door.ORGANISER) and request.method == "GET" and not fragment:
                return self.html("console/shell.html", DEFAULT_LANG, None, status=200)
            raise web.HTTPUnauthorized(text="open the console from the bot")
        if not asker.who.allowed or (door is Door.ORGANISER and not asker.who.organiser):
            if door in (Door.PAGE, Door.ORGANISER):
                return self.html(
                    "console/message.html",
                    asker.who.lang,
                    asker,
                    fragment=fragment,
                    status=403,
                    message=self.t(
                        asker,
                        N_("The console is for organisers, supervisors and staff.")
                        if not asker.who.allowed
                        else N_("This page is for organisers."),
                    ),
                )
            raise web.HTTPForbidden(text="not for residents")
        return await handler(request)

    # -- who asks ----------------------------------------------------------------------------

    async def asker(self, request: web.Request) -> Asker | None:
        """The person asking (any role), or None when the request proves nobody.
        Raises 401 for init data that does not hold."""
        services = self.services
        init = request.headers.get(INIT_HEADER)
        if init is not None:
            found = auth.init_data_user(
                init, self.token, services.clock.now(), self.config.init_data_max_age
            )
            if found is None:
                raise web.HTTPUnauthorized(text="the init data does not hold")
            user_id, language = found
            lang = await self.language(user_id, language, request.cookies.get(LANG_COOKIE, ""))
            return Asker(await console.viewer(services, user_id, lang), None)
        cookie = request.cookies.get(auth.COOKIE)
        if cookie:
            session = await auth.session_user(services, cookie)
            if session is not None:
                user_id, csrf = session
                lang = await self.language(user_id, None, request.cookies.get(LANG_COOKIE, ""))
                return Asker(await console.viewer(services, user_id, lang), csrf)
        return None

    async def names(self, user_ids: list[int]) -> dict[int, str]:
        """The names people gave Telegram, for the pages that say who did what."""
        return await user_store.names(self.services.db, sorted(set(user_ids)))

    async def language(self, user_id: int, given: str | None, chosen: str = "") -> str:
        """The console's language: the one chosen with its switch (a cookie), else the
        person's language with the bot, else Telegram's."""
        if chosen in LANGS:
            return chosen
        user = await user_store.get_user(self.services.db, user_id)
        if user is not None and user.lang:
            return user.lang
        return lang_of(given) if given else DEFAULT_LANG

    # -- pages -------------------------------------------------------------------------------

    def page(self, build: Callable[[web.Request, Asker], Awaitable[Any]]) -> Handler:
        """A console page (behind Door.PAGE: signed in and allowed), rendered whole or as a
        fragment."""

        async def handler(request: web.Request) -> web.StreamResponse:
            asker = signed(request)
            got = await build(request, asker)
            if isinstance(got, web.StreamResponse):
                return got
            name, values = got
            fragment = request.headers.get(FRAGMENT_HEADER) == "1"
            values.setdefault("path", request.path_qs if request.method == "GET" else request.path)
            return self.html(name, asker.who.lang, asker, fragment=fragment, **values)

        return handler

    def t(self, asker: Asker, message: str, **values: Any) -> str:
        return self.services.texts.gettext(asker.who.lang, message, **values)

    def html(
        self,
        name: str,
        lang: str,
        asker: Asker | None,
        *,
        fragment: bool = False,
        status: int = 200,
        **values: Any,
    ) -> web.Response:
        texts = self.services.texts
        common = self.common(lang, asker, values.pop("path", PREFIX + "/"))
        body = texts.render(name, lang, asker=asker, c=common, **values)
        if fragment:  # the header too, in the asker's language: the script swaps it in
            frame = texts.render("console/frame.html", lang, asker=asker, c=common)
            body = Markup(frame) + body
        else:
            body = texts.render(
                "console/layout.html", lang, asker=asker, c=common, content=Markup(body)
            )
        return web.Response(text=str(body), status=status, content_type="text/html")

    def common(self, lang: str, asker: Asker | None = None, path: str = "") -> dict[str, Any]:
        campaign = self.services.campaign
        who = console.signed_in_as(self.services, asker.who) if asker else ""
        return {
            "prefix": PREFIX,
            "campaign": campaign,
            "title": campaign.title(lang),
            "who": who,
            "other_lang": "zh" if lang == "en" else "en",
            "path": path or PREFIX + "/",  # the page, for the language switch to come back to
        }

    async def redirect_root(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PREFIX + "/")  # the browser keeps the fragment (init data)

    async def overview(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        found = await console.overview(self.services, asker.who)
        return "console/overview.html", {
            "o": found,
            "states": self.state_labels(asker.who.lang),
            "categories": {
                c.id: c.label(asker.who.lang) for c in self.services.campaign.categories
            },
            "rows": self.reader(asker).views(found.overdue),
        }

    def state_labels(self, lang: str) -> dict[str, str]:
        texts = self.services.texts
        return {s: texts.gettext(lang, label) for s, label in labels.STATES.items()}

    def reader(self, asker: Asker) -> Reader:
        """Cases as the person asking reads them (bot/cases/view.py)."""
        services = self.services
        years = {r.id: r.year for r in services.rounds}
        return Reader(
            services.campaign, services.texts, asker.who.lang, services.clock.now(), years
        )

    def query(self, request: web.Request) -> console.CaseQuery:
        q = request.query
        campaign = self.services.campaign

        def day(name: str) -> dt.date | None:
            text = q.get(name, "").strip()
            if not text:
                return None
            try:
                value = dt.date.fromisoformat(text)
            except ValueError:
                value = None
            if value is None or not FIRST_DAY <= value <= LAST_DAY:
                raise web.HTTPBadRequest(
                    text=f"{name}: a day between {FIRST_DAY} and {LAST_DAY}, as YYYY-MM-DD"
                )
            return value

        def pick(name: str, allowed: set[str]) -> str | None:
            value = q.get(name, "")
            return value if value in allowed else None

        try:
            page = max(1, min(int(q.get("page", "1")), 100_000))
        except ValueError:
            page = 1
        return console.CaseQuery(
            unit=pick("unit", {u.id for u in campaign.case_units}),
            state=pick("state", {s.value for s in CaseState}),
            # "other" in the page's select: the cases about no item (stored as "")
            item="" if q.get("item") == "other" else pick("item", {i.id for i in campaign.items}),
            channel=pick("channel", set(labels.CHANNELS)),
            overdue=q.get("overdue") == "1",
            since=day("since"),
            until=day("until"),
            text=q.get("q", "")[:200],
            sort=q.get("sort", "new"),
            page=page,
        )

    async def cases(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        q = self.query(request)
        found = await console.find(self.services, asker.who, q)
        lang, campaign = asker.who.lang, self.services.campaign
        params = {k: v for k, v in request.query.items() if k != "page" and v}
        return "console/cases.html", {
            "q": q,
            "found": found,
            "rows": self.reader(asker).views(found.cases),
            "units": [
                (u, console.label(self.services, u, lang))
                for u in console.scope(self.services, asker.who)
            ],
            "items": [(i.id, i.label(lang)) for i in campaign.items],
            "states": self.state_labels(lang),
            "channels": {
                k: self.services.texts.gettext(lang, v) for k, v in labels.CHANNELS.items()
            },
            "page_link": lambda n: f"{PREFIX}/cases?" + urlencode({**params, "page": n}),
            "words": search.query_words(q.text) if q.text else [],
        }

    async def require_case(self, request: web.Request, asker: Asker) -> access.CaseAccess:
        """The case, for its team or an organiser; 404 for anyone else, as for no case."""
        case_id = number(request.match_info["id"])
        if case_id is None:
            raise web.HTTPNotFound(text="no such case")
        found = await access.case_access(self.services, asker.who.user_id, case_id)
        if found is None or not found.team:
            raise web.HTTPNotFound(text="no such case")
        return found

    async def case(
        self, request: web.Request, asker: Asker, **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        found = await self.require_case(request, asker)
        services, lang = self.services, asker.who.lang
        case = found.case
        history = await case_store.case_history(services.db, case.id)
        files = await console_store.attachments(services.db, case.id)
        moves = [
            {
                "move": spec.move.value,
                "label": services.texts.gettext(lang, spec.label),
                "reason": Need.REASON in spec.needs,
                "plan": Need.PLAN in spec.needs,
                "deadline": Need.DEADLINE in spec.needs,
                # the resident reads the text written with it (a deferral's reason aside)
                "resident": spec.tell_resident
                and Need.REASON in spec.needs
                and spec.move != Move.DEFER,
            }
            for spec in found.moves
        ]
        reader = self.reader(asker)
        return "console/case.html", {
            "row": reader.view(case),
            "access": found,
            "history": reader.history(history),
            "files": files,
            "moves": moves,
            "nonce": secrets.token_urlsafe(12),
            "problem": None,
            "done": None,
            "given": {},
            **extra,
        }

    async def move(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        form = await request.post()
        found = await self.require_case(request, asker)
        try:
            move = Move(str(form.get("move", "")))
        except ValueError:
            raise web.HTTPBadRequest(text="no such move") from None
        nonce = str(form.get("nonce", ""))[:40]
        if not nonce:
            raise web.HTTPBadRequest(text="the form has no nonce")
        spec = MOVES[move]
        services = self.services
        answers = {need: str(form.get(need.value, ""))[:10_000] for need in Need}
        problem = None
        try:  # the same reading of the answers and the same move as in chat
            await apply_move(
                services,
                found.case.id,
                move,
                Actor(asker.who.user_id, found.roles),
                read_fields(services, move, answers),
                f"web:{asker.who.user_id}:{nonce}:{move.value}",
            )
        except UserError as exc:
            # the chat's answer: Telegram's HTML subset, user values escaped
            problem = services.texts.render(
                exc.template, asker.who.lang, campaign=services.campaign, **exc.context
            )
        done = (
            None
            if problem
            else self.t(asker, N_("Done: %(move)s."), move=self.t(asker, spec.label))
        )
        given = {need.value: text for need, text in answers.items()} if problem else {}
        return await self.case(request, asker, problem=problem, done=done, given=given)

    async def file(self, request: web.Request) -> web.StreamResponse:
        asker = signed(request)
        found = await self.require_case(request, asker)
        files = await console_store.attachments(self.services.db, found.case.id)
        try:
            position = number(request.match_info["n"], least=0)
            _, kind, file_id, name = next(f for f in files if f[0] == position)
        except StopIteration:
            raise web.HTTPNotFound(text="no such file") from None
        if self.fetch_file is None:
            raise web.HTTPServiceUnavailable(text="files cannot be fetched here")
        data, path = await self.fetch_file(file_id)
        filename = name or path.rsplit("/", 1)[-1] or f"file-{position}"
        content_type = "image/jpeg" if kind == "photo" else "application/octet-stream"
        return web.Response(
            body=data,
            content_type=content_type,
            headers={"Content-Disposition": disposition(filename, inline=kind == "photo")},
        )

    async def ranking(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        services = self.services
        previous: str | None = None
        changes: dict[str, str] = {}
        against: dict[str, tuple[str, str]] = {}  # where it differs: (as published, change)
        if asker.who.watcher:
            rows = results.snapshot(await results.current_ranking(services), services.campaign)
            live = True
            at: dt.datetime | None = services.clock.now()
            past = await results.history(services)
            if past.previous is not None:
                previous = str(past.previous.year)
                for row in rows:
                    found = past.changes.get(row.unit_id)
                    changes[row.unit_id] = fmt_change(found.composite if found else None)
                for unit_id, (was, delta) in past.against_published.items():
                    against[unit_id] = (f"{was:.2f}", fmt_change(delta))
        else:
            published = await result_store.last_publication(services.db)
            rows = published.ranking if published else []
            live = False
            at = published.published_at if published else None
        return "console/results.html", {
            "rows": rows,
            "changes": changes,
            "live": live,
            "at": at,
            "threshold": services.campaign.scoring.threshold,
            "previous": previous,
            "published": against,
        }

    async def chart(self, request: web.Request) -> web.StreamResponse:
        asker = signed(request)
        services = self.services
        if asker.who.watcher:
            rows = results.snapshot(await results.current_ranking(services), services.campaign)
        else:
            published = await result_store.last_publication(services.db)
            if published is None:
                raise web.HTTPNotFound(text="nothing published yet")
            rows = published.ranking
        png = ranking_chart(services, rows, asker.who.lang)
        return web.Response(body=png, content_type="image/png")

    async def office(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        services, lang = self.services, asker.who.lang
        unit = services.campaign.unit(request.match_info["unit"])
        if unit is None or not asker.who.watcher:
            raise web.HTTPNotFound(text="no such office")
        ranked = (await results.current_ranking(services)).get(unit.id)
        past = await results.history(services)
        found = past.changes.get(unit.id)
        series = past.series(unit.id)
        return "console/office.html", {
            "unit": unit,
            "shown": unit.label(lang),
            "ranked": ranked,
            "r": ranked.result,
            "items": {i.id: i.label(lang) for i in services.campaign.items},
            "categories": {c.id: c.label(lang) for c in services.campaign.categories},
            "shows": services.campaign.ballots.shows,
            "k": services.campaign.ballots.smallest_group,
            "previous": str(past.previous.year) if past.previous and found else None,
            "change": found,
            "against": past.against_published.get(unit.id),  # (as published, change)
            "delta": fmt_change,
            "series": [(round_.year, value) for round_, value in series],
            "chart": charts.line(
                [(str(round_.year), value) for round_, value in series],
                self.services.campaign.scoring.threshold,
            )
            if len(series) > 1
            else None,
        }

    async def download(self, request: web.Request) -> web.StreamResponse:
        asker = signed(request)
        which = request.match_info["which"]
        if which not in ("cases", "results"):
            raise web.HTTPNotFound(text="no such export")
        if not asker.who.organiser:
            raise web.HTTPForbidden(text="exports are for organisers")
        make = export.cases_workbook if which == "cases" else export.results_workbook
        data = await make(self.services, asker.who.lang, asker.who.user_id)
        stamp = self.services.clock.now().strftime("%Y%m%d-%H%M")
        return web.Response(
            body=data,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": disposition(f"{which}-{stamp}.xlsx", inline=False)},
        )

    # -- getting in --------------------------------------------------------------------------

    async def login(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("t", "")
        opened = await auth.open_session(self.services, token) if token else None
        if opened is None:
            return self.html(
                "console/message.html",
                DEFAULT_LANG,
                None,
                status=403,
                message=self.services.texts.gettext(
                    DEFAULT_LANG,
                    N_(
                        "This link has been used or has expired. "
                        "Send /console to the bot for a new one."
                    ),
                ),
            )
        cookie, _ = opened
        response = web.HTTPSeeOther(PREFIX + "/")
        response.set_cookie(
            auth.COOKIE,
            cookie,
            max_age=int(auth.SESSION_LIFE.total_seconds()),
            path=PREFIX,
            httponly=True,
            samesite="Strict",
            secure=self.config.secure,
        )
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        asker: Asker | None = request[ASKER]  # (Door.ANYONE: its form's token is checked)
        cookie = request.cookies.get(auth.COOKIE)
        if asker is None or asker.csrf is None or cookie is None:
            raise web.HTTPUnauthorized(text="no session")
        await auth.end_session(self.services, cookie)
        response = web.HTTPSeeOther(PREFIX + "/")
        response.del_cookie(auth.COOKIE, path=PREFIX)
        raise response

    async def switch_language(self, request: web.Request) -> web.StreamResponse:
        """The language switch: remembered in a cookie (a year), then back to the page."""
        to = request.query.get("to", "")
        if to not in LANGS:
            raise web.HTTPBadRequest(text="to: zh or en")
        back = request.query.get("back", "")
        if not back.startswith(PREFIX + "/") or "//" in back or "\\" in back:
            back = PREFIX + "/"  # only a page of the console: never somewhere else
        response = web.HTTPSeeOther(back)
        response.set_cookie(
            LANG_COOKIE,
            to,
            max_age=365 * 24 * 3600,
            path=PREFIX,
            samesite="Lax",
            secure=self.config.secure,
        )
        raise response

    # -- files -------------------------------------------------------------------------------

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        types = {"console.js": "text/javascript", "console.css": "text/css"}
        if name not in types:
            raise web.HTTPNotFound()
        body = resources.files("bot.console").joinpath("static", name).read_bytes()
        return web.Response(
            body=body, content_type=types[name], headers={"Cache-Control": "no-cache"}
        )

    async def font(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=fonts.web_font(),
            content_type="font/woff2",
            headers={"Cache-Control": "public, max-age=86400"},
        )
