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

Modules: the McNemar tests are in :mod:`faceaudit.stats.mcnemar`, the adjustments in
:mod:`faceaudit.stats.multiplicity`, the bootstrap differences here; all are importable from here.

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

from dataclasses import dataclass

import numpy as np

from faceaudit.stats.mcnemar import (
    McNemarResult,
    PairwiseTest,
    correct_decisions,
    mcnemar_exact,
    mcnemar_p_value,
    pairwise_mcnemar,
)
from faceaudit.stats.multiplicity import ADJUSTMENTS, adjust_p_values, system_pairs

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
