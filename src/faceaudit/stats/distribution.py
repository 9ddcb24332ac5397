"""Mergeable score distributions: exact counts on the fixed grid plus the exact extreme values.

A :class:`ScoreDistribution` summarises any number of scores in O(grid + tail) memory: the count of
scores in every non-empty cell of :mod:`faceaudit.stats.grid`, and the ``tail`` smallest and largest
scores exactly. Two summaries of disjoint data merge by addition (:meth:`ScoreDistribution.merge`,
associative, commutative and exact), so one code path serves a stream of 10^12 comparisons, the
blocks of a bootstrap, per-group splits and a cluster's map/reduce.

From a summary alone, the number of scores ``>= t`` is exact whenever ``t`` sits on a cell edge
or in a cell that the exact tails cover; elsewhere :class:`faceaudit.stats.scoreset.ScoreSet` takes
a second, exact look at the one cell that holds ``t``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from faceaudit._mmap import release_pages
from faceaudit.stats.grid import N_CELLS, cells_of

T = TypeVar("T")

DEFAULT_TAIL = 4096
DEFAULT_CHUNK = 1 << 20

_EMPTY_F = np.empty(0, dtype=np.float64)
_EMPTY_I = np.empty(0, dtype=np.int64)


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` largest of ``values``, sorted ascending."""
    if values.size > k:
        values = np.partition(values, values.size - k)[values.size - k :]
    return np.sort(values)


