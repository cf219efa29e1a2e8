"""The rules of design §5, one table or example each, against hand-computed numbers."""

from decimal import Decimal
from fractions import Fraction

import pytest

from scoring import (
    Aggregation,
    Answer,
    Counts,
    Finding,
    Params,
    ScoringError,
    Severity,
    UnitInput,
    UnknownPolicy,
    change,
    fmt,
    fmt_change,
    fmt_percent,
    rank,
    round_half_up,
    score_unit,
)

NO_BALLOTS = Counts()
ITEMS = ("disclosure", "lawful", "service", "integrity", "institutions")


def unit(
    unit_id: str = "u1",
    *,
    item: str = "service",
    category: str = "public_rep",
    counts: Counts = NO_BALLOTS,
    findings: tuple[Finding, ...] = (),
    daily: Decimal | None = None,
) -> UnitInput:
    ballots = {(item, category): counts} if counts.total else {}
    return UnitInput(unit_id, unit_id.upper(), ballots, findings, daily)


def test_the_worked_example_of_design_section_5() -> None:
    findings = (
        Finding("A", Severity.GENERAL),
        Finding("B", Severity.GENERAL, "hotline"),
        Finding("B", Severity.PUNISHED, "discipline"),
    )
    result = score_unit(unit(counts=Counts(60, 25, 10, 5), findings=findings, daily=Decimal(9)))
    assert result.democratic == Fraction("86.5")
    assert fmt(result.democratic) == "86.50"
    assert result.complaint.deductions == 15
    assert result.complaint.score == 5
    assert [(c.ref, c.severity, c.reports) for c in result.complaint.cases] == [
        ("A", Severity.GENERAL, 1),
        ("B", Severity.PUNISHED, 2),
    ]
    assert fmt(Fraction("0.7") * result.democratic) == "60.55"
    assert result.composite == Fraction("74.55")
    assert fmt(result.composite) == "74.55"
    assert result.flagged


@pytest.mark.parametrize(
    ("findings", "deductions", "score"),
    [
        ((), 0, 20),
        ((Finding("A", Severity.GENERAL),), 5, 15),
        ((Finding("A", Severity.PUNISHED),), 10, 10),
        # one case reported by three channels counts once
        ((Finding("A", Severity.GENERAL),) * 3, 5, 15),
        # raised from general to punished: counted once, at the highest severity
        ((Finding("A", Severity.PUNISHED), Finding("A", Severity.GENERAL)), 10, 10),
        # two distinct cases both count
        ((Finding("A", Severity.GENERAL), Finding("B", Severity.GENERAL)), 10, 10),
        # C never goes below zero
        (tuple(Finding(str(i), Severity.PUNISHED) for i in range(3)), 30, 0),
        (tuple(Finding(str(i), Severity.GENERAL) for i in range(5)), 25, 0),
    ],
)
def test_complaint_score(findings: tuple[Finding, ...], deductions: int, score: int) -> None:
    result = score_unit(unit(counts=Counts(1), findings=findings))
    assert result.complaint.deductions == deductions
    assert result.complaint.score == score


@pytest.mark.parametrize(
    ("counts", "policy", "expected"),
    [
        (Counts(1, 1, 1, 1), UnknownPolicy.SCORE, "65.00"),  # 260 / 4
        (Counts(1, 1, 1, 1), UnknownPolicy.EXCLUDE, "76.67"),  # 230 / 3
        (Counts(0, 0, 0, 4), UnknownPolicy.SCORE, "30.00"),
        (Counts(2, 0, 1, 0), UnknownPolicy.SCORE, "83.33"),  # 250 / 3
        (Counts(0, 1, 1, 0), UnknownPolicy.SCORE, "65.00"),
    ],
)
def test_unknown_policy(counts: Counts, policy: UnknownPolicy, expected: str) -> None:
    result = score_unit(unit(counts=counts), Params(unknown_policy=policy))
    assert fmt(result.democratic) == expected


