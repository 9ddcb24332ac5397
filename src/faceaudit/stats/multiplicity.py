"""Multiple comparisons: every pair of ``k`` systems, and p-values adjusted for testing them all.

Comparing every pair among ``k > 2`` systems runs ``k (k - 1) / 2`` tests. Holm's step-down
adjustment (default) controls the family-wise error rate (the chance of any false "better") for
any dependence between the tests; Benjamini-Hochberg (``method="bh"``) controls the false
discovery rate (valid for independent or positively dependent tests); Bonferroni is offered for
comparison.

References
----------
S. Holm, A simple sequentially rejective multiple test procedure, *Scand. J. Statist.* 6 (1979).
Y. Benjamini, Y. Hochberg, Controlling the false discovery rate, *J. R. Statist. Soc. B* 57 (1995).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

__all__ = ["ADJUSTMENTS", "adjust_p_values", "system_pairs"]

#: Multiple-comparison adjustments :func:`adjust_p_values` knows.
ADJUSTMENTS = ("holm", "bh", "bonferroni", "none")


# ------------------------------------------------------------------------------------------------
# Multiplicity


def system_pairs(k: int) -> list[tuple[int, int]]:
    """Every unordered pair ``(i, j)``, ``i < j``, of ``k`` systems, in lexicographic order."""
    return list(combinations(range(int(k)), 2))


def adjust_p_values(p_values, *, method: str = "holm") -> np.ndarray:
    """Adjust p-values for testing several hypotheses at once.

    ``holm``: Holm's step-down (family-wise error rate, any dependence): with the p-values sorted
    ascending, ``p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``. ``bh``: Benjamini-Hochberg
    (false discovery rate): ``p~_(i) = min_{j >= i} min(1, m p_(j) / j)``. ``bonferroni``:
    ``min(1, m p)``. ``none``: unchanged. A hypothesis is rejected at level ``alpha`` when its
    adjusted p-value is ``<= alpha``.

    Examples
    --------
    >>> adjust_p_values([0.01, 0.04, 0.03, 0.005]).round(6).tolist()
    [0.03, 0.06, 0.06, 0.02]
    >>> adjust_p_values([0.01, 0.04, 0.03, 0.005], method="bh").round(6).tolist()
    [0.02, 0.04, 0.04, 0.02]
    """
    if method not in ADJUSTMENTS:
        raise ValueError(f"method {method!r} is not one of {ADJUSTMENTS}")
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError("p_values must be 1-d")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("p-values must lie in [0, 1]")
    m = p.size
    if m == 0 or method == "none":
        return p.copy()
    if method == "bonferroni":
        return np.minimum(1.0, m * p)
    order = np.argsort(p, kind="stable")
    ps = p[order]
    rank = np.arange(1, m + 1)
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - rank + 1) * ps))
    else:  # bh
        adj = np.minimum.accumulate(np.minimum(1.0, m * ps / rank)[::-1])[::-1]
    out = np.empty(m)
    out[order] = adj
    return out
