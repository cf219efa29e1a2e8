"""Who may do what: organisers from the campaign file, staff and supervisors by invite.

A role is held for a unit (staff: exactly one unit per invite) or for every unit. An invite
is a single-use deep link bound to the first account that opens it.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from io import BytesIO

import noto_cjk_sans_otc
import qrcode
from PIL import Image, ImageDraw, ImageFont

from bot.chat import notify
from bot.clock import iso
from bot.db import audit
from bot.db import roles as role_store
from bot.db.roles import ALL_UNITS, Invite
from bot.errors import UserError
from bot.services import Services
from bot.vocabulary import Role

INVITE_PREFIX = "inv-"
CJK_FACE = 2  # Noto Sans CJK SC in the collection (as the charts use it)


@dataclass(frozen=True)
class Roles:
    """Everything one person may do, besides what every resident may."""

    user_id: int
    organiser: bool
    staff: frozenset[str]  # unit ids
    supervisor: frozenset[str]  # unit ids; ALL_UNITS inside means every unit
    evaluator: frozenset[str] = frozenset()

    def for_unit(self, unit_id: str) -> frozenset[Role]:
        """The roles this person holds towards a case of ``unit_id``."""
        held = {Role.RESIDENT}
        if self.organiser:
            held.add(Role.ORGANISER)
        if unit_id in self.staff:
            held.add(Role.STAFF)
        if ALL_UNITS in self.supervisor or unit_id in self.supervisor:
            held.add(Role.SUPERVISOR)
        if ALL_UNITS in self.evaluator or unit_id in self.evaluator:
            held.add(Role.EVALUATOR)
        return frozenset(held)

    def sees_unit(self, unit_id: str) -> bool:
        """Whether the person may see the unit's cases (without the residents' identity
        unless organiser): its team and organisers."""
        return bool(self.for_unit(unit_id) & {Role.STAFF, Role.SUPERVISOR, Role.ORGANISER})

    @property
    def team(self) -> bool:
        return self.organiser or bool(self.staff) or bool(self.supervisor)

    def units(self, all_units: list[str]) -> list[str]:
        """The units whose cases this person sees, in the campaign's order."""
        return [u for u in all_units if self.sees_unit(u)]


async def roles_of(services: Services, user_id: int) -> Roles:
    grants = await role_store.grants_of(services.db, user_id)
    return Roles(
        user_id=user_id,
        organiser=services.is_organiser(user_id),
        staff=frozenset(g.unit_id for g in grants if g.role == Role.STAFF),
        supervisor=frozenset(g.unit_id for g in grants if g.role == Role.SUPERVISOR),
        evaluator=frozenset(g.unit_id for g in grants if g.role == Role.EVALUATOR),
    )


async def make_invites(
    services: Services,
    organiser_id: int,
    role: str,
    units: list[str],
    count: int = 1,
    category: str | None = None,
    via: str = "chat",
    origin: str | None = None,
) -> list[str]:
    """Single-use invite codes (for deep links) for a role over ``units`` ([] = all); a
    form's ``origin`` sent twice makes them once (the second gets the first's codes)."""
    codes = [INVITE_PREFIX + secrets.token_urlsafe(12) for _ in range(count)]
    now = services.clock.now()
    async with services.db.transaction() as tx:
        if origin is not None and (made := await role_store.made_by(tx, origin)):
            return made
        await role_store.create_invites(tx, codes, role, units, category, organiser_id, now, origin)
        detail = f"{role} {category or ''} {count}".replace("  ", " ")
        await audit.record(tx, organiser_id, via, "invite", now, ",".join(units), detail)
    return codes


async def accept_invite(services: Services, user_id: int, code: str) -> Invite:
    """Register the account under the invite, once; the same account opening it again is
    told it is registered, another account is refused."""
    now = services.clock.now()
    async with services.db.transaction() as tx:
        invite = await role_store.get_invite(tx, code)
        if invite is None:
            raise UserError("roles/invite_unknown")
        if invite.used_by is not None and invite.used_by != user_id:
            raise UserError("roles/invite_used")
        if invite.used_by is None and (
            (invite.role == Role.EVALUATOR and not invite.current)
            or any(u not in services.campaign.unit_ids for u in invite.units)
        ):  # evaluators belong to a round; a dropped office takes no new staff (design §12)
            raise UserError("roles/invite_expired")
        if invite.role == Role.EVALUATOR:
            held = await role_store.staff_units(tx, user_id)
            if held & set(invite.units or [u.id for u in services.campaign.units]):
                raise UserError("roles/staff_cannot_evaluate")
        if invite.used_by is None:
            await role_store.use_invite(tx, invite, user_id, now)
            if invite.role in (Role.STAFF, Role.SUPERVISOR):
                await notify.console_button(tx, services, user_id)
    return invite


def invite_link(bot_username: str, code: str) -> str:
    """The deep link an invitation is opened with (in chat, on paper as a QR code)."""
    return f"https://t.me/{bot_username}?start={code}"


async def revoke(
    services: Services, organiser_id: int, user_id: int, role: str, via: str = "chat"
) -> int:
    """End a person's role (over every office it covered): they are told, and lose the
    console's menu button when no team role is left. Ballots an evaluator cast stay
    counted. How many grants ended (0: none held)."""
    now = services.clock.now()
    async with services.db.transaction() as tx:
        held = [g for g in await role_store.grants_in(tx, user_id) if g.role == role]
        ended = await role_store.remove_role(tx, user_id, role)
        if not ended:
            return 0
        units = [g.unit_id for g in held]
        await audit.record(
            tx, organiser_id, via, "revoke", now, ",".join(units), f"{role} {user_id}"
        )
        names = [u.name for u in services.campaign.case_units if u.id in units]
        await notify.notify(
            tx,
            services,
            user_id,
            "roles/revoked",
            f"revoked:{user_id}:{role}:{iso(now)}",
            values={"role": role, "units": names},
        )
        left = {g.role for g in await role_store.grants_in(tx, user_id)}
        if role in (Role.STAFF, Role.SUPERVISOR) and not left & {Role.STAFF, Role.SUPERVISOR}:
            await notify.no_console_button(tx, services, user_id)
    services.outbox.wake()
    return ended


@functools.cache
def label_font() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(noto_cjk_sans_otc.FONT_PATH, 18, index=CJK_FACE)


def qr_sheet(links: list[str], category: str, first: int = 0) -> bytes:
    """A printable sheet: one numbered QR code per invite link, four to a row, each with
    its number and the category's name (in the Chinese font the charts use)."""
    font = label_font()
    cell, columns = 260, 4
    rows = (len(links) + columns - 1) // columns
    sheet = Image.new("RGB", (cell * columns, cell * rows + 10), "white")
    draw = ImageDraw.Draw(sheet)
    for n, link in enumerate(links):
        code = qrcode.QRCode(border=2, box_size=5)
        code.add_data(link)
        code.make(fit=True)
        image = code.make_image(fill_color="black", back_color="white").get_image()
        image = image.convert("RGB").resize((cell - 40, cell - 40))
        x, y = (n % columns) * cell, (n // columns) * cell
        sheet.paste(image, (x + 20, y + 10))
        draw.text((x + 20, y + cell - 30), f"{first + n + 1}. {category}", fill="black", font=font)
    buffer = BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()