def test_excluding_unknown_with_only_unknown_votes_leaves_no_democratic_score() -> None:
    exclude = Params(unknown_policy=UnknownPolicy.EXCLUDE)
    result = score_unit(unit(counts=Counts(unknown=7)), exclude)
    assert result.democratic is None
    assert result.composite is None
    assert not result.flagged
    # the rates are still over every ballot cast
    service = next(r for r in result.items if r.item_id == "service")
    assert fmt_percent(service.rate(Answer.UNKNOWN)) == "100.00%"


def test_item_mean_averages_item_scores_where_pooled_weights_by_ballots() -> None:
    ballots = {
        ("service", "public_rep"): Counts(satisfied=9),  # item score 100, 9 ballots
        ("lawful", "public_rep"): Counts(unsatisfied=1),  # item score 50, 1 ballot
    }
    u = UnitInput("u1", "U1", ballots)
    pooled = score_unit(u, Params(), ITEMS)
    mean = score_unit(u, Params(aggregation=Aggregation.ITEM_MEAN), ITEMS)
    assert pooled.democratic == Fraction(950, 10)  # (900 + 50) / 10
    assert mean.democratic == 75  # (100 + 50) / 2: items without votes are left out
    assert [r.item_id for r in mean.items] == list(ITEMS)
    assert [r.score for r in mean.items] == [None, 50, 100, None, None]


def test_items_and_categories_break_the_ballots_down() -> None:
    ballots = {
        ("service", "npc_deputy"): Counts(satisfied=3, basic=1),
        ("service", "public_rep"): Counts(unsatisfied=2),
        ("lawful", "npc_deputy"): Counts(satisfied=4),
    }
    result = score_unit(UnitInput("u1", "U1", ballots), items=ITEMS)
    service = result.items[2]
    assert service.counts == Counts(3, 1, 2, 0)
    assert fmt_percent(service.rate(Answer.SATISFIED)) == "50.00%"
    assert fmt(service.score) == "80.00"  # (300 + 80 + 100) / 6
    cats = {c.category_id: c for c in result.categories}
    assert cats["npc_deputy"].counts == Counts(7, 1, 0, 0)
    assert fmt(cats["npc_deputy"].score) == "97.50"
    assert result.counts.total == 10


def test_ties_share_a_rank_and_the_next_rank_skips() -> None:
    units = [
        unit("a", counts=Counts(satisfied=1), daily=Decimal(10)),  # 70 + 20 + 10 = 100
        unit("b", counts=Counts(satisfied=1), daily=Decimal(5)),  # 95
        unit("c", counts=Counts(satisfied=1), daily=Decimal(5)),  # 95
        unit("d", counts=Counts(basic=1), daily=Decimal(10)),  # 56 + 30 = 86
    ]
    ranking = rank(units)
    assert [(r.rank, r.result.unit_id, fmt(r.result.composite)) for r in ranking.units] == [
        (1, "a", "100.00"),
        (2, "b", "95.00"),
        (2, "c", "95.00"),
        (4, "d", "86.00"),
    ]
    assert not ranking.flagged


def test_ties_are_judged_on_the_published_two_decimal_value() -> None:
    # 66.6666… and 66.6676… differ in the third place but are both published as 66.67
    units = [
        unit("p", counts=Counts(satisfied=1, unsatisfied=2)),  # 0.7 · 200/3 + 20
        unit("q", counts=Counts(satisfied=1, unsatisfied=2), daily=Decimal("0.001")),
        unit("r", counts=Counts(satisfied=1, unsatisfied=2), daily=Decimal("0.01")),
    ]
    ranking = rank(units)
    p, q = (ranking.get(u).result.composite for u in "pq")
    assert p is not None and q is not None and p < q
    assert [(x.rank, x.result.unit_id, fmt(x.result.composite)) for x in ranking.units] == [
        (1, "r", "66.68"),
        (2, "p", "66.67"),
        (2, "q", "66.67"),
    ]


def test_units_without_ballots_come_last_unranked_and_never_as_zero() -> None:
    units = [
        unit("z", findings=(Finding("A", Severity.GENERAL),), daily=Decimal(3)),
        unit("m", counts=Counts(unsatisfied=10)),  # 35 + 20 = 55: flagged
    ]
    ranking = rank(units)
    assert [(r.rank, r.result.unit_id) for r in ranking.units] == [(1, "m"), (None, "z")]
    z = ranking.get("z").result
    assert z.democratic is None and z.composite is None and not z.flagged
    assert z.complaint.score == 15  # its other scores are still shown
    assert fmt(z.composite) == "—"
    assert [r.result.unit_id for r in ranking.flagged] == ["m"]


