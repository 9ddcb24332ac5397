"""The error-versus-discard characteristic (EDC): does discarding low-quality samples cut errors?

ISO/IEC 29794-1:2024 and Schlett et al. (2023) evaluate a quality measure by what it does to the
error rates: discard the comparisons of lowest quality, a growing share at a time, and recompute
the error rates of those kept **at a threshold fixed beforehand** (on the full, clean data: the
threshold is not re-tuned). A quality measure that predicts errors gives a falling curve; one that
does not gives a flat curve (discarding at random leaves the expected error unchanged).

Conventions
-----------
- Higher score = more similar; a comparison matches when ``score >= threshold``. A mated
  comparison errs when ``score < threshold`` (false non-match), a non-mated one when
  ``score >= threshold`` (false match). In 1:N the same holds per search (``identification=True``
  names the rates FNIR and FPIR). Errors may also be given directly (``errors=``).
- **Pair quality** is the lower quality of the two images compared (:func:`pair_quality`): a pair
  is only as usable as its worse sample. Higher quality = better. NaN (not assessed) ranks lowest
  and is discarded first, as a quality gate would reject an image it cannot assess.
- **Discard fraction** ``f`` is a share of the comparisons of the same kind (mated for FNMR,
  non-mated for FMR): the FNMR-EDC and the FMR-EDC each discard their own lowest-quality share.
- **Ties** are never split: the gate is a quality threshold, and comparisons of equal quality are
  kept or discarded together. For a requested ``f`` the gate is the *largest realisable discard
  not above f* (comparisons with quality below the gate are discarded; the realised fraction is
  reported beside the requested one). The result does not depend on the input order. With more
  than ``max_levels`` distinct quality values, neighbouring values are pooled into at most
  ``max_levels`` groups of about equal size (boundaries between distinct values, never inside a
  tie), which bounds the bootstrap's memory; the gate then moves between groups.
- The curve is a step function: the error rate at realised discard ``d_g`` holds until the next
  realisable ``d_{g+1}``. **pAUC** is its exact area from 0 to ``pauc_limit`` (default 0.20, i.e.
  20% discarded). Two references come with it: ``random``: ``e0 * limit``, the expected area when
  quality carries no information; ``best``: the area under the theoretical best curve (all errors
  discarded first), ``integral_0^m (e0 - x) / (1 - x) dx = m + (1 - e0) ln(1 - m)``,
  ``m = min(limit, e0)``. A useful quality measure has ``pauc`` well below ``random``.
- **Bootstrap** (DESIGN "one bootstrap"): per-comparison subject codes and an iterator of
  ``(b, n_subjects)`` multiplicity matrices (the shape ``Resampler.weight_batches()`` yields). A
  mated comparison belongs to its subject; a non-mated one to its probe subject, or, given
  ``reference_subjects``, to both (its weight is the product of the two multiplicities). Each set
  is reduced once to per-subject counts by quality level (sparse, ``n_subjects x levels``); a
  replicate's counts are the weighted sum of those rows, and the gate for each ``f`` is re-chosen
  inside each replicate (an operating point chosen on the data is re-chosen per replicate).
  Intervals are percentile intervals; a rate with no error gets the rule-of-3 bound
  (:func:`faceaudit.stats.estimate.make_rate`).

References
----------
T. Schlett, C. Rathgeb, J. Tapia, C. Busch, "Considerations on the evaluation of biometric
quality assessment algorithms", IEEE T-BIOM 6(1), 2024 (arXiv 2023). ISO/IEC 29794-1:2024,
Biometric sample quality - Part 1: Framework. P. Grother, E. Tabassi, "Performance of biometric
quality measures", IEEE TPAMI 29(4), 2007.

Examples
--------
>>> q = np.array([1.0, 2.0, 2.0, 3.0])
>>> res = error_vs_discard(q, np.ones(4, bool), errors=np.array([1, 1, 0, 0], bool),
...                        discard=[0.0, 0.5], pauc_limit=0.5)
>>> [(p.discard, p.rate.count, p.rate.n) for p in res.mated.points]
[(0.0, 2, 4), (0.25, 1, 3)]
>>> round(res.mated.pauc, 6)   # 0.5 * 0.25 + (1/3) * 0.25
0.208333
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from faceaudit.errors import InputError
from faceaudit.stats._discard import (
    DEFAULT_MAX_LEVELS,
    UnitTable,
    check_confidence,
    check_fraction,
    comparison_errors,
    interval,
    quality_array,
    quality_levels,
    subject_codes,
    weight_batches,
)
from faceaudit.stats.estimate import Rate, make_rate

__all__ = [
    "DEFAULT_DISCARD",
    "DEFAULT_MAX_LEVELS",
    "DEFAULT_PAUC_LIMIT",
    "EdcCurve",
    "EdcPoint",
    "EdcResult",
    "error_vs_discard",
    "pair_quality",
]

#: Discard fractions evaluated by default: every 1% to 20%, then 25, 30, 40, 50%.
DEFAULT_DISCARD = tuple(round(0.01 * i, 2) for i in range(21)) + (0.25, 0.30, 0.40, 0.50)
DEFAULT_PAUC_LIMIT = 0.20
#: Relative slack when comparing a discarded count with ``f * n`` (float weights in replicates).
_TOL = 1e-9


def pair_quality(probe_quality, reference_quality) -> np.ndarray:
    """The quality of each comparison: the lower of its two images' (NaN if either is NaN)."""
    return np.minimum(np.asarray(probe_quality, float), np.asarray(reference_quality, float))


