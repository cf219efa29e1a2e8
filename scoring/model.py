"""The data that goes into scoring and comes out of it.

Everything is a frozen dataclass. Scores are exact :class:`fractions.Fraction` values; only
:func:`scoring.display.fmt` rounds, and only for display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from math import lcm


class Answer(StrEnum):
    """The four ballot answers, in the order the plan lists them."""

    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意
    UNKNOWN = "unknown"  # 不了解


ANSWERS: tuple[Answer, ...] = tuple(Answer)


class Severity(StrEnum):
    """How a substantiated problem counts against a unit's complaint score."""

    GENERAL = "general"  # 一般问题
    PUNISHED = "punished"  # 被处分处罚


SEVERITY_ORDER: dict[Severity, int] = {Severity.GENERAL: 1, Severity.PUNISHED: 2}


class UnknownPolicy(StrEnum):
    """Whether 不了解 is a valid vote worth its value, or left out of the valid votes."""

    SCORE = "score"
    EXCLUDE = "exclude"


class Aggregation(StrEnum):
    """Whether D pools every ballot of the unit or averages the item scores."""

    POOLED = "pooled"
    ITEM_MEAN = "item_mean"


class ScoringError(ValueError):
    """Input that cannot be scored; names the unit and the field."""

    def __init__(self, unit_id: str, field: str, problem: str) -> None:
        super().__init__(f"unit {unit_id!r}, {field}: {problem}")
        self.unit_id = unit_id
        self.field = field
        self.problem = problem


def _default_values() -> dict[Answer, Decimal]:
    return {
        Answer.SATISFIED: Decimal(100),
        Answer.BASIC: Decimal(80),
        Answer.UNSATISFIED: Decimal(50),
        Answer.UNKNOWN: Decimal(30),
    }


def _default_deductions() -> dict[Severity, Decimal]:
    return {Severity.GENERAL: Decimal(5), Severity.PUNISHED: Decimal(10)}


@dataclass(frozen=True)
class Params:
    """The plan's scoring parameters; the defaults reproduce the plan."""

    values: Mapping[Answer, Decimal] = field(default_factory=_default_values)
    democratic_weight: Decimal = Decimal("0.7")
    complaint_full: Decimal = Decimal(20)
    deductions: Mapping[Severity, Decimal] = field(default_factory=_default_deductions)
    daily_max: Decimal = Decimal(10)
    threshold: Decimal = Decimal(85)
    unknown_policy: UnknownPolicy = UnknownPolicy.SCORE
    aggregation: Aggregation = Aggregation.POOLED

    def value(self, answer: Answer) -> Fraction:
        return Fraction(self.values[answer])

    def counts_as_valid(self, answer: Answer) -> bool:
        return not (answer is Answer.UNKNOWN and self.unknown_policy is UnknownPolicy.EXCLUDE)

    @cached_property
    def integer_weights(self) -> tuple[tuple[int, ...], int]:
        """Each answer's value times a common scale, as whole numbers (0 for an answer
        that is not a valid vote), and that scale; lets D be summed in integers."""
        fractions = [self.value(a) for a in ANSWERS]
        scale = lcm(*(f.denominator for f in fractions))
        weights = tuple(
            int(f * scale) if self.counts_as_valid(a) else 0
            for a, f in zip(ANSWERS, fractions, strict=True)
        )
        return weights, scale

    @cached_property
    def weight_fraction(self) -> Fraction:
        return Fraction(self.democratic_weight)

    @cached_property
    def complaint_full_fraction(self) -> Fraction:
        return Fraction(self.complaint_full)

    @cached_property
    def clean_record(self) -> ComplaintResult:
        """C for a unit with no findings: the full score."""
        return ComplaintResult(self.complaint_full_fraction, Fraction(0), ())

    def complaint_for(self, general: int, punished: int) -> tuple[Fraction, Fraction]:
        """C and the deductions for so many general and punished cases (remembered: the
        same few combinations recur across units)."""
        key = (general, punished)
        known = self._complaints.get(key)
        if known is None:
            deducted = (
                self.deductions[Severity.GENERAL] * general
                + self.deductions[Severity.PUNISHED] * punished
            )
            remaining = self.complaint_full - deducted
            known = (Fraction(remaining) if remaining > 0 else Fraction(0), Fraction(deducted))
            self._complaints[key] = known
        return known

    @cached_property
    def _complaints(self) -> dict[tuple[int, int], tuple[Fraction, Fraction]]:
        return {}

    @cached_property
    def deduction_fractions(self) -> dict[Severity, Fraction]:
        return {severity: Fraction(points) for severity, points in self.deductions.items()}

    @cached_property
    def unknown_is_valid(self) -> bool:
        return self.counts_as_valid(Answer.UNKNOWN)


@dataclass(frozen=True)
class Counts:
    """How many ballots gave each answer."""

    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    unknown: int = 0

    def of(self, answer: Answer) -> int:
        return int(getattr(self, answer.value))

    def as_tuple(self) -> tuple[int, int, int, int]:
        """The counts in the order of :data:`ANSWERS`."""
        return (self.satisfied, self.basic, self.unsatisfied, self.unknown)

    @property
    def total(self) -> int:
        return self.satisfied + self.basic + self.unsatisfied + self.unknown

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.satisfied + other.satisfied,
            self.basic + other.basic,
            self.unsatisfied + other.unsatisfied,
            self.unknown + other.unknown,
        )

    def plus(self, answer: Answer, n: int = 1) -> Counts:
        """These counts with ``n`` more ballots answering ``answer``."""
        values = {a.value: self.of(a) for a in ANSWERS}
        values[answer.value] += n
        return Counts(**values)

    def rate(self, answer: Answer) -> Fraction | None:
        """The share of all ballots that gave ``answer`` (None when there are none)."""
        total = self.total
        return Fraction(self.of(answer), total) if total else None


