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

Intervals: bootstrap over **subjects** (the one bootstrap, :mod:`faceaudit.stats.bootstrap`; a probe
subject's searches are resampled together, mated and non-mated searches share the replicate weights,
and, two-way, the gallery subjects of wrongly returned candidates are resampled too:
:mod:`faceaudit.analyses._identification_bootstrap`). For an FPIR target the threshold is
**re-chosen in every replicate** (:mod:`faceaudit.stats.operating`): the ``fnir`` interval is for
the system's FNIR at that FPIR; the interval at the fixed threshold is given beside it
(``fnir_fixed_threshold``), with the bootstrap estimate of the optimism of a threshold chosen on the
data. Other rates (FPIR, ``fnir_rank1``, ``wrong_top1``, CMC) are at the fixed thresholds. Zero (or
all) errors give exact one-sided bounds at the intervals' level on the number of searched
**subjects**; a target is supported only with enough non-mated searches and enough people
(:mod:`faceaudit.stats.support`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from faceaudit.analyses._identification_bootstrap import ANY, _bootstrap, _distinct, _people, _Sets
from faceaudit.stats.bootstrap import percentile_interval
from faceaudit.stats.estimate import Rate, empty_rate_json, make_rate
from faceaudit.stats.identification import (
    SearchOutcomes,
    ThresholdCurves,
    search_design,
    search_outcomes,
    threshold_curves,
)
from faceaudit.stats.intervals import DEFAULT_METHOD
from faceaudit.stats.operating import Optimism, optimism
from faceaudit.stats.rates import operating_threshold, prefetch_for_targets
from faceaudit.stats.support import SUPPORT_RULE, Support, support

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


@dataclass(frozen=True)
class IdentificationPoint:
    """Rates at one threshold: chosen for ``fpir_target``, or given by the user (target None).

    ``fnir`` uses the rank criterion ``rank`` (R); ``fnir_rank1`` uses R = 1. For a target,
    ``fnir.ci`` is for the system's FNIR at that FPIR (threshold re-chosen in every replicate);
    ``fnir_fixed`` has the interval at this fixed threshold.
    """

    fpir_target: float | None
    threshold: float | None
    rank: int
    fpir: Rate | None
    fnir: Rate | None
    fnir_rank1: Rate | None
    wrong_top1: Rate | None
    supported: bool
    support: Support | None = None
    fnir_fixed: Rate | None = None
    threshold_ci: tuple[float, float] | None = None
    optimism: Optimism | None = None
    rechosen_exact: bool | None = None

    def to_json(self) -> dict:
        def rj(r):
            return r.to_json() if r is not None else empty_rate_json()

        out = {
            "fpir_target": self.fpir_target,
            "threshold": self.threshold,
            "fpir": rj(self.fpir),
            "fnir": rj(self.fnir),
            "wrong_top1": rj(self.wrong_top1),
            "supported": self.supported,
            "rank": self.rank,
            "fnir_rank1": rj(self.fnir_rank1),
        }
        if self.support is not None:
            out["support"] = self.support.to_json()
        if self.fpir_target is not None:
            out["fnir_interval"] = (
                "threshold re-chosen in every replicate" if self.fnir_fixed else "none"
            )
            out["fnir_fixed_threshold"] = rj(self.fnir_fixed)
            out["threshold_ci"] = None if self.threshold_ci is None else list(self.threshold_ci)
            out["rechosen_threshold_exact"] = self.rechosen_exact
            opt = self.optimism
            out["optimism"] = None if opt is None else opt.to_json("fpir", "fnir")
        return out


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
            "support_rule": SUPPORT_RULE,
            "investigation": {
                "threshold": None,
                "fpir_any_candidate": (
                    self.investigation_fpir.to_json()
                    if self.investigation_fpir
                    else empty_rate_json()
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
        Subject-bootstrap replicates (0: no intervals other than zero-error bounds).
    confidence : float
        Two-sided confidence level (bounds: one-sided at (1 + confidence) / 2).
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
    warnings = _warnings(outcomes)
    sets = _Sets(outcomes, R)
    nm_units = _distinct(outcomes.nonmated_unit, outcomes.n_units)
    m_units = _distinct(outcomes.mated_unit, outcomes.n_units)
    sup = {t: support(t, n_nm, nm_units, confidence) for t in fpir_targets}
    ok_targets = [t for t in fpir_targets if n_nm and sup[t].comparisons_ok]
    if ok_targets:
        prefetch_for_targets(sets.nonmated, sets.mates, ok_targets)
    chosen = [
        (t, operating_threshold(sets.nonmated, sets.mates, t).threshold)
        if n_nm and sup[t].supported
        else (t, None)
        for t in fpir_targets
    ]
    point_thresholds = [t for _, t in chosen if t is not None] + [float(t) for t in thresholds]
    L = outcomes.list_length
    cmc_max = min(L, max_cmc_rank) if max_cmc_rank else L
    inv_ranks = sorted({r for r in INVESTIGATION_RANKS if r <= L} | ({L} if L else set()))
    ci, rechosen = {}, []
    design = search_design([outcomes])
    if bootstrap > 0 and outcomes.n_units > 0:
        targets = [(t, th) for t, th in chosen if th is not None]
        ci, rechosen = _bootstrap(
            sets, design, _people(design, outcomes), point_thresholds, targets, cmc_max,
            inv_ranks, bootstrap, confidence, seed,
        )  # fmt: skip

    def rate(count, n, key, j, units):
        c = None
        if key in ci:
            lo, hi = ci[key][j]
            c = None if np.isnan(lo) else (float(lo), float(hi))
        return make_rate(count, n, c, confidence=confidence, n_units=units, unit="subject")

    points = _points(
        sets, chosen, thresholds, R, sup, rate, rechosen, nm_units, m_units, confidence
    )
    cmc, inv_fnir = _rank_rates(sets, rate, n_m, cmc_max, inv_ranks, m_units)
    inv_fpir = (
        rate(sets.nonmated.count_ge(ANY), n_nm, "fpir", len(point_thresholds), nm_units)
        if n_nm
        else None
    )
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
        bootstrap=_bootstrap_json(
            outcomes, design, bootstrap, confidence, seed, nm_units, m_units
        ),  # fmt: skip
        synthetic=bool(synthetic),
        approximate_search=approximate_search,
        source=source,
        warnings=tuple(warnings),
    )


def _rank_rates(sets, rate, n_m, cmc_max, inv_ranks, m_units):
    """``(CMC by rank, investigation-mode FNIR by rank)``; empty without mated searches."""
    if not n_m:
        return (), ()
    cmc = tuple(
        (r, rate(sets.ranks.count_ge(-float(r)), n_m, "cmc", r - 1, m_units))
        for r in range(1, cmc_max + 1)
    )
    inv = tuple(
        (r, rate(sets.ranks.count_lt(-float(r)), n_m, "inv", k, m_units))
        for k, r in enumerate(inv_ranks)
    )
    return cmc, inv


def _bootstrap_json(outcomes, design, bootstrap, confidence, seed, nm_units, m_units) -> dict:
    return {
        "replicates": int(bootstrap),
        "confidence": float(confidence),
        "unit": "subject",
        "interval": DEFAULT_METHOD,
        "design": "two-way" if design.two_way else "searches by probe subject",
        "n_units": outcomes.n_units,
        "n_nonmated_subjects": nm_units,
        "n_mated_subjects": m_units,
        "n_gallery_subjects": design.n_gallery_units,
        "seed": int(seed),
        "thresholds_fixed": False,
        "operating_points": "FPIR-target thresholds re-chosen in every replicate for FNIR "
        "(fixed-threshold intervals given beside them); other rates at fixed thresholds",
    }


def _warnings(outcomes: SearchOutcomes) -> list[str]:
    warnings: list[str] = []
    if outcomes.n_nonmated == 0:
        warnings.append(
            "No non-mated searches: FPIR cannot be measured and no threshold can be chosen for an "
            "FPIR target. Add searches of people who are not enrolled."
        )
    if outcomes.n_mated == 0:
        warnings.append("No mated searches: FNIR and CMC cannot be measured.")
    if outcomes.list_length == 0:
        warnings.append("Every candidate list is empty.")
    return warnings


def _points(sets, chosen, thresholds, R, sup, rate, rechosen, nm_units, m_units, confidence):
    """The operating points: the chosen thresholds for the targets, then the given ones."""
    n_m, n_nm = sets.mates.n, sets.nonmated.n
    points = []
    j = 0
    again = iter(rechosen)
    for target, t in list(chosen) + [(None, float(t)) for t in thresholds]:
        if t is None:
            points.append(IdentificationPoint(target, None, R, None, None, None, None, False,
                                              support=sup[target]))  # fmt: skip
            continue
        fnir = rate(sets.mates.count_lt(t), n_m, "fnir", j, m_units) if n_m else None
        extra = {}
        if target is not None:
            extra["support"] = sup[target]
            r, fn_ci = next(again, (None, None))
            if r is not None and fnir is not None:
                lo, hi = fn_ci
                t_lo, t_hi = percentile_interval(r.threshold, confidence)
                extra.update(
                    fnir_fixed=fnir,
                    threshold_ci=(float(t_lo), float(t_hi)),
                    optimism=optimism(r, fnir.value),
                    rechosen_exact=r.exact,
                )
                fnir = make_rate(fnir.count, n_m, (float(lo), float(hi)), confidence=confidence,
                                 n_units=m_units, unit="subject")  # fmt: skip
        points.append(
            IdentificationPoint(
                fpir_target=target,
                threshold=float(t),
                rank=R,
                fpir=rate(sets.nonmated.count_ge(t), n_nm, "fpir", j, nm_units) if n_nm else None,
                fnir=fnir,
                fnir_rank1=rate(sets.mates1.count_lt(t), n_m, "fnir1", j, m_units) if n_m else None,
                wrong_top1=rate(sets.wrong.count_ge(t), n_m, "wrong", j, m_units) if n_m else None,
                supported=True,
                **extra,
            )
        )
        j += 1
    return points


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
