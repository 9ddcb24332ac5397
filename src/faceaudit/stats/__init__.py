"""The engine: mergeable score distributions and the exact error rates computed from them.

Central concept: a :class:`ScoreDistribution` (exact counts on a fixed, data-independent grid plus
the exact extreme scores) summarises any number of scores in bounded memory and merges exactly by
addition; a :class:`ScoreSet` pairs it with the scores themselves so that every rate is the exact
count at its reported threshold (one extra look inside the single grid cell that holds a threshold).

Conventions (ISO/IEC 19795-1:2021): higher score = more similar; a comparison matches when ``score
>= threshold``; FMR(t) = impostor scores >= t / impostors; FNMR(t) = genuine scores < t / genuines.
For 1:N (NIST FRTE), FPIR is the FMR of the non-mated searches' top scores and FNIR the FNMR of the
mated searches' mate scores (``-inf`` when the mate is not within the top R).
"""

from faceaudit.stats.bootstrap import Resampler, percentile_interval, replicate_rates_ge
from faceaudit.stats.distribution import ScoreDistribution, summarize
from faceaudit.stats.estimate import Rate, make_rate, rule_of_three
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
from faceaudit.stats.scoreset import ScoreSet

__all__ = [
    "DetCurve",
    "EqualErrorRate",
    "OperatingThreshold",
    "Rate",
    "Resampler",
    "ScoreDistribution",
    "ScoreSet",
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
]
