"""The engine: mergeable score distributions and the exact error rates computed from them.

Central concept: a :class:`ScoreDistribution` (exact counts on a fixed, data-independent grid plus
the exact extreme scores) summarises any number of scores in bounded memory and merges exactly by
addition; a :class:`ScoreSet` pairs it with the scores themselves so that every rate is the exact
count at its reported threshold (one extra look inside the single grid cell that holds a threshold).

Conventions (ISO/IEC 19795-1:2021): higher score = more similar; a comparison matches when ``score
>= threshold``; FMR(t) = non-mated scores >= t / non-mated comparisons; FNMR(t) = mated scores
< t / mated comparisons.
For 1:N (NIST FRTE), FPIR is the FMR of the non-mated searches' top scores and FNIR the FNMR of the
mated searches' mate scores (``-inf`` when the mate is not within the top R).

Uncertainty comes from ONE bootstrap (:mod:`faceaudit.stats.bootstrap`): a seeded
:class:`Resampler` of subjects, per-unit (:class:`UnitTable`) or per (probe, reference) cell
(:mod:`faceaudit.stats.pairs`) count tables that merge by addition, and replicates that are weighted
merges of those tables (:class:`ReplicateCounts`, :mod:`faceaudit.stats.operating` for operating
points re-chosen in every replicate). Zero- and all-error bounds (:func:`zero_error_bound`) and the
support rule (:func:`support`) rest on the independent units, the subjects.
"""

from faceaudit.stats.bootstrap import (
    Resampler,
    UnitTable,
    percentile_interval,
    replicate_rates_ge,
)
from faceaudit.stats.distribution import ScoreDistribution, summarize
from faceaudit.stats.estimate import Bound, Rate, make_rate, rule_of_three, zero_error_bound
from faceaudit.stats.rates import (
    DetCurve,
    EqualErrorRate,
    OperatingThreshold,
    area_under_roc,
    det_curve,
    equal_error_rate,
    operating_threshold,
    prefetch_for_targets,
)
from faceaudit.stats.replicates import ReplicateCounts
from faceaudit.stats.scoreset import ScoreSet
from faceaudit.stats.support import MIN_SUBJECTS, Support, support

__all__ = [
    "MIN_SUBJECTS",
    "Bound",
    "DetCurve",
    "EqualErrorRate",
    "OperatingThreshold",
    "Rate",
    "ReplicateCounts",
    "Resampler",
    "ScoreDistribution",
    "ScoreSet",
    "Support",
    "UnitTable",
    "area_under_roc",
    "det_curve",
    "equal_error_rate",
    "make_rate",
    "operating_threshold",
    "percentile_interval",
    "prefetch_for_targets",
    "replicate_rates_ge",
    "rule_of_three",
    "summarize",
    "support",
    "zero_error_bound",
]
