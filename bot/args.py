"""Command arguments as people type them: the one parser every command uses.

Numbers may be typed in any script's decimal digits (ASCII, full-width ``１２``, Arabic-
Indic ``١٢``…), which this reads as the number they show; anything else that Python would
call a digit (superscripts ``²``, circled ``①``) is not a number here, and the command
answers with its usage instead of failing.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation

MAX_DIGITS = 9
DECIMAL_POINTS = ".．"


def ascii_digits(text: str, points: str = "") -> str | None:
    """``text`` with every decimal digit as ASCII (and a decimal point from ``points`` as
    "."), or None if anything else is in it."""
    out = []
    for char in text.strip():
        value = unicodedata.decimal(char, None)
        if value is not None:
            out.append(str(value))
        elif char in points:
            out.append(".")
        else:
            return None
    return "".join(out) or None


def parse_number(text: str, minimum: int = 0, maximum: int | None = None) -> int | None:
    """A whole number between ``minimum`` and ``maximum``, or None."""
    digits = ascii_digits(text)
    if digits is None or len(digits) > MAX_DIGITS:
        return None
    value = int(digits)
    if value < minimum or (maximum is not None and value > maximum):
        return None
    return value


def parse_decimal(text: str) -> Decimal | None:
    """A non-negative decimal number as typed ("9.5", "９．５"), or None."""
    digits = ascii_digits(text, DECIMAL_POINTS)
    if digits is None or digits.count(".") > 1 or len(digits) > 2 * MAX_DIGITS:
        return None
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None
