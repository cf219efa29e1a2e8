"""The change of an office's figures from one round to the next (design §12).

A change is the difference of the two figures *as shown* (each rounded half up to two
places), so that a reader who subtracts the two published numbers finds the same change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from scoring.display import round_half_up
from scoring.model import UnitResult


@dataclass(frozen=True)
class Change:
    composite: Decimal | None  # None: either round has no composite
    democratic: Decimal | None
    items: Mapping[str, Decimal | None]  # D per item, for the items of both rounds
    complaint: Decimal
    daily: Decimal | None  # None: either round has no daily-work score


def _delta(now: Fraction | Decimal | None, before: Fraction | Decimal | None) -> Decimal | None:
    if now is None or before is None:
        return None
    return round_half_up(now) - round_half_up(before)


def change(now: UnitResult, before: UnitResult) -> Change:
    """How ``now`` differs from ``before`` (the same office in the round before)."""
    earlier = {i.item_id: i.score for i in before.items}
    return Change(
        composite=_delta(now.composite, before.composite),
        democratic=_delta(now.democratic, before.democratic),
        items={
            i.item_id: _delta(i.score, earlier[i.item_id])
            for i in now.items
            if i.item_id in earlier
        },
        complaint=round_half_up(now.complaint.score) - round_half_up(before.complaint.score),
        daily=_delta(now.daily, before.daily),
    )


def fmt_change(value: Decimal | None, none: str = "—") -> str:
    """A change as shown: +1.25, −0.50 (a real minus sign), 0.00."""
    if value is None:
        return none
    if value > 0:
        return f"+{value:.2f}"
    if value < 0:
        return f"−{-value:.2f}"
    return f"{Decimal(0):.2f}"
