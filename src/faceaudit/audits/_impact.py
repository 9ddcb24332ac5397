"""What a hit means, from an audit's own 1:N searches: rates at one threshold with JOINT
subject-bootstrap replicates (the same resampled people for FPIR, FNIR at rank 1 and the wrong
person at rank 1), carried into :func:`faceaudit.analyses.impact.operational_impact`.
"""

from __future__ import annotations

import numpy as np

from faceaudit.analyses.impact import GroupAssumption, ImpactRates, operational_impact
from faceaudit.stats.bootstrap import Resampler, replicate_rates_ge
from faceaudit.stats.identification import SearchOutcomes
from faceaudit.stats.scoreset import ScoreSet

__all__ = [
    "DEFAULT_ENCOUNTERS_PER_DAY",
    "DEFAULT_PREVALENCE",
    "headline_threshold",
    "search_impact",
]

#: People searched a day when the user states nothing (an assumption the report states).
DEFAULT_ENCOUNTERS_PER_DAY = 1000.0
#: Prevalences shown as rows (the share of people searched who are truly enrolled; unknown).
DEFAULT_PREVALENCE = (0.001, 0.01, 0.1, 0.5)


def headline_threshold(result) -> tuple[float, float] | None:
    """``(fpir_target, threshold)`` of the strictest supported FPIR target, or None."""
    points = [
        p
        for p in result.operating_points
        if p.supported and p.fpir_target is not None and p.threshold is not None
    ]
    if not points:
        return None
    p = min(points, key=lambda q: q.fpir_target)
    return float(p.fpir_target), float(p.threshold)


def _subset(s: ScoreSet, keep: np.ndarray | None) -> ScoreSet:
    if keep is None:
        return s
    mask = keep[np.asarray(s.units)]
    return ScoreSet(np.asarray(s.scores)[mask], units=np.asarray(s.units)[mask])


def _rates(outcomes: SearchOutcomes, t: float, resampler, keep=None) -> ImpactRates | None:
    nonmated = _subset(outcomes.nonmated_scores(), keep)
    mates1 = _subset(outcomes.mate_scores(1), keep)
    wrong = _subset(outcomes.wrong_top1_scores(), keep)
    if nonmated.n == 0 or mates1.n == 0:
        return None
    reps = {}
    if resampler is not None:
        reps = {
            "fpir_replicates": replicate_rates_ge(resampler, nonmated, [t])[:, 0],
            "fnir_rank1_replicates": replicate_rates_ge(resampler, mates1, [t], lt=True)[:, 0],
            "wrong_top1_replicates": replicate_rates_ge(resampler, wrong, [t])[:, 0],
        }
    return ImpactRates(
        fpir=nonmated.count_ge(t) / nonmated.n,
        fnir_rank1=mates1.count_lt(t) / mates1.n,
        wrong_top1=wrong.count_ge(t) / wrong.n,
        n_mated=mates1.n,
        n_nonmated=nonmated.n,
        **reps,
    )


def search_impact(
    outcomes: SearchOutcomes,
    threshold: float,
    *,
    bootstrap: int,
    confidence: float,
    seed: int,
    encounters_per_day: float = DEFAULT_ENCOUNTERS_PER_DAY,
    prevalence=DEFAULT_PREVALENCE,
    groups=None,
):
    """Operational impact at ``threshold`` on the searched gallery (FPIR measured at its N).

    ``groups`` (a :class:`~faceaudit.data.SubjectGroups` over ``outcomes.units``) adds one row per
    probe group, each under the same stated prevalence (an assumption the output says aloud).
    Returns None when there are no mated or no non-mated searches.
    """
    resampler = (
        Resampler(n_units=outcomes.n_units, n_boot=bootstrap, seed=seed)
        if bootstrap and outcomes.n_units
        else None
    )
    whole = _rates(outcomes, threshold, resampler)
    if whole is None:
        return None
    by_group = None
    if groups is not None:
        by_group = {}
        codes = np.asarray(groups.group_of_subject)
        for k, name in enumerate(groups.names):
            rates = _rates(outcomes, threshold, resampler, keep=codes == k)
            if rates is not None:
                by_group[name] = GroupAssumption(
                    rates,
                    prevalence=float(prevalence[1]),
                    prevalence_basis="assumed equal to the whole population's (not measured)",
                )
    return operational_impact(
        whole,
        gallery_size=outcomes.gallery_size,
        encounters_per_day=encounters_per_day,
        fpir_basis="measured",
        threshold=threshold,
        prevalence_points=prevalence,
        groups=by_group or None,
        confidence=confidence,
    )
