"""Rounding for display: exact values in, two-place decimals out, half up."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction


def round_half_up(value: Fraction | Decimal | int, places: int = 2) -> Decimal:
    """Round an exact value half up (away from zero on a tie) to ``places`` decimals."""
    exact = value if isinstance(value, Fraction) else Fraction(value)
    n, d = exact.numerator, exact.denominator
    # floor(|x|·10^places + 1/2), in whole numbers only
    whole = (2 * abs(n) * 10**places + d) // (2 * d)
    return Decimal((1 if n < 0 and whole else 0, tuple(map(int, str(whole))), -places))


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
