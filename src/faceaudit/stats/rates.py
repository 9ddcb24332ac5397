"""Exact 1:1 error rates from two score sets (ISO/IEC 19795-1:2021, 3.x "FMR", "FNMR").

Naming rule for this package: functions are named for the biometric quantity they return; rates are
fractions in [0, 1]; thresholds are in the (similarity-oriented) score units.

Conventions
-----------
- A comparison matches when ``score >= threshold``.
- ``FMR(t)  = #{non-mated scores >= t} / #non-mated`` (non-mated comparisons wrongly matched).
- ``FNMR(t) = #{mated scores < t} / #mated`` (mated comparisons wrongly rejected).
- Candidate thresholds are observed scores, as in a sort-based computation (scikit-learn's
  ``roc_curve``/``det_curve``); every figure is the exact count at its reported threshold, ties
  included.
- The functions are generic in "negatives" (the population whose matches are errors: non-mated
  comparisons, or the top non-mated score of each 1:N search) and "positives" (the population whose
  non-matches are errors: mated comparisons, or the mate's score of each 1:N search).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from faceaudit.stats.grid import cell_lower_edge, cells_of
from faceaudit.stats.scoreset import ScoreSet


@dataclass(frozen=True)
class OperatingThreshold:
    """The threshold chosen for a target rate of false positives.

    ``threshold`` is the smallest observed score ``t`` with
    ``negatives_ge / n_negatives <= target``,
    which gives the lowest ``positives_lt`` any threshold can give under that constraint.
    ``supported`` is False when ``n_negatives < 3 / target``: fewer negatives than needed to observe
    the target rate at all (ISO/IEC 19795-1 "rule of 3"), so the figure must not be quoted.
    """

    target: float
    threshold: float
    negatives_ge: int
    n_negatives: int
    positives_lt: int
    n_positives: int
    supported: bool


def max_false_positives(target: float, n: int) -> int:
    """Largest count ``k`` with ``k / n <= target``, computed exactly from the decimal target."""
    return min(n, math.floor(Fraction(repr(float(target))) * n))


def target_supported(target: float, n: int) -> bool:
    """Whether ``n`` negatives can support a rate ``target``: ``n >= 3 / target``."""
    return Fraction(repr(float(target))) * n >= 3


def smallest_above(sets: list[ScoreSet], value: float) -> float | None:
    """Smallest observed score in any of ``sets`` strictly above ``value``."""
    found = [v for v in (s.smallest_above(value) for s in sets) if v is not None]
    return min(found) if found else None


def operating_threshold(
    negatives: ScoreSet, positives: ScoreSet, target: float
) -> OperatingThreshold:
    """Exact threshold for a target false-positive rate (FMR for 1:1, FPIR for 1:N).

    Parameters
    ----------
    negatives : ScoreSet
        Scores whose matches are errors (non-mated comparisons).
    positives : ScoreSet
        Scores whose non-matches are errors (mated comparisons).
    target : float
        Target rate in (0, 1].

    Notes
    -----
    With ``k = floor(target * n)`` and ``v`` the ``(k+1)``-th largest negative score, any threshold
    above ``v`` admits at most ``k`` negatives; the smallest observed score above ``v`` (in
    either set) is the lowest such threshold and so minimises the positives' error. If ``k >= n``
    every threshold     qualifies and the lowest observed score is taken.
    """
    if not 0.0 < target <= 1.0:
        raise ValueError("target must be in (0, 1]")
    n = negatives.n
    if n == 0:
        raise ValueError("no negative scores")
    k = max_false_positives(target, n)
    if k >= n:
        t = min(
            float(negatives.distribution.low[0]),
            *([float(positives.distribution.low[0])] if positives.n else []),
        )
    else:
        v = negatives.kth_largest(k + 1)
        above = smallest_above([negatives, positives] if positives.n else [negatives], v)
        t = above if above is not None else float(np.nextafter(v, np.inf))
    return OperatingThreshold(
        target=float(target),
        threshold=t,
        negatives_ge=negatives.count_ge(t),
        n_negatives=n,
        positives_lt=positives.count_lt(t),
        n_positives=positives.n,
        supported=target_supported(target, n),
    )


def prefetch_for_targets(
    negatives: ScoreSet, positives: ScoreSet, targets, *, also: Iterable[int] = ()
) -> None:
    """Batch the exact cell looks that :func:`operating_threshold` will need for ``targets``.

    ``also`` adds further cells (e.g. :func:`eer_cells`) to the same single pass.
    """
    n = negatives.n
    cells = set()
    for target in targets:
        k = max_false_positives(target, n)
        if k < n and k + 1 > negatives.distribution.high.size:
            cells.add(negatives.cell_of_kth_largest(k + 1))
    extra = set()
    for c in cells:
        for s in (negatives, positives):
            d = s.distribution
            j = np.searchsorted(d.cells, c, side="right")
            if j < d.cells.size:
                extra.add(int(d.cells[j]))
    negatives.prefetch(cells | extra | set(also))
    positives.prefetch(cells | extra | set(also))


@dataclass(frozen=True)
class EqualErrorRate:
    """Equal error rate and where it was found.

    Convention: among observed-score thresholds, the one where ``|FMR - FNMR|`` is smallest (the
    crossing of the two curves; the lower threshold on a tie); ``value = (FMR + FNMR) / 2`` there,
    as bob.measure and common practice with scikit-learn's ``det_curve`` do. The pair
    ``(fmr, fnmr)`` at that threshold is reported too: their gap shows how well the data resolve
    the crossing.
    """

    value: float
    threshold: float
    fmr: float
    fnmr: float
    nonmated_ge: int
    mated_lt: int


def _edge_counts(mated: ScoreSet, nonmated: ScoreSet):
    """Union of non-empty cells; exact #non-mated >= and #mated < at each cell's lower edge."""
    gd, idist = mated.distribution, nonmated.distribution
    cells = np.union1d(gd.cells, idist.cells)
    g = np.zeros(cells.size, np.int64)
    g[np.searchsorted(cells, gd.cells)] = gd.counts
    i = np.zeros(cells.size, np.int64)
    i[np.searchsorted(cells, idist.cells)] = idist.counts
    imp_ge = np.cumsum(i[::-1])[::-1]  # non-mated comparisons in cells >= c
    gen_lt = np.concatenate([[0], np.cumsum(g)[:-1]])  # mated comparisons in cells < c
    return cells, gen_lt, imp_ge


