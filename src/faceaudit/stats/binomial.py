"""Exact binomial intervals, for counts of independent trials (field logs, failures to acquire)."""

from __future__ import annotations

import math

from scipy.stats import beta

from faceaudit.params import confidence_level

__all__ = ["clopper_pearson"]


def clopper_pearson(count: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Exact (Clopper-Pearson) interval for a binomial proportion ``count / n``; None if n = 0.

    Two-sided at ``confidence`` (``alpha / 2`` in each tail) for ``0 < count < n``. At the edges
    the interval is the **one-sided** exact bound at ``confidence``: ``[0, 1 - (1 - C)^(1/n)]``
    for ``count = 0`` (the exact form of the rule of 3) and ``[(1 - C)^(1/n), 1]`` for
    ``count = n``, since there the only open question is how far from the edge the rate may be.

    Examples
    --------
    >>> lo, hi = clopper_pearson(8, 42)
    >>> print(f"{lo:.4f} {hi:.4f}")
    0.0860 0.3412
    >>> print(f"{clopper_pearson(0, 1000)[1]:.5f}")  # about 3/n
    0.00299
    """
    count, n = int(count), int(n)
    conf = confidence_level("confidence", confidence)
    if n == 0:
        return None
    if count == 0:
        return 0.0, float(-math.expm1(math.log1p(-conf) / n))
    if count == n:
        return float(math.exp(math.log1p(-conf) / n)), 1.0
    a = (1.0 - conf) / 2.0
    return float(beta.ppf(a, count, n - count + 1)), float(beta.ppf(1 - a, count + 1, n - count))
