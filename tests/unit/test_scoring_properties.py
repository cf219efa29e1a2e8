"""Properties of design §5 that must hold for every input (hypothesis)."""

from decimal import Decimal
from itertools import pairwise
from random import Random

from hypothesis import given
from hypothesis import strategies as st

from scoring import (
    Aggregation,
    Answer,
    Counts,
    Finding,
    Params,
    Severity,
    UnitInput,
    UnknownPolicy,
    rank,
    round_half_up,
    score_unit,
)

ITEMS = ("disclosure", "lawful", "service", "integrity", "institutions")
CATEGORIES = (
    "service_user",
    "npc_deputy",
    "cppcc_member",
    "integrity_supervisor",
    "evaluation_rep",
    "public_rep",
)

counts = st.builds(Counts, *(st.integers(0, 50) for _ in range(4)))
ballots = st.dictionaries(
    st.tuples(st.sampled_from(ITEMS), st.sampled_from(CATEGORIES)), counts, max_size=8
)
findings = st.lists(
    st.builds(Finding, st.sampled_from("ABCDEF"), st.sampled_from(list(Severity))), max_size=6
).map(tuple)
daily = st.none() | st.decimals(0, 10, places=2)
params = st.builds(
    Params,
    unknown_policy=st.sampled_from(list(UnknownPolicy)),
    aggregation=st.sampled_from(list(Aggregation)),
)


@st.composite
def units(draw: st.DrawFn, unit_id: str = "u") -> UnitInput:
    return UnitInput(unit_id, unit_id, draw(ballots), draw(findings), draw(daily))


@given(units(), params)
def test_democratic_score_lies_between_the_lowest_and_highest_ballot_value(
    unit: UnitInput, p: Params
) -> None:
    result = score_unit(unit, p, ITEMS)
    if result.democratic is not None:
        assert min(p.values.values()) <= result.democratic <= max(p.values.values())


@given(units(), params)
def test_composite_is_at_most_100_and_at_least_0(unit: UnitInput, p: Params) -> None:
    result = score_unit(unit, p, ITEMS)
    if result.composite is not None:
        assert 0 <= result.composite <= 100
    assert 0 <= result.complaint.score <= 20


@given(units(), params, st.sampled_from(ITEMS), st.sampled_from(CATEGORIES))
def test_one_more_satisfied_never_lowers_the_democratic_score(
    unit: UnitInput, p: Params, item: str, category: str
) -> None:
    before = score_unit(unit, p, ITEMS).democratic
    more = dict(unit.ballots)
    more[(item, category)] = more.get((item, category), Counts()).plus(Answer.SATISFIED)
    after = score_unit(UnitInput(unit.unit_id, unit.name, more), p, ITEMS).democratic
    assert after is not None
    assert before is None or after >= before


@given(units(), st.builds(Finding, st.sampled_from("ABCDEFG"), st.sampled_from(list(Severity))))
def test_one_more_finding_never_raises_the_complaint_score(
    unit: UnitInput, finding: Finding
) -> None:
    before = score_unit(unit).complaint.score
    after = score_unit(
        UnitInput(unit.unit_id, unit.name, unit.ballots, (*unit.findings, finding), unit.daily)
    ).complaint.score
    assert after <= before


@given(st.lists(units(), min_size=1, max_size=6), params, st.randoms())
def test_the_order_units_are_given_in_changes_no_score_or_rank(
    drawn: list[UnitInput], p: Params, random: Random
) -> None:
    given_units = [
        UnitInput(f"u{i}", f"unit {i}", u.ballots, u.findings, u.daily) for i, u in enumerate(drawn)
    ]
    shuffled = list(given_units)
    random.shuffle(shuffled)
    first = {r.result.unit_id: (r.rank, r.result) for r in rank(given_units, p, ITEMS).units}
    second = {r.result.unit_id: (r.rank, r.result) for r in rank(shuffled, p, ITEMS).units}
    assert first == second


@given(st.lists(units(), min_size=1, max_size=6))
def test_ranks_follow_the_published_composites(drawn: list[UnitInput]) -> None:
    ranking = rank(
        [UnitInput(f"u{i}", "", u.ballots, u.findings, u.daily) for i, u in enumerate(drawn)]
    )
    ranked = ranking.ranked
    for a, b in pairwise(ranked):
        assert a.result.composite is not None and b.result.composite is not None
        assert a.rank is not None and b.rank is not None
        assert a.rank <= b.rank
    published = {r.result.unit_id: round_half_up(r.result.composite or 0) for r in ranked}
    for r in ranked:
        # a rank is one more than the number of units published strictly higher
        higher = sum(1 for v in published.values() if v > published[r.result.unit_id])
        assert r.rank == higher + 1


def test_daily_bounds_are_inclusive() -> None:
    for value in (Decimal(0), Decimal(10)):
        assert score_unit(UnitInput("u", daily=value)).daily == value
