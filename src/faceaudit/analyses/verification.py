"""The 1:1 (verification) audit: FMR, FNMR, DET, EER and operating points with confidence intervals.

Follows ISO/IEC 19795-1:2021: FMR/FNMR at a threshold, the threshold for each FMR target chosen on
these data (the lowest FNMR with FMR <= target), the EER, and the *generalised* rates that count
failures to acquire (a mated comparison without a score is a false non-match; a non-mated
comparison without a score cannot be a false match but stays in the denominator).

Intervals (:mod:`faceaudit.stats.bootstrap`, the one bootstrap):

- **Two-way subject bootstrap** whenever both subjects of the non-mated comparisons are known:
  subjects are resampled with replacement, a non-mated comparison weighs the product of its two
  subjects' multiplicities (so reference-side variation, e.g. "lambs" and reference image
  quality, is resampled as well as the probe side) and a mated comparison its subject's.
- **One-way fallback** when only one subject column is given: non-mated comparisons go with that
  subject alone (a warning says the intervals miss the other side's variation); without subject
  ids, comparisons are resampled as if independent (a warning says so).
- **Operating points re-chosen in every replicate** (:mod:`faceaudit.stats.operating`): the
  interval of "FNMR at FMR target" is for the system's FNMR at that FMR; the fixed-threshold
  interval is given beside it, with the bootstrap estimate of the optimism of a threshold chosen
  on the data. Each replicate's EER is its own crossing.
- Zero (and all) errors give exact one-sided bounds at the intervals' level on the number of
  **subjects** under the rate (:mod:`faceaudit.stats.estimate`); a target is supported only with
  enough comparisons and enough people (:mod:`faceaudit.stats.support`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from faceaudit.analyses._verification_types import (
    EER,
    BootstrapInfo,
    OperatingPoint,
    VerificationResult,
)
from faceaudit.data import ComparisonScores
from faceaudit.stats.binomial import clopper_pearson
from faceaudit.stats.bootstrap import (
    COMPARISON_CELLS_STREAM,
    COMPARISON_RATES_STREAM,
    Resampler,
    percentile_interval,
)
from faceaudit.stats.estimate import Rate, make_rate
from faceaudit.stats.intervals import rate_interval, subject_dfs
from faceaudit.stats.operating import Optimism, Rechosen, optimism, rechosen_points, replicate_eer
from faceaudit.stats.rates import (
    area_under_roc,
    det_curve,
    eer_cells,
    equal_error_rate,
    histogram,
    operating_threshold,
    prefetch_for_targets,
)
from faceaudit.stats.replicates import ReplicateCounts
from faceaudit.stats.scoreset import ScoreSet
from faceaudit.stats.support import Support, support

__all__ = [
    "DEFAULT_FMR_TARGETS",
    "EER",
    "BootstrapInfo",
    "OperatingPoint",
    "Optimism",
    "VerificationResult",
    "score_sets",
    "verify",
]

DEFAULT_FMR_TARGETS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)


@dataclass(frozen=True, eq=False)
class _Design:
    """The score sets, their resampling units and what the bounds rest on."""

    mated: ScoreSet
    nonmated: ScoreSet
    reference_units: np.ndarray | None  # second subject of each non-mated comparison (two-way)
    n_units: int  # subjects resampled (0: comparisons)
    design: str
    n_nonmated_subjects: int | None
    n_mated_subjects: int | None


def _distinct(codes: Sequence[np.ndarray | None], n: int) -> int:
    """Distinct codes in ``[0, n)`` over the arrays (chunked; memory-mapped arrays welcome)."""
    seen = np.zeros(max(n, 1), dtype=bool)
    for a in codes:
        if a is None:
            continue
        for s in range(0, len(a), 1 << 22):
            seen[np.asarray(a[s : s + (1 << 22)], dtype=np.int64)] = True
    return int(seen.sum())


def score_sets(scores: ComparisonScores) -> _Design:
    """Mated and non-mated :class:`ScoreSet` with their subject units and the bootstrap design.

    Two-way when both subjects of the non-mated comparisons are known; one-way (the known side)
    when only one is; by comparison without subject ids. ``scores`` may also be streamed
    comparisons (:class:`faceaudit.compare.stream.StreamedComparisons`: anything with a
    ``streamed_design()``), whose score sets recompute their blocks instead of holding scores.
    """
    if hasattr(scores, "streamed_design"):  # comparisons computed block by block, never stored
        return _Design(*scores.streamed_design())
    gs, ps, rs = scores.mated_subject, scores.nonmated_subject, scores.nonmated_reference_subject
    n = len(scores.subjects)
    if gs is not None and ps is not None and rs is not None:
        units, refs, design = ps, rs, "two-way"
    elif gs is not None and (ps is not None or rs is not None):
        units, refs = (ps, None) if ps is not None else (rs, None)
        design = "probe subject" if ps is not None else "reference subject"
    else:
        return _Design(ScoreSet(scores.mated), ScoreSet(scores.nonmated), None, 0,
                       "comparison", None, None)  # fmt: skip
    return _Design(
        ScoreSet(scores.mated, units=gs),
        ScoreSet(scores.nonmated, units=units),
        refs,
        n,
        design,
        _distinct([units, refs], n),
        _distinct([gs], n),
    )


@dataclass(frozen=True, eq=False)
class _Intervals:
    """Every interval of the 1:1 audit, from one set of bootstrap replicates."""

    fmr: np.ndarray  # (k, 2) at the fixed thresholds
    fnmr: np.ndarray
    rechosen: list[Rechosen]
    eer: tuple[float, float] | None
    rechosen_fn: list[tuple[float, float]]  # the re-chosen FNMR intervals, one per target


def _bootstrap(
    d: _Design,
    thresholds: list[float],
    targets: list[tuple[float, float]],
    t_eer: float,
    bootstrap: int,
    confidence: float,
    seed: int,
) -> _Intervals:
    """The replicates: counts at the fixed thresholds, then re-chosen points and EERs."""
    res = Resampler(d.n_units, bootstrap, seed)
    neg = ReplicateCounts(
        d.nonmated, res, reference_units=d.reference_units, stream=COMPARISON_RATES_STREAM
    )
    pos = ReplicateCounts(d.mated, res, stream=COMPARISON_CELLS_STREAM)
    fixed = np.asarray(list(thresholds) + [t_eer], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        fmr_b = neg.ge(fixed) / neg.total[:, None]
        fnmr_b = pos.lt(fixed) / pos.total[:, None]
    fm = np.array([d.nonmated.count_ge(t) for t in thresholds], dtype=np.float64)
    fnm = np.array([d.mated.count_lt(t) for t in thresholds], dtype=np.float64)
    fmr_r, fnmr_r = fmr_b[:, :-1], fnmr_b[:, :-1]
    rechosen = rechosen_points(neg, pos, d.nonmated, d.mated, targets)
    fn_counts = [d.mated.count_lt(th) for _, th in targets]
    m_cap, nm_cap, m_n = _cap(d.n_mated_subjects), _cap(d.n_nonmated_subjects), max(d.mated.n, 1)
    fm_df, fnm_df, *fn_dfs = subject_dfs(res, [
        (fmr_r, fm / d.nonmated.n, nm_cap), (fnmr_r, fnm / m_n, m_cap),
        *((r.fn, c / m_n, m_cap) for r, c in zip(rechosen, fn_counts, strict=True)),
    ])  # fmt: skip
    fmr_ci = rate_interval(fmr_r, fm, d.nonmated.n, confidence, df=fm_df).T
    fnmr_ci = rate_interval(fnmr_r, fnm, d.mated.n, confidence, df=fnm_df).T
    eers, _ = replicate_eer(neg, pos, d.nonmated, d.mated, t_eer)
    eer_ci = tuple(float(v) for v in percentile_interval(eers, confidence))
    fn_ci = [
        tuple(float(v) for v in rate_interval(r.fn, c, d.mated.n, confidence, df=df))
        for r, c, df in zip(rechosen, fn_counts, fn_dfs, strict=True)
    ]
    return _Intervals(fmr_ci, fnmr_ci, rechosen, eer_ci, fn_ci)


def _cap(n_subjects: int | None) -> int | None:
    """The degrees of freedom of a rate's variance are at most its subjects - 1."""
    return None if n_subjects is None else max(n_subjects - 1, 1)