# ---------------------------------------------------------------------------------------------
# The curve from level totals (one function for the estimate and every replicate)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Evaluated:
    gate: np.ndarray  # (b, K) gate level per requested fraction
    discarded: np.ndarray  # (b, K)
    kept: np.ndarray  # (b, K)
    errors: np.ndarray  # (b, K) errors among kept
    pauc: np.ndarray  # (b,)
    step_discard: np.ndarray  # (b, L) realised discard fraction at each gate
    step_rate: np.ndarray  # (b, L)


def evaluate(n_l: np.ndarray, e_l: np.ndarray, fractions: np.ndarray, limit: float) -> _Evaluated:
    """The EDC of level totals ``n_l``, ``e_l`` (shape ``(b, L)``) at ``fractions``."""
    n_l = np.atleast_2d(np.asarray(n_l, dtype=np.float64))
    e_l = np.atleast_2d(np.asarray(e_l, dtype=np.float64))
    b, L = n_l.shape
    total = n_l.sum(axis=1, keepdims=True)
    zeros = np.zeros((b, 1))
    disc = np.concatenate([zeros, np.cumsum(n_l, axis=1)[:, :-1]], axis=1)  # before gate g
    kept = total - disc
    err_kept = e_l.sum(axis=1, keepdims=True) - np.concatenate(
        [zeros, np.cumsum(e_l, axis=1)[:, :-1]], axis=1
    )
    target = fractions[None, :] * total + _TOL * np.maximum(total, 1.0)
    gate = np.empty((b, fractions.size), dtype=np.int64)
    for r in range(b):
        gate[r] = np.searchsorted(disc[r], target[r], side="right") - 1
    rows = np.arange(b)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(total > 0, disc / total, np.nan)
        rate = np.where(kept > 0, err_kept / np.where(kept > 0, kept, 1.0), np.nan)
    d_next = np.concatenate([d[:, 1:], np.ones((b, 1))], axis=1)
    width = np.clip(d_next, None, limit) - np.clip(d, None, limit)
    width = np.where(np.isfinite(width), np.maximum(width, 0.0), 0.0)
    pauc = np.where(total[:, 0] > 0, (np.nan_to_num(rate) * width).sum(axis=1), np.nan)
    return _Evaluated(gate, disc[rows, gate], kept[rows, gate], err_kept[rows, gate], pauc, d, rate)


def _pauc_best(e0: float, limit: float) -> float:
    m = min(limit, e0)
    if m <= 0.0:
        return 0.0
    if m >= 1.0:
        return 1.0
    return float(m + (1.0 - e0) * math.log1p(-m))


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EdcPoint:
    """The error rate after discarding (up to) ``discard_target`` of the lowest-quality pairs.

    ``discard`` is the share actually discarded (ties are never split), ``quality_threshold`` the
    pair quality a comparison needed to be kept (None: nothing discarded), ``rate`` the errors
    among the kept comparisons at the fixed threshold, with its interval.
    """

    discard_target: float
    discard: float
    quality_threshold: float | None
    rate: Rate

    def to_json(self) -> dict:
        return {
            "discard_target": self.discard_target,
            "discard": self.discard,
            "quality_threshold": self.quality_threshold,
            "kept": int(self.rate.n),
            "rate": self.rate.to_json(),
        }


