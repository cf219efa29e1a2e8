"""Spreadsheets for the district (xlsx, written with openpyxl): the plan's report.

Whatever people typed is shown as text, whatever it holds: a control character (which
openpyxl refuses, and one such text would break every export) is shown as its visible
symbol (U+2400…), and a text beginning with "=" stays text, never a formula. What is stored
is not changed. Which cases and names a viewer's export holds is decided by
:func:`bot.cases.access.access_to`, as in chat.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from fractions import Fraction
from io import BytesIO
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from bot.cases.access import access_to
from bot.cases.view import Reader
from bot.chat import labels
from bot.db import cases as case_store
from bot.db import results as result_store
from bot.results.findings import summaries
from bot.roles import roles_of
from bot.services import Services
from scoring import ANSWERS, Ranking, round_half_up

if TYPE_CHECKING:
    from bot.results.ranking import History

MAX_ROWS = 100_000


# What XML 1.0 (inside every xlsx) cannot hold besides the control characters openpyxl
# checks: lone surrogates and the two non-characters U+FFFE, U+FFFF.
NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def shown(text: str) -> str:
    """A text as a cell can hold it: control characters as their visible symbols (U+2400
    and on), what XML cannot hold as the replacement character."""
    text = ILLEGAL_CHARACTERS_RE.sub(lambda m: chr(0x2400 + ord(m.group(0))), text)
    return NOT_XML.sub("\ufffd", text)


def add_row(sheet: Worksheet, values: Iterable[Any]) -> None:
    """Append a row; every string is a string cell (never a formula), shown safely."""
    values = list(values)
    sheet.append([shown(v) if isinstance(v, str) else v for v in values])
    for cell, value in zip(sheet[sheet.max_row], values, strict=False):
        if isinstance(value, str):
            cell.data_type = "s"


def _local(moment: dt.datetime | None, services: Services) -> str:
    if moment is None:
        return ""
    return moment.astimezone(services.campaign.tz).strftime("%Y-%m-%d %H:%M")


async def cases_workbook(services: Services, lang: str, viewer: int) -> bytes:
    """Every case ``viewer`` may see (state, deadline, outcome, deduction) and, on a second
    sheet, the deductions and complaint score of each office."""
    t = services.texts
    campaign = services.campaign
    now = services.clock.now()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t.gettext(lang, labels.SHEET_CASES)
    add_row(sheet, [t.gettext(lang, h) for h in labels.CASE_COLUMNS])
    points = campaign.scoring.deductions
    roles = await roles_of(services, viewer)
    years = {r.id: r.year for r in services.rounds}
    reader = Reader(campaign, t, lang, now, years)
    for case in reversed(await case_store.list_cases(services.db, limit=MAX_ROWS)):
        access = access_to(case, roles)
        if not access.team:
            continue
        row = reader.view(case)
        add_row(
            sheet,
            [
                case.id,
                years.get(case.round, case.round),  # every case says its round's year
                row.unit,
                row.item,
                row.channel,
                case.source or "",
                _local(case.filed_at, services),
                row.state,
                row.outcome,
                _local(case.due_at, services) if case.state != "closed" else "",
                t.gettext(lang, labels.YES) if row.overdue else "",
                row.rating,
                float(points[case.outcome]) if case.outcome in points else 0,  # type: ignore[index]
                t.gettext(lang, labels.YES) if case.anonymous else "",
                (case.author_name or "") if access.identity or not case.anonymous else "",
                case.text,
            ],
        )
    _style(sheet, widths=[8, 8, 22, 14, 12, 14, 17, 12, 18, 17, 8, 12, 10, 8, 14, 60])

    units = book.create_sheet(t.gettext(lang, labels.SHEET_UNITS))
    add_row(units, [t.gettext(lang, h) for h in labels.UNIT_COLUMNS])
    for s in await summaries(services, lang):
        add_row(
            units,
            [
                s.name,
                s.total,
                s.open,
                s.overdue,
                s.reopened,
                float(round_half_up(s.complaint.deductions)),
                float(round_half_up(s.complaint.score)),
                "; ".join(
                    f"{t.ref(lang, c.ref)} ({t.gettext(lang, labels.SEVERITIES[c.severity])})"
                    for c in s.complaint.cases
                ),
            ],
        )
    _style(units, widths=[24, 8, 8, 8, 10, 10, 10, 60])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def results_workbook(services: Services, lang: str, viewer: int) -> bytes:
    """The ranking, the per-item rates and scores, the cases with their deductions, the
    change from the previous round, and the cases sheet."""
    from bot.results.ranking import current_ranking, history

    t = services.texts
    campaign = services.campaign
    ranking = await current_ranking(services)
    proposals = await result_store.proposals(services.db)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t.gettext(lang, labels.SHEET_RANKING)
    add_row(sheet, [t.gettext(lang, h) for h in labels.RANKING_COLUMNS])
    for ranked in ranking.units:
        r = ranked.result
        unit = campaign.unit(r.unit_id)
        add_row(
            sheet,
            [
                ranked.rank or "",
                unit.label(lang) if unit else r.unit_id,
                _number(r.democratic),
                _number(r.complaint.score),
                _number(r.daily),
                _number(r.composite),
                t.gettext(lang, labels.YES) if r.flagged else "",
                r.counts.total,
                "\n".join(p.text for p in proposals.get(r.unit_id, [])),
            ],
        )
    _style(sheet, widths=[6, 24, 12, 10, 10, 12, 8, 10, 40])
    hidden = t.gettext(lang, labels.FEWER_THAN, k=campaign.ballots.smallest_group)
    items = book.create_sheet(t.gettext(lang, labels.SHEET_ITEMS))
    add_row(items, [t.gettext(lang, h) for h in labels.ITEM_COLUMNS])
    for ranked in ranking.units:
        r = ranked.result
        unit = campaign.unit(r.unit_id)
        for item_result in r.items:
            item = campaign.item(item_result.item_id)
            figures: list[Any] = [
                *(_percent(item_result.rate(a)) for a in ANSWERS),
                _number(item_result.score),
            ]
            if not campaign.ballots.shows(item_result.counts.total):  # small-group secrecy
                figures = [hidden] + [None] * (len(figures) - 1)
            add_row(
                items,
                [
                    unit.label(lang) if unit else r.unit_id,
                    item.label(lang) if item else item_result.item_id,
                    *figures,
                    item_result.counts.total,
                ],
            )
    _style(items, widths=[24, 14, 10, 12, 10, 10, 10, 8])
    deductions = book.create_sheet(t.gettext(lang, labels.SHEET_DEDUCTIONS))
    add_row(deductions, [t.gettext(lang, h) for h in labels.DEDUCTION_COLUMNS])
    for ranked in ranking.units:
        r = ranked.result
        unit = campaign.unit(r.unit_id)
        for case in r.complaint.cases:
            add_row(
                deductions,
                [
                    unit.label(lang) if unit else r.unit_id,
                    t.ref(lang, case.ref),
                    t.gettext(lang, labels.SEVERITIES[case.severity]),
                    _number(case.points),
                    case.reports,
                ],
            )
    _style(deductions, widths=[24, 20, 12, 10, 10])
    past = await history(services)
    if past.previous is not None:
        _changes_sheet(book, services, lang, ranking, past)
    cases = await cases_workbook(services, lang, viewer)
    # the cases sheet, as /export cases makes it, follows
    from openpyxl import load_workbook

    extra = load_workbook(BytesIO(cases))
    for source in extra.worksheets:
        target = book.create_sheet(source.title)
        for row in source.iter_rows(values_only=True):
            add_row(target, row)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _changes_sheet(
    book: Workbook, services: Services, lang: str, ranking: Ranking, past: History
) -> None:
    """Per office: the current round's composite, D, C and A with their change from the
    previous round's (each the difference of the two figures as shown), and the change of
    D per item."""
    t, campaign = services.texts, services.campaign
    assert past.previous is not None
    year = str(past.previous.year)
    sheet = book.create_sheet(t.gettext(lang, labels.SHEET_CHANGES).format(year=year))
    since = t.gettext(lang, labels.CHANGE_FROM).format(year=year)
    heads = [t.gettext(lang, h) for h in labels.CHANGE_COLUMNS]
    items = list(campaign.items)
    add_row(
        sheet,
        [
            heads[0],
            *(part for head in heads[1:] for part in (head, f"{head} {since}")),
            *(f"D {i.label(lang)} {since}" for i in items),
            t.gettext(lang, labels.AGAINST_PUBLISHED).format(year=year),
        ],
    )
    for ranked in ranking.units:
        r = ranked.result
        found = past.changes.get(r.unit_id)
        unit = campaign.unit(r.unit_id)
        values: list[Any] = [unit.label(lang) if unit else r.unit_id]
        for now, delta in (
            (r.composite, found.composite if found else None),
            (r.democratic, found.democratic if found else None),
            (r.complaint.score, found.complaint if found else None),
            (r.daily, found.daily if found else None),
        ):
            values += [_number(now), _number(delta)]
        counts = {i.item_id: i.counts.total for i in r.items}
        values += [
            _number(found.items.get(i.id))
            if found and campaign.ballots.shows(counts.get(i.id, 0))
            else None  # (no change shown of an item that small-group secrecy hides)
            for i in items
        ]
        against = past.against_published.get(r.unit_id)
        values.append(_number(against[1]) if against else None)
        add_row(sheet, values)
    _style(sheet, widths=[24] + [11] * (9 + len(items)))


def _number(value: object) -> float | None:
    """An exact score as a spreadsheet number, rounded half up to two places."""
    if value is None:
        return None
    return float(round_half_up(value))  # type: ignore[arg-type]


def _percent(rate: Fraction | None) -> float | None:
    return None if rate is None else _number(rate * 100)


def _style(sheet: object, widths: list[int]) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    assert isinstance(sheet, Worksheet)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    for row in sheet.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