def test_flag_is_below_the_threshold_not_at_it() -> None:
    at = unit("at", counts=Counts(basic=1), daily=Decimal(9))  # 56 + 20 + 9 = 85
    below = unit("below", counts=Counts(basic=1), daily=Decimal("8.99"))
    ranking = rank([at, below])
    assert not ranking.get("at").result.flagged
    assert ranking.get("below").result.flagged


def test_missing_daily_score_counts_as_zero_and_is_marked() -> None:
    result = score_unit(unit(counts=Counts(satisfied=1)))
    assert result.daily is None
    assert result.composite == 90


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Fraction("86.5"), "86.50"),
        (Fraction("0.125"), "0.13"),
        (Fraction("0.124999"), "0.12"),
        (Fraction(2, 3), "0.67"),
        (Fraction("74.555"), "74.56"),
        (Fraction("-1.005"), "-1.01"),
        (Decimal("2.675"), "2.68"),  # a float would give 2.67
        (0, "0.00"),
    ],
)
def test_rounding_is_half_up_on_the_exact_value(value: Fraction | Decimal, shown: str) -> None:
    assert fmt(value) == shown
    assert str(round_half_up(value)) == shown


@pytest.mark.parametrize(
    ("units", "unit_id", "field"),
    [
        ([unit(counts=Counts(-1))], "u1", "ballots[service/public_rep].satisfied"),
        ([unit(counts=Counts(1), daily=Decimal(11))], "u1", "daily"),
        ([unit(counts=Counts(1), daily=Decimal("-0.5"))], "u1", "daily"),
        ([unit(findings=(Finding("A", "serious"),))], "u1", "findings[A].severity"),  # type: ignore[arg-type]
        ([unit("k"), unit("k")], "k", "unit_id"),
    ],
)
def test_invalid_input_names_the_unit_and_the_field(
    units: list[UnitInput], unit_id: str, field: str
) -> None:
    with pytest.raises(ScoringError) as raised:
        rank(units)
    assert raised.value.unit_id == unit_id
    assert raised.value.field == field
    assert unit_id in str(raised.value) and field in str(raised.value)


def test_a_ballot_for_an_item_outside_the_campaign_is_refused() -> None:
    with pytest.raises(ScoringError) as raised:
        score_unit(unit(item="parking", counts=Counts(1)), items=ITEMS)
    assert raised.value.field == "ballots[parking]"


def test_the_change_from_one_round_to_the_next_is_that_of_the_figures_shown() -> None:
    """design §12: 2025 — 2 满意 and 1 基本满意 (D 93.333…, shown 93.33), one general
    problem (C 15), A 8: composite 0.7 × 93.333… + 15 + 8 = 88.333…, shown 88.33;
    2026 — 1 满意 and 2 基本满意 (D 86.666…, shown 86.67), no problem (C 20), no A:
    composite 60.666… + 20 = 80.666…, shown 80.67."""
    before = score_unit(
        unit(
            counts=Counts(2, 1, 0, 0),
            findings=(Finding("case-1", Severity.GENERAL),),
            daily=Decimal(8),
        ),
        items=ITEMS,
    )
    now = score_unit(unit(counts=Counts(1, 2, 0, 0)), items=ITEMS)
    assert (fmt(before.composite), fmt(now.composite)) == ("88.33", "80.67")
    moved = change(now, before)
    assert moved.composite == Decimal("-7.66")  # 80.67 − 88.33 (the exact −7.666… shows −7.67)
    assert moved.democratic == Decimal("-6.66")  # 86.67 − 93.33
    assert moved.complaint == Decimal("5.00") and moved.daily is None
    assert moved.items["service"] == Decimal("-6.66")
    assert moved.items["lawful"] is None  # no ballots in either round
    assert [fmt_change(v) for v in (moved.composite, moved.complaint, Decimal(0), None)] == [
        "−7.66",
        "+5.00",
        "0.00",
        "—",
    ]