@dataclass(frozen=True)
class EdcCurve:
    """One EDC (FNMR or FMR; FNIR or FPIR): points, the whole step curve, and its pAUC.

    Attributes
    ----------
    error : str
        ``"fnmr"``, ``"fmr"``, ``"fnir"`` or ``"fpir"``.
    n : int
        Comparisons (or searches) of this kind.
    points : tuple of EdcPoint
        One per requested discard fraction.
    pauc, pauc_ci : float, (low, high) or None
        Area under the step curve from 0 to ``pauc_limit``, and its bootstrap interval.
    pauc_random, pauc_best : float
        ``e0 * pauc_limit`` and the theoretical best area (module docstring).
    steps : tuple of (discard, rate, quality_threshold)
        The step curve at every realisable gate (for figures).
    """

    error: str
    n: int
    points: tuple[EdcPoint, ...]
    pauc: float
    pauc_ci: tuple[float, float] | None
    pauc_random: float
    pauc_best: float
    pauc_limit: float
    steps: tuple[tuple[float, float, float | None], ...]

    def to_json(self) -> dict:
        return {
            "error": self.error,
            "n": int(self.n),
            "points": [p.to_json() for p in self.points],
            "pauc": {
                "limit": self.pauc_limit,
                "value": self.pauc,
                "ci": None if self.pauc_ci is None else list(self.pauc_ci),
                "random": self.pauc_random,
                "best": self.pauc_best,
            },
            "steps": {
                "discard": [s[0] for s in self.steps],
                "rate": [s[1] for s in self.steps],
                "quality_threshold": [s[2] for s in self.steps],
            },
        }


@dataclass(frozen=True)
class EdcResult:
    """The EDCs of one quality measure on one data set at one fixed threshold.

    ``mated`` (FNMR/FNIR) and ``nonmated`` (FMR/FPIR) are None when there is no comparison of that
    kind. ``n_boot`` is 0 without a bootstrap; ``bootstrap`` says what was resampled.
    """

    mated: EdcCurve | None
    nonmated: EdcCurve | None
    threshold: float | None
    confidence: float
    n_boot: int
    bootstrap: str | None
    max_levels: int

    def to_json(self) -> dict:
        """Plain JSON (no NaN): ``{threshold, pair_quality, ties, bootstrap, mated, nonmated}``."""
        return {
            "threshold": self.threshold,
            "pair_quality": "min",
            "ties": "never split: largest realisable discard not above the target",
            "max_levels": self.max_levels,
            "confidence": self.confidence,
            "bootstrap": {"replicates": self.n_boot, "unit": self.bootstrap},
            "mated": None if self.mated is None else self.mated.to_json(),
            "nonmated": None if self.nonmated is None else self.nonmated.to_json(),
        }


# ---------------------------------------------------------------------------------------------
# The computation
# ---------------------------------------------------------------------------------------------


class _Set:
    """One kind of comparison reduced to quality levels (and per-unit tables for the bootstrap)."""

    def __init__(self, label, q, err, units, n_units, max_levels):
        self.label = label
        self.levels = quality_levels(q, max_levels)
        L = self.levels.size
        codes = self.levels.codes
        self.n_l = np.bincount(codes, minlength=L).astype(np.float64)
        self.e_l = np.bincount(codes, weights=err.astype(np.float64), minlength=L)
        self.table = None
        if units is not None:
            cols = np.concatenate([codes, L + codes[err]])
            unit = units if not isinstance(units, tuple) else None
            if unit is not None:
                rows = np.concatenate([unit, unit[err]])
            else:
                rows = (
                    np.concatenate([units[0], units[0][err]]),
                    np.concatenate([units[1], units[1][err]]),
                )
            self.table = UnitTable(rows, cols, np.ones(cols.size), 2 * L, n_units)
        self.reps_rate: list[np.ndarray] = []
        self.reps_pauc: list[np.ndarray] = []

    def add_replicates(self, w, fractions, limit) -> None:
        L = self.levels.size
        tot = self.table.replicate(w)
        ev = evaluate(tot[:, :L], tot[:, L:], fractions, limit)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.reps_rate.append(np.where(ev.kept > 0, ev.errors / ev.kept, np.nan))
        self.reps_pauc.append(ev.pauc)

    def curve(self, fractions, limit, confidence) -> EdcCurve:
        ev = evaluate(self.n_l, self.e_l, fractions, limit)
        total = float(self.n_l.sum())
        cis: list = [None] * fractions.size
        pauc_ci = None
        if self.reps_rate:
            cis = interval(np.concatenate(self.reps_rate), confidence)
            pauc_ci = interval(np.concatenate(self.reps_pauc)[:, None], confidence)[0]
        points = tuple(
            EdcPoint(
                float(fractions[k]),
                float(ev.discarded[0, k] / total),
                self.levels.threshold(int(ev.gate[0, k])),
                make_rate(
                    int(round(ev.errors[0, k])),
                    int(round(ev.kept[0, k])),
                    cis[k],
                    confidence=confidence,
                ),
            )
            for k in range(fractions.size)
        )
        e0 = float(self.e_l.sum() / total)
        steps = tuple(
            (float(ev.step_discard[0, g]), float(ev.step_rate[0, g]), self.levels.threshold(g))
            for g in range(self.levels.size)
        )
        return EdcCurve(
            self.label,
            int(total),
            points,
            float(ev.pauc[0]),
            pauc_ci,
            e0 * limit,
            _pauc_best(e0, limit),
            limit,
            steps,
        )


