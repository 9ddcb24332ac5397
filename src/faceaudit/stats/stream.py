"""Score sets that are never held in memory: a summary plus a way to take the exact second look.

A :class:`StreamedScoreSet` is a :class:`~faceaudit.stats.scoreset.ScoreSet` whose scores exist
only as a mergeable summary (:class:`~faceaudit.stats.distribution.ScoreDistribution`) and a
callable ``look(cells) -> {cell: sorted exact values}`` that recomputes just the comparisons that
fall in those grid cells (for all-vs-all embeddings: the blocks whose scores reach them,
:mod:`faceaudit.compare.stream`). Every exact query of the engine — counts at a threshold, the
k-th largest score, the smallest score above a value, operating thresholds, the EER — goes through
the summary and :meth:`prefetch`, so it gives the same answer as on the materialised scores.

``scores`` and ``units`` may be array-like *views* that compute slices on demand (for consumers
that stream a score set chunk by chunk); ``np.asarray`` of a view materialises it, which the view
allows only below a size limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from faceaudit.stats.distribution import DEFAULT_CHUNK, ScoreDistribution
from faceaudit.stats.scoreset import ScoreSet

__all__ = ["StreamedScoreSet"]

Look = Callable[[list[int]], dict[int, np.ndarray]]


class StreamedScoreSet(ScoreSet):
    """A score set known by its summary, with exact looks inside cells by recomputation.

    Parameters
    ----------
    distribution : ScoreDistribution
        The summary of all the scores.
    look : callable
        ``look(cells)`` -> ``{cell: sorted float64 values}`` for the cells asked (one pass).
    scores, units : array-like views, optional
        Sliceable views of the scores and their units, in one fixed order (see the module
        docstring); ``units`` is None when there are no bootstrap units.
    """

    def __init__(
        self,
        distribution: ScoreDistribution,
        *,
        look: Look,
        scores=None,
        units=None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> None:
        self.scores = scores
        self.units = units
        self.tail = distribution.tail
        self.chunk_size = chunk_size
        self._distribution = distribution
        self._look = look
        self._cells: dict[int, np.ndarray] = {}
        self._suffix = None

    def __len__(self) -> int:
        return self._distribution.n

    @property
    def n(self) -> int:
        return self._distribution.n

    @property
    def distribution(self) -> ScoreDistribution:
        return self._distribution

    def chunks(self) -> Iterable[tuple[int, np.ndarray]]:
        if self.scores is None:
            raise ValueError("this streamed score set has no view of its scores")
        yield from super().chunks()

    def prefetch(self, cells: Iterable[int]) -> None:
        """Exact values of ``cells``: from the summary's tails when they hold them, else in one
        recomputation pass over what reaches those cells."""
        dist = self._distribution
        wanted = []
        for c in sorted({int(c) for c in cells}):
            if c in self._cells:
                continue
            vals = dist.exact_cell_values(c)
            if vals is None:
                wanted.append(c)
            else:
                self._cells[c] = vals
        if not wanted:
            return
        found = self._look(wanted)
        for c in wanted:
            vals = np.sort(np.asarray(found.get(c, np.empty(0)), dtype=np.float64))
            if vals.size != dist.cell_count(c):
                raise RuntimeError(
                    f"the second look at cell {c} found {vals.size} scores but the summary counts "
                    f"{dist.cell_count(c)}: the comparisons were not recomputed identically"
                )
            self._cells[c] = vals
