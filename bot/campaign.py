"""The campaign file (design §2): one evaluation round, read and checked as a whole.

A file that is wrong is refused with every problem listed (file, key, what is wrong), so
nothing ever starts half-configured. :func:`load_campaign` returns a frozen
:class:`Campaign` or raises :class:`bot.errors.CampaignError` carrying all the problems.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import CampaignError, Problem, UserError
from scoring import Aggregation, Answer, Params, Severity, UnknownPolicy

# Ids go into callback data (64 bytes at most) and deep links: keep them short and plain.
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")
SOURCE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
PHASE_IDS = ("prepare", "collect", "rectify", "evaluate")
MAX_CHOICES = 20  # offices offered for a name that fits several (more: say more of it)


@dataclass(frozen=True)
class Named:
    """Something with an id and a name in Chinese, and optionally in English."""

    id: str
    name: str
    name_en: str = ""
    description: str = ""

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


@dataclass(frozen=True)
class Phase:
    id: str
    name: str
    name_en: str
    start: dt.date
    end: dt.date  # inclusive

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


@dataclass(frozen=True)
class Deadlines:
    verify_days: int = 10
    rectify_days: int = 30
    remind_before_hours: int = 24


@dataclass(frozen=True)
class BallotSettings:
    reminders_hours: tuple[int, ...] = (24,)  # remind this many hours before the close
    # small-group secrecy: no breakdown (per item, per category) is shown that rests on
    # fewer answers than this; D and the composite are shown as the plan requires
    smallest_group: int = 5

    def shows(self, answers: int) -> bool:
        """Whether a figure built from ``answers`` answers may be shown broken down."""
        return answers >= self.smallest_group


@dataclass(frozen=True)
class Intake:
    draft_timeout_minutes: int = 30
    max_text: int = 3000
    max_attachments: int = 5


@dataclass(frozen=True)
class RoundSettings:
    """How this round follows the one before (read by ``evalbot round start``)."""

    year: int = 0  # the year evaluated; `/rank 2026` finds the round by it
    carry_over: bool = True  # staff and supervisors of continuing offices keep their roles
    invite_again: tuple[str, ...] = ()  # offices whose staff and supervisors do not


@dataclass(frozen=True)
class Campaign:
    """A checked campaign file: one round (design §2, §12)."""

    path: Path
    id: str
    name: str
    name_en: str
    timezone: str
    content: str
    content_en: str
    goals: str
    goals_en: str
    organisers: frozenset[int]
    broadcast_chat: int | str | None
    units: tuple[Named, ...]
    items: tuple[Named, ...]
    categories: tuple[Named, ...]
    phases: tuple[Phase, ...]
    sources: tuple[Named, ...]
    scoring: Params
    deadlines: Deadlines = field(default_factory=Deadlines)
    intake: Intake = field(default_factory=Intake)
    ballots: BallotSettings = field(default_factory=BallotSettings)
    round: RoundSettings = field(default_factory=RoundSettings)
    # where the public page (evalbot publish-page) is served: the publication links to
    # its explanation of how anyone can check the ballots (#verify); "" when none
    page_url: str = ""
    text: str = field(default="", repr=False)  # the file's text, kept with the round
    # offices of earlier rounds that this one dropped: their cases are still shown by name
    former_units: tuple[Named, ...] = ()

    @property
    def year(self) -> int:
        return self.round.year

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _units(self) -> dict[str, Named]:
        return {u.id: u for u in self.units}

    @cached_property
    def _items(self) -> dict[str, Named]:
        return {i.id: i for i in self.items}

    @property
    def unit_ids(self) -> Mapping[str, Named]:
        """Every unit by its id (``id in campaign.unit_ids`` checks one exists)."""
        return self._units

    def unit(self, unit_id: str) -> Named | None:
        """An office evaluated in this round."""
        return self._units.get(unit_id)

    @property
    def case_units(self) -> tuple[Named, ...]:
        """The offices whose cases are followed: this round's, then those earlier rounds had
        and this one dropped (their cases are history, still rectified and shown)."""
        return self.units + self.former_units

    def known_unit(self, unit_id: str) -> Named | None:
        """An office of this round or of an earlier one (a case's office)."""
        found = self._units.get(unit_id)
        if found is None:
            found = next((u for u in self.former_units if u.id == unit_id), None)
        return found

    def find_unit(self, text: str) -> Named:
        """An office as an organiser names it: its code, its name (Chinese or English), or
        any part of either (东湖, 东湖街道社保所). Several matches, or none, are refused with
        the names to choose from (the closest first); a few are offered as buttons."""
        return find_named(self.units, text, "units")

    def find_category(self, text: str) -> Named:
        """An evaluator category as an organiser names it (人大代表, deputies, its code)."""
        return find_named(self.categories, text, "categories")

    @staticmethod
    def unit_names(units: Sequence[Named]) -> list[str]:
        """The names to choose from in an answer (a long list helps nobody)."""
        return [u.name for u in units[:MAX_CHOICES]]

    def require_unit(self, unit_id: str) -> Named:
        """The unit, or the answer a person gets for a unit that does not exist."""
        unit = self.unit(unit_id)
        if unit is None:
            raise UserError("units/none", given=unit_id[:40], names=self.unit_names(self.units))
        return unit

    def item(self, item_id: str) -> Named | None:
        return self._items.get(item_id)

    def source(self, code: str) -> Named | None:
        return next((s for s in self.sources if s.id == code), None)

    def title(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name

    def phase_on(self, day: dt.date) -> Phase | None:
        return next((p for p in self.phases if p.start <= day <= p.end), None)

    def evaluate_window(self) -> tuple[dt.datetime, dt.datetime]:
        """The evaluate phase (the ballot window unless opened or closed by hand), from its
        first day's start to its last day's end, in UTC."""
        phase = next(p for p in self.phases if p.id == "evaluate")
        start = dt.datetime.combine(phase.start, dt.time(0, 0), self.tz)
        end = dt.datetime.combine(phase.end, dt.time(23, 59, 59), self.tz)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)

    def today(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.tz).date()


T = TypeVar("T")


def find_named(things: Sequence[Named], text: str, kind: str) -> Named:
    """One of ``things`` (offices, categories) as a person names it: its code, its name in
    either language, or any part of either. Several matches or none raise the answer
    ``<kind>/several`` or ``<kind>/none`` with the names to choose from, the closest first;
    several offices, if not too many, carry their ids to be offered as buttons."""
    given = text.strip()
    names = Campaign.unit_names
    if not given:
        raise UserError(f"{kind}/none", given="", names=names(things))
    folded = given.casefold()
    for thing in things:
        if folded in (thing.id.casefold(), thing.name.casefold(), thing.name_en.casefold()):
            return thing
    found = [
        t
        for t in things
        if folded in t.name.casefold() or (t.name_en and folded in t.name_en.casefold())
    ]
    if len(found) == 1:
        return found[0]
    if found:  # a few: offered as buttons (handlers/choose.py); many: say more of it
        few = kind == "units" and len(found) <= MAX_CHOICES
        choices = [t.id for t in found] if few else []
        raise UserError(f"{kind}/several", given=given[:40], names=names(found), choices=choices)
    close = difflib.get_close_matches(given, [t.name for t in things], n=5, cutoff=0.3)
    nearest = [t for name in close for t in things if t.name == name] or list(things)
    raise UserError(f"{kind}/none", given=given[:40], names=names(nearest))


class _Reader:
    """Reads typed values out of the parsed TOML, noting every problem instead of stopping."""

    def __init__(self, path: Path) -> None:
        self.file = str(path)
        self.problems: list[Problem] = []

    def problem(self, key: str, what: str) -> None:
        self.problems.append(Problem(self.file, key, what))

    def table(self, data: Mapping[str, Any], key: str, required: bool = True) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(key, "missing table")
            return {}
        if not isinstance(value, dict):
            self.problem(key, f"must be a table, not {type(value).__name__}")
            return {}
        return value

    def array(
        self, data: Mapping[str, Any], key: str, required: bool = True
    ) -> list[dict[str, Any]]:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(key, f"missing: at least one [[{key}]] entry is needed")
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(key, f"must be an array of tables ([[{key}]])")
            return []
        return value

    def value(
        self,
        data: Mapping[str, Any],
        prefix: str,
        key: str,
        kind: type[T] | tuple[type, ...],
        default: T | None = None,
        check: Callable[[Any], str | None] | None = None,
    ) -> Any:
        full = f"{prefix}.{key}" if prefix else key
        if key not in data:
            if default is None:
                self.problem(full, "missing")
            return default
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            self.problem(full, f"must be {_kind_name(kinds)}, not a true/false value")
            return default
        if not isinstance(value, kinds):
            self.problem(full, f"must be {_kind_name(kinds)}, not {type(value).__name__}")
            return default
        if check is not None:
            trouble = check(value)
            if trouble:
                self.problem(full, trouble)
                return default
        return value

    def unknown_keys(self, data: Mapping[str, Any], prefix: str, known: Iterable[str]) -> None:
        for key in sorted(set(data) - set(known)):
            where = f"{prefix}.{key}" if prefix else key
            self.problem(where, "unknown key (misspelt?)")


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {
        str: "text",
        int: "a whole number",
        Decimal: "a number",
        dt.date: "a date (YYYY-MM-DD)",
        list: "a list",
        dict: "a table",
        bool: "true or false",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _non_empty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


def _read_named(
    r: _Reader, entries: list[dict[str, Any]], key: str, pattern: re.Pattern[str] = ID_RE
) -> tuple[Named, ...]:
    result: list[Named] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        prefix = f"{key}[{i}]"
        r.unknown_keys(entry, prefix, ("id", "name", "name_en", "description"))
        ident = r.value(entry, prefix, "id", str)
        name = r.value(entry, prefix, "name", str, check=_non_empty)
        name_en = r.value(entry, prefix, "name_en", str, default="")
        description = r.value(entry, prefix, "description", str, default="")
        if isinstance(ident, str):
            if not pattern.match(ident):
                r.problem(f"{prefix}.id", f"{ident!r} is not a valid id ({_id_rule(pattern)})")
            elif ident in seen:
                r.problem(f"{prefix}.id", f"{ident!r} is used twice")
            seen.add(ident)
        if isinstance(ident, str) and isinstance(name, str):
            result.append(Named(ident, name.strip(), name_en.strip(), description.strip()))
    return tuple(result)


def _id_rule(pattern: re.Pattern[str]) -> str:
    if pattern is SOURCE_RE:
        return "1 to 40 of A-Z a-z 0-9 _ -"
    return "1 to 24 of a-z 0-9 _ -, starting with a letter or digit"


def _read_phases(r: _Reader, entries: list[dict[str, Any]]) -> tuple[Phase, ...]:
    phases: list[Phase] = []
    for i, entry in enumerate(entries):
        prefix = f"phases[{i}]"
        r.unknown_keys(entry, prefix, ("id", "name", "name_en", "start", "end"))
        ident = r.value(entry, prefix, "id", str)
        name = r.value(entry, prefix, "name", str, check=_non_empty)
        name_en = r.value(entry, prefix, "name_en", str, default="")
        start = r.value(entry, prefix, "start", dt.date)
        end = r.value(entry, prefix, "end", dt.date)
        if isinstance(start, dt.datetime) or isinstance(end, dt.datetime):
            r.problem(prefix, "start and end are dates (YYYY-MM-DD), without a time")
            continue
        if None in (ident, name, start, end):
            continue
        if start > end:
            r.problem(f"{prefix}.end", f"{end} is before the start {start}")
        phases.append(Phase(ident, name, name_en, start, end))
    ids = tuple(p.id for p in phases)
    if len(phases) == len(entries) and ids != PHASE_IDS:
        r.problem("phases", f"must be the plan's four phases in order: {', '.join(PHASE_IDS)}")
    for before, after in pairwise(phases):
        if after.start <= before.end:
            r.problem(
                f"phases[{ids.index(after.id)}].start",
                f"{after.start} overlaps the phase {before.id!r}, which ends {before.end}",
            )
    return tuple(phases)


def _read_scoring(r: _Reader, data: dict[str, Any]) -> Params:
    defaults = Params()
    p = "scoring"
    r.unknown_keys(
        data,
        p,
        (
            "values",
            "democratic_weight",
            "complaint_full",
            "deductions",
            "daily_max",
            "threshold",
            "unknown_policy",
            "aggregation",
        ),
    )
    number = (int, Decimal)

    def non_negative(value: Any) -> str | None:
        return None if value >= 0 else "must not be negative"

    values = dict(defaults.values)
    raw_values = r.table(data, "values", required=False)
    r.unknown_keys(raw_values, f"{p}.values", [a.value for a in Answer])
    for answer in Answer:
        v = r.value(raw_values, f"{p}.values", answer.value, number, values[answer], non_negative)
        values[answer] = Decimal(v)
    deductions = dict(defaults.deductions)
    raw_deductions = r.table(data, "deductions", required=False)
    r.unknown_keys(raw_deductions, f"{p}.deductions", [s.value for s in Severity])
    for severity in Severity:
        v = r.value(
            raw_deductions,
            f"{p}.deductions",
            severity.value,
            number,
            deductions[severity],
            non_negative,
        )
        deductions[severity] = Decimal(v)

    def fraction(value: Any) -> str | None:
        return None if 0 <= value <= 1 else "must lie between 0 and 1"

    def choice(options: Iterable[str]) -> Callable[[Any], str | None]:
        allowed = list(options)
        return lambda v: None if v in allowed else f"must be one of {', '.join(allowed)}"

    return Params(
        values=values,
        democratic_weight=Decimal(
            r.value(data, p, "democratic_weight", number, defaults.democratic_weight, fraction)
        ),
        complaint_full=Decimal(
            r.value(data, p, "complaint_full", number, defaults.complaint_full, non_negative)
        ),
        deductions=deductions,
        daily_max=Decimal(r.value(data, p, "daily_max", number, defaults.daily_max, non_negative)),
        threshold=Decimal(r.value(data, p, "threshold", number, defaults.threshold, non_negative)),
        unknown_policy=UnknownPolicy(
            r.value(
                data,
                p,
                "unknown_policy",
                str,
                defaults.unknown_policy.value,
                choice(x.value for x in UnknownPolicy),
            )
        ),
        aggregation=Aggregation(
            r.value(
                data,
                p,
                "aggregation",
                str,
                defaults.aggregation.value,
                choice(x.value for x in Aggregation),
            )
        ),
    )


def _hours(value: Any) -> str | None:
    if not value or not all(
        isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 720 for v in value
    ):
        return "must be a list of whole numbers of hours between 1 and 720, like [48, 24, 2]"
    return None


def _organisers(value: Any) -> str | None:
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        return "must be a list of Telegram user ids (positive whole numbers)"
    return None


def _web_address(value: Any) -> str | None:
    if value and not str(value).startswith(("https://", "http://")):
        return "must be a web address (https://…)"
    return None


def _broadcast_chat(value: Any) -> str | None:
    if isinstance(value, str) and not re.match(r"^@[A-Za-z][A-Za-z0-9_]{4,31}$", value):
        return "must be a chat id (a whole number) or a public @username"
    return None


def _id_list(value: Any) -> str | None:
    if not all(isinstance(v, str) for v in value):
        return "must be a list of office ids"
    return None


def _timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{value!r} is not a known time zone (e.g. Asia/Shanghai)"
    return None


def parse_campaign(text: str, path: Path) -> Campaign:
    """Check a campaign file's text; raise :class:`CampaignError` listing every problem."""
    r = _Reader(path)
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError([Problem(str(path), "(file)", f"not valid TOML: {exc}")]) from None
    r.unknown_keys(
        data,
        "",
        (
            "campaign",
            "access",
            "broadcast",
            "deadlines",
            "intake",
            "ballots",
            "sources",
            "units",
            "items",
            "categories",
            "phases",
            "scoring",
            "round",
        ),
    )
    c = r.table(data, "campaign")
    r.unknown_keys(
        c,
        "campaign",
        ("id", "name", "name_en", "timezone", "content", "content_en", "goals", "goals_en"),
    )
    access = r.table(data, "access")
    r.unknown_keys(access, "access", ("organisers",))
    broadcast = r.table(data, "broadcast", required=False)
    r.unknown_keys(broadcast, "broadcast", ("chat", "page_url"))
    deadlines_t = r.table(data, "deadlines", required=False)
    r.unknown_keys(deadlines_t, "deadlines", ("verify_days", "rectify_days", "remind_before_hours"))
    ballots_t = r.table(data, "ballots", required=False)
    r.unknown_keys(ballots_t, "ballots", ("reminders_hours", "smallest_group"))
    round_t = r.table(data, "round", required=False)
    r.unknown_keys(round_t, "round", ("year", "carry_over", "invite_again"))
    intake_t = r.table(data, "intake", required=False)
    r.unknown_keys(intake_t, "intake", ("draft_timeout_minutes", "max_text", "max_attachments"))

    def in_range(low: int, high: int) -> Callable[[Any], str | None]:
        return lambda v: None if low <= v <= high else f"must lie between {low} and {high}"

    campaign_id = r.value(
        c,
        "campaign",
        "id",
        str,
        check=lambda v: None if ID_RE.match(v) else f"{v!r} is not a valid id ({_id_rule(ID_RE)})",
    )
    units = _read_named(r, r.array(data, "units"), "units")
    items = _read_named(r, r.array(data, "items"), "items")
    categories = _read_named(r, r.array(data, "categories"), "categories")
    sources = _read_named(r, r.array(data, "sources", required=False), "sources", SOURCE_RE)
    phases = _read_phases(r, r.array(data, "phases"))
    scoring_params = _read_scoring(r, r.table(data, "scoring", required=False))
    campaign = Campaign(
        path=path,
        id=campaign_id or "",
        name=r.value(c, "campaign", "name", str, check=_non_empty) or "",
        name_en=r.value(c, "campaign", "name_en", str, default=""),
        timezone=r.value(c, "campaign", "timezone", str, "Asia/Shanghai", _timezone),
        content=r.value(c, "campaign", "content", str, check=_non_empty) or "",
        content_en=r.value(c, "campaign", "content_en", str, default=""),
        goals=r.value(c, "campaign", "goals", str, check=_non_empty) or "",
        goals_en=r.value(c, "campaign", "goals_en", str, default=""),
        organisers=frozenset(
            r.value(access, "access", "organisers", list, check=_organisers) or ()
        ),
        broadcast_chat=r.value(broadcast, "broadcast", "chat", (int, str), "", _broadcast_chat)
        or None,
        page_url=r.value(broadcast, "broadcast", "page_url", str, "", _web_address) or "",
        units=units,
        items=items,
        categories=categories,
        phases=phases,
        sources=sources,
        scoring=scoring_params,
        deadlines=Deadlines(
            verify_days=r.value(deadlines_t, "deadlines", "verify_days", int, 10, in_range(1, 365)),
            rectify_days=r.value(
                deadlines_t, "deadlines", "rectify_days", int, 30, in_range(1, 730)
            ),
            remind_before_hours=r.value(
                deadlines_t, "deadlines", "remind_before_hours", int, 24, in_range(1, 720)
            ),
        ),
        intake=Intake(
            draft_timeout_minutes=r.value(
                intake_t, "intake", "draft_timeout_minutes", int, 30, in_range(1, 1440)
            ),
            max_text=r.value(intake_t, "intake", "max_text", int, 3000, in_range(10, 3500)),
            max_attachments=r.value(intake_t, "intake", "max_attachments", int, 5, in_range(0, 20)),
        ),
        ballots=BallotSettings(
            reminders_hours=tuple(
                r.value(ballots_t, "ballots", "reminders_hours", list, [24], _hours) or (24,)
            ),
            smallest_group=r.value(
                ballots_t, "ballots", "smallest_group", int, 5, in_range(1, 1000)
            ),
        ),
    )
    again = r.value(round_t, "round", "invite_again", list, [], _id_list) or []
    unknown = [u for u in again if isinstance(u, str) and u not in {x.id for x in units}]
    if unknown:
        r.problem("round.invite_again", f"names no office of this file: {', '.join(unknown)}")
    campaign = replace(
        campaign,
        text=text,
        round=RoundSettings(
            year=r.value(round_t, "round", "year", int, 0, in_range(2000, 2100))
            or (phases[0].start.year if phases else 0),
            carry_over=r.value(round_t, "round", "carry_over", bool, True),
            invite_again=tuple(again),
        ),
    )
    if access.get("organisers") == []:
        r.problem("access.organisers", "at least one organiser is needed")
    for key, named in (("units", units), ("items", items), ("categories", categories)):
        if not named and key in data and isinstance(data[key], list) and not data[key]:
            r.problem(key, "must list at least one entry")
    if r.problems:
        raise CampaignError(r.problems)
    return campaign


def load_campaign(path: Path) -> Campaign:
    """Read and check the campaign file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CampaignError(
            [Problem(str(path), "(file)", f"cannot be read: {exc.strerror}")]
        ) from None
    except UnicodeDecodeError:
        raise CampaignError([Problem(str(path), "(file)", "is not UTF-8 text")]) from None
    return parse_campaign(text, path)
