"""The paired comparison of systems' 1:N searches of the same probes (NIST FRTE FPIR / FNIR).

Each system searched the same probes against a gallery of the same people; its candidate lists
are reduced to per-search outcomes (:func:`faceaudit.stats.identification.search_outcomes`) whose
bootstrap units (the probe's person, or the probe itself) come from the shared truth, so one
:class:`~faceaudit.stats.bootstrap.Resampler` draws the same people for every system, exactly as
the 1:N audit resamples them (:mod:`faceaudit.analyses.identification`). Figures compared:

- **FNIR at each FPIR target** (``fnir_at_fpir``), each system at its own threshold, re-chosen
  in every replicate (:func:`faceaudit.stats.operating.rechosen_points`); FNIR(N, R, T) with the
  mate within the top ``R`` (default: any returned rank) at or above ``T``;
- **FPIR and FNIR at given thresholds** (``fpir_at_threshold``, ``fnir_at_threshold``);
- **rank-1 misses** (``fnir_rank1``): the share of mated searches whose mate is not at rank 1
  whatever its score (investigation mode; 1 - rank-1 identification rate).

McNemar's test runs on per-search decisions at fixed thresholds: a mated search is right when
its mate is within the top ``R`` at or above the threshold, a non-mated one when no candidate
reaches it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from faceaudit.analyses._identification_bootstrap import _distinct, _Sets
from faceaudit.analyses._system_comparison_common import Measured, differences, mcnemar_tests
from faceaudit.analyses._system_comparison_types import (
    FigureValue,
    SearchPoint,
    SearchSystemFigures,
    SystemComparison,
)
from faceaudit.analyses.identification import DEFAULT_FPIR_TARGETS
from faceaudit.stats.estimate import make_rate
from faceaudit.stats.identification import (
    SearchDesign,
    SearchOutcomes,
    search_design,
    threshold_curves,
)
from faceaudit.stats.intervals import rate_interval, subject_df
from faceaudit.stats.operating import rechosen_points
from faceaudit.stats.paired import ADJUSTMENTS
from faceaudit.stats.rates import operating_threshold, prefetch_for_targets
from faceaudit.stats.replicates import ReplicateCounts
from faceaudit.stats.support import support

__all__ = ["compare_searches"]

#: Ranks of the CMC curve kept per system (1 .. min(list length, this)).
_CMC_RANKS = 100


def _measure(name, o: SearchOutcomes, k: int, design: SearchDesign, fpir_targets, thresholds, R,
             bootstrap, confidence, seed):  # fmt: skip
    sets = _Sets(o, R)
    nm, mates, ranks = sets.nonmated, sets.mates, sets.ranks
    n_m, n_nm = mates.n, nm.n
    nm_units = _distinct(o.nonmated_unit, o.n_units)
    nm_people = design.people(o.nonmated_unit, k)
    m_units = _distinct(o.mated_unit, o.n_units)
    sup = {t: support(t, n_nm, nm_units, confidence) for t in fpir_targets}
    ok = [t for t in fpir_targets if n_nm and sup[t].comparisons_ok]
    if ok:
        prefetch_for_targets(nm, mates, ok)
    chosen = [
        (t, operating_threshold(nm, mates, t).threshold if n_nm and sup[t].supported else None)
        for t in fpir_targets
    ]
    reps: dict = {}
    fixed: dict = {}
    cmc_ranks = np.arange(1, min(max(o.list_length, 1), _CMC_RANKS) + 1)
    cmc_b = res = None
    if bootstrap and n_m and n_nm:
        res = design.resampler(bootstrap, seed)
        neg = ReplicateCounts(nm, res, reference_units=design.references[k].get("nonmated"))
        pos, rk = ReplicateCounts(mates, res), None
        targets = [(t, th) for t, th in chosen if th is not None]
        cuts = [th for _, th in targets] + list(thresholds)
        with np.errstate(invalid="ignore", divide="ignore"):
            fpir_b = neg.ge(cuts) / neg.total[:, None] if cuts else np.zeros((bootstrap, 0))
            fnir_b = pos.lt(cuts) / pos.total[:, None] if cuts else np.zeros((bootstrap, 0))
            rk = ReplicateCounts(ranks, res)
            reps[("fnir_rank1", None)] = rk.lt([-1.0])[:, 0] / rk.total
            cmc_b = rk.ge(-cmc_ranks.astype(np.float64)) / rk.total[:, None]
        for j, (t, _) in enumerate(targets):
            fixed[("fpir", t)] = fpir_b[:, j]
        for j, t in enumerate(thresholds):
            reps[("fpir_at_threshold", t)] = fpir_b[:, len(targets) + j]
            reps[("fnir_at_threshold", t)] = fnir_b[:, len(targets) + j]
        for r in rechosen_points(neg, pos, nm, mates, targets):
            reps[("fnir_at_fpir", r.target)] = r.fn

    def rate(count, n, arr, units, people=None):  # a rate's interval: faceaudit.stats.intervals
        ci = None
        if arr is not None and n:
            df = subject_df(res, arr, count / n, max((people or units) - 1, 1))
            excess = design.iid_excess(k) if people is not None else 0.0
            ci = tuple(float(v) for v in rate_interval(arr, count, n, confidence, df=df,
                                                       iid_excess=excess))  # fmt: skip
        return make_rate(count, n, ci, confidence=confidence, n_units=units, unit="subject")

    values, thr, points = {}, {}, []
    for t, th in chosen:
        if th is None or not n_m:
            points.append(SearchPoint(t, None, False, None, None))
            continue
        fpir = rate(nm.count_ge(th), n_nm, fixed.get(("fpir", t)), nm_units, nm_people)
        fnir = rate(mates.count_lt(th), n_m, reps.get(("fnir_at_fpir", t)), m_units)
        points.append(SearchPoint(t, th, True, fpir, fnir))
        values[("fnir_at_fpir", t)] = FigureValue.of_rate(fnir)
        thr[("fnir_at_fpir", t)] = th
    for t in thresholds:
        fpir = rate(nm.count_ge(t), n_nm, reps.get(("fpir_at_threshold", t)), nm_units, nm_people)
        fnir = rate(mates.count_lt(t), n_m, reps.get(("fnir_at_threshold", t)), m_units)
        points.append(SearchPoint(None, t, True, fpir, fnir))
        if n_nm:
            values[("fpir_at_threshold", t)] = FigureValue.of_rate(fpir)
        if n_m:
            values[("fnir_at_threshold", t)] = FigureValue.of_rate(fnir)
        thr[("fpir_at_threshold", t)] = thr[("fnir_at_threshold", t)] = t
    if n_m:
        miss1 = rate(n_m - ranks.count_ge(-1.0), n_m, reps.get(("fnir_rank1", None)), m_units)
        values[("fnir_rank1", None)] = FigureValue.of_rate(miss1)
    else:
        miss1 = None
    thr[("fnir_rank1", None)] = None
    curves = threshold_curves(o, rank=R, max_points=500)
    figures = SearchSystemFigures(
        name, n_m, n_nm, int(o.gallery_size), R,
        FigureValue.of_rate(miss1) if miss1 is not None else FigureValue(None, None, None, 0),
        tuple(points), curves.fpir, curves.fnir, curves.threshold,
        _cmc(ranks, cmc_ranks, cmc_b, n_m, confidence, res, m_units),
    )  # fmt: skip
    return Measured(figures, values, thr, reps)


def _cmc(ranks, cmc_ranks, cmc_b, n_m, confidence, res, m_units) -> tuple:
    """``(rank, identification rate, its interval)`` for ranks ``1..``: mate within rank r."""
    if not n_m:
        return ()
    counts = np.array([ranks.count_ge(-float(r)) for r in cmc_ranks], dtype=np.float64)
    cis = None
    if cmc_b is not None:
        df = subject_df(res, cmc_b, counts / n_m, max(m_units - 1, 1))
        cis = rate_interval(cmc_b, counts, n_m, confidence, df=df).T
    return tuple(
        (int(r), float(counts[j] / n_m), None if cis is None else tuple(float(v) for v in cis[j]))
        for j, r in enumerate(cmc_ranks)
    )


def _check_same_searches(outcomes: Sequence[SearchOutcomes], names) -> None:
    o0 = outcomes[0]
    for o, name in zip(outcomes[1:], names[1:], strict=True):
        same = (
            np.array_equal(o.units, o0.units)
            and np.array_equal(o.mated_probes, o0.mated_probes)
            and np.array_equal(o.nonmated_probes, o0.nonmated_probes)
            and np.array_equal(o.mated_unit, o0.mated_unit)
        )
        if not same:
            raise ValueError(
                f"system {name!r} did not search the same probes as {names[0]!r}; compare "
                "outcomes built from one truth table"
            )


def compare_searches(
    outcomes: Sequence[SearchOutcomes],
    names: Sequence[str],
    *,
    fpir_targets: Sequence[float] = DEFAULT_FPIR_TARGETS,
    thresholds: Sequence[float] = (),
    rank: int | None = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    adjustment: str = "holm",
    coverage: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SystemComparison:
    """Compare ``k >= 2`` systems' 1:N searches of the same probes, paired by subject.

    Parameters
    ----------
    outcomes : sequence of SearchOutcomes
        One per system, built from the same truth table (same probes, same units).
    names : sequence of str
    fpir_targets : sequence of float
        For each, every system's own threshold (lowest FNIR at FPIR <= target) and FNIR there.
    thresholds : sequence of float
        Similarity-oriented thresholds applied to every system.
    rank : int, optional
        Rank criterion R of FNIR(N, R, T) (default: the longest list of any system).
    bootstrap, confidence, seed, adjustment, progress
        As :func:`faceaudit.analyses.system_comparison.compare_systems`.
    coverage : dict, optional
        What the reader found about the searches the systems share (results ``coverage``).
    """
    if len(outcomes) < 2 or len(outcomes) != len(names):
        raise ValueError("comparing systems needs at least two outcomes, one name each")
    if adjustment not in ADJUSTMENTS:
        raise ValueError(f"adjustment must be one of {ADJUSTMENTS}")
    _check_same_searches(outcomes, names)
    alpha = round(1.0 - confidence, 12)
    R = max(o.rank_limit(rank) for o in outcomes)
    design = search_design(outcomes)
    measured = []
    for i, (o, name) in enumerate(zip(outcomes, names, strict=True)):
        measured.append(_measure(name, o, i, design, fpir_targets, thresholds, R, bootstrap,
                                 confidence, seed))  # fmt: skip
        if progress is not None:
            progress(i + 1, len(outcomes))
    diffs = differences(measured, tuple(names), confidence, adjustment, alpha, seed)
    decisions = [np.concatenate([o.mate_scores(R).scores, o.nonmated_top]) for o in outcomes]
    o0 = outcomes[0]
    truth = np.r_[np.ones(o0.n_mated, bool), np.zeros(o0.n_nonmated, bool)]
    plans = [(("fnir_at_fpir", t), t) for t in fpir_targets]
    plans += [(("fpir_at_threshold", t), None) for t in thresholds]
    tests = mcnemar_tests(tuple(names), decisions, truth, plans, measured, adjustment, alpha)
    boot = {
        "replicates": bootstrap,
        "confidence": confidence,
        "seed": seed,
        "unit": "subject",
        "design": "two-way" if design.two_way else "searches by probe subject",
        "n_units": int(o0.n_units),
        "n_gallery_subjects": design.n_gallery_units,
        "paired": "every replicate resamples the same people's searches for every system; "
        "operating points re-chosen per system in every replicate",
    }
    cov = coverage or {
        "join": "truth probes",
        "common": int(o0.n_mated + o0.n_nonmated),
        "common_mated": int(o0.n_mated),
        "common_nonmated": int(o0.n_nonmated),
        "restricted_to_common": False,
        "systems": [{"name": n, "rows": int(o0.n_mated + o0.n_nonmated), "only_this_system": 0}
                    for n in names],
    }  # fmt: skip
    return SystemComparison(
        systems=tuple(m.figures for m in measured),
        differences=tuple(diffs),
        mcnemar=tuple(tests),
        coverage=cov,
        orientation="similarity",
        bootstrap=boot,
        adjustment=adjustment,
        alpha=alpha,
        mode="identification",
    )
