"""Deductions (design §5, C): the bot's substantiated cases and findings from outside.

One reference counts once, at its highest severity: a finding recorded with reference
``case-17`` is the bot's case 17 reported again (say, later punished by a discipline
body), not a second problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.db import audit
from bot.db import cases as case_store
from bot.errors import RowProblem, UserError
from bot.services import Services
from bot.vocabulary import case_number, read_ref, read_severity
from scoring import ComplaintResult, Finding, Severity, complaint

MAX_REF = 40


async def record_finding(
    services: Services,
    organiser_id: int,
    unit_id: str,
    severity: str,
    ref: str,
    text: str,
    origin: str,
    via: str = "chat",
) -> bool:
    """Record a finding once per ``origin`` (an update, a form: a replay counts once)."""
    services.campaign.require_unit(unit_id)
    if severity not in (Severity.GENERAL, Severity.PUNISHED):
        raise UserError("findings/usage")
    if not ref or len(ref) > MAX_REF:
        raise UserError("findings/usage")
    row = (unit_id, severity, ref, text, origin, case_number(ref))
    return await write_findings(services, organiser_id, [row], via) == 1


async def record_findings(
    services: Services,
    organiser_id: int,
    rows: list[tuple[int, str, str, str, str]],
    origin: str,
    via: str,
) -> tuple[list[RowProblem], int]:
    """Many findings at once (a spreadsheet): (row, office as named, severity as written,
    reference, what was found). Every row is read first; one that does not hold refuses
    them all. The refusals, and how many findings were new (an import sent twice, or a
    row's origin seen before, adds nothing)."""
    campaign = services.campaign
    problems: list[RowProblem] = []
    found: list[tuple[str, str, str, str, str, int | None]] = []
    for row, office, severity_text, ref_text, text in rows:
        try:
            unit = campaign.find_unit(office)
            severity = read_severity(severity_text)
            ref = read_ref(ref_text)
            if severity is None or not ref or len(ref) > MAX_REF:
                raise UserError("findings/row", severity=severity_text[:20], ref=ref_text[:60])
            if len(text) > campaign.intake.max_text:
                raise UserError("findings/too_long", limit=campaign.intake.max_text)
            found.append((unit.id, severity, ref, text, f"{origin}:{row}", case_number(ref)))
        except UserError as refusal:
            problems.append(RowProblem(row, refusal.template, dict(refusal.context)))
    if problems:
        return problems, 0
    return [], await write_findings(services, organiser_id, found, via)


async def write_findings(
    services: Services,
    organiser_id: int,
    rows: list[tuple[str, str, str, str, str, int | None]],
    via: str,
) -> int:
    """Store findings read and checked, and say so in the audit (one finding as itself, an
    import as its count); how many were new."""
    now = services.clock.now()
    async with services.db.transaction() as tx:
        added = await case_store.add_findings(tx, rows, organiser_id, now)
        if added == 1 and len(rows) == 1:
            unit_id, severity, ref = rows[0][:3]
            await audit.record(tx, organiser_id, via, "finding", now, unit_id, f"{severity} {ref}")
        elif added:
            await audit.record(tx, organiser_id, via, "findings", now, "", str(added))
    return added


async def withdraw_finding(
    services: Services, organiser_id: int, finding_id: int, reason: str, via: str
) -> bool:
    """Withdraw a finding recorded by mistake, with the reason: it stays in the register
    and counts no more. False when it was withdrawn already."""
    reason = reason.strip()
    if not reason:
        raise UserError("findings/reason")
    found = await case_store.get_finding(services.db, finding_id)
    if found is None:
        raise UserError("findings/none")
    now = services.clock.now()
    async with services.db.transaction() as tx:
        done = await case_store.withdraw_finding(tx, finding_id, organiser_id, reason[:500], now)
        if done:
            detail = f"{found.severity} {found.ref} withdrawn"
            await audit.record(tx, organiser_id, via, "finding", now, found.unit_id, detail)
    return done


@dataclass(frozen=True)
class UnitSummary:
    unit_id: str
    name: str
    open: int
    overdue: int
    reopened: int
    total: int
    complaint: ComplaintResult


async def unit_findings(
    services: Services, round_id: str | None = None
) -> dict[str, tuple[Finding, ...]]:
    """The findings of each unit in a round (None: the current round), as scoring takes
    them."""
    rows = await case_store.findings_by_unit(services.db, round_id)
    members = {s.value: s for s in Severity}  # Enum's call is slow over 50,000 findings
    return {
        unit: tuple(Finding(r.ref, members[r.severity], r.channel) for r in found)
        for unit, found in rows.items()
    }


async def summaries(services: Services, lang: str) -> list[UnitSummary]:
    """Per unit: open, overdue and reopened cases, and C with the cases behind it."""
    counts = await case_store.counts_by_unit(services.db, services.clock.now())
    findings = await unit_findings(services)
    result = []
    for unit in services.campaign.units:
        c = counts.get(unit.id)
        result.append(
            UnitSummary(
                unit.id,
                unit.label(lang),
                c.open if c else 0,
                c.overdue if c else 0,
                c.reopened if c else 0,
                c.total if c else 0,
                complaint(unit.id, findings.get(unit.id, ()), services.campaign.scoring),
            )
        )
    return result
