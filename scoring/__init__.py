"""Pure scoring of the plan (design §5): tallies in, scores and ranking out.

No Telegram, no database, no clock and no I/O: everything here can be checked by hand.
"""

from scoring.change import Change, change, fmt_change
from scoring.compute import DEFAULT_PARAMS, complaint, rank, score_unit
from scoring.display import fmt, fmt_percent, round_half_up
from scoring.model import (
    ANSWERS,
    Aggregation,
    Answer,
    CategoryResult,
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
    UnknownPolicy,
    average,
    item_results,
)

__all__ = [
    "ANSWERS",
    "DEFAULT_PARAMS",
    "Aggregation",
    "Answer",
    "CategoryResult",
    "Change",
    "ComplaintResult",
    "CountedCase",
    "Counts",
    "Finding",
    "ItemResult",
    "Params",
    "RankedUnit",
    "Ranking",
    "ScoringError",
    "Severity",
    "UnitInput",
    "UnitResult",
    "UnknownPolicy",
    "average",
    "change",
    "complaint",
    "fmt",
    "fmt_change",
    "fmt_percent",
    "item_results",
    "rank",
    "round_half_up",
    "score_unit",
]
