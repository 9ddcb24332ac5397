"""``audit_impact`` and ``audit_field_log``: what a hit means in the field.

* :func:`audit_impact` turns 1:N counts at one threshold (measured by faceaudit, read from a
  results file, or published) into expected correct hits, wrong hits and misses per day and the
  positive predictive value of a hit, across the unknown prevalence of enrolled people.
* :func:`audit_field_log` turns a deployment's disclosed counts (faces scanned, alerts, alerts
  confirmed wrong) into the PPV of an alert and false alerts per face, with exact intervals.

Formulas and their derivation: ``docs/impact.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

from faceaudit import params
from faceaudit.analyses.impact import ImpactRates, field_log_figures, operational_impact
from faceaudit.audits.run import Run
from faceaudit.data import InputFile
from faceaudit.stats.impact import count_replicates

__all__ = ["SearchCounts", "audit_field_log", "audit_impact"]

#: Encounters a day assumed when none is given: the report states it as an assumption.
DEFAULT_ENCOUNTERS_PER_DAY = 1000.0


class SearchCounts:
    """1:N outcome counts at one threshold T on a gallery of N.

    Parameters
    ----------
    nonmated_hits, n_nonmated : int
        Searches of people not enrolled that returned a candidate at or above T (FPIR's count),
        out of all such searches.
    mated_correct, mated_wrong, n_mated : int
        Searches of enrolled people whose rank-1 candidate was the mate at or above T, was
        someone else at or above T (the wrong person shown), out of all such searches.
    gallery_size : int
    threshold : float, optional
    """

    def __init__(
        self,
        *,
        nonmated_hits: int,
        n_nonmated: int,
        mated_correct: int,
        mated_wrong: int,
        n_mated: int,
        gallery_size: int,
        threshold: float | None = None,
    ) -> None:
        self.n_nonmated = params.count("n_nonmated", n_nonmated, minimum=1)
        self.nonmated_hits = params.count("nonmated_hits", nonmated_hits, maximum=self.n_nonmated)
        self.n_mated = params.count("n_mated", n_mated, minimum=1)
        self.mated_correct = params.count("mated_correct", mated_correct, maximum=self.n_mated)
        self.mated_wrong = params.count(
            "mated_wrong", mated_wrong, maximum=self.n_mated - self.mated_correct
        )
        self.gallery_size = params.gallery_size("gallery_size", gallery_size)
        self.threshold = None if threshold is None else params.finite_number("threshold", threshold)

    def rates(self, *, bootstrap: int, seed: int) -> ImpactRates:
        fp, fn1, wrong = count_replicates(
            nonmated_hits=self.nonmated_hits,
            n_nonmated=self.n_nonmated,
            mated_correct=self.mated_correct,
            mated_wrong=self.mated_wrong,
            n_mated=self.n_mated,
            n_boot=bootstrap,
            seed=seed,
        )
        return ImpactRates(
            fpir=self.nonmated_hits / self.n_nonmated,
            fnir_rank1=1.0 - self.mated_correct / self.n_mated,
            wrong_top1=self.mated_wrong / self.n_mated,
            fpir_replicates=fp if bootstrap else None,
            fnir_rank1_replicates=fn1 if bootstrap else None,
            wrong_top1_replicates=wrong if bootstrap else None,
            n_mated=self.n_mated,
            n_nonmated=self.n_nonmated,
        )

    def to_json(self) -> dict:
        return dict(vars(self))


def audit_impact(
    counts: SearchCounts,
    *,
    encounters_per_day: float = DEFAULT_ENCOUNTERS_PER_DAY,
    prevalence: Sequence[float] = (),
    bootstrap: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    inputs: Sequence[InputFile] = (),
    title: str = "What a hit means: operational impact",
) -> Run:
    """Expected hits, wrong hits, misses and the PPV of a hit, from 1:N counts at one threshold.

    The intervals come from Jeffreys posterior draws of the counts (searches treated as
    independent; see :func:`faceaudit.stats.impact.count_replicates`) — the figures an audit
    run computes from its own searches use the subject bootstrap instead.

    >>> c = SearchCounts(nonmated_hits=30, n_nonmated=3000, mated_correct=900, mated_wrong=20,
    ...                  n_mated=1000, gallery_size=10**6)
    >>> run = audit_impact(c, prevalence=[0.01], bootstrap=0)
    >>> round(run["impact"].points[0].ppv.value, 3) > 0                # doctest: +SKIP
    True
    """
    encounters = params.finite_number("encounters_per_day", encounters_per_day)
    if encounters <= 0:
        raise params.ParameterError(
            "encounters_per_day", encounters_per_day, "must be a positive number of searches."
        )
    points = params.rate_targets("prevalence", prevalence) if prevalence else ()
    bootstrap = params.bootstrap_replicates("bootstrap", bootstrap)
    confidence = params.confidence_level("confidence", confidence)
    seed = params.seed_value("seed", seed)
    result = operational_impact(
        counts.rates(bootstrap=bootstrap, seed=seed),
        gallery_size=counts.gallery_size,
        encounters_per_day=encounters,
        threshold=counts.threshold,
        prevalence_points=points,
        confidence=confidence,
    )
    return Run(
        title=title,
        analyses={"impact": result},
        inputs=tuple(inputs),
        settings={
            "counts": counts.to_json(),
            "encounters_per_day": encounters,
            "prevalence": list(points),
            "bootstrap": bootstrap,
            "bootstrap_unit": "search (Jeffreys posterior draws of the counts)",
            "confidence": confidence,
            "seed": seed,
        },
        warnings=tuple(result.warnings),
    )


def audit_field_log(
    *,
    alerts: int,
    confirmed_wrong: int,
    scanned: int | None = None,
    watchlist: int | None = None,
    unverified: int = 0,
    gallery_sizes: Sequence[int] = (),
    confidence: float = 0.95,
    source: str | None = None,
    title: str = "What the field logs show",
) -> Run:
    """PPV of an alert, false alerts per face scanned and the implied FMR, from disclosed counts.

    >>> run = audit_field_log(alerts=2470, confirmed_wrong=2297, source="South Wales Police")
    >>> round(run["field_log"].log.ppv.value, 3)
    0.07
    """
    confidence = params.confidence_level("confidence", confidence)
    sizes = tuple(params.gallery_size("gallery_sizes", n) for n in gallery_sizes)
    result = field_log_figures(
        alerts,
        confirmed_wrong,
        scanned=scanned,
        watchlist=watchlist,
        unverified=unverified,
        gallery_sizes=sizes,
        confidence=confidence,
        source=source,
    )
    return Run(
        title=title,
        analyses={"field_log": result},
        settings={
            "alerts": alerts,
            "confirmed_wrong": confirmed_wrong,
            "scanned": scanned,
            "watchlist": watchlist,
            "unverified": unverified,
            "gallery_sizes": list(sizes),
            "confidence": confidence,
            "source": source,
        },
        warnings=tuple(result.warnings),
    )
