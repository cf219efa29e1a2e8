"""Rounding for display: exact values in, two-place decimals out, half up."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction


def round_half_up(value: Fraction | Decimal | int, places: int = 2) -> Decimal:
    """Round an exact value half up (away from zero on a tie) to ``places`` decimals."""
    exact = value if isinstance(value, Fraction) else Fraction(value)
    return round_ratio(exact.numerator, exact.denominator, places)


def round_ratio(numerator: int, denominator: int, places: int = 2) -> Decimal:
    """``numerator / denominator`` (denominator > 0) rounded half up, in whole numbers only."""
    whole = (2 * abs(numerator) * 10**places + denominator) // (2 * denominator)
    return Decimal(-whole if numerator < 0 else whole).scaleb(-places)


def fmt(value: Fraction | Decimal | int | None, places: int = 2, none: str = "—") -> str:
    """The value as shown to people: ``86.50``; ``none`` where there is no value."""
    if value is None:
        return none
    return f"{round_half_up(value, places):.{places}f}"


def fmt_percent(value: Fraction | None, places: int = 2, none: str = "—") -> str:
    """A rate as a percentage: ``60.00%``."""
    if value is None:
        return none
    return f"{fmt(value * 100, places)}%"
