"""Operating points re-chosen in every bootstrap replicate, and the replicates' EER.

"FNMR at FMR target" is a property of the system: the FNMR at the threshold where *its* FMR is
the target. On data, that threshold is itself estimated, so each replicate picks its own
(:func:`rechosen_points`): the lowest threshold whose replicate false-positive rate is at most
the target, exactly as :func:`faceaudit.stats.rates.operating_threshold` picks it on the data, and
reports the replicate's false-negative rate there. The interval of those replicate rates is the
interval for the system's FNMR at the target; the fixed-threshold interval (the full-data threshold
held in every replicate) answers another question (the FNMR at *this* threshold) and is reported
beside it.

Precision. A replicate's threshold is searched in a window of the score axis around the
full-data threshold, sized from the replicates' rates at that threshold and then checked (its
rate must exceed the target at the window's bottom and meet it at the top; otherwise the window
widens, as often as needed). Where the window holds at most :data:`EXACT_LIMIT` scores, every
observed score in it is a candidate: the replicate's choice is exact. Elsewhere the candidates
are the lower edges of the fixed grid's cells (:mod:`faceaudit.stats.grid`): the replicate's
false-positive rate is still at most the target, and its threshold at most one cell (a relative
2^-8 = 0.39% of the score) above its exact choice. Both are recorded (``exact``).

The optimism of a threshold chosen on the data (its *true* rates differ from those measured
where it was chosen) is estimated the bootstrap way: the full data stand for the population, each
replicate for a sample; ``fp_full`` / ``fn_full`` are the full data's rates at each replicate's
threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from faceaudit.stats.grid import cell_lower_edge
from faceaudit.stats.rates import _edge_counts
from faceaudit.stats.replicates import ReplicateCounts
from faceaudit.stats.scoreset import ScoreSet

__all__ = ["EXACT_LIMIT", "Optimism", "Rechosen", "optimism", "rechosen_points", "replicate_eer"]

#: Scores a window may hold for its candidates to be every observed score (else: cell edges).
EXACT_LIMIT = 4096
_MAX_ROUNDS = 12


@dataclass(frozen=True, eq=False)
class Rechosen:
    """One target's re-chosen operating point in every replicate (NaN: replicate undefined)."""

    target: float
    threshold: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    fp_full: np.ndarray
    fn_full: np.ndarray
    exact: bool
    rounds: int


@dataclass(frozen=True)
class Optimism:
    """What choosing the threshold on these data costs, estimated by the bootstrap.

    Each replicate chooses its own threshold for the target; the full data stand for the
    population. ``fn_bias``: mean replicate false-negative rate at its own threshold minus the
    full-data rate (the bootstrap estimate of the bias of "FNMR at FMR target");
    ``fn_bias_corrected``: the rate minus that bias (clipped to [0, 1]); ``fp_realised_mean``:
    the mean full-data false-positive rate at the replicates' thresholds (the rate a threshold
    chosen on a sample like this one gives on average) and ``fp_realised_ratio`` its ratio to the
    target; ``fn_optimism``: the mean full-data false-negative rate at the replicates' thresholds
    minus their own (how much better a threshold looks where it was chosen).
    """

    fn_bias: float | None
    fn_bias_corrected: float | None
    fp_realised_mean: float | None
    fp_realised_ratio: float | None
    fn_optimism: float | None

    def to_json(self, fp: str = "fmr", fn: str = "fnmr") -> dict:
        def num(x):
            return None if x is None or not np.isfinite(x) else float(x)

        return {
            f"{fn}_bias": num(self.fn_bias),
            f"{fn}_bias_corrected": num(self.fn_bias_corrected),
            f"{fp}_realised_mean": num(self.fp_realised_mean),
            f"{fp}_realised_ratio": num(self.fp_realised_ratio),
            f"{fn}_optimism": num(self.fn_optimism),
        }