@dataclass(frozen=True)
class Finding:
    """One report of a substantiated problem; ``ref`` identifies the case across channels."""

    ref: str
    severity: Severity
    channel: str = ""


@dataclass(frozen=True)
class UnitInput:
    """What is known of one unit: its ballots per (item, category), findings, daily score."""

    unit_id: str
    name: str = ""
    ballots: Mapping[tuple[str, str], Counts] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    daily: Decimal | None = None


@dataclass(frozen=True)
class ItemResult:
    """One evaluation item of one unit: its counts, rates and score."""

    item_id: str
    counts: Counts
    score: Fraction | None  # None when the item has no valid votes

    def rate(self, answer: Answer) -> Fraction | None:
        return self.counts.rate(answer)


@dataclass(frozen=True)
class CategoryResult:
    """One evaluator category's ballots for one unit (all items), for the breakdowns."""

    category_id: str
    counts: Counts
    score: Fraction | None


@dataclass(frozen=True)
class CountedCase:
    """A case that counted against C: once, at its highest severity."""

    ref: str
    severity: Severity
    points: Fraction
    reports: int  # how many findings named this case


@dataclass(frozen=True)
class ComplaintResult:
    """C = max(0, full − deductions), with the cases behind it."""

    score: Fraction
    deductions: Fraction
    cases: tuple[CountedCase, ...]


def average(counts: Counts | Sequence[int], params: Params) -> Fraction | None:
    """The mean ballot value over the valid votes, or None when there are none."""
    s, b, n, u = counts.as_tuple() if isinstance(counts, Counts) else counts
    valid = s + b + n + (u if params.unknown_is_valid else 0)
    if not valid:
        return None
    (ws, wb, wn, wu), scale = params.integer_weights
    return Fraction(ws * s + wb * b + wn * n + wu * u, valid * scale)


def _sum_by(ballots: Mapping[tuple[str, str], Counts], position: int) -> dict[str, Counts]:
    sums: dict[str, Counts] = {}
    for key, counts in ballots.items():
        group = key[position]
        sums[group] = sums[group] + counts if group in sums else counts
    return sums


def item_results(
    ballots: Mapping[tuple[str, str], Counts], params: Params, item_ids: Sequence[str] = ()
) -> tuple[ItemResult, ...]:
    """Per item: counts, rates and score; ``item_ids`` (or the items voted on) in order."""
    per_item = _sum_by(ballots, 0)
    ids = item_ids or sorted(per_item)
    return tuple(
        ItemResult(i, c, average(c, params)) for i in ids for c in [per_item.get(i, Counts())]
    )


@dataclass(frozen=True)
class UnitResult:
    """Everything design §5 shows for one unit.

    The per-item and per-category breakdowns are worked out from the unit's ballots when
    first read, so that ranking many units does not pay for tables nobody asked for.
    """

    unit_id: str
    name: str
    counts: Counts
    democratic: Fraction | None  # None: no ballots, so no democratic score
    complaint: ComplaintResult
    daily: Fraction | None  # None: not entered (counted as 0)
    composite: Fraction | None
    published: Decimal | None  # the composite as published: rounded half up to 2 places
    flagged: bool
    ballots: Mapping[tuple[str, str], Counts] = field(compare=False, repr=False)
    params: Params = field(compare=False, repr=False)
    item_ids: tuple[str, ...] = field(compare=False, repr=False)

    @property
    def has_democratic(self) -> bool:
        return self.democratic is not None

    @cached_property
    def items(self) -> tuple[ItemResult, ...]:
        """Every item of the campaign, in its order, ballots or not."""
        return item_results(self.ballots, self.params, self.item_ids)

    @cached_property
    def categories(self) -> tuple[CategoryResult, ...]:
        """The evaluator categories that answered, with their counts and score."""
        return tuple(
            CategoryResult(cat, c, average(c, self.params))
            for cat, c in sorted(_sum_by(self.ballots, 1).items())
        )


@dataclass(frozen=True)
class RankedUnit:
    rank: int | None  # None for units without a democratic score
    result: UnitResult


@dataclass(frozen=True)
class Ranking:
    """Ranked units first (ties share a rank), then units with no democratic score."""

    units: tuple[RankedUnit, ...]

    @property
    def ranked(self) -> tuple[RankedUnit, ...]:
        return tuple(u for u in self.units if u.rank is not None)

    @property
    def unscored(self) -> tuple[RankedUnit, ...]:
        return tuple(u for u in self.units if u.rank is None)

    @property
    def flagged(self) -> tuple[RankedUnit, ...]:
        return tuple(u for u in self.units if u.result.flagged)

    def get(self, unit_id: str) -> RankedUnit:
        for unit in self.units:
            if unit.result.unit_id == unit_id:
                return unit
        raise KeyError(unit_id)
