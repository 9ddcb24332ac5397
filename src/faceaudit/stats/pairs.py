"""Count tables of score intervals, per subject or per (probe subject, reference subject) cell.

The bootstrap's per-unit tables (:mod:`faceaudit.stats.bootstrap`) for comparisons that involve
**two** people. A non-mated comparison of probe subject ``p`` and reference subject ``r`` is
counted in cell ``(p, r)`` of a table (one table per score interval); a bootstrap replicate that
draws subject ``s`` ``w_s`` times weights the comparison by ``w_p * w_r`` (both people are
resampled: the ISO/IEC 19795-1 subsets bootstrap extended to crossed designs, cf. Poh, Martin &
Bengio 2007; Owen 2007, "the pigeonhole bootstrap"), so the replicate's count in an interval is
the quadratic form ``w^T E w`` of that interval's table ``E``: a weighted merge of the cells.
With one subject per comparison (mated comparisons, 1:N searches, the probe-only fallback) the
table has one row per subject and the replicate is ``w^T e``.

Tables of disjoint blocks of comparisons add up (the counting pass adds its chunks' tables).
A table is held dense (``n x n``, one matrix product per batch of replicates) when it is small
enough and holds many comparisons, sparse (a CSR matrix of the occupied cells) otherwise; both give
the same exact integer counts.

References
----------
N. Poh, A. Martin, S. Bengio, "Performance generalization in biometric authentication using joint
user-specific and sample bootstraps", IEEE TPAMI 29(3), 2007.
A. B. Owen, "The pigeonhole bootstrap", Annals of Applied Statistics 1(2), 2007.
"""

from __future__ import annotations

import numpy as np

from faceaudit.stats.distribution import map_chunks
from faceaudit.stats.scoreset import ScoreSet

__all__ = ["DENSE_CELLS", "IntervalTables", "replicate_grouped", "slot_counts"]

#: Largest two-way table (probe x reference cells) ever held dense (128 MB of float64).
DENSE_CELLS = 1 << 24
#: A two-way interval is held dense when its comparisons exceed this share of its cells (a matrix
#: product costs about this much less per cell than a sparse one per comparison).
DENSE_SHARE = 1.0 / 32.0
#: Scores per chunk of the counting pass.
_CHUNK = 1 << 20
#: Rows of a sparse replicate product held at once (rows x replicates x 8 bytes).
_ROW_CELLS = 1 << 23


