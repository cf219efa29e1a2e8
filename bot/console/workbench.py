"""The organiser's workbench in the console (design §11): the ballot window, the daily-work
scores and the audit, through the same domain functions as chat (bot.ballots.evaluation,
bot.results.ranking), each action recorded in the audit with ``via = "console"``.

Every route here is behind :attr:`Door.ORGANISER`; forms carry the session's CSRF token
(checked by the console's middleware) like every other console form.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable
from io import BytesIO
from typing import Any, Protocol
from zipfile import BadZipFile

from aiohttp import web
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from PIL import Image

from bot import roles
from bot.args import parse_number
from bot.ballots import evaluation as ballots
from bot.cases.moves import MOVES
from bot.chat import labels
from bot.console.http import Asker, disposition, number, signed
from bot.db import audit as audit_store
from bot.db import cases as case_store
from bot.db import results as result_store
from bot.db import roles as role_store
from bot.errors import RowProblem, UserError
from bot.results import findings, ranking
from bot.results import publish as publishing
from bot.results.export import add_row
from bot.services import Services
from bot.texts import N_
from bot.vocabulary import Move, Role, Severity
from scoring import fmt


class Host(Protocol):
    """What the workbench takes from the console that serves it (no import back up)."""

    services: Services
    bot_username: str

    async def names(self, user_ids: list[int]) -> dict[int, str]: ...


Page = Callable[[web.Request, Asker], Awaitable[Any]]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 5 * 1024 * 1024  # a spreadsheet of a few thousand rows is far smaller
AUDIT_PAGE = 100
SEVERITIES = labels.SEVERITIES
FINDINGS_PAGE = 100
WITHDRAWN = " withdrawn"  # the audit's detail of a finding withdrawn ends so
ISSUED_SHOWN = 2000  # the newest invitations listed (a campaign makes a few hundred)
MAX_INVITES = 200  # in one batch, as in chat

# the audit's actions as the page names them
ACTIONS = {
    "daily": N_("Daily-work score"),
    "proposal": N_("Handling proposal"),
    "finding": N_("Finding"),
    "findings": N_("Findings imported"),
    "window": N_("Ballot window"),
    "invite": N_("Invitations"),
    "revoke": N_("Role revoked"),
    "publish": N_("Publication"),
    "move": N_("Case"),
}
VIAS = {"chat": N_("chat"), "console": N_("console"), "cli": N_("command line")}


class Workbench:
    def __init__(self, console: Host) -> None:
        self.console = console
        self.services = console.services

    def table(self) -> list[tuple[str, str, Page | None, Any, str]]:
        """(method, path, page builder or None, raw handler, route name) for the console."""
        return [
            ("GET", "/campaign", self.campaign, None, "campaign"),
            ("POST", "/campaign/window", self.window, None, "window"),
            ("GET", "/daily", self.daily, None, "daily"),
            ("POST", "/daily", self.save_daily, None, "daily_save"),
            ("GET", "/daily/template.xlsx", None, self.daily_template, "daily_template"),
            ("POST", "/daily/import", self.import_daily, None, "daily_import"),
            ("GET", "/audit", self.audit, None, "audit"),
            ("GET", "/invites", self.invites, None, "invites"),
            ("POST", "/invites", self.make_invites, None, "invites_make"),
            ("GET", "/invites/sheet.{kind}", None, self.sheet, "invites_sheet"),
            ("POST", "/invites/revoke", self.revoke, None, "revoke"),
            ("GET", "/findings", self.findings, None, "findings"),
            ("POST", "/findings", self.add_finding, None, "finding_add"),
            ("POST", "/findings/withdraw", self.withdraw, None, "finding_withdraw"),
            ("POST", "/findings/import", self.import_findings, None, "findings_import"),
            ("GET", "/findings/template.xlsx", None, self.findings_template, "findings_template"),
            ("GET", "/proposals", self.proposals, None, "proposals"),
            ("POST", "/proposals", self.add_proposal, None, "proposal_add"),
            ("GET", "/publish", self.publication, None, "publication"),
            ("POST", "/publish", self.publish, None, "publish"),
        ]

    def t(self, asker: Asker, message: str, **values: Any) -> str:
        return self.services.texts.gettext(asker.who.lang, message, **values)

    # -- the ballot window -------------------------------------------------------------------

    async def campaign(
        self, request: web.Request, asker: Asker, **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        services, lang = self.services, asker.who.lang
        start, end = ballots.phase_window(services)
        evaluators: dict[str, int] = {}
        answered: dict[str, int] = {}
        expected: dict[str, int] = {}
        for row in await ballots.turnout(services):
            evaluators[row.unit_id] = evaluators.get(row.unit_id, 0) + row.evaluators
            answered[row.unit_id] = answered.get(row.unit_id, 0) + row.answered
            expected[row.unit_id] = expected.get(row.unit_id, 0) + row.expected
        shows = services.campaign.ballots.shows
        offices = [
            {
                "name": u.label(lang),
                "evaluators": evaluators.get(u.id, 0),
                "answered": answered.get(u.id, 0),
                "expected": expected.get(u.id, 0),
                "small": not shows(evaluators.get(u.id, 0)),
            }
            for u in services.campaign.units
        ]
        return "console/campaign.html", {
            "state": await ballots.window_now(services),
            "open": await ballots.is_open(services),
            "start": start,
            "end": end,
            "offices": offices,
            "k": services.campaign.ballots.smallest_group,
            "confirm": None,
            "done": None,
            **extra,
        }

    async def window(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        form = await request.post()
        wanted = str(form.get("state", ""))
        if wanted not in ("open", "closed"):
            raise web.HTTPBadRequest(text="state: open or closed")
        services = self.services
        if wanted == "open" and form.get("confirm") != "1":
            # as in chat: before the plan's phase, or again after a close, it asks first
            start, _ = ballots.phase_window(services)
            before = services.clock.now() < start
            again = await ballots.window(services) == "closed"
            if before or again:
                return await self.campaign(request, asker, confirm="early" if before else "reopen")
        await ballots.set_window(services, wanted, asker.who.user_id, via="console")
        done = self.t(
            asker,
            N_("The ballot window is open.")
            if wanted == "open"
            else N_("The ballot window is closed."),
        )
        return await self.campaign(request, asker, done=done)

    # -- daily-work scores -------------------------------------------------------------------

    async def daily(
        self, request: web.Request, asker: Asker, **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        services, lang = self.services, asker.who.lang
        scores = await result_store.daily_scores(services.db)
        given: dict[str, str] = extra.pop("given", {})
        return "console/daily.html", {
            "rows": [
                {
                    "id": u.id,
                    "name": u.label(lang),
                    "score": given.get(u.id, fmt(scores[u.id]) if u.id in scores else ""),
                    "stored": u.id in scores,
                }
                for u in services.campaign.units
            ],
            "missing": sum(1 for u in services.campaign.units if u.id not in scores),
            "limit": fmt(services.campaign.scoring.daily_max),
            "problems": [],
            "done": None,
            **extra,
        }

    async def save_daily(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        """The table's form: every office whose box was changed, all or none."""
        form = await request.post()
        services = self.services
        stored = await result_store.daily_scores(services.db)
        changed: list[tuple[int, str, str]] = []
        given: dict[str, str] = {}
        for n, unit in enumerate(services.campaign.units, start=1):
            text = str(form.get(f"score:{unit.id}", "")).strip()[:20]
            given[unit.id] = text
            now = fmt(stored[unit.id]) if unit.id in stored else ""
            if text and text != now:
                changed.append((n, unit.id, text))
        problems = await ranking.set_dailies(services, asker.who.user_id, changed, "console")
        if problems:
            return await self.daily(
                request, asker, given=given, problems=self.problems(asker, problems)
            )
        done = self.t(asker, N_("%(n)s scores saved."), n=len(changed))
        return await self.daily(request, asker, done=done)

    def problems(
        self, asker: Asker, found: list[RowProblem], rows: bool = True
    ) -> list[tuple[int, str]]:
        """Each refusal in words, with its row (``rows``: a table's or a sheet's)."""
        texts, campaign = self.services.texts, self.services.campaign
        return [
            (
                p.row if rows else 0,
                texts.render(p.template, asker.who.lang, campaign=campaign, **p.values),
            )
            for p in found
        ]

    async def daily_template(self, request: web.Request) -> web.StreamResponse:
        asker = signed(request)
        campaign = self.services.campaign
        scores = await result_store.daily_scores(self.services.db)
        rows = [[u.name, float(scores[u.id]) if u.id in scores else None] for u in campaign.units]
        return self.workbook(
            asker,
            N_("Daily work"),
            [N_("Office"), N_("Daily-work score")],
            rows,
            N_("daily-work scores"),
        )

    def workbook(
        self, asker: Asker, title: str, headers: list[str], rows: list[list[Any]], name: str
    ) -> web.Response:
        """A spreadsheet template to download: a header row (in the asker's language; an
        import reads the columns by place) and the rows."""
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = self.t(asker, title)
        add_row(sheet, [self.t(asker, h) for h in headers])
        for row in rows:
            add_row(sheet, row)
        for column in "ABCD":
            sheet.column_dimensions[column].width = 30
        buffer = BytesIO()
        book.save(buffer)
        filename = self.t(asker, name) + ".xlsx"
        return web.Response(
            body=buffer.getvalue(),
            content_type=XLSX,
            headers={"Content-Disposition": disposition(filename, inline=False)},
        )

    async def import_daily(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        """The template filled in: every row with a score, all or none."""
        form = await request.post()
        upload = form.get("file")
        data = upload.file.read(MAX_UPLOAD + 1) if isinstance(upload, web.FileField) else b""
        rows = read_sheet(data, 2) if 0 < len(data) <= MAX_UPLOAD else None
        if rows is None:
            problem = self.t(asker, N_("This is not a spreadsheet (.xlsx) of the template."))
            return await self.daily(request, asker, problems=[(0, problem)])
        entries = [(n, name, score) for n, name, score in rows if score]
        problems = await ranking.set_dailies(self.services, asker.who.user_id, entries, "console")
        if problems:
            return await self.daily(request, asker, problems=self.problems(asker, problems))
        done = self.t(asker, N_("%(n)s scores imported."), n=len(entries))
        return await self.daily(request, asker, done=done)

    # -- invitations and roles ---------------------------------------------------------------

    async def invites(
        self, request: web.Request, asker: Asker, **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        services, lang = self.services, asker.who.lang
        campaign = services.campaign
        issued = await role_store.issued(services.db, ISSUED_SHOWN)
        held = await role_store.holders(services.db)
        names = await self.console.names(
            [h.user_id for h in held] + [i.used_by for i in issued if i.used_by]
        )
        batches: dict[str, dict[str, Any]] = {}
        for i in issued:
            batch = batches.setdefault(
                i.created_at.isoformat(),
                {
                    "at": i.created_at,
                    "role": self.role(asker, i.role),
                    "units": self.units(i.units, lang),
                    "category": self.category(i.category, lang),
                    "links": [],
                    "unused": 0,
                },
            )
            batch["links"].append(
                {
                    "link": roles.invite_link(self.console.bot_username, i.code),
                    "used_by": names.get(i.used_by, str(i.used_by)) if i.used_by else None,
                    "used_at": i.used_at,
                }
            )
            batch["unused"] += i.used_by is None
        return "console/invites.html", {
            "batches": [{"key": k, **b} for k, b in batches.items()],
            "held": [
                {
                    "user_id": h.user_id,
                    "name": names.get(h.user_id) or str(h.user_id),
                    "role": h.role,
                    "role_label": self.role(asker, h.role),
                    "units": self.units(h.units, lang),
                    "category": self.category(h.category, lang),
                    "since": h.granted_at,
                }
                for h in held
            ],
            "offices": [u.label(lang) for u in campaign.units],
            "categories": [(c.id, c.label(lang)) for c in campaign.categories],
            "max": MAX_INVITES,
            "nonce": secrets.token_urlsafe(12),
            "made": None,
            "problem": None,
            "confirm": None,
            "done": None,
            "given": {},
            "role": "evaluator",
            **extra,
        }

    def role(self, asker: Asker, role: str) -> str:
        label = labels.HELD_ROLES.get(role)
        return self.t(asker, label) if label else role

    def units(self, units: tuple[str, ...], lang: str) -> str:
        return labels.offices_named(self.services.campaign, self.services.texts, lang, units)

    def category(self, category: str | None, lang: str) -> str:
        found = next((c for c in self.services.campaign.categories if c.id == category), None)
        return found.label(lang) if found else ""

    async def make_invites(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        """Invitations from the form: offices and a category by name, as in chat; the same
        form sent twice makes them once."""
        form = await request.post()
        services, campaign = self.services, self.services.campaign
        role = str(form.get("role", ""))
        if role not in (Role.STAFF, Role.SUPERVISOR, Role.EVALUATOR):
            raise web.HTTPBadRequest(text="role: staff, supervisor or evaluator")
        nonce = str(form.get("nonce", ""))[:40]
        if not nonce:
            raise web.HTTPBadRequest(text="the form has no nonce")
        given = {k: str(form.get(k, ""))[:2000] for k in ("offices", "category", "count")}
        try:
            named = [p.strip() for p in re.split(r"[,，、;；]+", given["offices"]) if p.strip()]
            units = [campaign.find_unit(p).id for p in named]
            category = None
            count = 1
            if role == Role.EVALUATOR:
                category = campaign.find_category(given["category"]).id
                found = parse_number(given["count"], 1, MAX_INVITES)
                if found is None:
                    raise UserError("invites/count", max=MAX_INVITES)
                count = found
            elif role == Role.STAFF and len(units) != 1:
                raise UserError("invites/one_office")
        except UserError as refusal:
            problem = services.texts.render(
                refusal.template, asker.who.lang, campaign=campaign, **refusal.context
            )
            return await self.invites(request, asker, problem=problem, given=given, role=role)
        codes = await roles.make_invites(
            services, asker.who.user_id, role, units, count, category, "console", f"web:{nonce}"
        )
        made = [roles.invite_link(self.console.bot_username, c) for c in codes]
        return await self.invites(request, asker, made=made)

    async def sheet(self, request: web.Request) -> web.StreamResponse:
        """A batch's unused invitations as a printable sheet of QR codes (PNG or PDF)."""
        asker = signed(request)
        kind = request.match_info["kind"]
        if kind not in ("png", "pdf"):
            raise web.HTTPNotFound(text="a sheet is .png or .pdf")
        batch = request.query.get("batch", "")
        found = [
            i
            for i in await role_store.issued(self.services.db, ISSUED_SHOWN)
            if i.created_at.isoformat() == batch and i.used_by is None
        ]
        if not found:
            raise web.HTTPNotFound(text="no unused invitations in that batch")
        label = self.category(found[0].category, asker.who.lang) or self.role(asker, found[0].role)
        links = [roles.invite_link(self.console.bot_username, i.code) for i in found]
        png = roles.qr_sheet(links, label)
        body = png if kind == "png" else pdf_of(png)
        name = f"{self.t(asker, N_('Invitations'))}-{found[0].created_at:%Y%m%d-%H%M}.{kind}"
        return web.Response(
            body=body,
            content_type="image/png" if kind == "png" else "application/pdf",
            headers={"Content-Disposition": disposition(name, inline=False)},
        )

    async def revoke(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        """End a person's role: asked first, then the person is told."""
        form = await request.post()
        role = str(form.get("role", ""))
        user = number(str(form.get("user", "")))
        if role not in (Role.STAFF, Role.SUPERVISOR, Role.EVALUATOR) or user is None:
            raise web.HTTPBadRequest(text="a person and a role")
        held = [h for h in await role_store.holders(self.services.db) if h.user_id == user]
        holder = next((h for h in held if h.role == role), None)
        if holder is None:
            return await self.invites(
                request, asker, done=self.t(asker, N_("That role has ended already."))
            )
        name = (await self.console.names([user])).get(user) or str(user)
        if form.get("confirm") != "1":
            return await self.invites(
                request,
                asker,
                confirm={
                    "user_id": user,
                    "role": role,
                    "name": name,
                    "role_label": self.role(asker, role),
                    "units": self.units(holder.units, asker.who.lang),
                },
            )
        await roles.revoke(self.services, asker.who.user_id, user, role, "console")
        done = self.t(
            asker,
            N_("%(name)s is no longer %(role)s; they have been told."),
            name=name,
            role=self.role(asker, role),
        )
        return await self.invites(request, asker, done=done)

    # -- the findings register ---------------------------------------------------------------

    async def findings(
        self, request: web.Request, asker: Asker, **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        services, lang = self.services, asker.who.lang
        page = page_number(request)
        found = await case_store.findings_register(
            services.db, FINDINGS_PAGE + 1, (page - 1) * FINDINGS_PAGE
        )
        names = await self.console.names([f.recorded_by for f in found])
        rows = [
            {
                "id": f.id,
                "at": f.recorded_at,
                "office": self.office(f.unit_id, lang),
                "punished": f.severity == Severity.PUNISHED,
                "severity": self.t(asker, labels.SEVERITIES.get(f.severity, f.severity)),
                "ref": services.texts.ref(lang, f.ref),
                "text": f.text,
                "by": names.get(f.recorded_by) or str(f.recorded_by),
                "withdrawn": f.withdrawn_at,
                "reason": f.withdrawn_reason,
            }
            for f in found[:FINDINGS_PAGE]
        ]
        return "console/findings.html", {
            "rows": rows,
            "total": await case_store.count_findings(services.db),
            "page": page,
            "more": len(found) > FINDINGS_PAGE,
            "offices": [u.label(lang) for u in services.campaign.units],
            "nonce": secrets.token_urlsafe(12),
            "problems": [],
            "done": None,
            "given": {},
            **extra,
        }

    async def add_finding(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        """One finding from the form, or a finding raised to punished (the same reference
        again, counted once at its highest severity)."""
        form = await request.post()
        nonce = str(form.get("nonce", ""))[:40]
        if not nonce:
            raise web.HTTPBadRequest(text="the form has no nonce")
        given = {k: str(form.get(k, ""))[:5000] for k in ("office", "severity", "ref", "text")}
        raised = number(str(form.get("raise", "")))
        if raised is not None:
            found = await case_store.get_finding(self.services.db, raised)
            if found is None:
                raise web.HTTPNotFound(text="no such finding")
            given = {
                "office": found.unit_id,
                "severity": Severity.PUNISHED,
                "ref": found.ref,
                "text": str(form.get("text", "")) or found.text,
            }
        row = (1, given["office"], given["severity"], given["ref"], given["text"].strip())
        problems, added = await findings.record_findings(
            self.services, asker.who.user_id, [row], f"web:{nonce}", "console"
        )
        if problems:
            return await self.findings(
                request, asker, problems=self.problems(asker, problems, rows=False), given=given
            )
        done = self.t(asker, N_("The finding is recorded.") if added else N_("Recorded already."))
        return await self.findings(request, asker, done=done)

    async def withdraw(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        form = await request.post()
        finding_id = number(str(form.get("id", "")))
        if finding_id is None:
            raise web.HTTPBadRequest(text="which finding")
        reason = str(form.get("reason", ""))[:500]
        try:
            done = await findings.withdraw_finding(
                self.services, asker.who.user_id, finding_id, reason, "console"
            )
        except UserError as refusal:
            problem = self.services.texts.render(
                refusal.template, asker.who.lang, campaign=self.services.campaign
            )
            return await self.findings(request, asker, problems=[(0, problem)])
        said = (
            N_("The finding is withdrawn: it no longer counts.")
            if done
            else N_("That finding was withdrawn already.")
        )
        return await self.findings(request, asker, done=self.t(asker, said))

    async def import_findings(
        self, request: web.Request, asker: Asker
    ) -> tuple[str, dict[str, Any]]:
        """The template filled in: all rows, or none; the same file twice adds nothing."""
        form = await request.post()
        upload = form.get("file")
        data = upload.file.read(MAX_UPLOAD + 1) if isinstance(upload, web.FileField) else b""
        rows = read_sheet(data, 4) if 0 < len(data) <= MAX_UPLOAD else None
        if rows is None:
            problem = self.t(asker, N_("This is not a spreadsheet (.xlsx) of the template."))
            return await self.findings(request, asker, problems=[(0, problem)])
        entries = [(n, office, severity, ref, text) for n, office, severity, ref, text in rows]
        origin = "import:" + hashlib.sha256(data).hexdigest()[:24]
        problems, added = await findings.record_findings(
            self.services, asker.who.user_id, entries, origin, "console"
        )
        if problems:
            return await self.findings(request, asker, problems=self.problems(asker, problems))
        done = self.t(asker, N_("%(n)s findings imported."), n=added)
        return await self.findings(request, asker, done=done)

    async def findings_template(self, request: web.Request) -> web.StreamResponse:
        asker = signed(request)
        headers = [
            N_("Office"),
            N_("Severity (一般 or 处分)"),
            N_("Reference"),
            N_("What was found"),
        ]
        example = [self.services.campaign.units[0].name, "一般", "HT-2026-001", ""]
        return self.workbook(asker, N_("Findings"), headers, [example], N_("findings"))

    # -- proposals for flagged offices --------------------------------------------------------

    async def proposals(
        self, request: web.Request, asker: Asker, **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        services, lang = self.services, asker.who.lang
        found = await ranking.current_ranking(services)
        made = await result_store.proposals(services.db)
        offices = []
        for ranked in found.flagged:
            r = ranked.result
            offices.append(
                {
                    "id": r.unit_id,
                    "name": self.office(r.unit_id, lang),
                    "composite": fmt(r.composite),
                    "cases": [
                        (
                            services.texts.ref(lang, c.ref),
                            self.t(asker, labels.SEVERITIES[c.severity]),
                        )
                        for c in r.complaint.cases
                    ],
                    "proposals": made.get(r.unit_id, []),
                }
            )
        return "console/proposals.html", {
            "offices": offices,
            "threshold": fmt(services.campaign.scoring.threshold, 0),
            "nonce": secrets.token_urlsafe(12),
            "done": None,
            "problem": None,
            **extra,
        }

    async def add_proposal(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        form = await request.post()
        nonce = str(form.get("nonce", ""))[:40]
        unit = self.services.campaign.unit(str(form.get("office", "")))
        if not nonce or unit is None:
            raise web.HTTPBadRequest(text="an office and the form's nonce")
        text = str(form.get("text", ""))[:10_000]
        try:
            await ranking.add_proposal(
                self.services, asker.who.user_id, unit.id, text, f"web:{nonce}", "console"
            )
        except UserError:
            problem = self.t(
                asker,
                N_("Write the proposal (at most %(n)s characters)."),
                n=self.services.campaign.intake.max_text,
            )
            return await self.proposals(request, asker, problem=problem)
        done = self.t(
            asker, N_("The proposal for %(office)s is recorded."), office=unit.label(asker.who.lang)
        )
        return await self.proposals(request, asker, done=done)

    # -- publication -----------------------------------------------------------------------

    async def publication(
        self, request: web.Request, asker: Asker, **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        """What would go out (the channel's text, the ranking, the chart), what is not
        ready, and how the last publication was delivered, destination by destination."""
        services = self.services
        found = await publishing.preview(services)
        shown = publishing.channel_text(services, found)
        last = await result_store.last_publication(services.db)
        report = None
        if last is not None:
            delivered = await result_store.deliveries(services.db, last.id)
            channel = services.campaign.broadcast_chat
            report = {
                "at": last.published_at,
                "channel": next((d for d in delivered if str(d.chat_id) == str(channel)), None),
                "people": [d for d in delivered if str(d.chat_id) != str(channel)],
            }
        return "console/publication.html", {
            "p": found,
            "shown": shown,
            "findings": await case_store.count_findings(services.db),
            "report": report,
            "nonce": secrets.token_urlsafe(12),
            "changed": False,
            "problem": None,
            "done": None,
            **extra,
        }

    async def publish(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        """Publish the ranking the page previewed, and no other; a form sent twice
        publishes once."""
        form = await request.post()
        nonce = str(form.get("nonce", ""))[:40]
        previewed = str(form.get("fingerprint", ""))[:40]
        if not nonce or not previewed:
            raise web.HTTPBadRequest(text="the form's nonce and the previewed ranking")
        origin = f"web:{nonce}"
        if await publishing.published_by(self.services, origin) is None:
            if form.get("reviewed") != "1":
                problem = self.t(asker, N_("Tick that the findings were reviewed first."))
                return await self.publication(request, asker, problem=problem)
            try:
                await publishing.publish(
                    self.services, asker.who.user_id, origin, previewed, "console"
                )
            except UserError:
                return await self.publication(request, asker, changed=True)
        done = self.t(
            asker, N_("Published. The delivery report below fills in as the messages go out.")
        )
        return await self.publication(request, asker, done=done)

    # -- the audit ---------------------------------------------------------------------------

    async def audit(self, request: web.Request, asker: Asker) -> tuple[str, dict[str, Any]]:
        services, lang = self.services, asker.who.lang
        page = page_number(request)
        found = await audit_store.entries(services.db, AUDIT_PAGE + 1, (page - 1) * AUDIT_PAGE)
        revoked = [int(e.detail.split()[-1]) for e in found if e.action == "revoke"]
        names = await self.console.names([e.user_id for e in found] + revoked)
        campaign = services.campaign
        rows = []
        for e in found[:AUDIT_PAGE]:
            subject = e.subject
            if e.action == "move":
                subject = self.t(asker, N_("No. %(number)s"), number=e.subject)
            elif e.action in ("finding", "daily", "proposal", "revoke", "invite"):
                subject = self.units(tuple(u for u in e.subject.split(",") if u), lang)
            rows.append(
                {
                    "at": e.at,
                    "who": names.get(e.user_id) or str(e.user_id),
                    "via": self.t(asker, VIAS.get(e.via, e.via)),
                    "action": self.t(asker, ACTIONS.get(e.action, e.action)),
                    "subject": subject,
                    "detail": self.detail(asker, e, names),
                }
            )
        return "console/audit.html", {
            "rows": rows,
            "page": page,
            "more": len(found) > AUDIT_PAGE,
            "campaign": campaign,
        }

    def office(self, unit_id: str, lang: str) -> str:
        unit = self.services.campaign.known_unit(unit_id)
        return unit.label(lang) if unit else unit_id

    def detail(self, asker: Asker, e: audit_store.Entry, names: dict[int, str]) -> str:
        texts, lang = self.services.texts, asker.who.lang
        if e.action == "window":
            return self.t(asker, N_("opened") if e.detail == "open" else N_("closed"))
        if e.action == "finding":
            severity, _, ref = e.detail.partition(" ")
            withdrawn = ref.endswith(WITHDRAWN)
            ref = ref.removesuffix(WITHDRAWN)
            label = labels.SEVERITIES.get(severity)
            said = f"{texts.ref(lang, ref)} · {self.t(asker, label) if label else severity}"
            return said + (f" · {self.t(asker, N_('withdrawn'))}" if withdrawn else "")
        if e.action == "move" and e.detail == "file":  # an opinion recorded (/record)
            return self.t(asker, N_("Opinion recorded"))
        if e.action == "move":
            try:
                return self.t(asker, MOVES[Move(e.detail)].label)
            except (ValueError, KeyError):
                return e.detail
        if e.action == "revoke":
            role, _, user = e.detail.partition(" ")
            who = names.get(int(user), user) if user.isdigit() else user
            return f"{who} · {self.role(asker, role)}"
        if e.action == "invite":
            role, *rest = e.detail.split()
            role_label = labels.ROLES.get(role)
            category = next((c for c in self.services.campaign.categories if c.id in rest), None)
            count = rest[-1] if rest else ""
            parts = [self.t(asker, role_label) if role_label else role]
            if category:
                parts.append(category.label(lang))
            parts.append(f"× {count}")
            return " · ".join(parts)
        return e.detail


def pdf_of(png: bytes) -> bytes:
    """A PNG sheet as a one-page PDF, to print from any office computer."""
    out = BytesIO()
    Image.open(BytesIO(png)).convert("RGB").save(out, format="PDF", resolution=150)
    return out.getvalue()


def read_sheet(data: bytes, columns: int) -> list[list[Any]] | None:
    """[row number, then the first ``columns`` cells as text] for each row of the first
    sheet under its header (blank rows left out); None for what is not a spreadsheet."""
    try:
        book = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, ValueError, OSError, TypeError):
        return None
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        return None
    found: list[list[Any]] = []
    cells = sheet.iter_rows(min_row=2, max_col=columns, values_only=True)
    for n, row in enumerate(cells, start=2):
        values = [cell_text(v) for v in (*row, *[None] * columns)[:columns]]
        if any(values):
            found.append([n, *values])
    return found


def cell_text(value: object) -> str:
    """A cell as typed: a score 9.5 (not 9.500000001), a name without spaces around."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value).strip()


def page_number(request: web.Request) -> int:
    try:
        return max(1, min(int(request.query.get("page", "1")), 10_000))
    except ValueError:
        return 1
