"""Exact score samples: the data plus its mergeable summary, with exact counts at any threshold.

:class:`ScoreSet` keeps a reference to the scores (an in-memory or memory-mapped 1-D array, never
copied whole), their bootstrap unit (subject code) if known, and a lazily built
:class:`~faceaudit.stats.distribution.ScoreDistribution`. Counts at a threshold come from the
summary's cells plus one exact look inside the single cell that holds the threshold; those looks are
batched (:meth:`ScoreSet.prefetch`) so that all operating points of an analysis cost one extra pass
at most, and none when the exact tails already hold the cell.

Convention (ISO/IEC 19795-1): higher score = more similar; a comparison matches when ``score >=
threshold``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from faceaudit.stats.distribution import (
    DEFAULT_CHUNK,
    DEFAULT_TAIL,
    ScoreDistribution,
    map_chunks,
    summarize,
)
from faceaudit.stats.grid import N_CELLS, cell_lower_edge, cell_of, cell_upper_edge, cells_of


class ScoreSet:
    """A multiset of scores with exact threshold queries.

    Parameters
    ----------
    scores : 1-D array of float
        Finite scores (±inf allowed), similarity-oriented. May be a ``numpy.memmap``.
    units : 1-D int array, optional
        The bootstrap unit (subject code) of each score, same length as ``scores``.
    distribution : ScoreDistribution, optional
        A summary already computed for exactly these scores.
    """

    def __init__(
        self,
        scores: np.ndarray,
        *,
        units: np.ndarray | None = None,
        distribution: ScoreDistribution | None = None,
        tail: int = DEFAULT_TAIL,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> None:
        scores = np.asarray(scores) if not isinstance(scores, np.ndarray) else scores
        if scores.ndim != 1:
            raise ValueError("scores must be a 1-D array")
        if units is not None and len(units) != len(scores):
            raise ValueError("units must have one entry per score")
        self.scores = scores
        self.units = units
        self.tail = tail
        self.chunk_size = chunk_size
        self._distribution = distribution
        self._cells: dict[int, np.ndarray] = {}
        self._suffix: np.ndarray | None = None

    @classmethod
    def from_values(cls, values: Iterable[float], **kw) -> ScoreSet:
        return cls(np.asarray(list(values), dtype=np.float64), **kw)

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def n(self) -> int:
        return len(self.scores)

    @property
    def distribution(self) -> ScoreDistribution:
        """The mergeable summary (computed on first use, in one chunked pass)."""
        if self._distribution is None:
            self._distribution = summarize(self.scores, tail=self.tail, chunk_size=self.chunk_size)
        return self._distribution

    def chunks(self) -> Iterable[tuple[int, np.ndarray]]:
        """``(start, float64 chunk)`` pairs over the scores."""
        for start in range(0, self.n, self.chunk_size):
            yield start, np.asarray(self.scores[start : start + self.chunk_size], dtype=np.float64)

    # -- exact looks inside cells -------------------------------------------------------------
    def prefetch(self, cells: Iterable[int]) -> None:
        """Make the exact values of ``cells`` available, in at most one pass over the scores."""
        dist = self.distribution
        wanted = []
        for c in {int(c) for c in cells}:
            if c in self._cells:
                continue
            vals = dist.exact_cell_values(c)
            if vals is None:
                wanted.append(c)
            else:
                self._cells[c] = vals
        if not wanted:
            return
        need = np.zeros(N_CELLS, dtype=bool)
        need[wanted] = True
        # A cheap range test in the array's own dtype first (bounds widened to that dtype), then
        # exact cells for the few scores in range.
        lo = float(cell_lower_edge(min(wanted)))
        hi = float(cell_upper_edge(max(wanted)))
        dtype = self.scores.dtype if self.scores.dtype == np.float32 else np.dtype(np.float64)
        lo_d, hi_d = dtype.type(lo), dtype.type(hi)
        if lo_d > lo:
            lo_d = np.nextafter(lo_d, dtype.type(-np.inf))
        if hi_d < hi:
            hi_d = np.nextafter(hi_d, dtype.type(np.inf))

        def look(_: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            x = x.astype(dtype, copy=False)
            sel = x[(x >= lo_d) & (x <= hi_d)].astype(np.float64)
            cx = cells_of(sel)
            hit = need[cx]
            return sel[hit], cx[hit]

        found_vals, found_cells = [], []
        for v, c in map_chunks(self.scores, look, chunk_size=self.chunk_size, raw=True):
            found_vals.append(v)
            found_cells.append(c)
        vals = np.concatenate(found_vals) if found_vals else np.empty(0)
        cx = np.concatenate(found_cells) if found_cells else np.empty(0, dtype=np.intp)
        for c in wanted:
            self._cells[c] = np.sort(vals[cx == c])

    def cell_values(self, cell: int) -> np.ndarray:
        """Sorted exact scores in ``cell``."""
        if cell not in self._cells:
            self.prefetch([cell])
        return self._cells[cell]

    # -- exact queries ------------------------------------------------------------------------
    def counts_ge(self, thresholds: np.ndarray) -> np.ndarray:
        """Number of scores ``>= t`` for each ``t`` in ``thresholds`` (exact, vectorised)."""
        t = np.asarray(thresholds, dtype=np.float64)
        if np.isnan(t).any():
            raise ValueError("threshold is NaN")
        dist = self.distribution
        if self._suffix is None:
            self._suffix = np.concatenate([np.cumsum(dist.counts[::-1])[::-1], [0]])
        c = cells_of(t)
        out = self._suffix[np.searchsorted(dist.cells, c, side="right")].copy()
        j = np.searchsorted(dist.cells, c).clip(0, max(dist.cells.size - 1, 0))
        inside = (dist.cells.size > 0) & (dist.cells[j] == c) if dist.cells.size else c < 0
        cells = np.unique(c[inside])
        self.prefetch(cells)
        for cell in cells:
            vals, m = self._cells[int(cell)], c == cell
            out[m] += vals.size - np.searchsorted(vals, t[m], side="left")
        return out

    def count_ge(self, threshold: float) -> int:
        """Number of scores ``>= threshold`` (exact)."""
        return int(self.counts_ge(np.array([threshold]))[0])

    def count_lt(self, threshold: float) -> int:
        """Number of scores ``< threshold`` (exact)."""
        return self.n - self.count_ge(threshold)

    def kth_largest(self, k: int) -> float:
        """The ``k``-th largest score (``k = 1`` is the maximum), exact."""
        if not 1 <= k <= self.n:
            raise ValueError(f"k must be in [1, {self.n}]")
        dist = self.distribution
        if k <= dist.high.size:
            return float(dist.high[-k])
        from_top = np.cumsum(dist.counts[::-1])
        j = int(np.searchsorted(from_top, k))  # first index (from the top) reaching k
        cell = int(dist.cells[::-1][j])
        above = int(from_top[j - 1]) if j > 0 else 0
        vals = self.cell_values(cell)
        return float(vals[vals.size - (k - above)])

    def cell_of_kth_largest(self, k: int) -> int:
        dist = self.distribution
        from_top = np.cumsum(dist.counts[::-1])
        return int(dist.cells[::-1][int(np.searchsorted(from_top, k))])

    def smallest_above(self, value: float) -> float | None:
        """Smallest score strictly greater than ``value``, or ``None``."""
        dist = self.distribution
        c = cell_of(value)
        if dist.cell_count(c):
            vals = self.cell_values(c)
            i = np.searchsorted(vals, value, side="right")
            if i < vals.size:
                return float(vals[i])
        j = np.searchsorted(dist.cells, c, side="right")
        if j >= dist.cells.size:
            return None
        return float(self.cell_values(int(dist.cells[j]))[0])
