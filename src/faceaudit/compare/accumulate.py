"""Accumulators: what a block of comparisons is reduced to, and how two such products merge.

An accumulator is a small picklable object with two methods::

    product = acc(block)              # one block (faceaudit.compare.blocks.Block) -> its product
    product = acc.merge(p, q)         # products of disjoint blocks -> the product of their union

``merge`` is exact, associative and commutative, so any tree of merges over any partition of the
blocks (threads, a Dask cluster, a resumed run reading half its products from disk) gives the same
result, bit for bit. ``acc.key()`` names the accumulator and its parameters (for the work folder).

============================  ==================================================================
:class:`PairSummaries`         the mergeable score distributions of both sides (pass 1), per-block
                               score ranges, and the mated scores themselves when they are few
:class:`CellValues`            exact scores (with probe and reference subjects) in given grid cells:
                               the engine's "second look"
:class:`UnitCountsGE`          per-subject ``[comparisons, scores >= t_j ...]`` (bootstrap table)
:class:`PairUnitCountsGE`      per (probe, reference) subject pair, counts at thresholds (the
                               two-way bootstrap of non-mated comparisons)
:class:`UnitCellHistograms`    per-subject counts in given grid cells (bootstrap of the EER)
:class:`GroupTables`           per-subject ``[comparisons, errors]`` at one threshold, split by the
                               reference's group (demographics)
============================  ==================================================================

The bootstrap and demographic tables are built by the engine's own functions
(:mod:`faceaudit.stats.bootstrap`, :mod:`faceaudit.stats.groups`) on each block's comparisons, so
their merge equals what those functions give on all comparisons at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from faceaudit.compare.blocks import Block
from faceaudit.stats.distribution import DEFAULT_TAIL, ScoreDistribution, _bottom, _top, summarize
from faceaudit.stats.grid import cell_lower_edge, cell_upper_edge, cells_of
from faceaudit.stats.scoreset import ScoreSet

__all__ = [
    "CellValues",
    "GroupTables",
    "PairSummaries",
    "PairSummary",
    "PairUnitCountsGE",
    "UnitCellHistograms",
    "UnitCountsGE",
]

SIDES = ("mated", "nonmated")

# -- float32 scores binned by their bits ------------------------------------------------------
# A float32's top 17 bits (sign, 8 exponent bits, 8 mantissa bits) fix its float64 grid cell
# (faceaudit.stats.grid: sign, 11 exponent bits, 8 mantissa bits), except for zeros and
# subnormals (exponent field 0) and inf/NaN (255), whose values are binned exactly instead.
_SHIFT = 15
N_BUCKETS = 1 << 17


def _bucket_tables() -> tuple[np.ndarray, np.ndarray]:
    b = np.arange(N_BUCKETS, dtype=np.uint32)
    exp = (b >> 8) & 0xFF
    special = (exp == 0) | (exp == 0xFF)
    rep = (b << _SHIFT).view(np.float32)
    rep = np.where(special, np.float32(0), rep).astype(np.float64)
    return cells_of(rep).astype(np.int64), special


_BUCKET_CELL, _SPECIAL = _bucket_tables()
_ROWS_ELEMS = 1 << 19  # elements binned per bincount call (cache-sized)


def _f32_down(x: float) -> np.float32:
    """Largest float32 <= x."""
    v = np.float32(x)
    return np.nextafter(v, np.float32(-np.inf)) if float(v) > x else v


def _f32_up(x: float) -> np.float32:
    """Smallest float32 >= x."""
    v = np.float32(x)
    return np.nextafter(v, np.float32(np.inf)) if float(v) < x else v


def _key(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(str(p.dtype).encode() + str(p.shape).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(repr(p).encode())
        h.update(b"|")
    return h.hexdigest()[:20]


def _dist_of_cells(
    cells: np.ndarray, counts: np.ndarray, low: np.ndarray, high: np.ndarray, tail: int
) -> ScoreDistribution:
    order = np.argsort(cells, kind="stable")
    cells, counts = cells[order], counts[order]
    if cells.size > 1 and (np.diff(cells) == 0).any():
        u, inv = np.unique(cells, return_inverse=True)
        counts = np.bincount(inv, weights=counts, minlength=u.size).astype(np.int64)
        cells = u
    keep = counts > 0
    return ScoreDistribution(cells[keep], counts[keep], low, high, tail)


def _summary(values: np.ndarray, tail: int) -> ScoreDistribution:
    """``summarize(values, tail=tail)``, without its dense grid for a few values."""
    v = np.asarray(values)
    if v.size == 0:
        return ScoreDistribution.empty(tail)
    if v.size > 1 << 16:
        return summarize(v, tail=tail)
    v = v.astype(np.float64)
    cells, counts = np.unique(cells_of(v), return_counts=True)
    return ScoreDistribution(
        cells.astype(np.int64), counts.astype(np.int64), _bottom(v, tail), _top(v, tail), tail
    )


def _fast_nonmated_distribution(blk: Block, tail: int) -> ScoreDistribution:
    """Non-mated summary of an off-diagonal float32 block without copying its comparisons out.

    The whole matrix is binned by its bits; the mated pairs' bins are subtracted; the exact tails
    are the top / bottom ``tail`` of the few scores beyond the cells that hold the tail-th value.
    """
    s = blk.scores
    r, c = s.shape
    bits = s.view(np.uint32)
    hist = np.zeros(N_BUCKETS, dtype=np.int64)
    step = max(1, _ROWS_ELEMS // max(c, 1))
    buf = np.empty((min(step, r), c), dtype=np.uint32)
    for r0 in range(0, r, step):
        k = min(step, r - r0)
        np.right_shift(bits[r0 : r0 + k], _SHIFT, out=buf[:k])
        hist += np.bincount(buf[:k].ravel(), minlength=N_BUCKETS)
    gi, gj = blk.mated_index
    gflat = gi * c + gj
    if gflat.size:
        hist -= np.bincount(bits.ravel()[gflat] >> _SHIFT, minlength=N_BUCKETS)
    extra_cells = np.empty(0, dtype=np.int64)
    if hist[_SPECIAL].any():  # zeros, subnormals: exact cells, value by value
        idx = np.flatnonzero(_SPECIAL[bits.ravel() >> _SHIFT])
        idx = idx[~np.isin(idx, gflat)]
        extra_cells = cells_of(s.ravel()[idx].astype(np.float64)).astype(np.int64)
        hist[_SPECIAL] = 0
    nz = np.flatnonzero(hist)
    cells = np.concatenate([_BUCKET_CELL[nz], extra_cells])
    counts = np.concatenate([hist[nz], np.ones(extra_cells.size, dtype=np.int64)])
    dist = _dist_of_cells(cells, counts, np.empty(0), np.empty(0), tail)
    # exact tails: the scores at or beyond the cell that holds the tail-th score from each end
    n = dist.n
    k = min(tail, n)
    flat = s.ravel()
    from_top = np.cumsum(dist.counts[::-1])
    c_hi = int(dist.cells[::-1][int(np.searchsorted(from_top, k))])
    idx = np.flatnonzero(flat >= _f32_down(float(cell_lower_edge(c_hi))))
    idx = idx[~np.isin(idx, gflat)]
    high = _top(flat[idx].astype(np.float64), k)
    from_bottom = np.cumsum(dist.counts)
    c_lo = int(dist.cells[int(np.searchsorted(from_bottom, k))])
    idx = np.flatnonzero(flat <= _f32_up(float(cell_upper_edge(c_lo))))
    idx = idx[~np.isin(idx, gflat)]
    low = _bottom(flat[idx].astype(np.float64), k)
    return ScoreDistribution(dist.cells, dist.counts, low, high, tail)


@dataclass(frozen=True, eq=False)
class PairSummary:
    """Product of :class:`PairSummaries` for a set of blocks.

    ``ranges[block] = (lowest, highest cell)`` per side (``-1, -1`` when the block has none of
    that side): where a second look at a cell must recompute. ``mated_values`` maps a block to
    its mated ``(scores, subject codes)`` when they are kept.
    """

    mated: ScoreDistribution
    nonmated: ScoreDistribution
    ranges: dict = field(default_factory=dict)
    mated_values: dict | None = None


@dataclass(frozen=True)
class PairSummaries:
    """Pass 1: the score distributions of both sides (and the mated scores if ``keep_mated``)."""

    tail: int = DEFAULT_TAIL
    keep_mated: bool = True
    fast: bool = True

    def key(self) -> str:
        return _key("PairSummaries", self.tail, self.keep_mated)

    def __call__(self, blk: Block) -> PairSummary:
        g, gu = blk.mated()
        gd = _summary(g, self.tail)
        use_fast = (
            self.fast
            and not blk.diagonal
            and blk.scores.dtype == np.float32
            and blk.n_nonmated() > 4 * self.tail
        )
        if use_fast:
            idist = _fast_nonmated_distribution(blk, self.tail)
        else:
            v = blk.nonmated_scores()
            idist = _summary(v, self.tail)
            del v

        def rng(d: ScoreDistribution) -> tuple[int, int]:
            return (int(d.cells[0]), int(d.cells[-1])) if d.cells.size else (-1, -1)

        ranges = {blk.block_id: (*rng(gd), *rng(idist))}
        kept = {blk.block_id: (g, gu.astype(np.int32))} if self.keep_mated else None
        return PairSummary(gd, idist, ranges, kept)

    def merge(self, a: PairSummary, b: PairSummary) -> PairSummary:
        kept = None
        if a.mated_values is not None and b.mated_values is not None:
            kept = {**a.mated_values, **b.mated_values}
        return PairSummary(
            a.mated.merge(b.mated), a.nonmated.merge(b.nonmated), {**a.ranges, **b.ranges}, kept
        )


def _side(blk: Block, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if side == "mated":
        g, gu = blk.mated()
        return g, gu, gu
    return blk.nonmated()


@dataclass(frozen=True, eq=False)
class CellValues:
    """Exact scores of ``side`` that fall in ``cells``: ``(values f64, probe, reference codes)``.

    Only the scores inside the cells' overall value range are looked at (a comparison of the
    matrix in its own dtype, with bounds widened to that dtype), then binned exactly.
    """

    side: str
    cells: np.ndarray

    def key(self) -> str:
        return _key("CellValues", self.side, np.asarray(self.cells, dtype=np.int64))

    def __call__(self, blk: Block):
        cells = np.asarray(self.cells, dtype=np.int64)
        lo = float(cell_lower_edge(cells.min()))
        hi = float(cell_upper_edge(cells.max()))
        if self.side == "mated":
            v, u, _ = _side(blk, "mated")
            ru = u
        else:
            s = blk.scores
            if s.dtype == np.float32:
                lo_d, hi_d = _f32_down(lo), _f32_up(hi)
            else:
                lo_d, hi_d = lo, hi
            r, c = s.shape
            idx = np.flatnonzero((s >= lo_d) & (s <= hi_d))
            i, j = np.divmod(idx, c)
            keep = np.ones(idx.size, dtype=bool)
            if blk.diagonal:
                keep &= i < j
            gi, gj = blk.mated_index
            if gi.size:
                keep &= ~np.isin(idx, gi * c + gj)
            idx, i, j = idx[keep], i[keep], j[keep]
            v, u, ru = s.ravel()[idx].astype(np.float64), blk.row_codes[i], blk.col_codes[j]
        v = np.asarray(v, dtype=np.float64)
        hit = np.isin(cells_of(v), cells)
        return v[hit], np.asarray(u)[hit].astype(np.int32), np.asarray(ru)[hit].astype(np.int32)

    def merge(self, a, b):
        return tuple(np.concatenate([x, y]) for x, y in zip(a, b, strict=True))


@dataclass(frozen=True, eq=False)
class UnitCountsGE:
    """Per-unit ``[comparisons, scores >= t_1, ...]`` of ``side`` (see
    :func:`faceaudit.stats.bootstrap.unit_counts_ge`); units are probe subjects."""

    side: str
    thresholds: np.ndarray
    n_units: int

    def key(self) -> str:
        return _key(
            "UnitCountsGE", self.side, np.asarray(self.thresholds, np.float64), self.n_units
        )

    def __call__(self, blk: Block) -> np.ndarray:
        from faceaudit.stats.bootstrap import unit_counts_ge

        v, u, _ = _side(blk, self.side)
        return unit_counts_ge(ScoreSet(np.asarray(v), units=u), self.thresholds, self.n_units)

    def merge(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b


@dataclass(frozen=True, eq=False)
class PairUnitCountsGE:
    """Two-way table of the non-mated side: for each threshold column ``j`` (column 0: all
    comparisons, column ``j >= 1``: scores ``>= t_j``) a sparse ``(n_units, n_units)`` matrix of
    counts by (probe subject, reference subject) — what a two-way subject bootstrap weights by
    the product of the two subjects' multiplicities."""

    thresholds: np.ndarray
    n_units: int

    def key(self) -> str:
        return _key("PairUnitCountsGE", np.asarray(self.thresholds, np.float64), self.n_units)

    def __call__(self, blk: Block) -> list:
        from scipy import sparse

        v, u, ru = blk.nonmated()
        n = self.n_units
        key = u.astype(np.int64) * n + ru.astype(np.int64)
        out = []
        for j in range(len(self.thresholds) + 1):
            k = key if j == 0 else key[v >= _at_least(v.dtype, self.thresholds[j - 1])]
            cells, counts = np.unique(k, return_counts=True)
            out.append(
                sparse.csr_matrix((counts.astype(np.int64), (cells // n, cells % n)), shape=(n, n))
            )
        return out

    def merge(self, a: list, b: list) -> list:
        return [x + y for x, y in zip(a, b, strict=True)]


def _at_least(dtype: np.dtype, t: float):
    """The threshold in ``dtype`` such that ``x >= it`` iff ``float64(x) >= t``."""
    return _f32_up(float(t)) if np.dtype(dtype) == np.float32 else np.float64(t)


@dataclass(frozen=True, eq=False)
class UnitCellHistograms:
    """Per-unit counts of ``side`` in the grid ``cells`` (a sparse ``(n_units, len(cells))``
    matrix, see :func:`faceaudit.stats.bootstrap.unit_cell_histograms`)."""

    side: str
    cells: np.ndarray
    n_units: int

    def key(self) -> str:
        return _key("UnitCellHistograms", self.side, np.asarray(self.cells, np.int64), self.n_units)

    def __call__(self, blk: Block):
        from scipy import sparse

        from faceaudit.stats.bootstrap import UnitTable, unit_cell_histograms

        v, u, _ = _side(blk, self.side)
        if np.asarray(v).size == 0:
            empty = sparse.csr_matrix((self.n_units, len(self.cells)), dtype=np.float64)
            return UnitTable(empty)
        return unit_cell_histograms(ScoreSet(np.asarray(v), units=u), self.cells, self.n_units)

    def merge(self, a, b):
        return a.merge(b)


@dataclass(frozen=True, eq=False)
class GroupTables:
    """Demographic tables at ``threshold``: ``(negatives (n_units, R, 2), positives (n_units, 2))``
    as :func:`faceaudit.stats.groups.group_counts` makes them (negatives split by the reference's
    group when ``by_reference``)."""

    threshold: float
    group_of_unit: np.ndarray
    n_groups: int
    by_reference: bool = True

    def key(self) -> str:
        g = np.asarray(self.group_of_unit, dtype=np.int64)
        return _key("GroupTables", float(self.threshold), g, self.n_groups, self.by_reference)

    def __call__(self, blk: Block):
        from faceaudit.stats.groups import unit_error_counts

        gou = np.asarray(self.group_of_unit, dtype=np.int64)
        n_units = gou.size
        v, u, ru = blk.nonmated()
        neg = unit_error_counts(
            ScoreSet(v, units=u),
            self.threshold,
            n_units,
            reference_units=ru if self.by_reference else None,
            group_of_unit=gou if self.by_reference else None,
            n_groups=self.n_groups,
        )
        g, gu = blk.mated()
        pos = unit_error_counts(ScoreSet(g, units=gu), self.threshold, n_units, errors_below=True)
        return neg, pos[:, 0, :]

    def merge(self, a, b):
        return a[0] + b[0], a[1] + b[1]
