"""design §5, exactly: democratic score D, complaint score C, daily work A, composite, rank."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from scoring.display import round_ratio
from scoring.model import (
    ANSWERS,
    SEVERITY_ORDER,
    Aggregation,
    ComplaintResult,
    CountedCase,
    Counts,
    Finding,
    ItemResult,
    Params,
    RankedUnit,
    Ranking,
    ScoringError,
    Severity,
    UnitInput,
    UnitResult,
    average,
    item_results,
)

DEFAULT_PARAMS = Params()
SEVERITIES: dict[str, Severity] = {s.value: s for s in Severity}


def complaint(unit_id: str, findings: Sequence[Finding], params: Params) -> ComplaintResult:
    """C = max(0, full − deductions); one case counts once, at its highest severity (不重复计算)."""
    if not findings:
        return params.clean_record
    worst: dict[str, Severity] = {}
    reports: dict[str, int] = {}
    order = SEVERITY_ORDER
    for finding in findings:
        ref, severity = finding.ref, finding.severity
        rank_ = order.get(severity)
        if rank_ is None:
            field = f"findings[{ref}].severity"
            raise ScoringError(unit_id, field, f"unknown severity {severity!r}")
        if not ref:
            raise ScoringError(unit_id, "findings.ref", "a finding needs a case reference")
        reports[ref] = reports.get(ref, 0) + 1
        current = worst.get(ref)
        if current is None or rank_ > order[current]:
            worst[ref] = severity
    points = params.deduction_fractions
    members = SEVERITIES  # a member for its value, without Enum's slow call
    cases = tuple(
        CountedCase(ref, members[severity], points[severity], reports[ref])
        for ref, severity in sorted(worst.items())
    )
    score, deducted = params.complaint_for(
        sum(1 for c in cases if c.severity is Severity.GENERAL),
        sum(1 for c in cases if c.severity is Severity.PUNISHED),
    )
    return ComplaintResult(score=score, deductions=deducted, cases=cases)


def _check_daily(unit: UnitInput, params: Params) -> None:
    if unit.daily is not None and not 0 <= unit.daily <= params.daily_max:
        raise ScoringError(
            unit.unit_id, "daily", f"must lie between 0 and {params.daily_max}, got {unit.daily}"
        )


def _bad_count(unit_id: str, key: tuple[str, str], counts: Counts) -> ScoringError:
    for answer in ANSWERS:
        n = counts.of(answer)
        if type(n) is not int or n < 0:
            break
    return ScoringError(
        unit_id,
        f"ballots[{key[0]}/{key[1]}].{answer.value}",
        f"count must be a whole number ≥ 0, got {n!r}",
    )


def _total(unit: UnitInput, items: frozenset[str] | None) -> Counts:
    """All of the unit's ballots summed, every count and item checked on the way."""
    s = b = n = u = 0
    try:
        for key, c in unit.ballots.items():
            if items is not None and key[0] not in items:
                raise ScoringError(unit.unit_id, f"ballots[{key[0]}]", "unknown evaluation item")
            cs, cb, cn, cu = c.satisfied, c.basic, c.unsatisfied, c.unknown
            if (cs | cb | cn | cu) < 0:  # one test for four counts; non-integers raise
                raise _bad_count(unit.unit_id, key, c)
            s += cs
            b += cb
            n += cn
            u += cu
    except TypeError:
        raise _bad_count(unit.unit_id, key, c) from None
    return Counts(s, b, n, u)


def score_unit(
    unit: UnitInput, params: Params = DEFAULT_PARAMS, items: Sequence[str] = ()
) -> UnitResult:
    """Score one unit; ``items`` fixes the items shown (all of them, ballots or not)."""
    return _score(unit, params, tuple(items), frozenset(items) if items else None)


def _score(
    unit: UnitInput, params: Params, items: tuple[str, ...], known: frozenset[str] | None
) -> UnitResult:
    _check_daily(unit, params)
    total = _total(unit, known)
    c = complaint(unit.unit_id, unit.findings, params)
    daily = Fraction(unit.daily) if unit.daily is not None else None
    breakdown: tuple[ItemResult, ...] | None = None
    if params.aggregation is Aggregation.POOLED:
        democratic = average(total, params)
    else:
        breakdown = item_results(unit.ballots, params, items)
        scores = [r.score for r in breakdown if r.score is not None]
        democratic = sum(scores, Fraction(0)) / len(scores) if scores else None
    composite = published = None
    if democratic is not None:
        # w·D + C + A over one common denominator: a single Fraction instead of four.
        w, rest = params.weight_fraction, c.score + daily if daily else c.score
        numerator = (
            w.numerator * democratic.numerator * rest.denominator
            + rest.numerator * w.denominator * democratic.denominator
        )
        denominator = w.denominator * democratic.denominator * rest.denominator
        composite = Fraction(numerator, denominator)
        published = round_ratio(numerator, denominator)
    result = UnitResult(
        unit_id=unit.unit_id,
        name=unit.name,
        counts=total,
        democratic=democratic,
        complaint=c,
        daily=daily,
        composite=composite,
        published=published,
        flagged=published is not None and published < params.threshold,
        ballots=unit.ballots,
        params=params,
        item_ids=items,
    )
    if breakdown is not None:
        result.__dict__["items"] = breakdown  # already worked out: seed the cached property
    return result


def rank(
    units: Sequence[UnitInput], params: Params = DEFAULT_PARAMS, items: Sequence[str] = ()
) -> Ranking:
    """Score every unit and rank by composite; ties (on the published value) share a rank.

    Ranking uses the composite as published, rounded half up to two places, so two units
    shown with the same score always share a rank (1, 2, 2, 4). Units with no democratic
    score follow the ranked ones, unranked.
    """
    seen: set[str] = set()
    for unit in units:
        if unit.unit_id in seen:
            raise ScoringError(unit.unit_id, "unit_id", "two units have this id")
        seen.add(unit.unit_id)
    item_ids = tuple(items)
    known = frozenset(items) if items else None
    results = [_score(unit, params, item_ids, known) for unit in units]
    scored = [(r.published, r) for r in results if r.published is not None]
    scored.sort(key=lambda pair: (-pair[0], pair[1].unit_id))
    ranked: list[RankedUnit] = []
    for position, (shown, result) in enumerate(scored):
        tied = position > 0 and shown == scored[position - 1][0]
        place = ranked[-1].rank if tied else position + 1
        ranked.append(RankedUnit(place, result))
    unscored = sorted((r for r in results if r.composite is None), key=lambda r: r.unit_id)
    return Ranking(tuple(ranked) + tuple(RankedUnit(None, r) for r in unscored))
