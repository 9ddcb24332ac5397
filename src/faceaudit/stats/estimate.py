"""Rates with their sample size and confidence interval: the unit every figure is reported in.

A rate is ``count / n``. Its interval comes from the bootstrap (:mod:`faceaudit.stats.bootstrap`).
When no error was observed (``count == 0``) or every trial erred (``count == n``) the bootstrap
collapses to a point, so the figure becomes a **bound** instead (ISO/IEC 19795-1, Annex B):

- at the **same confidence as the intervals**: a two-sided level ``c`` gives the one-sided level
  ``(1 + c) / 2`` (97.5% for a 95% interval), the level of each end of a two-sided interval;
- on the **effective number of independent units** (subjects, when their ids are known), not on
  the comparisons: comparisons that share a person are not independent, and a rate that rests on
  a few people cannot be bounded as tightly as their many comparisons would suggest;
- exact binomial (Clopper-Pearson): with no error in ``k`` independent units the one-sided upper
  bound is ``1 - alpha^(1/k)``, ``alpha = (1 - c) / 2`` (about ``-ln(alpha) / k``, 3.69/k at 95%:
  the "rule of 3" at the intervals' level); with every unit in error the lower bound is
  ``alpha^(1/k)`` (10 of 10 at 95%: [0.69, 1], as bob.measure's tests assert).

The :class:`Bound` of a rate says what it rests on (``n_units``, ``unit``, its one-sided level).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "Bound",
    "Rate",
    "empty_rate_json",
    "make_rate",
    "one_sided_level",
    "rule_of_three",
    "zero_error_bound",
]


def rule_of_three(n: int, confidence: float = 0.95) -> float:
    """One-sided upper confidence bound at level ``confidence`` with zero errors in ``n`` trials.

    ``-ln(1 - confidence) / n``: exactly 3/n (to 0.2%) at 95%, the "rule of 3". The rates of
    faceaudit use :func:`zero_error_bound` (the intervals' level, on independent units).
    """
    if n <= 0:
        return 1.0
    return min(1.0, -math.log(1.0 - confidence) / n)


def one_sided_level(confidence: float) -> float:
    """The one-sided level of each end of a two-sided interval: ``(1 + confidence) / 2``."""
    return (1.0 + float(confidence)) / 2.0


def zero_error_bound(n_units: int, confidence: float = 0.95) -> float:
    """Upper bound on a rate with no error in ``n_units`` independent units.

    Exact binomial (Clopper-Pearson) at the one-sided level matching the two-sided
    ``confidence``: ``1 - alpha^(1/n)`` with ``alpha = (1 - confidence) / 2``.

    >>> print(f"{zero_error_bound(10):.4f}  {zero_error_bound(1000) * 1000:.3f}")
    0.3085  3.682
    """
    if n_units <= 0:
        return 1.0
    alpha = (1.0 - float(confidence)) / 2.0
    return float(-math.expm1(math.log(alpha) / n_units))


@dataclass(frozen=True)
class Bound:
    """What a zero-error (or all-error) bound rests on.

    ``side`` is ``"upper"`` (no error observed) or ``"lower"`` (every trial erred); ``level`` its
    one-sided confidence; ``n_units`` the independent units it counts and ``unit`` their kind
    (``"subject"``, ``"comparison"``, ``"search"``, ...).
    """

    side: str
    level: float
    n_units: int
    unit: str
    method: str = "exact binomial (Clopper-Pearson), one-sided, on independent units"

    def to_json(self) -> dict:
        return {
            "side": self.side,
            "confidence": self.level,
            "n_units": int(self.n_units),
            "unit": self.unit,
            "method": self.method,
        }


@dataclass(frozen=True)
class Rate:
    """An observed rate ``count / n`` with a confidence interval.

    ``ci`` is ``(low, high)`` or ``None`` (no bootstrap asked for, or ``n == 0``).
    ``upper_bound`` is True when ``count == 0``: ``ci`` is ``(0, bound)``; ``lower_bound`` when
    ``count == n``: ``ci`` is ``(bound, 1)``; ``bound`` says what the bound rests on.
    """

    count: int
    n: int
    ci: tuple[float, float] | None = None
    upper_bound: bool = False
    lower_bound: bool = False
    bound: Bound | None = None

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
            "lower_bound": bool(self.lower_bound),
            "bound": None if self.bound is None else self.bound.to_json(),
        }


def empty_rate_json(n: int | None = None) -> dict:
    """A rate's JSON when there is no figure (not supported, or nothing to count): every field
    null (``n`` as given: 0 when there was nothing to count), no bound."""
    return {
        "value": None,
        "ci": None,
        "count": None,
        "n": n,
        "upper_bound": False,
        "lower_bound": False,
        "bound": None,
    }


def make_rate(
    count: int,
    n: int,
    ci: tuple[float, float] | None,
    *,
    confidence: float = 0.95,
    bound_when_zero: bool = True,
    n_units: int | None = None,
    unit: str = "comparison",
) -> Rate:
    """Build a :class:`Rate`; at ``count == 0`` or ``count == n`` the interval becomes a bound.

    Parameters
    ----------
    count, n : int
    ci : (low, high) or None
        The bootstrap interval, if any.
    confidence : float
        Two-sided level of the intervals; a bound is one-sided at ``(1 + confidence) / 2``.
    bound_when_zero : bool
        False: keep ``ci`` as given at 0 and n (for figures that are not error rates).
    n_units : int, optional
        Independent units the rate rests on (distinct subjects); default ``n`` (comparisons
        treated as independent: the caller has no subject ids). Capped at ``n``.
    unit : str
        What ``n_units`` counts.

    Notes
    -----
    A bound never narrows a bootstrap interval: at ``count == 0`` the upper end is the larger
    of the bound and the bootstrap's upper end (a re-chosen threshold can make replicates err).
    """
    count, n = int(count), int(n)
    if n == 0:
        return Rate(count, n, None)
    if not bound_when_zero or 0 < count < n:
        return Rate(count, n, ci)
    k = n if n_units is None else max(1, min(int(n_units), n))
    kind = unit if n_units is not None else "comparison"
    b = zero_error_bound(k, confidence)
    level = one_sided_level(confidence)
    if count == 0:
        hi = b if ci is None else max(b, float(ci[1]))
        return Rate(count, n, (0.0, hi), True, False, Bound("upper", level, k, kind))
    all_err = math.exp(math.log((1.0 - float(confidence)) / 2.0) / k)  # alpha^(1/k)
    lo = all_err if ci is None else min(all_err, float(ci[0]))
    return Rate(count, n, (lo, 1.0), False, True, Bound("lower", level, k, kind))
