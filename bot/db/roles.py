"""Invites and the roles they grant (staff of a unit, supervisors, evaluators)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.clock import iso, parse_iso
from bot.db.database import CURRENT, Database, Script, Tx

ALL_UNITS = ""  # a role over every unit


@dataclass(frozen=True)
class Invite:
    code: str
    role: str
    units: tuple[str, ...]
    category: str | None
    used_by: int | None
    current: bool = True  # made in the current round


@dataclass(frozen=True)
class Grant:
    role: str
    unit_id: str  # ALL_UNITS for every unit
    category: str | None
    user_id: int = 0


async def create_invites(
    tx: Tx,
    codes: Sequence[str],
    role: str,
    units: Sequence[str],
    category: str | None,
    created_by: int,
    now: dt.datetime,
    origin: str | None = None,
) -> None:
    await tx.executemany(
        "INSERT INTO invites (code, role, units, category, created_by, created_at, round, "
        f"origin) VALUES (?, ?, ?, ?, ?, ?, {CURRENT}, ?)",
        [
            (code, role, json.dumps(list(units)), category, created_by, iso(now), origin)
            for code in codes
        ],
    )


async def made_by(tx: Tx, origin: str) -> list[str]:
    """The codes a form (or update) made already: its double submit makes none."""
    rows = await tx.execute_fetchall(
        "SELECT code FROM invites WHERE origin = ? ORDER BY code", (origin,)
    )
    return [str(r[0]) for r in rows]


async def get_invite(tx: Tx, code: str) -> Invite | None:
    rows = list(
        await tx.execute_fetchall(
            "SELECT code, role, units, category, used_by, "
            f"round = {CURRENT} AS current FROM invites WHERE code = ?",
            (code,),
        )
    )
    if not rows:
        return None
    r = rows[0]
    return Invite(
        r["code"],
        r["role"],
        tuple(json.loads(r["units"])),
        r["category"],
        r["used_by"],
        bool(r["current"]),
    )


async def use_invite(tx: Tx, invite: Invite, user_id: int, now: dt.datetime) -> None:
    """Bind the invite to this account and grant its role (a role already held stays); an
    evaluator's role is for the current round."""
    await tx.execute(
        "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL",
        (user_id, iso(now), invite.code),
    )
    await tx.executemany(
        "INSERT INTO roles (user_id, role, unit_id, round, category, invite_code, granted_at) "
        f"VALUES (?, ?, ?, CASE WHEN ? = 'evaluator' THEN {CURRENT} ELSE '' END, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [
            (user_id, invite.role, unit, invite.role, invite.category, invite.code, iso(now))
            for unit in (invite.units or (ALL_UNITS,))
        ],
    )


async def grants_of(db: Database, user_id: int) -> list[Grant]:
    rows = await db.fetchall(
        "SELECT role, unit_id, category FROM roles "
        f"WHERE user_id = ? AND round IN ('', {CURRENT}) ORDER BY role, unit_id",
        (user_id,),
    )
    return [Grant(r["role"], r["unit_id"], r["category"], user_id) for r in rows]


async def staff_of(tx: Tx, unit_id: str) -> list[int]:
    """The staff of a unit, to be told of its cases."""
    rows = await tx.execute_fetchall(
        "SELECT user_id FROM roles WHERE role = 'staff' AND unit_id = ? ORDER BY user_id",
        (unit_id,),
    )
    return [int(r[0]) for r in rows]


async def team_members(db: Database) -> list[int]:
    """Everyone holding a staff or supervisor role (the console's users besides organisers)."""
    rows = await db.fetchall(
        "SELECT DISTINCT user_id FROM roles WHERE role IN ('staff', 'supervisor') ORDER BY user_id"
    )
    return [int(r["user_id"]) for r in rows]


async def staff_units(tx: Tx, user_id: int) -> set[str]:
    rows = await tx.execute_fetchall(
        "SELECT unit_id FROM roles WHERE role = 'staff' AND user_id = ?", (user_id,)
    )
    return {str(r[0]) for r in rows}


