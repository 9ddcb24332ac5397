"""The 1:N (identification) audit: FPIR, FNIR, wrong-person-at-rank-1, CMC, with intervals.

Two entries, one computation: candidate lists (black box, :mod:`faceaudit.io.candidates`) or
embeddings searched here (:mod:`faceaudit.compare.search`) are reduced to per-search outcomes
(:mod:`faceaudit.stats.identification`) and every rate is an exact count on the 1:1 engine.

* **Identification mode** (``T`` > -inf): for each FPIR target the threshold is chosen on these
  data as the smallest observed score with ``FPIR <= target`` (the lowest FNIR any threshold
  allows, exactly as for FMR targets in the 1:1 audit); FPIR, FNIR(N, R, T) (``R`` = the list
  length L by default, as NIST's "mate above threshold at any returned rank"; FNIR at rank 1 too)
  and the wrong-person-at-rank-1 rate are reported there. A target needs at least ``3 / target``
  non-mated searches (rule of 3); with fewer it is ``supported: false`` and no threshold is given.
* **Investigation mode** (``T = -inf``, NIST's "T = 0"): rank-based; FNIR(N, R) = 1 - CMC(R).

Intervals: percentile bootstrap over **subjects** (a probe subject's searches are resampled
together; mated and non-mated searches share the replicate weights); the thresholds are held
fixed at the values chosen on the full data. Zero observed errors give the rule-of-3 bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from faceaudit.stats.bootstrap import Resampler, percentile_interval, replicate_rates_ge
from faceaudit.stats.estimate import Rate, make_rate
from faceaudit.stats.identification import (
    SearchOutcomes,
    ThresholdCurves,
    search_outcomes,
    threshold_curves,
)
from faceaudit.stats.rates import operating_threshold, prefetch_for_targets, target_supported

__all__ = [
    "DEFAULT_FPIR_TARGETS",
    "IdentificationPoint",
    "IdentificationResult",
    "identify",
    "identify_candidates",
    "identify_embeddings",
]

DEFAULT_FPIR_TARGETS = (0.1, 0.01, 0.003, 0.001)
INVESTIGATION_RANKS = (1, 5, 10, 20, 50, 100)
_ANY = -float(np.finfo(np.float64).max)  # "any returned candidate" threshold


def _empty_rate() -> dict:
    return {"value": None, "ci": None, "count": None, "n": None, "upper_bound": False}


@dataclass(frozen=True)
class IdentificationPoint:
    """Rates at one threshold: chosen for ``fpir_target``, or given by the user (target None).

    ``fnir`` uses the rank criterion ``rank`` (R); ``fnir_rank1`` uses R = 1.
    """

    fpir_target: float | None
    threshold: float | None
    rank: int
    fpir: Rate | None
    fnir: Rate | None
    fnir_rank1: Rate | None
    wrong_top1: Rate | None
    supported: bool

    def to_json(self) -> dict:
        def rj(r):
            return r.to_json() if r is not None else _empty_rate()

        return {
            "fpir_target": self.fpir_target,
            "threshold": self.threshold,
            "fpir": rj(self.fpir),
            "fnir": rj(self.fnir),
            "wrong_top1": rj(self.wrong_top1),
            "supported": self.supported,
            "rank": self.rank,
            "fnir_rank1": rj(self.fnir_rank1),
        }


@dataclass(frozen=True)
class IdentificationResult:
    """Everything the 1:N audit found; the report reads only this (via ``to_json``)."""

    gallery_size: int
    n_mated: int
    n_nonmated: int
    list_length: int
    rank: int
    operating_points: tuple[IdentificationPoint, ...]
    cmc: tuple[tuple[int, Rate], ...]
    investigation_fpir: Rate | None
    investigation_fnir: tuple[tuple[int, Rate], ...]
    curves: ThresholdCurves
    bootstrap: dict
    synthetic: bool = False
    approximate_search: dict | None = None
    source: str = "candidates"
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        return {
            "gallery_size": self.gallery_size,
            "n_mated": self.n_mated,
            "n_nonmated": self.n_nonmated,
            "operating_points": [p.to_json() for p in self.operating_points],
            "cmc": [
                {
                    "rank": r,
                    "rate": rate.value,
                    "ci": rate.to_json()["ci"],
                    "count": rate.count,
                    "n": rate.n,
                }
                for r, rate in self.cmc
            ],
            "list_length": self.list_length,
            "rank_criterion": self.rank,
            "threshold_source": "chosen on these data (FPIR <= target, lowest FNIR)",
            "investigation": {
                "threshold": None,
                "fpir_any_candidate": (
                    self.investigation_fpir.to_json() if self.investigation_fpir else _empty_rate()
                ),
                "fnir": [
                    {"rank": r, "fnir": rate.to_json()} for r, rate in self.investigation_fnir
                ],
            },
            "curve": self.curves.to_json(),
            "index": (
                {"kind": "flat", "exact": True}
                if self.source == "embeddings" and self.approximate_search is None
                else {
                    "kind": self.approximate_search["index"],
                    "exact": False,
                    "recall": self.approximate_search["recall_at_l"],
                }
                if self.approximate_search is not None
                else None
            ),
            "bootstrap": dict(self.bootstrap),
            "synthetic": self.synthetic,
            "source": self.source,
            "approximate_search": self.approximate_search,
            "warnings": list(self.warnings),
        }


def identify(
    outcomes: SearchOutcomes,
    *,
    fpir_targets: Sequence[float] = DEFAULT_FPIR_TARGETS,
    thresholds: Sequence[float] = (),
    rank: int | None = None,
    max_cmc_rank: int | None = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    synthetic: bool = False,
    approximate_search: dict | None = None,
    source: str = "candidates",
    curve_points: int = 1000,
) -> IdentificationResult:
    """Run the 1:N audit on per-search outcomes.

    Parameters
    ----------
    outcomes : SearchOutcomes
    fpir_targets : sequence of float
        For each, the threshold with the lowest FNIR at FPIR <= target (exact).
    thresholds : sequence of float
        Extra thresholds (e.g. fixed on another data set) to report rates at.
    rank : int, optional
        Rank criterion R of FNIR(N, R, T); default L (any returned rank).
    max_cmc_rank : int, optional
        Last CMC rank (default L).
    bootstrap : int
        Subject-bootstrap replicates (0: no intervals other than rule-of-3 bounds).
    confidence : float
        Two-sided confidence level.
    seed : int
    synthetic : bool
        The searches come from synthetic embeddings (carried into the results).
    approximate_search : dict, optional
        :meth:`faceaudit.compare.search.ApproximateSearch.to_json` when an approximate index
        produced the candidate lists (reported beside the results).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    R = outcomes.rank_limit(rank)
    n_m, n_nm = outcomes.n_mated, outcomes.n_nonmated
    warnings: list[str] = []
    if n_nm == 0:
        warnings.append(
            "No non-mated searches: FPIR cannot be measured and no threshold can be chosen for an "
            "FPIR target. Add searches of people who are not enrolled."
        )
    if n_m == 0:
        warnings.append("No mated searches: FNIR and CMC cannot be measured.")
    if outcomes.list_length == 0:
        warnings.append("Every candidate list is empty.")

    nonmated = outcomes.nonmated_scores()
    mates = outcomes.mate_scores(R)
    mates1 = outcomes.mate_scores(1)
    wrong = outcomes.wrong_top1_scores()
    ranks = outcomes.neg_mate_ranks()

    chosen = []
    supported_targets = [t for t in fpir_targets if n_nm and target_supported(t, n_nm)]
    if supported_targets and n_nm:
        prefetch_for_targets(nonmated, mates, supported_targets)
    for target in fpir_targets:
        ok = bool(n_nm) and target_supported(target, n_nm)
        chosen.append(
            (target, operating_threshold(nonmated, mates, target).threshold if ok else None)
        )
    point_thresholds = [t for _, t in chosen if t is not None] + [float(t) for t in thresholds]

    L = outcomes.list_length
    cmc_max = min(L, max_cmc_rank) if max_cmc_rank else L
    inv_ranks = sorted({r for r in INVESTIGATION_RANKS if r <= L} | ({L} if L else set()))

    ci = {}
    if bootstrap > 0 and outcomes.n_units > 0:
        res = Resampler(n_units=outcomes.n_units, n_boot=bootstrap, seed=seed)

        def interval(scores, ts, lt=False):
            if scores.n == 0 or len(ts) == 0:
                return np.full((len(ts), 2), np.nan)
            reps = replicate_rates_ge(res, scores, ts, lt=lt)
            return percentile_interval(reps, confidence).T

        ts = point_thresholds
        ci["fpir"] = interval(nonmated, ts + [_ANY])
        ci["fnir"] = interval(mates, ts, lt=True)
        ci["fnir1"] = interval(mates1, ts, lt=True)
        ci["wrong"] = interval(wrong, ts)
        ci["cmc"] = interval(ranks, [-float(r) for r in range(1, cmc_max + 1)])
        ci["inv"] = interval(ranks, [-float(r) for r in inv_ranks], lt=True)

    def rate(count, n, key, j):
        c = None
        if key in ci:
            lo, hi = ci[key][j]
            c = None if np.isnan(lo) else (float(lo), float(hi))
        return make_rate(count, n, c, confidence=confidence)

    points = []
    j = 0
    for target, t in [(tg, th) for tg, th in chosen] + [(None, float(t)) for t in thresholds]:
        if t is None:
            points.append(IdentificationPoint(target, None, R, None, None, None, None, False))
            continue
        points.append(
            IdentificationPoint(
                fpir_target=target,
                threshold=float(t),
                rank=R,
                fpir=rate(nonmated.count_ge(t), n_nm, "fpir", j) if n_nm else None,
                fnir=rate(mates.count_lt(t), n_m, "fnir", j) if n_m else None,
                fnir_rank1=rate(mates1.count_lt(t), n_m, "fnir1", j) if n_m else None,
                wrong_top1=rate(wrong.count_ge(t), n_m, "wrong", j) if n_m else None,
                supported=True,
            )
        )
        j += 1
    cmc = (
        tuple(
            (r, rate(ranks.count_ge(-float(r)), n_m, "cmc", r - 1)) for r in range(1, cmc_max + 1)
        )
        if n_m
        else ()
    )
    inv_fnir = (
        tuple((r, rate(ranks.count_lt(-float(r)), n_m, "inv", k)) for k, r in enumerate(inv_ranks))
        if n_m
        else ()
    )
    inv_fpir = rate(nonmated.count_ge(_ANY), n_nm, "fpir", len(point_thresholds)) if n_nm else None
    unit = "subject"
    return IdentificationResult(
        gallery_size=outcomes.gallery_size,
        n_mated=n_m,
        n_nonmated=n_nm,
        list_length=L,
        rank=R,
        operating_points=tuple(points),
        cmc=cmc,
        investigation_fpir=inv_fpir,
        investigation_fnir=inv_fnir,
        curves=threshold_curves(outcomes, rank=R, max_points=curve_points),
        bootstrap={
            "replicates": int(bootstrap),
            "confidence": float(confidence),
            "unit": unit,
            "n_units": outcomes.n_units,
            "seed": int(seed),
            "thresholds_fixed": True,
        },
        synthetic=bool(synthetic),
        approximate_search=approximate_search,
        source=source,
        warnings=tuple(warnings),
    )


