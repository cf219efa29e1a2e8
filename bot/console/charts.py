"""Charts drawn as inline SVG by the console's templates (no script, nothing fetched): the
page's Content-Security-Policy allows them, and they follow the page's colours."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 30


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # under the axis (the round's year)
    value: str  # above the point ("" when the round has no value)


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: tuple[Point, ...]
    path: str  # the polyline through the points that have a value
    ticks: tuple[tuple[float, str], ...]  # y and label of each horizontal rule
    threshold: float | None  # y of the threshold line


def line(values: list[tuple[str, Decimal | None]], threshold: Decimal | None) -> LineChart:
    """A line over ``values`` (label, value; None: no value that round), on a 0–100 scale
    narrowed to what the values and the threshold need."""
    known = [v for _, v in values if v is not None]
    low_value = min([*known, *([threshold] if threshold is not None else [])], default=0)
    low = max(Decimal(0), (low_value // 10) * 10 - 10)
    high = Decimal(100)
    span_x = WIDTH - LEFT - RIGHT
    span_y = HEIGHT - TOP - BOTTOM

    def y_of(value: Decimal) -> float:
        return TOP + span_y * float((high - value) / (high - low))

    step = span_x / max(1, len(values) - 1)
    points = tuple(
        Point(
            LEFT + (step * n if len(values) > 1 else span_x / 2),
            y_of(value) if value is not None else HEIGHT - BOTTOM,
            label,
            f"{value:.2f}" if value is not None else "",
        )
        for n, (label, value) in enumerate(values)
    )
    path = " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points if p.value)
    ticks = tuple(
        (y_of(Decimal(t)), str(t)) for t in range(int(low), 101, 10 if high - low <= 50 else 20)
    )
    return LineChart(
        WIDTH,
        HEIGHT,
        points,
        path,
        ticks,
        y_of(threshold) if threshold is not None and low <= threshold <= high else None,
    )