async def evaluator_grants(db: Database) -> list[Grant]:
    """Every evaluator's grants (a unit each, ALL_UNITS for all), by person."""
    rows = await db.fetchall(
        "SELECT user_id, category, unit_id FROM roles WHERE role = 'evaluator' "
        f"AND round = {CURRENT} ORDER BY user_id, unit_id"
    )
    return [Grant("evaluator", r["unit_id"], r["category"], int(r["user_id"])) for r in rows]


async def invites_used_since(db: Database, role: str, since: dt.datetime) -> int:
    """How many invites for ``role`` were used since ``since``."""
    value = await db.fetchval(
        "SELECT COUNT(*) FROM invites WHERE role = ? AND used_at >= ?",
        (role, iso(since)),
    )
    return int(value or 0)


def evaluator_grants_steps(user_id: int) -> Script[list[Grant]]:
    """One evaluator's grants (a unit each, ALL_UNITS for all), as a step: read on the
    reader (Database.read), or inside the press's transaction."""
    rows = yield (
        "SELECT category, unit_id FROM roles WHERE role = 'evaluator' AND user_id = ? "
        f"AND round = {CURRENT} ORDER BY unit_id",
        (user_id,),
    )
    return [Grant("evaluator", r[1], r[0], user_id) for r in rows]


@dataclass(frozen=True)
class Holder:
    """One person's role as held now: over which offices (ALL_UNITS inside: every one)."""

    user_id: int
    role: str
    units: tuple[str, ...]
    category: str | None
    granted_at: dt.datetime


async def holders(db: Database) -> list[Holder]:
    """Everyone holding a role now (staff, supervisors, this round's evaluators), a row
    per person and role, the newest first."""
    rows = await db.fetchall(
        "SELECT user_id, role, unit_id, category, granted_at FROM roles "
        f"WHERE round IN ('', {CURRENT}) ORDER BY user_id, role, unit_id"
    )
    found: dict[tuple[int, str], list[Any]] = {}
    for r in rows:
        key = (int(r["user_id"]), r["role"])
        entry = found.setdefault(key, [[], r["category"], r["granted_at"]])
        entry[0].append(r["unit_id"])
        entry[2] = max(entry[2], r["granted_at"])
    held = [
        Holder(user, role, tuple(units), category, parse_iso(at))
        for (user, role), (units, category, at) in found.items()
    ]
    return sorted(held, key=lambda h: h.granted_at, reverse=True)


async def remove_role(tx: Tx, user_id: int, role: str) -> int:
    """End a person's role over every office (an evaluator's in the current round)."""
    cursor = await tx.execute(
        f"DELETE FROM roles WHERE user_id = ? AND role = ? AND round IN ('', {CURRENT})",
        (user_id, role),
    )
    return cursor.rowcount


@dataclass(frozen=True)
class Issued:
    """An invitation of the current round: what it grants, who made it, who used it."""

    code: str
    role: str
    units: tuple[str, ...]
    category: str | None
    created_by: int
    created_at: dt.datetime
    used_by: int | None
    used_at: dt.datetime | None


async def issued(db: Database, limit: int = 1000) -> list[Issued]:
    """The current round's invitations (and staff's and supervisors' of any round), newest
    batch first."""
    rows = await db.fetchall(
        "SELECT code, role, units, category, created_by, created_at, used_by, used_at "
        f"FROM invites WHERE round = {CURRENT} OR role <> 'evaluator' "
        "ORDER BY created_at DESC, code LIMIT ?",
        (limit,),
    )
    return [
        Issued(
            r["code"],
            r["role"],
            tuple(json.loads(r["units"])),
            r["category"],
            int(r["created_by"]),
            parse_iso(r["created_at"]),
            r["used_by"],
            parse_iso(r["used_at"]) if r["used_at"] else None,
        )
        for r in rows
    ]


async def grants_in(tx: Tx, user_id: int) -> list[Grant]:
    """:func:`grants_of`, read inside a transaction that changes them."""
    rows = await tx.execute_fetchall(
        "SELECT role, unit_id, category FROM roles "
        f"WHERE user_id = ? AND round IN ('', {CURRENT}) ORDER BY role, unit_id",
        (user_id,),
    )
    return [Grant(r[0], r[1], r[2], user_id) for r in rows]
