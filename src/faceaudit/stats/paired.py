"""Is system B really better than A? Paired comparisons of systems measured on the same data.

When two systems are run on the **same comparisons of the same people**, their errors are
correlated: a hard pair (bad light, a twin) is hard for both. A comparison that ignores this
(two independent intervals, "they overlap, so no difference") throws the pairing away and
calls real differences noise. Two paired tools, and one for multiplicity:

* **McNemar's exact test** (:func:`mcnemar_exact`) on matched binary decisions at fixed
  thresholds. Only the *discordant* comparisons carry information: ``b`` where A is right and B
  wrong, ``c`` where B is right and A wrong. Under "no difference" each discordant comparison is
  a fair coin, so ``b ~ Binomial(b + c, 1/2)``; the two-sided exact p-value doubles the smaller
  tail, ``p = min(1, 2 P(X <= min(b, c)))``, which for this symmetric null equals the
  two-sided ``scipy.stats.binomtest``. The **mid-p** variant (optional, off by default:
  ``p_mid = p - P(X = min(b, c))``, capped at 1) is less conservative and keeps its level closely
  in practice (Fagerland, Lydersen & Laake 2013). McNemar assumes the comparisons are independent;
  biometric comparisons that share a person are not, so use it on one decision per independent
  unit (e.g. one comparison per person), or use the paired subject bootstrap.
* **The paired bootstrap difference** (:func:`paired_difference`): each system's replicates are
  computed on the *same* resampled subjects (one set of replicate weights for every system: see
  :mod:`faceaudit.stats.bootstrap`); the interval is the percentile interval of the replicate
  differences. When it contains 0, ``indistinguishable`` is set: the data cannot tell the two
  systems apart at that confidence. :func:`unpaired_difference` is the same with the pairing
  broken (as if the systems had been measured on independent samples), for contrast: on
  correlated systems it is wider, often wide enough to hide a real difference.
* **Multiplicity** (:func:`adjust_p_values`): comparing every pair among ``k > 2`` systems runs
  ``k (k - 1) / 2`` tests; Holm's step-down adjustment (default) controls the family-wise error
  rate (the chance of any false "better") for any dependence between the tests;
  Benjamini-Hochberg (``method="bh"``) controls the false discovery rate (valid for independent
  or positively dependent tests); Bonferroni is offered for comparison.

Arrays in, numbers out: the caller computes decisions and replicates, and says which threshold
and which data set fixed them.

References
----------
Q. McNemar, Note on the sampling error of the difference between correlated proportions or
percentages, *Psychometrika* 12 (1947). M. W. Fagerland, S. Lydersen, P. Laake, The McNemar test
for binary matched-pairs data: mid-p and asymptotic are better than exact conditional, *BMC Med.
Res. Methodol.* 13:91 (2013). S. Holm, A simple sequentially rejective multiple test procedure,
*Scand. J. Statist.* 6 (1979). Y. Benjamini, Y. Hochberg, Controlling the false discovery rate,
*J. R. Statist. Soc. B* 57 (1995). R. M. Bolle, N. K. Ratha, S. Pankanti, Error analysis of
pattern recognition systems - the subsets bootstrap, *CVIU* 93 (2004).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

import numpy as np
from scipy import stats as _st

__all__ = [
    "ADJUSTMENTS",
    "DifferenceInterval",
    "McNemarResult",
    "PairwiseTest",
    "adjust_p_values",
    "correct_decisions",
    "mcnemar_exact",
    "mcnemar_p_value",
    "pairwise_mcnemar",
    "paired_difference",
    "system_pairs",
    "unpaired_difference",
]

#: Multiple-comparison adjustments :func:`adjust_p_values` knows.
ADJUSTMENTS = ("holm", "bh", "bonferroni", "none")

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


# ------------------------------------------------------------------------------------------------
# Bootstrap differences


@dataclass(frozen=True)
class DifferenceInterval:
    """The difference ``a - b`` of a figure between two systems, with a percentile interval.

    Attributes
    ----------
    estimate : float or ndarray
        ``estimate_a - estimate_b`` on the full data.
    low, high : float or ndarray
        Percentile interval of the replicate differences at ``confidence``.
    confidence : float
    paired : bool
        True when replicate ``i`` of both systems came from the same resampled subjects.
    n_replicates : int
        Replicate differences the interval is computed from (NaN replicates dropped).
    """

    estimate: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    confidence: float
    paired: bool
    n_replicates: int

    @property
    def indistinguishable(self) -> bool | np.ndarray:
        """The interval contains 0: the data cannot tell the two systems apart."""
        if np.ndim(self.low):
            return np.logical_and(np.asarray(self.low) <= 0.0, np.asarray(self.high) >= 0.0)
        return bool(self.low <= 0.0 <= self.high)

    @property
    def width(self) -> float | np.ndarray:
        return self.high - self.low

    def to_json(self) -> dict:
        def v(x):
            return np.asarray(x, dtype=float).tolist()

        return {
            "difference": v(self.estimate),
            "ci": [v(self.low), v(self.high)],
            "confidence": self.confidence,
            "paired": self.paired,
            "replicates": self.n_replicates,
            "indistinguishable": np.asarray(self.indistinguishable).tolist(),
        }


def _check_replicates(a, b, *, same_shape: bool) -> tuple[np.ndarray, np.ndarray]:
    ra = np.asarray(a, dtype=np.float64)
    rb = np.asarray(b, dtype=np.float64)
    if ra.ndim not in (1, 2) or rb.ndim != ra.ndim:
        raise ValueError("replicates must be (B,) or (B, k) arrays, both of one rank")
    if same_shape and ra.shape != rb.shape:
        raise ValueError(
            f"paired replicates must have one shape (same resampled subjects, same figures); "
            f"got {ra.shape} and {rb.shape}"
        )
    if ra.shape[1:] != rb.shape[1:]:
        raise ValueError("replicates must describe the same figures (same second dimension)")
    if ra.shape[0] < 2 or rb.shape[0] < 2:
        raise ValueError("need at least two replicates per system")
    return ra, rb


def _interval(diff: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.nanquantile(diff, [alpha, 1.0 - alpha], axis=0)
    return lo, hi


def _finish(est, lo, hi, confidence, paired, n) -> DifferenceInterval:
    if np.ndim(lo) == 0:
        return DifferenceInterval(float(est), float(lo), float(hi), confidence, paired, n)
    return DifferenceInterval(np.asarray(est, float), lo, hi, confidence, paired, n)


def paired_difference(
    replicates_a,
    replicates_b,
    *,
    estimate_a,
    estimate_b,
    confidence: float = 0.95,
) -> DifferenceInterval:
    """Interval of ``a - b`` from replicates computed on the **same** resampled subjects.

    Parameters
    ----------
    replicates_a, replicates_b : array-like, shape (B,) or (B, k)
        Row ``i`` of both must come from the same bootstrap replicate (the same subject weights
        applied to both systems' comparisons), each figure re-computed inside the replicate the
        way it is on the full data (e.g. FNMR at an FMR target with the threshold re-chosen).
    estimate_a, estimate_b : float or array-like of shape (k,)
        The figures on the full data.
    confidence : float

    Returns
    -------
    DifferenceInterval
        Percentile interval of ``replicates_a - replicates_b`` (rows where either is NaN are
        dropped); ``indistinguishable`` when it contains 0.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    ra, rb = _check_replicates(replicates_a, replicates_b, same_shape=True)
    d = ra - rb
    valid = ~np.isnan(d) if d.ndim == 1 else ~np.isnan(d).any(axis=1)
    if valid.sum() < 2:
        raise ValueError("fewer than two replicates where both figures are defined")
    lo, hi = _interval(d[valid], confidence)
    est = np.asarray(estimate_a, dtype=float) - np.asarray(estimate_b, dtype=float)
    return _finish(est, lo, hi, confidence, True, int(valid.sum()))


def unpaired_difference(
    replicates_a,
    replicates_b,
    *,
    estimate_a,
    estimate_b,
    confidence: float = 0.95,
    max_pairs: int = 4_000_000,
    seed: int = 0,
) -> DifferenceInterval:
    """Interval of ``a - b`` treating the two systems' replicates as independent.

    The distribution of the difference of two independent bootstrap estimates is the
    convolution of the two replicate distributions: every replicate of A minus every replicate
    of B (``B_a x B_b`` differences; above ``max_pairs`` a seeded random sample of that many
    pairs). This is the right interval only for systems measured on *independent* samples; on
    the same people it ignores their correlation and is too wide (compare
    :func:`paired_difference`).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    ra, rb = _check_replicates(replicates_a, replicates_b, same_shape=False)

    def rows(r):
        return r[~np.isnan(r)] if r.ndim == 1 else r[~np.isnan(r).any(axis=1)]

    ra, rb = rows(ra), rows(rb)
    if ra.shape[0] < 2 or rb.shape[0] < 2:
        raise ValueError("fewer than two defined replicates for a system")
    width = int(np.prod(ra.shape[1:])) if ra.ndim > 1 else 1
    budget = max(1, int(max_pairs) // width)
    if ra.shape[0] * rb.shape[0] <= budget:
        d = (ra[:, None] - rb[None, :]).reshape((-1,) + ra.shape[1:])
    else:
        rng = np.random.default_rng(seed)
        d = ra[rng.integers(0, ra.shape[0], budget)] - rb[rng.integers(0, rb.shape[0], budget)]
    lo, hi = _interval(d, confidence)
    est = np.asarray(estimate_a, dtype=float) - np.asarray(estimate_b, dtype=float)
    return _finish(est, lo, hi, confidence, False, int(d.shape[0]))
