"""Private: what the 1:1 and 1:N comparisons of systems share (differences, tests, words-free).

A system's measured figures are kept as dicts keyed by ``(figure, target)`` (``target``: the FMR
or FPIR target, the threshold, or None): its :class:`~faceaudit.analyses._system_comparison_types.
FigureValue`, the threshold it was taken at (similarity-oriented) and its ``(B,)`` bootstrap
replicates. Replicate ``r`` of every system comes from the same resampled units, so the
differences of replicates are paired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceaudit.analyses._system_comparison_types import Difference, McNemarAt
from faceaudit.stats.paired import (
    adjust_p_values,
    correct_decisions,
    paired_difference,
    pairwise_mcnemar,
    system_pairs,
    unpaired_difference,
)

__all__ = ["Measured", "bootstrap_p", "differences", "mcnemar_tests"]


@dataclass(frozen=True, eq=False)
class Measured:
    """One system: its figures, and the replicates behind each (key -> (B,) array)."""

    figures: object  # SystemFigures or SearchSystemFigures
    values: dict  # key -> FigureValue
    thresholds: dict  # key -> similarity threshold (None for the EER)
    replicates: dict  # key -> (B,) replicate values, or absent without a bootstrap


def bootstrap_p(d: np.ndarray) -> float:
    """Two-sided percentile-bootstrap p-value of "no difference" from paired differences."""
    d = d[~np.isnan(d)]
    if d.size == 0:
        return 1.0
    return float(min(1.0, 2.0 * min(np.mean(d <= 0.0), np.mean(d >= 0.0))))


def differences(measured: list[Measured], names, confidence, adjustment, alpha, seed):
    """Every pair's difference of every figure both systems have, adjusted per figure."""
    keys = [k for k in measured[0].values if all(k in m.values for m in measured)]
    out: list[Difference] = []
    pairs = system_pairs(len(measured))
    for key in keys:
        rows = []
        for i, j in pairs:
            a, b = measured[i], measured[j]
            ra, rb = a.replicates.get(key), b.replicates.get(key)
            if ra is None or rb is None:
                continue
            va, vb = a.values[key], b.values[key]
            try:
                paired = paired_difference(ra, rb, estimate_a=va.value, estimate_b=vb.value,
                                           confidence=confidence)  # fmt: skip
                unpaired = unpaired_difference(ra, rb, estimate_a=va.value, estimate_b=vb.value,
                                               confidence=confidence, seed=seed)  # fmt: skip
            except ValueError:  # fewer than two replicates where both are defined
                continue
            rows.append((i, j, va, vb, paired, unpaired, bootstrap_p(ra - rb)))
        if not rows:
            continue
        adj = adjust_p_values([r[-1] for r in rows], method=adjustment)
        for (i, j, va, vb, paired, unpaired, p), q in zip(rows, adj, strict=True):
            out.append(Difference(
                key[0], key[1] if key[0] in TARGET_FIGURES else None,
                measured[i].thresholds[key], measured[j].thresholds[key], names[i], names[j],
                va, vb, paired, unpaired, p, float(q), alpha,
            ))  # fmt: skip
    return out


#: Figures taken at a rate target (the key's second part is the target, not a threshold).
TARGET_FIGURES = ("fnmr_at_fmr", "fnir_at_fpir")


def mcnemar_tests(names, decisions, truth, plans, measured, adjustment, alpha):
    """McNemar for every pair at each ``(key, target)`` of ``plans`` every system has.

    ``decisions[i]``: system ``i``'s decision scores (match when ``>= threshold``; NaN: no
    score), aligned across systems; ``truth``: the matching truth (mated or not).
    """
    out: list[McNemarAt] = []
    for key, target in plans:
        if not all(key in m.thresholds for m in measured):
            continue
        ths = [m.thresholds[key] for m in measured]
        correct = [correct_decisions(s, truth, th) for s, th in zip(decisions, ths, strict=True)]
        tests = pairwise_mcnemar(correct, names=names, method=adjustment, alpha=alpha)
        for (i, j), test in zip(system_pairs(len(names)), tests, strict=True):
            out.append(McNemarAt(target, ths[i], ths[j], test))
    return out
