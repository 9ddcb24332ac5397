"""McNemar's exact test on two systems' matched decisions, and for every pair of systems.

Only the *discordant* comparisons carry information: ``b`` where A is right and B wrong, ``c``
where B is right and A wrong. Under "no difference" each discordant comparison is a fair coin, so
``b ~ Binomial(b + c, 1/2)``; the two-sided exact p-value doubles the smaller tail,
``p = min(1, 2 P(X <= min(b, c)))``, which for this symmetric null equals the two-sided
``scipy.stats.binomtest``. The **mid-p** variant (optional, off by default:
``p_mid = p - P(X = min(b, c))``, capped at 1) is less conservative and keeps its level closely in
practice (Fagerland, Lydersen & Laake 2013). McNemar assumes the comparisons are independent;
biometric comparisons that share a person are not, so use it on one decision per independent
unit, or use the paired subject bootstrap (:mod:`faceaudit.stats.paired`).

References
----------
Q. McNemar, Note on the sampling error of the difference between correlated proportions or
percentages, *Psychometrika* 12 (1947). M. W. Fagerland, S. Lydersen, P. Laake, The McNemar test
for binary matched-pairs data: mid-p and asymptotic are better than exact conditional, *BMC Med.
Res. Methodol.* 13:91 (2013).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import stats as _st

from faceaudit.stats.multiplicity import adjust_p_values, system_pairs

__all__ = [
    "McNemarResult",
    "PairwiseTest",
    "correct_decisions",
    "mcnemar_exact",
    "mcnemar_p_value",
    "pairwise_mcnemar",
]

#: Up to this many discordant pairs the binomial tail is summed exactly (rational arithmetic);
#: above it, scipy's binomial distribution is used.
_EXACT_N = 2000


# ------------------------------------------------------------------------------------------------
# McNemar


def correct_decisions(scores, mated, threshold: float) -> np.ndarray:
    """Whether each comparison's decision at ``threshold`` is right.

    A comparison is declared a match when ``score >= threshold``; a missing score (``NaN``, a
    failure to acquire) is declared a non-match. Right = (declared match) == mated.

    Examples
    --------
    >>> correct_decisions([0.9, 0.4, 0.6, float("nan")], [True, True, False, True], 0.5).tolist()
    [True, False, False, False]
    """
    s = np.asarray(scores, dtype=np.float64)
    m = np.asarray(mated, dtype=bool)
    if s.shape != m.shape:
        raise ValueError("scores and mated must have one shape")
    ok = ~np.isnan(s)
    match = np.greater_equal(s, threshold, where=ok, out=np.zeros(s.shape, dtype=bool))
    return match == m


def mcnemar_p_value(a_only: int, b_only: int, *, mid_p: bool = False) -> float:
    """Two-sided exact (or mid-p) McNemar p-value from the discordant counts.

    Parameters
    ----------
    a_only : int
        Comparisons where A is right and B wrong.
    b_only : int
        Comparisons where B is right and A wrong.
    mid_p : bool
        Mid-p variant: subtract the probability of the observed split, ``P(X = min(b, c))``.

    Examples
    --------
    >>> mcnemar_p_value(1, 6)            # 2 * (1 + 7) / 2**7
    0.125
    >>> mcnemar_p_value(1, 6, mid_p=True)  # 0.125 - 7 / 2**7
    0.0703125
    """
    b, c = int(a_only), int(b_only)
    if b < 0 or c < 0:
        raise ValueError("counts must be non-negative")
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    if n <= _EXACT_N:  # exact rational arithmetic: 2 sum_{i <= k} C(n, i) / 2**n
        tail = sum(math.comb(n, i) for i in range(k + 1))
        if mid_p:  # 2 P(X <= k) - P(X = k)
            tail = 2 * tail - math.comb(n, k)
        else:
            tail = 2 * tail
        return float(min(Fraction(1), Fraction(tail, 2**n)))
    p = 2.0 * float(_st.binom.cdf(k, n, 0.5))
    if mid_p:
        p -= float(_st.binom.pmf(k, n, 0.5))
    return float(min(1.0, p))


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test on two systems' matched decisions.

    Attributes
    ----------
    n : int
        Matched comparisons.
    both_right, a_only, b_only, both_wrong : int
        The 2 x 2 table: ``a_only`` = A right and B wrong, ``b_only`` = B right and A wrong.
    p_value : float
        Two-sided, exact binomial on the discordant comparisons (mid-p if ``mid_p``).
    mid_p : bool
    """

    n: int
    both_right: int
    a_only: int
    b_only: int
    both_wrong: int
    p_value: float
    mid_p: bool = False

    @property
    def discordant(self) -> int:
        return self.a_only + self.b_only

    @property
    def accuracy_difference(self) -> float:
        """Accuracy of A minus accuracy of B, ``(a_only - b_only) / n``."""
        return (self.a_only - self.b_only) / self.n if self.n else float("nan")

    @property
    def better(self) -> str | None:
        """``"a"`` or ``"b"``: the system with fewer errors on the discordant pairs (None: tie)."""
        if self.a_only == self.b_only:
            return None
        return "a" if self.a_only > self.b_only else "b"

    def to_json(self) -> dict:
        return {
            "test": "McNemar, two-sided, "
            + ("mid-p" if self.mid_p else "exact binomial on the discordant pairs"),
            "n": self.n,
            "both_right": self.both_right,
            "a_only_right": self.a_only,
            "b_only_right": self.b_only,
            "both_wrong": self.both_wrong,
            "p_value": self.p_value,
        }


