"""Bootstrap confidence intervals that reuse the summaries (no re-reading, no re-sorting).

Comparisons that share a person are not independent, so the resampling unit is the **subject**
(ISO/IEC 19795-1 "subsets bootstrap", Bolle, Ratha & Pankanti 2004): a replicate draws subjects with
replacement and every comparison of a drawn subject enters with that subject's multiplicity.
Genuine comparisons belong to their subject; impostor comparisons to their probe subject. The same
subject weights serve every rate of a replicate, so joint quantities stay consistent.

Each score set is reduced once to a small per-subject table of counts (``n_subjects x
n_thresholds``) or per-subject grid histograms; a replicate is a weighted sum of those blocks (a
merge of resampled blocks). Without subject ids the unit is the comparison, and a replicate's counts
are drawn from their exact bootstrap distribution (multinomial over the summary's bins), which is
what resampling comparisons with replacement gives.

Intervals are percentile intervals of the replicates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from faceaudit.stats.grid import cells_of
from faceaudit.stats.scoreset import ScoreSet


@dataclass(frozen=True)
class Resampler:
    """``n_boot`` bootstrap replicates over ``n_units`` subjects (or comparisons if 0), seeded."""

    n_units: int
    n_boot: int
    seed: int = 0
    batch: int = 50

    @property
    def by_subject(self) -> bool:
        return self.n_units > 0

    def weight_batches(self) -> Iterator[np.ndarray]:
        """Deterministic ``(b, n_units)`` multiplicity matrices, ``b <= batch``, B rows in all."""
        rng = np.random.default_rng(self.seed)
        done = 0
        while done < self.n_boot:
            b = min(self.batch, self.n_boot - done)
            draws = rng.integers(0, self.n_units, size=(b, self.n_units))
            draws += np.arange(b)[:, None] * self.n_units
            w = np.bincount(draws.ravel(), minlength=b * self.n_units)
            yield w.reshape(b, self.n_units).astype(np.float64)
            done += b


def unit_counts_ge(scores: ScoreSet, thresholds: Sequence[float], n_units: int) -> np.ndarray:
    """Per-unit counts: column 0 is the unit's number of scores, column j+1 its scores >= t_j."""
    t = np.asarray(thresholds, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    ts = t[order]
    m = ts.size
    table = np.zeros(n_units * (m + 1), dtype=np.int64)
    assert scores.units is not None
    for start, x in scores.chunks():
        u = np.asarray(scores.units[start : start + x.size], dtype=np.int64)
        j = np.searchsorted(ts, x, side="right")  # number of thresholds <= x
        table += np.bincount(u * (m + 1) + j, minlength=n_units * (m + 1))
    table = table.reshape(n_units, m + 1)
    ge_sorted = np.cumsum(table[:, ::-1], axis=1)[:, ::-1][:, 1:]  # scores >= ts[k]
    out = np.empty((n_units, m + 1), dtype=np.int64)
    out[:, 0] = table.sum(axis=1)
    out[:, 1 + order] = ge_sorted
    return out


def bin_counts_ge(scores: ScoreSet, thresholds: Sequence[float]) -> np.ndarray:
    """Counts of scores in the bins cut by sorted ``thresholds`` (for comparison resampling)."""
    t = np.sort(np.asarray(thresholds, dtype=np.float64))
    ge = np.array([scores.count_ge(x) for x in t], dtype=np.int64)
    edges = np.concatenate([[scores.n], ge, [0]])
    return edges[:-1] - edges[1:]


def replicate_rates_ge(
    resampler: Resampler, scores: ScoreSet, thresholds: Sequence[float], *, lt: bool = False
) -> np.ndarray:
    """``(n_boot, n_thresholds)`` replicate rates of scores ``>= t`` (or ``< t`` if ``lt``)."""
    t = np.asarray(thresholds, dtype=np.float64)
    if resampler.by_subject:
        if scores.units is None:
            raise ValueError("subject bootstrap needs units on every score set")
        table = unit_counts_ge(scores, t, resampler.n_units).astype(np.float64)
        reps = []
        for w in resampler.weight_batches():
            tot = w @ table
            counts = tot[:, :1] - tot[:, 1:] if lt else tot[:, 1:]
            with np.errstate(invalid="ignore", divide="ignore"):
                reps.append(counts / tot[:, :1])
        return np.concatenate(reps)
    else:
        order = np.argsort(t, kind="stable")
        bins = bin_counts_ge(scores, t)
        rng = np.random.default_rng(resampler.seed + 7919)
        draws = rng.multinomial(scores.n, bins / scores.n, size=resampler.n_boot)
        ge_sorted = np.cumsum(draws[:, ::-1], axis=1)[:, ::-1][:, 1:]
        counts = np.empty((resampler.n_boot, t.size), dtype=np.int64)
        counts[:, order] = scores.n - ge_sorted if lt else ge_sorted
        return counts / scores.n


def unit_cell_histograms(scores: ScoreSet, cells: np.ndarray, n_units: int):
    """Sparse ``(n_units, len(cells))`` matrix of per-subject counts in the given grid cells."""
    from scipy import sparse

    total = None
    for start, x in scores.chunks():
        u = np.asarray(scores.units[start : start + x.size], dtype=np.int64)
        col = np.searchsorted(cells, cells_of(x))
        m = sparse.coo_matrix(
            (np.ones(x.size, dtype=np.float64), (u, col)), shape=(n_units, cells.size)
        ).tocsr()
        total = m if total is None else total + m
    return total


def replicate_cell_histograms(
    resampler: Resampler, scores: ScoreSet, cells: np.ndarray
) -> Iterator[np.ndarray]:
    """Batches of ``(b, len(cells))`` replicate histograms of ``scores`` on the union ``cells``."""
    d = scores.distribution
    if resampler.by_subject:
        h = unit_cell_histograms(scores, cells, resampler.n_units)
        for w in resampler.weight_batches():
            yield np.asarray((h.T @ w.T).T)
    else:
        p = np.zeros(cells.size)
        p[np.searchsorted(cells, d.cells)] = d.counts / scores.n
        rng = np.random.default_rng(resampler.seed + 104729)
        done = 0
        while done < resampler.n_boot:
            b = min(resampler.batch, resampler.n_boot - done)
            yield rng.multinomial(scores.n, p, size=b).astype(np.float64)
            done += b


def percentile_interval(replicates: np.ndarray, confidence: float) -> np.ndarray:
    """``(2, ...)`` percentile interval of replicates along axis 0, ignoring NaN replicates."""
    alpha = (1.0 - confidence) / 2.0
    return np.nanquantile(replicates, [alpha, 1.0 - alpha], axis=0)
