"""Error counts split by demographic group at one fixed threshold, in one pass, with a bootstrap.

Central concept: a :class:`GroupCounts` table. One pass over each score set reduces it, at a
fixed threshold, to per-subject counts ``[comparisons, errors]``; the non-mated (negative) table is
also split by the *reference* subject's group, so one pass yields, for every group at once, the
within-group FMR, the FNMR and the whole cross-group FMR matrix (probe group x reference group).
These tables merge by addition (two disjoint blocks of scores give tables that add up), exactly
like the score summaries of :mod:`faceaudit.stats.distribution`, and a bootstrap replicate is a
weighted sum of their rows: nothing is re-read.

Conventions
-----------
- Higher score = more similar; a comparison matches when ``score >= threshold``. Negatives
  (non-mated comparisons; in 1:N the top score of each non-mated search) err when
  ``score >= threshold``; positives (mated comparisons; in 1:N the mate's score) err when
  ``score < threshold``.
- A negative belongs to its **probe** subject (the bootstrap unit, as in
  :mod:`faceaudit.stats.bootstrap`) and, for the cross-group split, carries the group of its
  reference subject. Within-group FMR of group ``g`` counts the negatives whose probe *and*
  reference are in ``g`` (NIST IR 8280, ISO/IEC 19795-10).
- Bootstrap: subjects are resampled with replacement **within their group** (a stratified
  subject bootstrap, :meth:`faceaudit.stats.bootstrap.Resampler.stratified`): each group keeps
  its number of subjects, and every group of a replicate uses the same draw, so ratios between
  groups get joint intervals. Thresholds stay fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceaudit.stats.bootstrap import Resampler, UnitTable
from faceaudit.stats.distribution import map_chunks
from faceaudit.stats.scoreset import ScoreSet

#: Scores per chunk of the counting pass (bounds its memory: ~20 bytes per score in flight).
_PASS_CHUNK = 1 << 20

__all__ = [
    "GroupCounts",
    "gini",
    "group_counts",
    "unit_error_counts",
]


def unit_error_counts(
    scores: ScoreSet,
    threshold: float,
    n_units: int,
    *,
    errors_below: bool = False,
    reference_units: np.ndarray | None = None,
    group_of_unit: np.ndarray | None = None,
    n_groups: int = 1,
) -> np.ndarray:
    """Per-unit ``[comparisons, errors]`` at ``threshold``, optionally split by reference group.

    Parameters
    ----------
    scores : ScoreSet
        Scores with ``units`` (subject codes in ``[0, n_units)``).
    threshold : float
        In the scores' (similarity-oriented) units.
    n_units : int
    errors_below : bool
        False: an error is ``score >= threshold`` (negatives); True: ``score < threshold``
        (positives).
    reference_units : int array, optional
        The reference subject code of each score (same length as ``scores``); with
        ``group_of_unit`` it splits the counts by the reference's group.
    group_of_unit : int array, optional
        Group code of each unit, in ``[0, n_groups)``.
    n_groups : int

    Returns
    -------
    ndarray of int64, shape ``(n_units, R, 2)``
        ``R = n_groups`` when split by reference group, else 1; ``[..., 0]`` comparisons,
        ``[..., 1]`` errors. One pass over the scores (chunked, on up to 2 threads).
    """
    if scores.units is None:
        raise ValueError("group counts need the subject (unit) of every score")
    split = reference_units is not None
    if split and group_of_unit is None:
        raise ValueError("reference_units need group_of_unit")
    R = n_groups if split else 1
    t = np.float64(threshold)
    if np.isnan(t):
        raise ValueError("threshold is NaN")
    units = scores.units
    size = n_units * R * 2
    kind = np.int32 if size < 2**31 else np.int64  # half the memory and bandwidth when it fits
    lookup = None if not split else np.asarray(group_of_unit, dtype=kind)

    def work(start: int, x: np.ndarray) -> np.ndarray:
        # ``x`` keeps the array's dtype (no float64 copy); ``t`` is a float64 scalar, so the
        # comparison is made in float64, exactly as the engine's counts are.
        stop = start + x.size
        err = (x < t) if errors_below else (x >= t)
        key = np.asarray(units[start:stop]).astype(kind)  # a copy: never modify the caller's
        if R > 1:
            key *= R
        if split:
            key += lookup[np.asarray(reference_units[start:stop])]
        key *= 2
        key += err
        return np.bincount(key, minlength=size)

    table = np.zeros(size, dtype=np.int64)
    chunk = min(scores.chunk_size, _PASS_CHUNK)
    for part in map_chunks(scores.scores, work, chunk_size=chunk, raw=True):
        table += part
    table = table.reshape(n_units, R, 2)
    out = np.empty_like(table)
    out[..., 0] = table.sum(axis=2)
    out[..., 1] = table[..., 1]
    return out


@dataclass(frozen=True, eq=False)
class GroupCounts:
    """Per-subject error counts at one threshold, and their sums by group.

    Attributes
    ----------
    negatives : ndarray, shape ``(n_units, R, 2)``
        Per probe subject (and reference group when ``R == n_groups``): ``[comparisons,
        errors]`` of the negatives (non-mated comparisons / non-mated searches).
    positives : ndarray, shape ``(n_units, 2)``
        Per subject: ``[comparisons, errors]`` of the positives (mated comparisons / mated
        searches).
    group_of_unit : ndarray of int, shape ``(n_units,)``
    n_groups : int
    by_reference : bool
        Whether the negatives are split by reference group (``R == n_groups``; a cross-group
        matrix exists) or not (``R == 1``: 1:N, where a search has no single reference).
    """

    negatives: np.ndarray
    positives: np.ndarray
    group_of_unit: np.ndarray
    n_groups: int
    by_reference: bool = True

    @property
    def n_units(self) -> int:
        return int(self.group_of_unit.size)

    def merge(self, other: GroupCounts) -> GroupCounts:
        """Counts of two disjoint blocks of scores over the same subjects and groups."""
        if (
            other.negatives.shape != self.negatives.shape
            or other.n_groups != self.n_groups
            or not np.array_equal(other.group_of_unit, self.group_of_unit)
        ):
            raise ValueError("group counts of different shapes do not merge")
        return GroupCounts(
            self.negatives + other.negatives,
            self.positives + other.positives,
            self.group_of_unit,
            self.n_groups,
            self.by_reference,
        )

    def active_units(self) -> np.ndarray:
        """Units with at least one comparison (the ones a bootstrap resamples)."""
        return (self.negatives[..., 0].sum(axis=1) + self.positives[:, 0]) > 0

    def strata(self) -> np.ndarray:
        """Group of each active unit, -1 for units without comparisons."""
        return np.where(self.active_units(), self.group_of_unit, -1)

    def resampler(self, n_boot: int, seed: int = 0) -> Resampler:
        """The stratified subject bootstrap of these counts: active units within their group."""
        return Resampler.stratified(self.strata(), n_boot, seed)

    def totals(self) -> tuple[np.ndarray, np.ndarray]:
        """``(negatives (G, R, 2), positives (G, 2))`` summed over each probe group's subjects."""
        neg = np.zeros((self.n_groups,) + self.negatives.shape[1:], dtype=np.int64)
        pos = np.zeros((self.n_groups, 2), dtype=np.int64)
        np.add.at(neg, self.group_of_unit, self.negatives)
        np.add.at(pos, self.group_of_unit, self.positives)
        return neg, pos

    def replicate_totals(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted totals for a ``(b, n_units)`` batch: ``(b, G, R, 2)`` and ``(b, G, 2)``.

        A weighted merge of the per-subject tables within each probe group.
        """
        b = weights.shape[0]
        R = self.negatives.shape[1]
        neg = UnitTable(self.negatives.reshape(self.n_units, R * 2).astype(np.float64))
        pos = UnitTable(self.positives.astype(np.float64))
        g, G = self.group_of_unit, self.n_groups
        neg_b = neg.replicate_by(weights, g, G).reshape(b, G, R, 2)
        return neg_b, pos.replicate_by(weights, g, G)


def group_counts(
    negatives: ScoreSet,
    positives: ScoreSet,
    threshold: float,
    group_of_unit: np.ndarray,
    n_groups: int,
    *,
    negative_reference_units: np.ndarray | None = None,
) -> GroupCounts:
    """One pass over each score set: per-subject counts at ``threshold``, split by group.

    ``negatives.units`` / ``positives.units`` are subject codes indexing ``group_of_unit``.
    With ``negative_reference_units`` (the reference subject of each negative) the negatives are
    also split by the reference's group, giving within-group and cross-group counts.
    """
    group_of_unit = np.asarray(group_of_unit, dtype=np.int64)
    n_units = group_of_unit.size
    neg = unit_error_counts(
        negatives,
        threshold,
        n_units,
        reference_units=negative_reference_units,
        group_of_unit=group_of_unit if negative_reference_units is not None else None,
        n_groups=n_groups,
    )
    pos = unit_error_counts(positives, threshold, n_units, errors_below=True)[:, 0, :]
    return GroupCounts(neg, pos, group_of_unit, int(n_groups), negative_reference_units is not None)


def gini(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gini coefficient with the small-sample correction ``n / (n - 1)``, along ``axis``.

    ``G = n / (n - 1) * sum_i sum_j |x_i - x_j| / (2 n^2 mean(x))``: 0 when all values are
    equal, 1 when one holds everything. This is the form Howard et al. (2022) use for GARBE.
    NaN when ``n < 2`` or the mean is 0.
    """
    x = np.moveaxis(np.asarray(values, dtype=np.float64), axis, -1)
    n = x.shape[-1]
    if n < 2:
        return np.full(x.shape[:-1], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):  # scale-free: on x / max(x), so that
        top = np.max(x, axis=-1, keepdims=True)  # subnormal rates keep their precision
        x = np.where(top > 0, x / np.where(top > 0, top, 1.0), x)
    diff = np.abs(x[..., :, None] - x[..., None, :]).sum(axis=(-1, -2))
    mean = x.mean(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = n / (n - 1) * diff / (2 * n * n * mean)
    return np.where(mean > 0, g, np.nan)