def mcnemar_exact(correct_a, correct_b, *, mid_p: bool = False) -> McNemarResult:
    """McNemar's test on matched binary outcomes of two systems.

    Parameters
    ----------
    correct_a, correct_b : array-like of bool, shape (n,)
        Whether system A / B decided each comparison rightly (same comparisons, same order;
        :func:`correct_decisions` at each system's fixed threshold).
    mid_p : bool
        Report the mid-p value instead of the exact one.

    Returns
    -------
    McNemarResult

    Examples
    --------
    >>> r = mcnemar_exact([1, 1, 1, 0, 0, 0, 0, 0, 0, 1], [1, 0, 1, 1, 1, 1, 1, 1, 0, 1])
    >>> (r.both_right, r.a_only, r.b_only, r.both_wrong, r.p_value)
    (3, 1, 5, 1, 0.21875)
    """
    a = np.asarray(correct_a).astype(bool)
    b = np.asarray(correct_b).astype(bool)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError("correct_a and correct_b must be 1-d arrays of one length")
    both = int(np.count_nonzero(a & b))
    a_only = int(np.count_nonzero(a & ~b))
    b_only = int(np.count_nonzero(~a & b))
    neither = int(a.size - both - a_only - b_only)
    p = mcnemar_p_value(a_only, b_only, mid_p=mid_p)
    return McNemarResult(int(a.size), both, a_only, b_only, neither, p, bool(mid_p))


@dataclass(frozen=True)
class PairwiseTest:
    """One pair of systems in an all-pairs comparison.

    ``adjusted_p`` is the p-value after the family's adjustment (``method``); ``different`` is
    ``adjusted_p <= alpha``.
    """

    a: str
    b: str
    test: McNemarResult
    adjusted_p: float
    method: str
    alpha: float

    @property
    def different(self) -> bool:
        return self.adjusted_p <= self.alpha

    def to_json(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            **self.test.to_json(),
            "adjusted_p": self.adjusted_p,
            "adjustment": self.method,
            "alpha": self.alpha,
            "different": self.different,
        }


def pairwise_mcnemar(
    correct: Mapping[str, np.ndarray] | Sequence[np.ndarray],
    *,
    names: Sequence[str] | None = None,
    method: str = "holm",
    alpha: float = 0.05,
    mid_p: bool = False,
) -> tuple[PairwiseTest, ...]:
    """McNemar's test for every pair of systems, adjusted for the number of pairs.

    Parameters
    ----------
    correct : mapping name -> bool array, or sequence of bool arrays
        Each system's right/wrong decisions on the same comparisons.
    names : sequence of str, optional
        Names for a sequence (default ``"0"``, ``"1"``, ...).
    method : {"holm", "bh", "bonferroni", "none"}
    alpha : float
        Level at which ``different`` is decided (on adjusted p-values).
    mid_p : bool

    Returns
    -------
    tuple of PairwiseTest
        In :func:`system_pairs` order.
    """
    if isinstance(correct, Mapping):
        labels = [str(k) for k in correct]
        arrays = [np.asarray(v) for v in correct.values()]
    else:
        arrays = [np.asarray(v) for v in correct]
        labels = (
            [str(n) for n in names] if names is not None else [str(i) for i in range(len(arrays))]
        )
    if len(labels) != len(arrays):
        raise ValueError("one name per system")
    if len(arrays) < 2:
        raise ValueError("need at least two systems to compare")
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must be in (0, 1)")
    pairs = system_pairs(len(arrays))
    tests = [mcnemar_exact(arrays[i], arrays[j], mid_p=mid_p) for i, j in pairs]
    adj = adjust_p_values([t.p_value for t in tests], method=method)
    return tuple(
        PairwiseTest(labels[i], labels[j], t, float(q), method, float(alpha))
        for (i, j), t, q in zip(pairs, tests, adj, strict=True)
    )
