"""Who may see and act on a case: the one answer, for chat, exports and the console.

A case is seen by its author (the resident's view), by the team of its office (its staff,
its supervisors) and by organisers (the team's view, with every move the table gives their
roles). Only organisers see the name of a resident who stayed anonymous to the office.
Anyone else is told the case does not exist, exactly as for a case that does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.cases.moves import MoveSpec, allowed_moves
from bot.db import cases as case_store
from bot.db.cases import Case
from bot.roles import Roles, roles_of
from bot.services import Services
from bot.vocabulary import Role


@dataclass(frozen=True)
class CaseAccess:
    """What one person may do with one case."""

    case: Case
    roles: frozenset[Role]  # the person's roles towards the case's office
    author: bool

    @property
    def team(self) -> bool:
        """The office's team or an organiser: the case card, its history, its moves."""
        return bool(self.roles & {Role.STAFF, Role.SUPERVISOR, Role.ORGANISER})

    @property
    def sees(self) -> bool:
        return self.team or self.author

    @property
    def identity(self) -> bool:
        """Whether the resident's name is shown even when they stayed anonymous."""
        return Role.ORGANISER in self.roles

    @property
    def moves(self) -> list[MoveSpec]:
        """The moves the person may make on the case as it stands."""
        return allowed_moves(self.case, self.roles) if self.team else []


def access_to(case: Case, roles: Roles) -> CaseAccess:
    return CaseAccess(case, roles.for_unit(case.unit_id), case.author_id == roles.user_id)


async def case_access(services: Services, user_id: int, case_id: int) -> CaseAccess | None:
    """What ``user_id`` may do with case ``case_id``; None when they may not see it (or it
    does not exist: the two are never told apart)."""
    case = await case_store.get_case(services.db, case_id)
    if case is None:
        return None
    found = access_to(case, await roles_of(services, user_id))
    return found if found.sees else None
