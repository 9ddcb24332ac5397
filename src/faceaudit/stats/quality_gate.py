"""Quality gates: reject the worst share of probe photos, and what that does to the error rates.

Where the EDC (:mod:`faceaudit.stats.edc`) asks whether a quality measure predicts errors, a gate
is the decision a deployment makes with it: "reject the worst 5% of probe photos (ask for a new
photo)". :func:`quality_gates` evaluates such gates at a threshold fixed beforehand and
:func:`recommend_gate` picks one by a stated rule.

Conventions
-----------
- The gate acts on **photos** (probe images), not on comparisons: ``quality`` is each comparison's
  probe-photo quality and ``photo`` the probe photo it belongs to (every comparison its own photo
  if not given). A photo has one quality (checked). NaN quality ranks lowest.
- For a target reject share ``r`` the gate is the quality threshold that rejects the largest share
  of photos **not above r**; photos of equal quality are rejected together (never split). The
  cost is the share of photos rejected (reported exactly, with counts).
- Rates at the fixed threshold: ``before`` on every comparison, ``after`` on the comparisons of
  photos kept. ``generalised_after`` counts a rejected mated comparison as a miss, as ISO/IEC
  19795-1's generalised FNMR counts a failure to acquire: it is what the person in front of the
  camera sees if nobody takes a new photo. For non-mated comparisons a rejected photo cannot
  match falsely, so the generalised FMR after is ``errors kept / all non-mated``.
- Bootstrap by subject as in :mod:`faceaudit.stats.edc` (mated: subject; non-mated: probe
  subject, or both with ``reference_subjects``). The gate's quality threshold is held fixed in the
  replicates: it is the setting a deployment would use. ``change`` is ``after - before`` of the
  mated rate, with its interval from the same replicates (paired).

Examples
--------
>>> q = np.array([10.0, 20.0, 30.0, 40.0])
>>> g = quality_gates(q, np.ones(4, bool), errors=np.array([1, 0, 0, 0], bool), reject=[0.25])[0]
>>> g.photos_rejected, g.mated_before.count, g.mated_after.count, g.mated_generalised_after.count
(1, 1, 0, 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from faceaudit.errors import InputError
from faceaudit.stats._discard import (
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

__all__ = ["QualityGate", "quality_gates", "recommend_gate"]


@dataclass(frozen=True)
class QualityGate:
    """One gate: its setting, its cost, and the error rates before and after it.

    Attributes
    ----------
    reject_target : float
        The share of photos one asked to reject.
    quality_threshold : float or None
        Photos with quality below this are rejected (None: none is).
    photos, photos_rejected : int
        Distinct probe photos, and how many the gate rejects (the cost).
    mated_before, mated_after, mated_generalised_after : Rate
        FNMR (or FNIR) on all mated comparisons, on those kept, and counting rejected ones as
        misses.
    mated_change, mated_change_ci : float, (low, high) or None
        ``after - before`` (negative = fewer misses) and its interval.
    nonmated_before, nonmated_after : Rate or None
        FMR (or FPIR) on all non-mated comparisons and on those kept.
    errors : (str, str)
        The names of the two rates.
    """

    reject_target: float
    quality_threshold: float | None
    photos: int
    photos_rejected: int
    mated_before: Rate | None
    mated_after: Rate | None
    mated_generalised_after: Rate | None
    mated_change: float | None
    mated_change_ci: tuple[float, float] | None
    nonmated_before: Rate | None
    nonmated_after: Rate | None
    errors: tuple[str, str] = ("fnmr", "fmr")

    @property
    def rejected_share(self) -> float:
        return self.photos_rejected / self.photos if self.photos else 0.0

    @property
    def relative_change(self) -> float | None:
        """``(after - before) / before`` of the mated rate (None when before is 0 or unknown)."""
        b = None if self.mated_before is None else self.mated_before.value
        if not b or self.mated_change is None:
            return None
        return self.mated_change / b

    def to_json(self) -> dict:
        def rate(r):
            return None if r is None else r.to_json()

        return {
            "reject_target": self.reject_target,
            "quality_threshold": self.quality_threshold,
            "photos": {
                "n": self.photos,
                "rejected": self.photos_rejected,
                "share": self.rejected_share,
            },
            self.errors[0]: {
                "before": rate(self.mated_before),
                "after": rate(self.mated_after),
                "generalised_after": rate(self.mated_generalised_after),
                "change": self.mated_change,
                "change_ci": None if self.mated_change_ci is None else list(self.mated_change_ci),
            },
            self.errors[1]: {
                "before": rate(self.nonmated_before),
                "after": rate(self.nonmated_after),
            },
        }


def _photo_quality(q: np.ndarray, photo) -> tuple[np.ndarray, np.ndarray]:
    """Each photo's quality and each comparison's photo code; refuses a photo with two qualities."""
    if photo is None:
        return q.copy(), np.arange(q.size)
    ids, codes = np.unique(np.asarray(photo), return_inverse=True)
    if codes.size != q.size:
        raise ValueError("photo must have one entry per comparison")
    lo = np.full(ids.size, np.inf)
    hi = np.full(ids.size, -np.inf)
    np.minimum.at(lo, codes, q)
    np.maximum.at(hi, codes, q)
    bad = np.flatnonzero(lo != hi)
    if bad.size:
        raise InputError(
            f"photo {ids[bad[0]]!r} has two quality values ({lo[bad[0]]:g} and {hi[bad[0]]:g}); "
            "the gate needs the probe photo's own quality on each of its comparisons."
        )
    return lo, codes


def _gate_thresholds(photo_q: np.ndarray, targets: np.ndarray) -> list[float | None]:
    """Per target, the quality threshold rejecting the largest photo share not above it."""
    levels = quality_levels(photo_q, max_levels=max(2, photo_q.size))
    counts = np.bincount(levels.codes, minlength=levels.size)
    rejected = np.concatenate([[0], np.cumsum(counts)[:-1]])
    gates = np.searchsorted(rejected, targets * photo_q.size * (1 + 1e-12), side="right") - 1
    return [levels.threshold(int(g)) for g in gates]


def _rate(count: float, n: float, ci, confidence: float) -> Rate | None:
    if n <= 0:
        return None
    return make_rate(int(round(count)), int(round(n)), ci, confidence=confidence)


def quality_gates(
    quality,
    mated,
    *,
    scores=None,
    threshold: float | None = None,
    errors=None,
    reject: Sequence[float] = (0.01, 0.02, 0.05, 0.10, 0.20),
    photo=None,
    subjects=None,
    reference_subjects=None,
    weights: Iterable[np.ndarray] | None = None,
    confidence: float = 0.95,
    identification: bool = False,
) -> tuple[QualityGate, ...]:
    """Evaluate gates that reject (up to) each share ``reject`` of the probe photos.

    Parameters
    ----------
    quality : array-like of float, shape (n,)
        The quality of each comparison's probe photo (higher = better; NaN = lowest).
    mated : array-like of bool, shape (n,)
    scores, threshold, errors
        As in :func:`faceaudit.stats.edc.error_vs_discard` (threshold fixed beforehand).
    reject : sequence of float
        Target shares of photos to reject, ``0 <= r < 1``.
    photo : array-like, shape (n,), optional
        The probe photo of each comparison (any ids); default: each comparison is a photo.
    subjects, reference_subjects, weights, confidence
        The subject bootstrap, as in :func:`~faceaudit.stats.edc.error_vs_discard`; ``weights``
        is consumed once for all gates.
    identification : bool
        Name the rates FNIR/FPIR.

    Returns
    -------
    tuple of QualityGate
        In the order of ``reject``.
    """
    m = np.asarray(mated, dtype=bool)
    err = comparison_errors(m, scores=scores, threshold=threshold, errors=errors)
    q = quality_array(quality, m.size)
    targets = np.array([check_fraction("reject", r) for r in reject], dtype=np.float64)
    confidence = check_confidence(confidence)
    photo_q, photo_code = _photo_quality(q, photo)
    taus = _gate_thresholds(photo_q, targets)
    kept = np.stack([np.ones(m.size, bool) if t is None else q >= t for t in taus], axis=1)
    # columns per gate k: [n, e, n_kept_k, e_kept_k] -> one table of 2 + 2K columns per kind
    K = targets.size
    cols = np.concatenate([np.ones((m.size, 1)), err[:, None], kept, kept & err[:, None]], axis=1)
    est = {kind: cols[sel].sum(axis=0) for kind, sel in (("m", m), ("n", ~m))}
    reps: dict[str, list[np.ndarray]] = {"m": [], "n": []}
    if weights is not None:
        if subjects is None:
            raise ValueError("a subject bootstrap needs the subjects of the comparisons")
        u = subject_codes(subjects, m.size)
        v = (
            None
            if reference_subjects is None
            else subject_codes(reference_subjects, m.size, "reference_subjects")
        )
        tables = {}
        for w in weight_batches(weights):
            if not tables:
                for kind, sel in (("m", m), ("n", ~m)):
                    units = (u[sel], v[sel]) if (kind == "n" and v is not None) else u[sel]
                    r, c = np.nonzero(cols[sel])
                    rows = (units[0][r], units[1][r]) if isinstance(units, tuple) else units[r]
                    tables[kind] = UnitTable(rows, c, cols[sel][r, c], cols.shape[1], w.shape[1])
            for kind in reps:
                reps[kind].append(tables[kind].replicate(w))
    names = ("fnir", "fpir") if identification else ("fnmr", "fmr")
    return tuple(
        _gate(k, K, targets[k], taus[k], photo_q, est, reps, confidence, names) for k in range(K)
    )


def _gate(k, K, target, tau, photo_q, est, reps, confidence, names) -> QualityGate:
    def ratio(a, b):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)

    cis: dict[str, list] = {}
    change = change_ci = None
    for kind in ("m", "n"):
        cis[kind] = [None, None, None]
        if reps[kind]:
            t = np.concatenate(reps[kind])
            before = ratio(t[:, 1], t[:, 0])
            after = ratio(t[:, 2 + K + k], t[:, 2 + k])  # errors kept / kept, gate k
            gen = ratio(t[:, 0] - t[:, 2 + k] + t[:, 2 + K + k], t[:, 0])
            cis[kind] = interval(np.stack([before, after, gen], axis=1), confidence)
            if kind == "m":
                change_ci = interval((after - before)[:, None], confidence)[0]
    em, en = est["m"], est["n"]
    mb = _rate(em[1], em[0], cis["m"][0], confidence)
    ma = _rate(em[2 + K + k], em[2 + k], cis["m"][1], confidence)
    mg = _rate(em[0] - em[2 + k] + em[2 + K + k], em[0], cis["m"][2], confidence)
    if mb is not None and ma is not None:
        change = ma.value - mb.value
    rejected = 0 if tau is None else int((photo_q < tau).sum())
    return QualityGate(
        float(target),
        tau,
        int(photo_q.size),
        rejected,
        mb,
        ma,
        mg,
        change,
        change_ci,
        _rate(en[1], en[0], cis["n"][0], confidence),
        _rate(en[2 + K + k], en[2 + k], cis["n"][1], confidence),
        names,
    )


def recommend_gate(
    gates: Sequence[QualityGate], *, min_relative_gain: float = 0.25
) -> QualityGate | None:
    """The cheapest gate that cuts the mated error rate by at least ``min_relative_gain``.

    Rule: among the gates that reject at least one photo, in order of the share of photos they
    reject, the first whose mated rate falls by ``min_relative_gain`` of its value or more (e.g.
    0.25: from 4% to 3% or below) and, when intervals are known, whose change interval lies below
    zero. None when no gate qualifies (the quality measure does not pay for its cost here).
    """
    if not 0.0 < float(min_relative_gain) <= 1.0:
        raise InputError(f"min_relative_gain={min_relative_gain!r} must be in (0, 1].")
    for g in sorted(gates, key=lambda g: (g.rejected_share, g.reject_target)):
        rel = g.relative_change
        if g.photos_rejected == 0 or rel is None or rel > -float(min_relative_gain):
            continue
        if g.mated_change_ci is not None and g.mated_change_ci[1] >= 0.0:
            continue
        return g
    return None