def eer_cells(mated: ScoreSet, nonmated: ScoreSet) -> list[int]:
    """The (at most two) grid cells that hold the EER crossing.

    ``f = FMR - FNMR`` at each non-empty cell's lower edge is non-increasing; the crossing lies in
    the last cell whose edge has ``f >= 0`` or at the first observed score of the next one.
    """
    ng, ni = mated.n, nonmated.n
    cells, gen_lt, imp_ge = _edge_counts(mated, nonmated)
    f = imp_ge / ni - gen_lt / ng
    last_nonneg = int(np.flatnonzero(f >= 0)[-1]) if np.any(f >= 0) else 0
    look = [int(cells[last_nonneg])]
    if last_nonneg + 1 < cells.size:
        look.append(int(cells[last_nonneg + 1]))
    return look


def equal_error_rate(mated: ScoreSet, nonmated: ScoreSet) -> EqualErrorRate:
    """Exact EER (see :class:`EqualErrorRate` for the convention)."""
    ng, ni = mated.n, nonmated.n
    if ng == 0 or ni == 0:
        raise ValueError("EER needs mated and non-mated scores")
    look = eer_cells(mated, nonmated)
    mated.prefetch(look)
    nonmated.prefetch(look)
    cand = np.unique(np.concatenate([s.cell_values(c) for c in look for s in (mated, nonmated)]))
    top = float(max(mated.distribution.high[-1], nonmated.distribution.high[-1]))
    cand = np.append(cand, np.nextafter(top, np.inf)) if cand[-1] >= top else cand
    fmr = nonmated.counts_ge(cand)
    fnmr = mated.n - mated.counts_ge(cand)
    gap = np.abs(fmr / ni - fnmr / ng)
    j = int(np.argmin(gap))
    return EqualErrorRate(
        value=float((fmr[j] / ni + fnmr[j] / ng) / 2),
        threshold=float(cand[j]),
        fmr=float(fmr[j] / ni),
        fnmr=float(fnmr[j] / ng),
        nonmated_ge=int(fmr[j]),
        mated_lt=int(fnmr[j]),
    )


@dataclass(frozen=True)
class DetCurve:
    """Exact (FMR, FNMR) pairs at a sequence of increasing thresholds."""

    threshold: np.ndarray
    fmr: np.ndarray
    fnmr: np.ndarray

    def thinned(self, max_points: int = 2000, *, keep: Iterable[float] = ()) -> DetCurve:
        """At most ``max_points`` points spread evenly in log(FMR) and log(FNMR).

        The two ends and the points at the thresholds in ``keep`` are always kept.
        """
        n = self.threshold.size
        if n <= max_points:
            return self
        eps = 1e-12
        pos = np.cumsum(
            np.abs(np.diff(np.log10(self.fmr + eps))) + np.abs(np.diff(np.log10(self.fnmr + eps)))
        )
        pos = np.concatenate([[0.0], pos])
        want = np.linspace(0.0, pos[-1], max_points)
        kept = np.searchsorted(self.threshold, np.asarray(list(keep), dtype=np.float64))
        idx = np.unique(
            np.concatenate(
                [[0, n - 1], np.searchsorted(pos, want).clip(0, n - 1), kept.clip(0, n - 1)]
            )
        )
        return DetCurve(self.threshold[idx], self.fmr[idx], self.fnmr[idx])


