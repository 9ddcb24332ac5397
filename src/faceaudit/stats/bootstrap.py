"""The one bootstrap: resampled subjects, per-unit count tables, replicates as weighted merges.

Comparisons that share a person are not independent, so the resampling unit is the **subject**
(ISO/IEC 19795-1 "subsets bootstrap", Bolle, Ratha & Pankanti 2004). Every uncertainty figure of
faceaudit (1:1, 1:N, demographic groups, gallery scaling, failures to acquire) comes from the same
three pieces:

1. **A resampling design** (:class:`Resampler`): ``n_boot`` seeded replicates, each a vector of
   multiplicities (how many times each of ``n_units`` subjects was drawn with replacement);
   optionally **stratified** (subjects drawn within their stratum, e.g. a demographic group, so
   each stratum keeps its size). The same draws serve every figure of a replicate, so joint
   quantities (ratios between groups, FNMR at the FMR-chosen threshold) stay consistent.
2. **Per-unit count tables** (:class:`UnitTable`): the data reduced once, in one pass, to one row
   of counts per subject (comparisons, errors at thresholds, grid histograms, ...). Two tables of
   disjoint blocks of data **merge by addition**, exactly like the score summaries of
   :mod:`faceaudit.stats.distribution`: that is how the counting pass itself combines its chunks,
   and how a distributed run combines its shards.
3. **A replicate is a weighted merge** of those tables: ``sum_u w_u table[u]``, a matrix product,
   so nothing is re-read or re-sorted per replicate. Tables hold integer counts and weights are
   integers, so every replicate count is exact (float64 sums of integers below 2^53).

A comparison between two subjects (a non-mated comparison) can be weighted by the product of both
subjects' multiplicities (two-way; :mod:`faceaudit.stats.pairs`) or by its probe subject's alone
(one-way). Without subject ids the unit is the comparison, and a replicate's counts are drawn from
their exact bootstrap distribution (multinomial over the bins of a summary,
:meth:`Resampler.multinomial_batches`), which is what resampling comparisons with replacement gives.
Where many units are interchangeable (same row of counts), :class:`ExchangeableUnits` draws
their multiplicities as one multinomial over groups of identical rows, which has the same
distribution at a fraction of the cost.

Random streams: a :class:`Resampler` is ``numpy.random.default_rng(seed + stream)``; subject
draws are made in batches of ``batch`` replicates (``integers(0, n, (b, n))`` per batch, per stratum
in stratum order when stratified). Intervals are percentile intervals of the replicates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from faceaudit.stats.grid import cells_of
from faceaudit.stats.scoreset import ScoreSet

__all__ = [
    "COMPARISON_CELLS_STREAM",
    "COMPARISON_RATES_STREAM",
    "ExchangeableUnits",
    "Resampler",
    "UnitTable",
    "bin_counts_ge",
    "percentile_interval",
    "replicate_cell_histograms",
    "replicate_rates_ge",
    "unit_cell_histograms",
    "unit_counts_ge",
]

#: Offsets of the random streams of the comparison (no subject ids) bootstrap.
COMPARISON_RATES_STREAM = 7919
COMPARISON_CELLS_STREAM = 104729


@dataclass(frozen=True, eq=False)
class Resampler:
    """``n_boot`` seeded bootstrap replicates over ``n_units`` subjects (comparisons if 0).

    Parameters
    ----------
    n_units : int
        Resampled units (subject codes ``0 .. n_units - 1``); 0 means no subject ids.
    n_boot : int
        Replicates.
    seed : int
    batch : int
        Replicates per batch of draws (part of the random stream: the same ``batch``, the same
        draws).
    strata : int array, optional
        Stratum of each unit: each replicate draws, for every stratum (in increasing code order),
        as many of its units as it has, with replacement. Units with a negative code are never
        drawn (weight 0).
    """

    n_units: int
    n_boot: int
    seed: int = 0
    batch: int = 50
    strata: np.ndarray | None = None

    @classmethod
    def stratified(cls, strata: np.ndarray, n_boot: int, seed: int = 0, batch: int = 50):
        """Subjects resampled within their stratum (e.g. a demographic group)."""
        strata = np.asarray(strata)
        return cls(int(strata.size), int(n_boot), int(seed), int(batch), strata)

    @property
    def by_subject(self) -> bool:
        return self.n_units > 0

    def rng(self, stream: int = 0) -> np.random.Generator:
        """The generator of one random stream of this design."""
        return np.random.default_rng(self.seed + stream)

    def _sizes(self, batch: int | None = None) -> Iterator[int]:
        step = self.batch if batch is None else batch
        done = 0
        while done < self.n_boot:
            b = min(step, self.n_boot - done)
            yield b
            done += b

    def weight_batches(self) -> Iterator[np.ndarray]:
        """``(b, n_units)`` float64 multiplicities (``b <= batch``), ``n_boot`` rows in all."""
        rng = self.rng()
        if self.strata is None:
            for b in self._sizes():
                yield _multiplicities(rng, self.n_units, b).astype(np.float64)
            return
        strata = np.asarray(self.strata)
        members = [np.flatnonzero(strata == s) for s in np.unique(strata[strata >= 0])]
        for b in self._sizes():
            w = np.zeros((b, self.n_units), dtype=np.float64)
            for idx in members:
                w[:, idx] = _multiplicities(rng, idx.size, b)
            yield w

    def weights(self) -> np.ndarray:
        """All ``(n_boot, n_units)`` multiplicities at once (the batches, stacked)."""
        batches = list(self.weight_batches())
        return np.concatenate(batches) if batches else np.zeros((0, self.n_units))

    def multinomial_batches(
        self, n: int, p: np.ndarray, *, stream: int = 0, batch: int | None = None
    ) -> Iterator[np.ndarray]:
        """``(b, len(p))`` float64 draws of Multinomial(``n``, ``p``), ``n_boot`` rows in all.

        The exact bootstrap distribution of counts in categories: of comparisons in bins (no
        subject ids) or of subjects in groups of interchangeable ones (:class:`ExchangeableUnits`).
        """
        rng = self.rng(stream)
        for b in self._sizes(batch):
            yield rng.multinomial(n, p, size=b).astype(np.float64)


def _multiplicities(rng: np.random.Generator, k: int, b: int) -> np.ndarray:
    """``(b, k)`` int64: how often each of ``k`` units is drawn in ``k`` draws, per replicate."""
    draws = rng.integers(0, k, size=(b, k))
    draws += np.arange(b)[:, None] * k
    return np.bincount(draws.ravel(), minlength=b * k).reshape(b, k)


@dataclass(frozen=True, eq=False)
class UnitTable:
    """Counts per resampling unit: row ``u`` holds the counts of unit ``u``'s data.

    ``counts`` is ``(n_units, n_cols)``, dense (numpy) or sparse (scipy CSR). Tables of disjoint
    blocks of data over the same units merge by addition (:meth:`merge`); a bootstrap replicate
    is the weighted merge ``weights @ counts`` (:meth:`replicate`).
    """

    counts: object

    @property
    def n_units(self) -> int:
        return int(self.counts.shape[0])

    @property
    def sparse(self) -> bool:
        return not isinstance(self.counts, np.ndarray)

    def merge(self, other: UnitTable) -> UnitTable:
        """Counts of the union of two disjoint blocks of data (exact)."""
        if other.counts.shape != self.counts.shape:
            raise ValueError("unit tables of different shapes do not merge")
        return UnitTable(self.counts + other.counts)

    def total(self) -> np.ndarray:
        """The counts of all units (the point estimate's counts)."""
        return np.asarray(self.counts.sum(axis=0)).ravel()

    def replicate(self, weights: np.ndarray) -> np.ndarray:
        """``(b, n_cols)`` replicate counts for ``(b, n_units)`` multiplicities."""
        if self.sparse:
            return np.asarray((self.counts.T @ weights.T).T)
        return weights @ self.counts

    def replicate_by(
        self, weights: np.ndarray, group_of_unit: np.ndarray, n_groups: int
    ) -> np.ndarray:
        """``(b, n_groups, n_cols)``: the weighted merge within each group of units."""
        b = weights.shape[0]
        out = np.zeros((b, n_groups, self.counts.shape[1]))
        g = np.asarray(group_of_unit)
        for k in range(n_groups):
            idx = np.flatnonzero(g == k)
            if idx.size:
                out[:, k] = weights[:, idx] @ self.counts[idx]
        return out

    @classmethod
    def of_events(cls, units: np.ndarray, events: np.ndarray, n_units: int) -> UnitTable:
        """Column 0: rows per unit; column ``1 + j``: the unit's sum of ``events[:, j]``."""
        table = np.zeros((n_units, 1 + events.shape[1]))
        table[:, 0] = np.bincount(units, minlength=n_units)
        for j in range(events.shape[1]):
            table[:, 1 + j] = np.bincount(units, weights=events[:, j], minlength=n_units)
        return cls(table)


class ExchangeableUnits:
    """Multiplicities of ``n`` units drawn cheaply by merging interchangeable units.

    Resampling ``n`` units with replacement gives multiplicities ~ Multinomial(n, 1/n each).
    Units whose individual weight is needed (``special``) stay separate categories; every other
    unit only matters through its row of counts, so units with identical rows are merged into
    one category (a merge of a multinomial's cells is again multinomial). Each replicate then
    costs O(special + distinct rows), not O(n).

    :meth:`batches` yields ``(w_special (b, m), totals (b, n_cols))``: the multiplicity of each
    special unit, and the weighted merge of all units' rows.
    """

    def __init__(self, rows: np.ndarray, special: np.ndarray) -> None:
        n = rows.shape[0]
        self.n = n
        sp = np.nonzero(special)[0]
        self.special_pos = np.full(n, -1, dtype=np.int64)
        self.special_pos[sp] = np.arange(sp.size)
        rest = rows[~special]
        if rest.shape[0]:
            uniq, counts = np.unique(rest, axis=0, return_counts=True)
        else:
            uniq, counts = np.empty((0, rows.shape[1])), np.empty(0, dtype=np.int64)
        self.m = sp.size
        self.table = UnitTable(np.vstack([rows[sp], uniq]))
        p = np.concatenate([np.full(sp.size, 1.0 / n), counts / n])
        self.p = p / p.sum()

    def batches(self, resampler: Resampler) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for w in resampler.multinomial_batches(self.n, self.p):
            yield w[:, : self.m], self.table.replicate(w)


# -- per-unit tables of score sets ----------------------------------------------------------------


def unit_counts_ge(scores: ScoreSet, thresholds: Sequence[float], n_units: int) -> np.ndarray:
    """Per-unit counts: column 0 is the unit's number of scores, column j+1 its scores >= t_j."""
    t = np.asarray(thresholds, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    ts = t[order]
    m = ts.size
    table = UnitTable(np.zeros((n_units, m + 1), dtype=np.int64))
    assert scores.units is not None
    for start, x in scores.chunks():
        u = np.asarray(scores.units[start : start + x.size], dtype=np.int64)
        j = np.searchsorted(ts, x, side="right")  # number of thresholds <= x
        block = np.bincount(u * (m + 1) + j, minlength=n_units * (m + 1))
        table = table.merge(UnitTable(block.reshape(n_units, m + 1)))
    hist = table.counts
    ge_sorted = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1][:, 1:]  # scores >= ts[k]
    out = np.empty((n_units, m + 1), dtype=np.int64)
    out[:, 0] = hist.sum(axis=1)
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
        table = UnitTable(unit_counts_ge(scores, t, resampler.n_units).astype(np.float64))
        reps = []
        for w in resampler.weight_batches():
            tot = table.replicate(w)
            counts = tot[:, :1] - tot[:, 1:] if lt else tot[:, 1:]
            with np.errstate(invalid="ignore", divide="ignore"):
                reps.append(counts / tot[:, :1])
        return np.concatenate(reps)
    order = np.argsort(t, kind="stable")
    bins = bin_counts_ge(scores, t)
    (draws,) = resampler.multinomial_batches(
        scores.n, bins / scores.n, stream=COMPARISON_RATES_STREAM, batch=resampler.n_boot
    )
    ge_sorted = np.cumsum(draws[:, ::-1], axis=1)[:, ::-1][:, 1:]
    counts = scores.n - ge_sorted if lt else ge_sorted
    out = np.empty((resampler.n_boot, t.size))
    out[:, order] = counts
    return out / scores.n


def unit_cell_histograms(scores: ScoreSet, cells: np.ndarray, n_units: int) -> UnitTable:
    """Sparse ``(n_units, len(cells))`` table of per-subject counts in the given grid cells."""
    from scipy import sparse

    total = None
    for start, x in scores.chunks():
        u = np.asarray(scores.units[start : start + x.size], dtype=np.int64)
        col = np.searchsorted(cells, cells_of(x))
        m = UnitTable(
            sparse.coo_matrix(
                (np.ones(x.size, dtype=np.float64), (u, col)), shape=(n_units, cells.size)
            ).tocsr()
        )
        total = m if total is None else total.merge(m)
    if total is None:
        total = UnitTable(sparse.csr_matrix((n_units, cells.size)))
    return total


def replicate_cell_histograms(
    resampler: Resampler, scores: ScoreSet, cells: np.ndarray
) -> Iterator[np.ndarray]:
    """Batches of ``(b, len(cells))`` replicate histograms of ``scores`` on the union ``cells``."""
    d = scores.distribution
    if resampler.by_subject:
        h = unit_cell_histograms(scores, cells, resampler.n_units)
        for w in resampler.weight_batches():
            yield h.replicate(w)
    else:
        p = np.zeros(cells.size)
        p[np.searchsorted(cells, d.cells)] = d.counts / scores.n
        yield from resampler.multinomial_batches(scores.n, p, stream=COMPARISON_CELLS_STREAM)


def percentile_interval(replicates: np.ndarray, confidence: float) -> np.ndarray:
    """``(2, ...)`` percentile interval of replicates along axis 0, ignoring NaN replicates."""
    alpha = (1.0 - confidence) / 2.0
    return np.nanquantile(replicates, [alpha, 1.0 - alpha], axis=0)
