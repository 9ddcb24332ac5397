"""Shared parts of the quality-discard statistics (:mod:`~faceaudit.stats.edc`, gates).

Input checks, quality levels (ties never split), per-subject count tables whose weighted row sums
are bootstrap replicates, and percentile intervals. Conventions: :mod:`faceaudit.stats.edc`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from faceaudit.errors import InputError

DEFAULT_MAX_LEVELS = 4096
#: Elements of a (replicate x subject-pair) weight block computed at once (two-way bootstrap).
_BLOCK = 1 << 22


def check_fraction(name: str, value: float, *, zero_allowed: bool = True) -> float:
    """A share in ``[0, 1)`` (or ``(0, 1)`` when zero is not allowed), else InputError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    ok = (0.0 <= v < 1.0) if zero_allowed else (0.0 < v < 1.0)
    if not ok:
        span = "0 <= share < 1" if zero_allowed else "0 < share < 1"
        raise InputError(f"{name}={value!r} must be a share with {span}.")
    return v


def check_confidence(confidence: float) -> float:
    """A confidence level in ``(0, 1)``, else InputError."""
    try:
        c = float(confidence)
    except (TypeError, ValueError):
        c = float("nan")
    if not 0.0 < c < 1.0:
        raise InputError(f"confidence={confidence!r} must be between 0 and 1 (e.g. 0.95).")
    return c


def comparison_errors(mated, *, scores=None, threshold=None, errors=None) -> np.ndarray:
    """Per-comparison error indicators: given, or from scores at a fixed threshold."""
    m = np.asarray(mated, dtype=bool)
    if (errors is None) == (scores is None):
        raise ValueError("give either errors, or scores with a threshold")
    if errors is not None:
        err = np.asarray(errors)
        if err.dtype != bool and not np.isin(err, (0, 1)).all():
            raise ValueError("errors must be booleans (or 0/1)")
        err = err.astype(bool)
    else:
        if threshold is None or not math.isfinite(float(threshold)):
            raise InputError(f"threshold={threshold!r} must be a finite score.")
        s = np.asarray(scores, dtype=np.float64)
        if np.isnan(s).any():
            raise ValueError(
                "scores hold NaN; resolve failures to acquire first (count them in errors=)"
            )
        t = float(threshold)
        err = np.where(m, s < t, s >= t)
    if err.shape != m.shape:
        raise ValueError("errors (or scores) and mated must have one entry per comparison")
    return err


def quality_array(quality, n: int) -> np.ndarray:
    """Quality as float64 with NaN and -inf mapped to -inf (ranked lowest); +inf refused."""
    q = np.asarray(quality, dtype=np.float64)
    if q.shape != (n,):
        raise ValueError(f"quality must have one value per comparison ({n}), got {q.shape}")
    if np.isposinf(q).any():
        raise InputError("quality holds +inf; give finite quality scores (NaN = not assessed).")
    return np.where(np.isnan(q), -np.inf, q)


def subject_codes(subjects, n: int, name: str = "subjects") -> np.ndarray:
    u = np.asarray(subjects)
    if u.shape != (n,) or (u.size and (not np.issubdtype(u.dtype, np.integer) or u.min() < 0)):
        raise ValueError(f"{name} must be {n} subject codes (integers >= 0)")
    return u.astype(np.int64)


@dataclass(frozen=True)
class Levels:
    """Distinct quality levels (ascending; level 0 may be -inf) and each comparison's level."""

    values: np.ndarray
    codes: np.ndarray

    @property
    def size(self) -> int:
        return int(self.values.size)

    def threshold(self, gate: int) -> float | None:
        """The quality a comparison needs to be kept at ``gate`` (None: everything is kept)."""
        return None if gate <= 0 else float(self.values[gate])


def quality_levels(q: np.ndarray, max_levels: int = DEFAULT_MAX_LEVELS) -> Levels:
    """Levels of ``q`` (from :func:`quality_array`), pooled into at most ``max_levels`` groups."""
    if isinstance(max_levels, bool) or int(max_levels) < 2:
        raise InputError(f"max_levels={max_levels!r} must be a whole number >= 2.")
    values, codes = np.unique(q, return_inverse=True)
    if values.size <= max_levels:
        return Levels(values, codes.astype(np.int64))
    counts = np.bincount(codes, minlength=values.size)
    before = np.concatenate([[0], np.cumsum(counts)[:-1]])
    targets = q.size * np.arange(1, max_levels) / max_levels
    starts = np.unique(np.concatenate([[0], np.searchsorted(before, targets, side="left")]))
    starts = starts[starts < values.size]
    group = np.searchsorted(starts, np.arange(values.size), side="right") - 1
    return Levels(values[starts], group[codes].astype(np.int64))


class UnitTable:
    """Per-unit counts by column, sparse ``(units, columns)``; replicates are weighted row sums.

    ``units`` is one code per comparison, or a pair of codes (two-way: a comparison's weight is the
    product of its two units' multiplicities).
    """

    def __init__(self, units, columns: np.ndarray, values: np.ndarray, n_cols: int, n_units: int):
        from scipy import sparse

        self.two_way = isinstance(units, tuple)
        if self.two_way:
            a, b = units
            if (a.size and a.max() >= n_units) or (b.size and b.max() >= n_units):
                raise ValueError(f"subject codes must be below the weights' {n_units} columns")
            pairs, row = np.unique(a * n_units + b, return_inverse=True)
            self.left, self.right = pairs // n_units, pairs % n_units
            n_rows = pairs.size
        else:
            if units.size and units.max() >= n_units:
                raise ValueError(f"subject codes must be below the weights' {n_units} columns")
            row, n_rows = units, n_units
        self.matrix = sparse.csr_matrix(
            (values.astype(np.float64), (row, columns)), shape=(n_rows, n_cols)
        )

    def replicate(self, w: np.ndarray) -> np.ndarray:
        """``(b, columns)`` weighted totals for multiplicities ``w`` of shape ``(b, n_units)``."""
        if not self.two_way:
            return np.asarray(self.matrix.T @ w.T).T
        step = max(1, _BLOCK // max(1, self.left.size))
        parts = []
        for s in range(0, w.shape[0], step):
            ww = w[s : s + step]
            pw = ww[:, self.left] * ww[:, self.right]
            parts.append(np.asarray(self.matrix.T @ pw.T).T)
        return np.concatenate(parts, axis=0)


def weight_batches(weights: Iterable[np.ndarray]) -> Iterable[np.ndarray]:
    for w in weights:
        w = np.asarray(w, dtype=np.float64)
        if w.ndim != 2 or (w < 0).any():
            raise ValueError("weights must be (b, n_subjects) arrays of multiplicities >= 0")
        yield w


def interval(reps: np.ndarray, confidence: float) -> list[tuple[float, float] | None]:
    """Percentile interval of each column of ``reps`` (None where every replicate is NaN)."""
    out: list[tuple[float, float] | None] = []
    alpha = (1.0 - confidence) / 2.0
    for col in np.atleast_2d(reps.T):
        v = col[np.isfinite(col)]
        out.append(
            None
            if v.size == 0
            else (float(np.quantile(v, alpha)), float(np.quantile(v, 1 - alpha)))
        )
    return out
