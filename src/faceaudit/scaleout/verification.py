"""The 1:1 audit on streamed comparisons (see :mod:`faceaudit.scaleout`).

Line for line :func:`faceaudit.analyses.verification.verify`, except where its inputs come from:
score sets from :meth:`StreamedComparisons.score_sets`, the subject-bootstrap tables from
accumulator passes (the replicates apply the same :class:`~faceaudit.stats.bootstrap.Resampler`
weights to the same tables, so the intervals are identical).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from faceaudit.analyses.verification import (
    DEFAULT_FMR_TARGETS,
    EER,
    BootstrapInfo,
    OperatingPoint,
    VerificationResult,
    clopper_pearson,
)
from faceaudit.compare.stream import StreamedComparisons
from faceaudit.stats.bootstrap import Resampler, percentile_interval
from faceaudit.stats.estimate import Rate, make_rate
from faceaudit.stats.rates import (
    area_under_roc,
    det_curve,
    eer_cells,
    equal_error_rate,
    histogram,
    operating_threshold,
    prefetch_for_targets,
    target_supported,
)

__all__ = ["verify_streamed"]


def _replicate_rates(
    resampler: Resampler, comps: StreamedComparisons, side: str, thresholds, *, lt: bool = False
) -> np.ndarray:
    """``(n_boot, m)`` replicate rates (``stats.bootstrap.replicate_rates_ge`` by subject)."""
    table = comps.unit_counts_ge(side, thresholds).astype(np.float64)
    reps = []
    for w in resampler.weight_batches():
        tot = w @ table
        counts = tot[:, :1] - tot[:, 1:] if lt else tot[:, 1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            reps.append(counts / tot[:, :1])
    return np.concatenate(reps)


def _replicate_eers(resampler: Resampler, comps: StreamedComparisons, genuine, impostor):
    """EER of each replicate at cell resolution (``analyses.verification._replicate_eers``)."""
    cells = np.union1d(genuine.distribution.cells, impostor.distribution.cells)
    hg = comps.unit_cell_histograms("genuine", cells)
    hi = comps.unit_cell_histograms("impostor", cells)
    out = []
    for w in resampler.weight_batches():
        g = np.asarray((hg.T @ w.T).T)
        i = np.asarray((hi.T @ w.T).T)
        ng = g.sum(axis=1, keepdims=True)
        ni = i.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            fmr = np.cumsum(i[:, ::-1], axis=1)[:, ::-1] / ni
            fnmr = (np.cumsum(g, axis=1) - g) / ng
            j = np.argmin(np.abs(fmr - fnmr), axis=1)
            rows = np.arange(g.shape[0])
            eer = (fmr[rows, j] + fnmr[rows, j]) / 2
        eer[(ng[:, 0] == 0) | (ni[:, 0] == 0)] = np.nan
        out.append(eer)
    return np.concatenate(out)


def verify_streamed(
    comps: StreamedComparisons,
    *,
    fmr_targets: Sequence[float] = DEFAULT_FMR_TARGETS,
    thresholds: Sequence[float] = (),
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    histogram_bins: int = 60,
) -> VerificationResult:
    """The 1:1 audit of streamed all-vs-all comparisons (parameters as for ``verify``)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    genuine, impostor, n_units = comps.score_sets()
    ng, ni = genuine.n, impostor.n
    warnings: list[str] = []

    chosen = [target_supported(t, ni) for t in fmr_targets]
    prefetch_for_targets(
        impostor,
        genuine,
        [t for t, c in zip(fmr_targets, chosen, strict=True) if c],
        also=eer_cells(genuine, impostor),
    )
    ops_thr = []
    for target, ok in zip(fmr_targets, chosen, strict=True):
        ops_thr.append((target, operating_threshold(impostor, genuine, target) if ok else None))
    eer = equal_error_rate(genuine, impostor)
    auc, auc_err = area_under_roc(genuine, impostor)

    internal = [op.threshold for _, op in ops_thr if op is not None]
    internal += [float(t) for t in thresholds]
    cis_fmr = cis_fnmr = None
    eer_ci = None
    if bootstrap > 0:
        resampler = Resampler(n_units=n_units, n_boot=bootstrap, seed=seed)
        if internal:
            rf = _replicate_rates(resampler, comps, "impostor", internal)
            rn = _replicate_rates(resampler, comps, "genuine", internal, lt=True)
            cis_fmr = percentile_interval(rf, confidence).T
            cis_fnmr = percentile_interval(rn, confidence).T
        eer_ci = tuple(
            float(v)
            for v in percentile_interval(
                _replicate_eers(resampler, comps, genuine, impostor), confidence
            )
        )

    def rates_at(t: float, k: int) -> tuple[Rate, Rate, Rate | None, Rate | None]:
        fm, fnm = impostor.count_ge(t), genuine.count_lt(t)
        fmr = make_rate(
            fm, ni, None if cis_fmr is None else tuple(cis_fmr[k]), confidence=confidence
        )
        fnmr = make_rate(
            fnm, ng, None if cis_fnmr is None else tuple(cis_fnmr[k]), confidence=confidence
        )
        gfmr = gfnmr = None
        if comps.genuine_fta or comps.impostor_fta:
            n_gi, n_gg = ni + comps.impostor_fta, ng + comps.genuine_fta
            gfmr = make_rate(fm, n_gi, clopper_pearson(fm, n_gi, confidence), confidence=confidence)
            c = fnm + comps.genuine_fta
            gfnmr = make_rate(c, n_gg, clopper_pearson(c, n_gg, confidence), confidence=confidence)
        return fmr, fnmr, gfmr, gfnmr

    points: list[OperatingPoint] = []
    k = 0
    for target, op in ops_thr:
        if op is None:
            points.append(OperatingPoint(target, None, None, None, False))
            continue
        fmr, fnmr, gfmr, gfnmr = rates_at(op.threshold, k)
        points.append(OperatingPoint(target, op.threshold, fmr, fnmr, True, gfmr, gfnmr))
        k += 1
    for t in thresholds:
        fmr, fnmr, gfmr, gfnmr = rates_at(float(t), k)
        points.append(OperatingPoint(None, float(t), fmr, fnmr, True, gfmr, gfnmr))
        k += 1

    det = det_curve(genuine, impostor, extra_thresholds=internal + [eer.threshold]).thinned(
        keep=internal + [eer.threshold]
    )
    lo = float(min(genuine.distribution.low[0], impostor.distribution.low[0]))
    hi = float(max(genuine.distribution.high[-1], impostor.distribution.high[-1]))
    finite_lo = lo if np.isfinite(lo) else -1.0
    finite_hi = hi if np.isfinite(hi) else 1.0
    if finite_hi <= finite_lo:
        finite_hi = finite_lo + 1.0
    edges = np.linspace(finite_lo, finite_hi, histogram_bins + 1)
    hist_g, hist_i = histogram(genuine, edges), histogram(impostor, edges)

    return VerificationResult(
        n_genuine=ng,
        n_impostor=ni,
        genuine_fta=int(comps.genuine_fta),
        impostor_fta=int(comps.impostor_fta),
        orientation="similarity",
        eer=EER(eer.value, eer_ci, eer.threshold, eer.fmr, eer.fnmr),
        auc=auc,
        auc_max_error=auc_err,
        operating_points=tuple(points),
        det=det,
        histogram_edges=edges,
        histogram_genuine=hist_g,
        histogram_impostor=hist_i,
        bootstrap=BootstrapInfo(bootstrap, confidence, "subject", seed, n_units),
        warnings=tuple(warnings),
    )