class IntervalTables:
    """Per-unit (or per-cell) counts of the scores in some intervals between sorted cuts.

    Slot ``i`` of ``cuts`` (``c_1 < ... < c_k``) is ``(-inf, c_1)`` for ``i = 0``,
    ``[c_i, c_{i+1})`` for ``0 < i < k`` and ``[c_k, +inf]`` for ``i = k``. The tables count the
    scores of the ``wanted`` slots, in one pass; :meth:`replicate` gives their weighted counts.

    Parameters
    ----------
    scores : ScoreSet
        With ``units`` (subject codes in ``[0, n_units)``).
    cuts : sorted float array
    wanted : int array
        Slots to count, in increasing order.
    n_units : int
    reference_units : int array, optional
        Second subject of each score (two-way tables).
    approx_counts : array, optional
        Approximate number of scores in each wanted slot (decides dense or sparse).
    """

    def __init__(
        self,
        scores: ScoreSet,
        cuts: np.ndarray,
        wanted: np.ndarray,
        n_units: int,
        *,
        reference_units: np.ndarray | None = None,
        approx_counts: np.ndarray | None = None,
    ) -> None:
        self.n_units = S = int(n_units)
        self.two_way = reference_units is not None
        self.n_slots = int(len(wanted))
        cuts = np.asarray(cuts, dtype=np.float64)
        lookup = np.full(cuts.size + 1, -1, dtype=np.int64)
        lookup[np.asarray(wanted, dtype=np.int64)] = np.arange(self.n_slots)
        dense = np.zeros(self.n_slots, dtype=bool)
        if self.two_way and approx_counts is not None and S * S <= DENSE_CELLS:
            dense = np.asarray(approx_counts, dtype=np.float64) > DENSE_SHARE * S * S
        self.dense_slots = np.flatnonzero(dense)
        self.sparse_slots = np.flatnonzero(~dense)
        dense_pos = np.full(self.n_slots, -1, dtype=np.int64)
        dense_pos[self.dense_slots] = np.arange(self.dense_slots.size)
        self.dense = np.zeros((self.dense_slots.size, S * S)) if self.dense_slots.size else None
        self.counts = np.zeros(self.n_slots, dtype=np.int64)  # unweighted, exact
        units = scores.units
        refs = reference_units

        def work(start: int, x: np.ndarray):
            idx = lookup[np.searchsorted(cuts, x, side="right")]
            sel = np.flatnonzero(idx >= 0)
            j = idx[sel]
            u = np.asarray(units[start : start + x.size], dtype=np.int64)[sel]
            part_counts = np.bincount(j, minlength=self.n_slots)
            if not self.two_way:
                return part_counts, _unique_counts(j * S + u), None
            r = np.asarray(refs[start : start + x.size], dtype=np.int64)[sel]
            cell = u * S + r
            is_dense = dense[j]
            dj = j[is_dense]
            parts = (dense_pos[dj] * (S * S) + cell[is_dense]) if dj.size else None
            keep = ~is_dense
            return part_counts, _unique_counts(j[keep] * (S * S) + cell[keep]), parts

        keys, vals, dense_keys = [], [], []
        for part_counts, (k_, v_), dense_part in map_chunks(
            scores.scores, work, chunk_size=min(scores.chunk_size, _CHUNK)
        ):
            self.counts += part_counts
            keys.append(k_)
            vals.append(v_)
            if dense_part is not None and len(dense_part):
                dense_keys.append(dense_part)
        if self.dense is not None and dense_keys:
            flat = np.bincount(np.concatenate(dense_keys), minlength=self.dense.size)
            self.dense = flat.reshape(self.dense.shape).astype(np.float64)
            del flat, dense_keys
        key, val = _unique_counts(np.concatenate(keys) if keys else np.empty(0, np.int64),
                                  np.concatenate(vals) if vals else None)  # fmt: skip
        self._build_sparse(key, val)

    def _build_sparse(self, key: np.ndarray, val: np.ndarray) -> None:
        from scipy import sparse  # imported when a bootstrap runs, not with the package

        S = self.n_units
        if not self.two_way:
            slot, unit = np.divmod(key, S)
            self.one_way = sparse.csr_matrix(
                (val.astype(np.float64), (slot, unit)), shape=(self.n_slots, S)
            )
            return
        row_key, ref = np.divmod(key, S)  # row key = slot * S + probe unit
        rows, row_index = np.unique(row_key, return_inverse=True)
        self.row_slot, self.row_unit = np.divmod(rows, S)
        self.pairs = sparse.csr_matrix(
            (val.astype(np.float64), (row_index, ref)), shape=(rows.size, S)
        )

    @property
    def nnz(self) -> int:
        """Occupied cells of the sparse tables (the cost of a replicate, per replicate)."""
        return int(self.pairs.nnz if self.two_way else self.one_way.nnz)

    def replicate(self, weights: np.ndarray) -> np.ndarray:
        """``(b, n_slots)`` weighted counts for ``(b, n_units)`` multiplicities (exact)."""
        b = weights.shape[0]
        out = np.zeros((b, self.n_slots))
        if not self.two_way:
            if self.one_way.nnz:
                out[:] = np.asarray(self.one_way @ weights.T).T
            return out
        S = self.n_units
        for pos, k in enumerate(self.dense_slots):
            y = weights @ self.dense[pos].reshape(S, S)
            out[:, k] = np.einsum("bs,bs->b", y, weights)
        if self.pairs.nnz:
            wt = np.ascontiguousarray(weights.T)
            step = max(1, _ROW_CELLS // max(b, 1))
            n_rows = self.pairs.shape[0]
            for a in range(0, n_rows, step):
                e = min(n_rows, a + step)
                y = self.pairs[a:e] @ wt  # (rows, b): reference-weighted counts per row
                y *= wt[self.row_unit[a:e]]  # times the probe's weight
                slots = self.row_slot[a:e]
                starts = np.flatnonzero(np.r_[True, slots[1:] != slots[:-1]])
                out[:, slots[starts]] += np.add.reduceat(y, starts, axis=0).T
        return out


def replicate_grouped(
    tables: IntervalTables, weights: np.ndarray, group_of_unit: np.ndarray, n_groups: int
) -> np.ndarray:
    """``(b, n_slots, G, G)``: a two-way table's weighted counts split by (probe, reference) group.

    Cell ``(p, r)`` of group pair ``(g, h)`` weighs ``w_p * w_r``; the same weights serve every
    group pair, so ratios between groups get joint intervals.
    """
    if not tables.two_way:
        raise ValueError("group pairs need a two-way table")
    S, G, b = tables.n_units, int(n_groups), weights.shape[0]
    g = np.asarray(group_of_unit, dtype=np.int64)
    onehot = np.zeros((S, G))
    onehot[np.arange(S), g] = 1.0
    out = np.zeros((b, tables.n_slots, G, G))
    wt = np.ascontiguousarray(weights.T)
    members = [np.flatnonzero(g == h) for h in range(G)]
    for pos, k in enumerate(tables.dense_slots):
        e = tables.dense[pos].reshape(S, S)
        for h, idx in enumerate(members):
            if idx.size:
                x = e[:, idx] @ wt[idx]  # (S, b): reference-weighted counts of group h
                out[:, k, :, h] = (onehot.T @ (wt * x)).T
    if tables.pairs.nnz:
        rows_g = g[tables.row_unit]
        for h, idx in enumerate(members):
            if not idx.size:
                continue
            x = tables.pairs[:, idx] @ wt[idx]  # (rows, b)
            x *= wt[tables.row_unit]
            key = tables.row_slot * G + rows_g
            for kk in np.unique(key):
                sl, gg = divmod(int(kk), G)
                out[:, sl, gg, h] += x[key == kk].sum(axis=0)
    return out


def _unique_counts(keys: np.ndarray, counts: np.ndarray | None = None):
    """``(sorted distinct keys, their total counts)``."""
    if keys.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    uniq, inv = np.unique(keys, return_inverse=True)
    w = None if counts is None else counts
    return uniq, np.bincount(inv, weights=w, minlength=uniq.size).astype(np.int64)


def slot_counts(scores: ScoreSet, cuts: np.ndarray) -> np.ndarray:
    """Exact number of scores in every slot of ``cuts`` (see :class:`IntervalTables`), one pass."""
    cuts = np.asarray(cuts, dtype=np.float64)

    def work(_: int, x: np.ndarray) -> np.ndarray:
        return np.bincount(np.searchsorted(cuts, x, side="right"), minlength=cuts.size + 1)

    out = np.zeros(cuts.size + 1, dtype=np.int64)
    for part in map_chunks(scores.scores, work, chunk_size=min(scores.chunk_size, _CHUNK)):
        out += part
    return out