EXACT_CURVE_LIMIT = 4_000_000


def det_curve(
    mated: ScoreSet, nonmated: ScoreSet, *, extra_thresholds: Iterable[float] = ()
) -> DetCurve:
    """Exact DET/ROC points, at increasing thresholds.

    Up to :data:`EXACT_CURVE_LIMIT` scores in all, the points are at every distinct observed score,
    as scikit-learn's ``det_curve`` gives them (one sort). Beyond that, at every non-empty grid
    cell's lower edge (a fine, logarithmic grid) plus ``extra_thresholds`` (e.g. the operating
    points), each with its exact counts.
    """
    ng, ni = mated.n, nonmated.n
    if ng + ni <= EXACT_CURVE_LIMIT:
        g = np.sort(np.asarray(mated.scores, dtype=np.float64))
        i = np.sort(np.asarray(nonmated.scores, dtype=np.float64))
        t = np.unique(np.concatenate([g, i]))
        fmr = (ni - np.searchsorted(i, t, side="left")) / ni
        fnmr = np.searchsorted(g, t, side="left") / ng
        return DetCurve(t, fmr, fnmr)
    cells, gen_lt, imp_ge = _edge_counts(mated, nonmated)
    t = cell_lower_edge(cells)
    extra = np.setdiff1d(np.asarray(list(extra_thresholds), dtype=np.float64), t)
    if extra.size:
        t = np.concatenate([t, extra])
        imp_ge = np.concatenate([imp_ge, nonmated.counts_ge(extra)])
        gen_lt = np.concatenate([gen_lt, ng - mated.counts_ge(extra)])
        order = np.argsort(t, kind="stable")
        t, imp_ge, gen_lt = t[order], imp_ge[order], gen_lt[order]
    return DetCurve(t, imp_ge / ni, gen_lt / ng)


def area_under_roc(mated: ScoreSet, nonmated: ScoreSet) -> tuple[float, float]:
    """AUC = P(mated > non-mated) + P(tie) / 2, and the largest error of the grid estimate.

    Pairs in different cells are counted exactly; pairs within one cell count 1/2, so the estimate
    is within ``sum_c g_c i_c / (2 n_g n_i)`` of the exact value (returned as the second element;
    0 when the sets are held exactly, in which case the AUC is exact).
    """
    ng, ni = mated.n, nonmated.n
    gd, idist = mated.distribution, nonmated.distribution
    if ng <= gd.high.size and ni <= idist.high.size:
        g, i = gd.high, idist.high
        less = np.searchsorted(i, g, side="left").sum()
        leq = np.searchsorted(i, g, side="right").sum()
        return float((less + (leq - less) / 2) / (ng * ni)), 0.0
    cells, _, _ = _edge_counts(mated, nonmated)
    g = np.zeros(cells.size, np.int64)
    g[np.searchsorted(cells, gd.cells)] = gd.counts
    i = np.zeros(cells.size, np.int64)
    i[np.searchsorted(cells, idist.cells)] = idist.counts
    imp_below = np.concatenate([[0], np.cumsum(i)[:-1]])
    same = (g.astype(np.float64) * i).sum()
    auc = ((g * imp_below).sum() + same / 2) / (ng * ni)
    return float(auc), float(same / (2 * ng * ni))


def histogram(scores: ScoreSet, edges: np.ndarray) -> np.ndarray:
    """Counts per bin of ``edges`` from the summary (each cell placed by its lower edge)."""
    d = scores.distribution
    lower = cell_lower_edge(d.cells)
    idx = np.clip(np.searchsorted(edges, lower, side="right") - 1, 0, edges.size - 2)
    return np.bincount(idx, weights=d.counts, minlength=edges.size - 1).astype(np.int64)


__all__ = [
    "DetCurve",
    "EqualErrorRate",
    "OperatingThreshold",
    "area_under_roc",
    "cells_of",
    "det_curve",
    "eer_cells",
    "equal_error_rate",
    "histogram",
    "max_false_positives",
    "operating_threshold",
    "prefetch_for_targets",
    "target_supported",
]