def optimism(r: Rechosen, fn_value: float) -> Optimism:
    """The bootstrap estimates of :class:`Optimism` from one target's re-chosen points."""
    if np.isnan(r.fn).all():
        return Optimism(None, None, None, None, None)
    bias = float(np.nanmean(r.fn)) - fn_value
    realised = float(np.nanmean(r.fp_full))
    return Optimism(
        fn_bias=bias,
        fn_bias_corrected=float(min(1.0, max(0.0, fn_value - bias))),
        fp_realised_mean=realised,
        fp_realised_ratio=realised / r.target,
        fn_optimism=float(np.nanmean(r.fn_full - r.fn)),
    )


class _Axis:
    """The full data's exact counts at the grid's cell edges (both sets' non-empty cells)."""

    def __init__(self, negatives: ScoreSet, positives: ScoreSet) -> None:
        self.cells, pos_lt, neg_ge = _edge_counts(positives, negatives)
        self.edges = cell_lower_edge(self.cells).astype(np.float64)
        self.neg_ge, self.pos_lt = neg_ge, pos_lt
        nd, pd = negatives.distribution, positives.distribution
        both = np.zeros(self.cells.size, np.int64)
        both[np.searchsorted(self.cells, nd.cells)] += nd.counts
        if pd.cells.size:
            both[np.searchsorted(self.cells, pd.cells)] += pd.counts
        self.in_cell = both
        top = max(float(nd.high[-1]), float(pd.high[-1]) if positives.n else -np.inf)
        self.beyond = float(np.nextafter(top, np.inf)) if np.isfinite(top) else np.inf
        self.sets = (negatives, positives)

    def window(self, a: int, b: int) -> tuple[np.ndarray, list[int]]:
        """Candidate cuts for cells ``a .. b-1`` and the cells whose values they need."""
        a, b = max(0, a), min(self.cells.size, b)
        top = self.edges[b] if b < self.cells.size else self.beyond
        cuts = np.append(self.edges[a:b], top)
        if int(self.in_cell[a:b].sum()) <= EXACT_LIMIT:
            return cuts, [int(c) for c in self.cells[a:b]]
        return cuts, []

    def full_counts(self, cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact full-data ``(negatives >= cut, positives < cut)``: from the edges' counts where
        a cut is a cell edge (no look inside a cell), else from the (prefetched) cell values."""
        negatives, positives = self.sets
        cuts = np.asarray(cuts, dtype=np.float64)
        i = np.clip(np.searchsorted(self.edges, cuts), 0, self.edges.size - 1)
        on_edge = self.edges[i] == cuts
        ge = np.where(on_edge, self.neg_ge[i], 0).astype(np.float64)
        lt = np.where(on_edge, self.pos_lt[i], 0).astype(np.float64)
        top = cuts >= self.beyond
        lt[top] = positives.n
        rest = ~on_edge & ~top
        if rest.any():
            ge[rest] = negatives.counts_ge(cuts[rest])
            lt[rest] = positives.n - positives.counts_ge(cuts[rest]) if positives.n else 0
        return ge, lt

    def values(self, cells: list[int]) -> np.ndarray:
        out = [s.cell_values(c) for c in cells for s in self.sets if s.n]
        vals = np.concatenate(out) if out else np.empty(0)
        return vals[np.isfinite(vals)]


def _prefetch(axis: _Axis, cells: set[int]) -> None:
    for s in axis.sets:
        if s.n:
            s.prefetch(cells)


def _max_count(target: float, totals: np.ndarray) -> np.ndarray:
    """Largest count ``k`` with ``k / total <= target``, exactly, per replicate (NaN: empty)."""
    num, den = Fraction(repr(float(target))).as_integer_ratio()
    t = np.rint(totals).astype(np.int64)
    if num * max(int(t.max(initial=0)), 1) < 2**62:
        k = (t * num) // den
    else:  # pragma: no cover - astronomically weighted totals
        k = np.array([int(v) * num // den for v in t], dtype=object).astype(np.float64)
    return np.where(t > 0, k, np.nan).astype(np.float64)


def _predicted_counts(
    neg: ReplicateCounts, axis: _Axis, targets: list[tuple[float, float]], n_neg: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(lo_k, hi_k)``: per target, the range of full-data counts (scores >= t) where the
    replicates' thresholds should lie, from their rates at the full-data threshold.

    A replicate whose rate at ``t*`` is ``F_b`` should choose about where the full data's count
    is ``target * n * F(t*) / F_b`` (half a count added on both sides: a replicate without
    errors at ``t*`` still predicts a finite window), with a margin of 3% and 3 Poisson sd for
    the local approximation; :func:`rechosen_points` checks the window and widens it if short.
    """
    fixed = np.array([t for _, t in targets], dtype=np.float64)
    ge_fixed = neg.ge(fixed)  # (B, T): the anchors
    full_ge = axis.full_counts(fixed)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = ((ge_fixed + 0.5) / neg.total[:, None]) / ((full_ge + 0.5) / n_neg)
        pred = np.array([tg for tg, _ in targets]) * n_neg / ratio
    lo_k = np.nanmin(np.where(np.isfinite(pred), pred, np.nan), axis=0, initial=np.inf)
    hi_k = np.nanmax(np.where(np.isnan(pred), -np.inf, pred), axis=0, initial=0.0)
    lo_k = np.where(np.isfinite(lo_k), lo_k * 0.97 - 3 * np.sqrt(np.maximum(lo_k, 0)) - 4, 0.0)
    hi_k = np.minimum(hi_k * 1.03 + 3 * np.sqrt(np.minimum(hi_k, n_neg)) + 4, n_neg)
    return np.maximum(np.minimum(lo_k, full_ge), 0), np.maximum(hi_k, full_ge)


def rechosen_points(
    neg: ReplicateCounts,
    pos: ReplicateCounts,
    negatives: ScoreSet,
    positives: ScoreSet,
    targets: list[tuple[float, float]],
) -> list[Rechosen]:
    """Re-chosen operating points for ``(target, full-data threshold)`` pairs.

    ``neg`` / ``pos`` count the negatives (errors at ``>= t``) and positives (errors at ``< t``)
    of the same replicates. Returns one :class:`Rechosen` per target, in order. All targets'
    windows are counted together, one round (one pass over the scores) per widening.
    """
    if not targets:
        return []
    axis = _Axis(negatives, positives)
    n_neg = negatives.n
    lo_k, hi_k = _predicted_counts(neg, axis, targets, n_neg)  # first round: the anchors
    kmax = np.stack([_max_count(tg, neg.total) for tg, _ in targets], axis=1)
    todo = list(range(len(targets)))
    found: dict[int, Rechosen] = {}
    rounds = 1
    while todo:
        windows = {}
        for j in todo:
            a = int(np.searchsorted(-axis.neg_ge, -hi_k[j], side="right")) - 2  # ge >= hi_k
            b = int(np.searchsorted(-axis.neg_ge, -lo_k[j], side="left")) + 1  # ge <= lo_k
            windows[j] = axis.window(a, b)
        _prefetch(axis, {c for _, cells in windows.values() for c in cells})
        cut_sets = {
            j: np.unique(np.concatenate([cuts, axis.values(cells), [targets[j][1]]]))
            for j, (cuts, cells) in windows.items()
        }
        every = np.unique(np.concatenate(list(cut_sets.values())))
        ge_all, lt_all = neg.ge(every), pos.lt(every)
        rounds += 1
        still = []
        for j in todo:
            cuts = cut_sets[j]
            cols = np.searchsorted(every, cuts)
            ok = ge_all[:, cols] <= kmax[:, j : j + 1]  # (B, m): FP rate <= target
            valid = ~np.isnan(kmax[:, j])
            low_fail = valid & ok[:, 0] & (cuts[0] > axis.edges[0])
            high_fail = valid & ~ok[:, -1]
            if (low_fail.any() or high_fail.any()) and rounds < _MAX_ROUNDS:
                if low_fail.any():
                    hi_k[j] = min(n_neg, 4 * hi_k[j] + 16)
                if high_fail.any():
                    lo_k[j] = max(0.0, lo_k[j] / 4 - 16)
                still.append(j)
                continue
            m = np.where(ok.any(axis=1), np.argmax(ok, axis=1), ok.shape[1] - 1)
            rows, col = np.arange(neg.n_boot), cols[m]
            found[j] = _chosen(
                targets[j][0], cuts[m], ge_all[rows, col], lt_all[rows, col], valid, neg, pos,
                axis, bool(windows[j][1]), rounds,
            )  # fmt: skip
        todo = still
    return [found[j] for j in range(len(targets))]


def _chosen(target, thr, ge, lt, valid, neg, pos, axis, exact, rounds) -> Rechosen:
    """The replicates' choices: their own rates and the full data's rates at their thresholds."""
    negatives, positives = axis.sets
    with np.errstate(invalid="ignore", divide="ignore"):
        fp, fn = ge / neg.total, lt / pos.total
    ge_full, lt_full = axis.full_counts(thr)
    nan = ~valid | ~(pos.total > 0)

    def masked(a):
        return np.where(nan, np.nan, a)

    return Rechosen(
        float(target),
        np.where(valid, thr, np.nan),
        masked(fp),
        masked(fn),
        masked(ge_full / negatives.n),
        masked(lt_full / max(positives.n, 1)),
        exact,
        rounds,
    )


def replicate_eer(
    neg: ReplicateCounts,
    pos: ReplicateCounts,
    negatives: ScoreSet,
    positives: ScoreSet,
    t_eer: float,
) -> tuple[np.ndarray, bool]:
    """``(EER of every replicate, exact)``: the EER convention of
    :class:`faceaudit.stats.rates.EqualErrorRate` applied to each replicate's counts."""
    axis = _Axis(negatives, positives)
    with np.errstate(invalid="ignore", divide="ignore"):
        f_b = neg.ge([t_eer])[:, 0] / neg.total - pos.lt([t_eer])[:, 0] / pos.total
        f_full = axis.neg_ge / negatives.n - axis.pos_lt / positives.n
        at = negatives.count_ge(t_eer) / negatives.n - positives.count_lt(t_eer) / positives.n
    shift = at - f_b  # the replicate's crossing sits where the full curve is about this high
    finite = shift[np.isfinite(shift)]
    lo_f = float(finite.min()) if finite.size else 0.0
    hi_f = float(finite.max()) if finite.size else 0.0
    margin = 0.25 * (hi_f - lo_f) + 2.0 / max(min(negatives.n, positives.n), 1)
    lo_f, hi_f = lo_f - margin, hi_f + margin
    for _ in range(_MAX_ROUNDS):
        a = int(np.searchsorted(-f_full, -hi_f, side="right")) - 2
        b = int(np.searchsorted(-f_full, -lo_f, side="left")) + 1
        cuts, cells = axis.window(a, b)
        _prefetch(axis, set(cells))
        cuts = np.unique(np.concatenate([cuts, axis.values(cells), [t_eer]]))
        with np.errstate(invalid="ignore", divide="ignore"):
            fmr = neg.ge(cuts) / neg.total[:, None]
            fnmr = pos.lt(cuts) / pos.total[:, None]
        gap = fmr - fnmr
        valid = np.isfinite(gap[:, 0])
        low_fail = valid & (gap[:, 0] < 0) & (cuts[0] > axis.edges[0])
        high_fail = valid & (gap[:, -1] > 0) & (cuts[-1] < axis.beyond)
        if not (low_fail.any() or high_fail.any()):
            break
        span = hi_f - lo_f
        if low_fail.any():
            hi_f += 2 * span + margin
        if high_fail.any():
            lo_f -= 2 * span + margin
    j = np.argmin(np.where(np.isnan(gap), np.inf, np.abs(gap)), axis=1)
    rows = np.arange(gap.shape[0])
    eer = (fmr[rows, j] + fnmr[rows, j]) / 2
    return np.where(valid, eer, np.nan), bool(cells)