def identify_candidates(search, **kwargs) -> IdentificationResult:
    """1:N audit of validated candidate lists.

    ``search`` is a :class:`faceaudit.data.CandidateSearch`
    (:func:`faceaudit.io.candidates.load_candidate_search`); ``kwargs`` go to :func:`identify`.
    """
    outcomes = search_outcomes(
        search.lists,
        search.truth,
        gallery_size=search.gallery_size,
        gallery_subjects=search.gallery_subjects,
    )
    kwargs.setdefault("source", "candidates")
    return identify(outcomes, **kwargs)


def identify_embeddings(
    gallery,
    probes,
    *,
    list_length: int = 50,
    enrol="first",
    index: str = "flat",
    index_params: dict | None = None,
    chunk_size: int = 4096,
    progress=None,
    **kwargs,
):
    """Search ``probes`` against ``gallery`` (:func:`faceaudit.compare.search.search_gallery`)
    and audit the candidate lists. Returns ``(IdentificationResult, GallerySearch)``."""
    from faceaudit.compare.search import search_gallery

    found = search_gallery(
        gallery,
        probes,
        list_length=list_length,
        enrol=enrol,
        index=index,
        index_params=index_params,
        chunk_size=chunk_size,
        progress=progress,
        seed=kwargs.get("seed", 0),
    )
    outcomes = search_outcomes(
        found.lists,
        found.truth,
        gallery_size=found.gallery_size,
        gallery_subjects=found.gallery_subjects,
    )
    kwargs.setdefault("source", "embeddings")
    kwargs.setdefault(
        "synthetic",
        bool(getattr(gallery, "synthetic", False) or getattr(probes, "synthetic", False)),
    )
    approx = found.approximate.to_json() if found.approximate is not None else None
    return identify(outcomes, approximate_search=approx, **kwargs), found
