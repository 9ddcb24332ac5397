"""Rates with their sample size and confidence interval: the unit every figure is reported in.

A rate is ``count / n``. Its interval comes from the bootstrap (``faceaudit.stats.bootstrap``); when
no error was observed (``count == 0``) the bootstrap collapses to ``[0, 0]``, so the interval is the
"rule of 3" one-sided bound ``[0, 3 / n]`` at 95% confidence (generally ``-ln(1 - confidence) / n``)
and ``upper_bound`` is set: the figure is a bound, not an estimate (ISO/IEC 19795-1, Annex B).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def rule_of_three(n: int, confidence: float = 0.95) -> float:
    """One-sided upper confidence bound on a rate with zero errors in ``n`` trials.

    ``-ln(1 - confidence) / n``: exactly 3/n (to 0.2%) at 95%, the "rule of 3".
    """
    if n <= 0:
        return 1.0
    return min(1.0, -math.log(1.0 - confidence) / n)


@dataclass(frozen=True)
class Rate:
    """An observed rate ``count / n`` with a confidence interval.

    ``ci`` is ``(low, high)`` or ``None`` (no bootstrap asked for, or ``n == 0``).
    ``upper_bound`` is True when ``count == 0`` and ``ci`` is the rule-of-3 bound.
    """

    count: int
    n: int
    ci: tuple[float, float] | None = None
    upper_bound: bool = False

    @property
    def value(self) -> float | None:
        return self.count / self.n if self.n else None

    def to_json(self) -> dict:
        return {
            "value": self.value,
            "ci": None if self.ci is None else [float(self.ci[0]), float(self.ci[1])],
            "count": int(self.count),
            "n": int(self.n),
            "upper_bound": bool(self.upper_bound),
        }


def make_rate(
    count: int,
    n: int,
    ci: tuple[float, float] | None,
    *,
    confidence: float = 0.95,
    bound_when_zero: bool = True,
) -> Rate:
    """Build a :class:`Rate`, replacing the interval by the rule-of-3 bound when ``count == 0``."""
    count, n = int(count), int(n)
    if n == 0:
        return Rate(count, n, None, False)
    if count == 0 and bound_when_zero:
        return Rate(count, n, (0.0, rule_of_three(n, confidence)), True)
    return Rate(count, n, ci, False)