def _warnings(d: _Design, bootstrap: int) -> list[str]:
    if not bootstrap:
        return []
    if d.design == "comparison":
        return [
            "No subject ids in the input: confidence intervals resample comparisons as if "
            "independent, which understates uncertainty when comparisons share people. "
            "Provide probe_subject and reference_subject columns for a subject bootstrap."
        ]
    if d.design != "two-way":
        other = "reference" if d.design == "probe subject" else "probe"
        return [
            f"Only the {d.design} of each non-mated comparison is known: intervals resample that "
            f"side only and miss the variation of the {other} side (e.g. people who are easy "
            "to match against, reference image quality), so they understate uncertainty. "
            "Provide both probe_subject and reference_subject columns for the two-way bootstrap."
        ]
    return []


def verify(
    scores: ComparisonScores,
    *,
    fmr_targets: Sequence[float] = DEFAULT_FMR_TARGETS,
    thresholds: Sequence[float] = (),
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    histogram_bins: int = 60,
) -> VerificationResult:
    """Run the 1:1 audit on one set of comparison scores.

    Parameters
    ----------
    scores : ComparisonScores
        Similarity-oriented mated and non-mated scores (see :mod:`faceaudit.io.scores`).
    fmr_targets : sequence of float
        FMR targets; for each, the threshold with the lowest FNMR at FMR <= target.
    thresholds : sequence of float
        Extra thresholds (similarity-oriented, like the scores) at which to report FMR and FNMR.
    bootstrap : int
        Bootstrap replicates for the intervals (0: no intervals, bounds only).
    confidence : float
        Two-sided confidence level of the intervals (bounds: one-sided at (1 + confidence)/2).
    seed : int
        Seed of the resampling.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    d = score_sets(scores)
    mated, nonmated = d.mated, d.nonmated
    ng, ni = mated.n, nonmated.n
    sup = {t: support(t, ni, d.n_nonmated_subjects, confidence) for t in fmr_targets}
    prefetch_for_targets(
        nonmated,
        mated,
        [t for t in fmr_targets if sup[t].comparisons_ok],
        also=eer_cells(mated, nonmated),
    )
    chosen = [
        (t, operating_threshold(nonmated, mated, t).threshold if sup[t].supported else None)
        for t in fmr_targets
    ]
    eer = equal_error_rate(mated, nonmated)
    auc, auc_err = area_under_roc(mated, nonmated)
    internal = [th for _, th in chosen if th is not None] + [float(t) for t in thresholds]
    boot = None
    if bootstrap > 0:
        targets = [(t, th) for t, th in chosen if th is not None]
        boot = _bootstrap(d, internal, targets, eer.threshold, bootstrap, confidence, seed)
    points = _points(scores, d, chosen, thresholds, sup, boot, confidence)
    det = det_curve(mated, nonmated, extra_thresholds=internal + [eer.threshold]).thinned(
        keep=internal + [eer.threshold]
    )
    edges = _histogram_edges(mated, nonmated, histogram_bins)
    return VerificationResult(
        n_mated=ng,
        n_nonmated=ni,
        mated_fta=int(scores.mated_fta),
        nonmated_fta=int(scores.nonmated_fta),
        orientation=scores.orientation,
        eer=EER(
            eer.value, _eer_ci(eer.value, boot, d, confidence), eer.threshold, eer.fmr, eer.fnmr
        ),  # fmt: skip
        auc=auc,
        auc_max_error=auc_err,
        operating_points=tuple(points),
        det=det,
        histogram_edges=edges,
        histogram_mated=histogram(mated, edges),
        histogram_nonmated=histogram(nonmated, edges),
        bootstrap=BootstrapInfo(
            bootstrap,
            confidence,
            "subject" if d.n_units else "comparison",
            seed,
            d.n_units,
            d.design,
            d.n_nonmated_subjects,
            d.n_mated_subjects,
        ),
        warnings=tuple(_warnings(d, bootstrap) + far_outside_warnings(d.mated, d.nonmated)),
    )


def _points(
    scores: ComparisonScores,
    d: _Design,
    chosen: list[tuple[float, float | None]],
    thresholds: Sequence[float],
    sup: dict[float, Support],
    boot: _Intervals | None,
    confidence: float,
) -> list[OperatingPoint]:
    """The operating points: the chosen thresholds for the targets, then the given ones."""
    mated, nonmated = d.mated, d.nonmated
    ng, ni = mated.n, nonmated.n
    imp_units = dict(n_units=d.n_nonmated_subjects, unit="subject")
    gen_units = dict(n_units=d.n_mated_subjects, unit="subject")
    if d.n_nonmated_subjects is None:
        imp_units = gen_units = {}

    def ci(arr, k):
        return None if boot is None else tuple(float(v) for v in arr[k])

    def rates_at(t: float, k: int) -> tuple[Rate, Rate, Rate | None, Rate | None]:
        fm, fnm = nonmated.count_ge(t), mated.count_lt(t)
        fmr = make_rate(fm, ni, ci(boot.fmr, k) if boot else None, confidence=confidence,
                        **imp_units)  # fmt: skip
        fnmr = make_rate(fnm, ng, ci(boot.fnmr, k) if boot else None, confidence=confidence,
                         **gen_units)  # fmt: skip
        gfmr = gfnmr = None
        if scores.mated_fta or scores.nonmated_fta:
            n_gi, n_gg = ni + scores.nonmated_fta, ng + scores.mated_fta
            gfmr = make_rate(fm, n_gi, clopper_pearson(fm, n_gi, confidence),
                             confidence=confidence, **imp_units)  # fmt: skip
            c = fnm + scores.mated_fta
            gfnmr = make_rate(c, n_gg, clopper_pearson(c, n_gg, confidence),
                              confidence=confidence, **gen_units)  # fmt: skip
        return fmr, fnmr, gfmr, gfnmr

    points: list[OperatingPoint] = []
    k = 0
    rechosen = iter(boot.rechosen if boot else ())
    for target, th in chosen:
        if th is None:
            points.append(OperatingPoint(target, None, None, None, False, support=sup[target]))
            continue
        fmr, fixed, gfmr, gfnmr = rates_at(th, k)
        fnmr, thr_ci, opt, exact = fixed, None, None, None
        if boot is not None:
            r = next(rechosen)
            lo, hi = boot.rechosen_fn[k]
            fnmr = make_rate(fixed.count, ng, (float(lo), float(hi)), confidence=confidence,
                             **gen_units)  # fmt: skip
            t_lo, t_hi = percentile_interval(r.threshold, confidence)
            thr_ci, opt, exact = (float(t_lo), float(t_hi)), optimism(r, fixed.value), r.exact
        points.append(
            OperatingPoint(target, th, fmr, fnmr, True, gfmr, gfnmr, sup[target],
                           fixed if boot is not None else None, thr_ci, opt, exact)
        )  # fmt: skip
        k += 1
    for t in thresholds:
        fmr, fnmr, gfmr, gfnmr = rates_at(float(t), k)
        points.append(OperatingPoint(None, float(t), fmr, fnmr, True, gfmr, gfnmr))
        k += 1
    return points


def _eer_ci(value: float, boot, d: _Design, confidence: float) -> tuple[float, float] | None:
    """The replicates' EER interval; when it collapses at 0 (no error on either side at the
    crossing, in every replicate) the zero-error bound on the fewer independent units instead: a
    perfectly separated sample says the EER is small, not that it is 0."""
    from faceaudit.stats.estimate import zero_error_bound

    if boot is None:
        return None
    lo, hi = boot.eer
    if value == 0.0 and hi == 0.0:
        units = [n for n in (d.n_mated_subjects, d.n_nonmated_subjects) if n]
        n = min(units) if units else min(d.mated.n, d.nonmated.n)
        return 0.0, zero_error_bound(n, confidence)
    return lo, hi


def _histogram_edges(mated: ScoreSet, nonmated: ScoreSet, bins: int) -> np.ndarray:
    lo = float(min(mated.distribution.low[0], nonmated.distribution.low[0]))
    hi = float(max(mated.distribution.high[-1], nonmated.distribution.high[-1]))
    finite_lo = lo if np.isfinite(lo) else -1.0
    finite_hi = hi if np.isfinite(hi) else 1.0
    if finite_hi <= finite_lo:
        finite_hi = finite_lo + 1.0
    # lo (1 - t) + hi t: finite even when hi - lo overflows (scores near +-1.8e308)
    t = np.linspace(0.0, 1.0, bins + 1)
    edges = finite_lo * (1.0 - t) + finite_hi * t
    edges[0], edges[-1] = finite_lo, finite_hi
    return edges


#: A score this many interquartile ranges away from the median is "far outside the rest": a
#: placeholder (-1e308, 9999) more likely than a real score.
FAR_OUTSIDE = 1000.0


def far_outside_warnings(mated: ScoreSet, nonmated: ScoreSet) -> list[str]:
    """A warning with counts when some scores lie far outside the bulk (:data:`FAR_OUTSIDE`).

    Quantiles come from the summaries' grid cells (exact to the cell: 2^-8 relative)."""
    from faceaudit.stats.grid import cell_lower_edge

    cells = np.concatenate([mated.distribution.cells, nonmated.distribution.cells])
    counts = np.concatenate([mated.distribution.counts, nonmated.distribution.counts])
    if counts.sum() < 100:
        return []
    order = np.argsort(cells, kind="stable")
    cells, counts = cells[order], counts[order]
    cum = np.cumsum(counts) / counts.sum()
    q25, q50, q75 = (
        float(cell_lower_edge(cells[np.searchsorted(cum, q)])) for q in (0.25, 0.5, 0.75)
    )
    spread = q75 - q25
    if not np.isfinite(spread) or spread <= 0:
        return []
    with np.errstate(over="ignore", invalid="ignore"):
        edges = cell_lower_edge(cells).astype(np.float64)
        far = np.abs(edges - q50) > FAR_OUTSIDE * spread
    n_far = int(counts[far].sum())
    if not n_far:
        return []
    vals = edges[far]
    lo = min(float(mated.distribution.low[0]), float(nonmated.distribution.low[0]))
    hi = max(float(mated.distribution.high[-1]), float(nonmated.distribution.high[-1]))
    v_lo = lo if vals.min() < q50 else vals.min()  # the exact extreme, not its grid cell
    v_hi = hi if vals.max() > q50 else vals.max()
    return [
        f"{n_far:,} scores lie far outside the rest (from {v_lo:.3g} to {v_hi:.3g}, "
        f"while half lie between {q25:.3g} and {q75:.3g}): placeholders for failed comparisons? "
        "They are counted as scores; a failure to acquire is an empty score field."
    ]
