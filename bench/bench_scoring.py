"""Scoring and ranking 2,000 units (5 items × 6 categories) from counts.

Reports the median time of ``scoring.rank`` and, as a noise-proof figure, its ratio to a
baseline run in the same process: the same formula in plain floats with no validation,
breakdowns or exactness. Run: ``python -m bench.bench_scoring``.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from scoring import Counts, Finding, Severity, UnitInput, rank

ITEMS = ("disclosure", "lawful", "service", "integrity", "institutions")
CATEGORIES = (
    "service_user",
    "npc_deputy",
    "cppcc_member",
    "integrity_supervisor",
    "evaluation_rep",
    "public_rep",
)


def make_units(n: int, seed: int = 7) -> list[UnitInput]:
    rng = random.Random(seed)
    units = []
    for i in range(n):
        ballots = {
            (item, cat): Counts(*(rng.randint(0, 40) for _ in range(4)))
            for item in ITEMS
            for cat in CATEGORIES
        }
        findings = tuple(
            Finding(f"c{rng.randint(0, 5)}", rng.choice(list(Severity)))
            for _ in range(rng.randint(0, 4))
        )
        daily = Decimal(rng.randint(0, 100)) / 10
        units.append(UnitInput(f"u{i:04d}", f"单位{i}", ballots, findings, daily))
    return units


def float_baseline(units: list[UnitInput]) -> list[tuple[float, str]]:
    """The composite in floats, sorted: what a spreadsheet would do."""
    out = []
    for u in units:
        s = b = n = k = 0
        for c in u.ballots.values():
            s += c.satisfied
            b += c.basic
            n += c.unsatisfied
            k += c.unknown
        total = s + b + n + k
        d = (100 * s + 80 * b + 50 * n + 30 * k) / total
        worst: dict[str, float] = {}
        for f in u.findings:
            points = 10.0 if f.severity is Severity.PUNISHED else 5.0
            worst[f.ref] = max(worst.get(f.ref, 0.0), points)
        c_score = max(0.0, 20.0 - sum(worst.values()))
        out.append((0.7 * d + c_score + float(u.daily or 0), u.unit_id))
    out.sort(reverse=True)
    return out


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(n: int = 2000, repeat: int = 21) -> dict[str, float]:
    units = make_units(n)
    rank(units, items=ITEMS)  # warm up
    ours, base = [], []
    for _ in range(repeat):  # interleaved, so both see the same machine
        ours.append(timed(lambda: rank(units, items=ITEMS)))
        base.append(timed(lambda: float_baseline(units)))
    ratios = [o / b for o, b in zip(ours, base, strict=True)]
    figures = {
        "units": n,
        "rank_ms_median": statistics.median(ours) * 1000,
        "rank_ms_best": min(ours) * 1000,
        "float_baseline_ms_median": statistics.median(base) * 1000,
        "ratio_median": statistics.median(ratios),
    }
    print(
        f"scoring {n} units × {len(ITEMS)} items × {len(CATEGORIES)} categories, "
        f"{repeat} interleaved runs: rank median {figures['rank_ms_median']:.1f} ms "
        f"(best {figures['rank_ms_best']:.1f} ms; target < 50 ms); float baseline median "
        f"{figures['float_baseline_ms_median']:.1f} ms; ratio {figures['ratio_median']:.1f}×"
    )
    return figures


if __name__ == "__main__":
    main()