def _bottom(values: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` smallest of ``values``, sorted ascending."""
    if values.size > k:
        values = np.partition(values, k - 1)[:k]
    return np.sort(values)


@dataclass(frozen=True, eq=False)
class ScoreDistribution:
    """Summary of a multiset of scores (higher = more similar).

    Attributes
    ----------
    cells, counts : ndarray of int64
        Sorted indices of the non-empty grid cells and the number of scores in each.
    low, high : ndarray of float64
        The ``min(n, tail)`` smallest and largest scores, each sorted ascending.
    tail : int
        How many extreme values each end keeps.
    """

    cells: np.ndarray
    counts: np.ndarray
    low: np.ndarray
    high: np.ndarray
    tail: int = DEFAULT_TAIL

    @property
    def n(self) -> int:
        """Number of scores summarised."""
        return int(self.counts.sum())

    @classmethod
    def empty(cls, tail: int = DEFAULT_TAIL) -> ScoreDistribution:
        return cls(_EMPTY_I, _EMPTY_I, _EMPTY_F, _EMPTY_F, tail)

    @classmethod
    def from_dense(
        cls, hist: np.ndarray, low: np.ndarray, high: np.ndarray, tail: int
    ) -> ScoreDistribution:
        cells = np.flatnonzero(hist)
        return cls(cells.astype(np.int64), hist[cells].astype(np.int64), low, high, tail)

    def dense(self) -> np.ndarray:
        """Counts as a dense array over all ``N_CELLS`` cells."""
        hist = np.zeros(N_CELLS, dtype=np.int64)
        hist[self.cells] = self.counts
        return hist

    def merge(self, other: ScoreDistribution) -> ScoreDistribution:
        """Summary of the union of both multisets (exact; associative and commutative)."""
        tail = min(self.tail, other.tail)
        cells = np.union1d(self.cells, other.cells)
        counts = np.zeros(cells.size, dtype=np.int64)
        counts[np.searchsorted(cells, self.cells)] += self.counts
        counts[np.searchsorted(cells, other.cells)] += other.counts
        low = _bottom(np.concatenate([self.low, other.low]), tail)
        high = _top(np.concatenate([self.high, other.high]), tail)
        return ScoreDistribution(cells, counts, low, high, tail)

    def __add__(self, other: ScoreDistribution) -> ScoreDistribution:
        return self.merge(other)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScoreDistribution):
            return NotImplemented
        return (
            self.tail == other.tail
            and np.array_equal(self.cells, other.cells)
            and np.array_equal(self.counts, other.counts)
            and np.array_equal(self.low, other.low)
            and np.array_equal(self.high, other.high)
        )

    # -- exact counts from the summary alone --------------------------------------------------
    def count_in_cells_ge(self, cell: int) -> int:
        """Number of scores in cells ``>= cell``."""
        return int(self.counts[np.searchsorted(self.cells, cell) :].sum())

    def count_in_cells_le(self, cell: int) -> int:
        """Number of scores in cells ``<= cell``."""
        return int(self.counts[: np.searchsorted(self.cells, cell, side="right")].sum())

    def cell_count(self, cell: int) -> int:
        i = np.searchsorted(self.cells, cell)
        return int(self.counts[i]) if i < self.cells.size and self.cells[i] == cell else 0

    def exact_cell_values(self, cell: int) -> np.ndarray | None:
        """Sorted exact values in ``cell`` if the stored tails hold all of them, else ``None``."""
        k = self.cell_count(cell)
        if k == 0:
            return _EMPTY_F
        if self.count_in_cells_ge(cell) <= self.high.size:
            vals = self.high
        elif self.count_in_cells_le(cell) <= self.low.size:
            vals = self.low
        else:
            return None
        c = cells_of(vals)
        out = vals[c == cell]
        assert out.size == k
        return out


def map_chunks(
    scores: np.ndarray,
    fn: Callable[[int, np.ndarray], T],
    *,
    chunk_size: int = DEFAULT_CHUNK,
    workers: int | None = None,
    raw: bool = False,
) -> Iterator[T]:
    """``fn(start, float64 chunk)`` over the chunks of ``scores``, in order, on up to 2 threads.

    With ``raw`` the chunk keeps the array's own dtype (no float64 copy).

    numpy releases the GIL in its element-wise loops, so the chunks' binning overlaps; results come
    back in chunk order, so anything computed from them does not depend on ``workers``.
    """
    n = len(scores)

    def call(start: int) -> T:
        chunk = np.asarray(scores[start : start + chunk_size])
        out = fn(start, chunk if raw else chunk.astype(np.float64, copy=False))
        release_pages(scores, start, start + chunk_size)
        return out

    starts = range(0, n, chunk_size)
    workers = workers or min(2, os.cpu_count() or 1)
    if workers < 2 or len(starts) < 2 or chunk_size < 1 << 16:
        yield from map(call, starts)
        return
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(call, s) for s in starts[:workers]]
        for k in range(len(starts)):
            result = futures[k].result()
            if k + workers < len(starts):
                futures.append(pool.submit(call, starts[k + workers]))
            futures[k] = None  # free the chunk's result once consumed
            yield result


def summarize(
    scores: np.ndarray,
    *,
    tail: int = DEFAULT_TAIL,
    chunk_size: int = DEFAULT_CHUNK,
    workers: int | None = None,
) -> ScoreDistribution:
    """Summarise a 1-D array of finite (or ±inf) scores in chunks of ``chunk_size``.

    Works on memory-mapped arrays without loading them whole; extra memory is
    O(workers x chunk + grid). The result does not depend on chunking or ``workers``.
    """
    hist = np.zeros(N_CELLS, dtype=np.int64)
    low, high = _EMPTY_F, _EMPTY_F
    shared = {"low": low, "high": high}

    def work(_: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        counts = np.bincount(cells_of(x), minlength=N_CELLS)
        hi_now, lo_now = shared["high"], shared["low"]  # maybe stale: still a valid pre-filter
        hi = x if hi_now.size < tail else x[x > hi_now[0]]
        lo = x if lo_now.size < tail else x[x < lo_now[-1]]
        return counts, _top(hi, tail), _bottom(lo, tail)

    for counts, hi, lo in map_chunks(scores, work, chunk_size=chunk_size, workers=workers):
        hist += counts
        shared["high"] = high = _top(np.concatenate([high, hi]), tail)
        shared["low"] = low = _bottom(np.concatenate([low, lo]), tail)
    return ScoreDistribution.from_dense(hist, low, high, tail)