def error_vs_discard(
    quality,
    mated,
    *,
    scores=None,
    threshold: float | None = None,
    errors=None,
    discard: Sequence[float] = DEFAULT_DISCARD,
    pauc_limit: float = DEFAULT_PAUC_LIMIT,
    subjects=None,
    reference_subjects=None,
    weights: Iterable[np.ndarray] | None = None,
    confidence: float = 0.95,
    max_levels: int = DEFAULT_MAX_LEVELS,
    identification: bool = False,
) -> EdcResult:
    """The error-versus-discard characteristic of a quality measure at a fixed threshold.

    Parameters
    ----------
    quality : array-like of float, shape (n,)
        Each comparison's pair quality (:func:`pair_quality`; higher = better; NaN = lowest).
    mated : array-like of bool, shape (n,)
    scores, threshold : array-like (n,), float
        Similarity scores and the threshold fixed beforehand (e.g. on clean data); or
    errors : array-like of bool, shape (n,)
        The error indicators at that threshold (e.g. failures to acquire already counted).
    discard : sequence of float
        Discard fractions ``0 <= f < 1`` (default :data:`DEFAULT_DISCARD`).
    pauc_limit : float
        Upper end of the pAUC, ``0 < limit < 1`` (default 0.20).
    subjects : array-like of int, shape (n,), optional
        Subject code of each comparison (the probe's for non-mated ones), ``0 <= code <
        n_subjects``; needed with ``weights``.
    reference_subjects : array-like of int, shape (n,), optional
        The reference's subject code: non-mated comparisons are then resampled two-way.
    weights : iterable of ndarray (b, n_subjects), optional
        Subject multiplicities, e.g. ``Resampler(n_subjects, B, seed).weight_batches()``; consumed
        once. Without them there are no intervals.
    confidence : float
    max_levels : int
        Most quality levels kept apart (module docstring).
    identification : bool
        Name the rates FNIR/FPIR (1:N searches) instead of FNMR/FMR.

    Returns
    -------
    EdcResult

    Raises
    ------
    InputError
        A discard fraction, pAUC limit, confidence, threshold or max_levels out of range.
    ValueError
        Arrays of different lengths, NaN scores, bad subject codes or weights.
    """
    m = np.asarray(mated, dtype=bool)
    err = comparison_errors(m, scores=scores, threshold=threshold, errors=errors)
    q = quality_array(quality, m.size)
    fractions = np.array([check_fraction("discard", f) for f in discard], dtype=np.float64)
    if fractions.size == 0:
        raise InputError("discard must list at least one fraction (e.g. 0, 0.05, 0.1).")
    limit = check_fraction("pauc_limit", pauc_limit, zero_allowed=False)
    confidence = check_confidence(confidence)
    batches = None if weights is None else iter(weight_batches(weights))
    first = None if batches is None else next(batches, None)
    n_units = 0 if first is None else first.shape[1]
    if first is not None and subjects is None:
        raise ValueError("a subject bootstrap needs the subjects of the comparisons")
    u = None if subjects is None or first is None else subject_codes(subjects, m.size)
    v = None
    if reference_subjects is not None and u is not None:
        v = subject_codes(reference_subjects, m.size, "reference_subjects")
    names = ("fnir", "fpir") if identification else ("fnmr", "fmr")
    sets: list[_Set | None] = []
    for sel, label in ((m, names[0]), (~m, names[1])):
        if not sel.any():
            sets.append(None)
            continue
        units = None
        if u is not None:
            units = (u[sel], v[sel]) if (v is not None and label == names[1]) else u[sel]
        sets.append(_Set(label, q[sel], err[sel], units, n_units, max_levels))
    n_boot = 0
    if first is not None:
        for w in _chain(first, batches):
            if w.shape[1] != n_units:
                raise ValueError("every weight batch must have the same number of subjects")
            n_boot += w.shape[0]
            for s in sets:
                if s is not None:
                    s.add_replicates(w, fractions, limit)
    curves = [None if s is None else s.curve(fractions, limit, confidence) for s in sets]
    unit = None
    if n_boot:
        unit = "subject" + (
            " (non-mated: probe and reference subjects)"
            if v is not None
            else " (non-mated: probe subject)"
        )
    return EdcResult(
        curves[0],
        curves[1],
        None if threshold is None else float(threshold),
        confidence,
        n_boot,
        unit,
        int(max_levels),
    )


def _chain(first, rest):
    yield first
    yield from rest
