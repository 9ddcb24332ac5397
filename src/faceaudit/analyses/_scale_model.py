"""The point estimates of the scale analysis: the per-search tail model, extrapolated figures,
the tail diagnostic.

The model (:mod:`faceaudit.analyses._scale_tail`): searches in strata of similar tails, one GPD
per stratum above a tail threshold chosen by parameter stability, FPIR as the mean over searches
of ``1 - (1 - p_i)^N``. Its band: :mod:`faceaudit.analyses._scale_band`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from faceaudit.analyses._scale_collect import ScaleData
from faceaudit.analyses._scale_tail import StratifiedTail, beyond, build_strata, from_w, to_w
from faceaudit.stats.gallery_fpir import fpir_from_fmr, log_none_above
from faceaudit.stats.tail import (
    TailFit,
    fit_gpd,
    mean_excess,
    qq_points,
    tail_candidates,
)

#: Largest candidate exceedance count, as a multiple of the default tail count: the pool of kept
#: scores holds this many.
POOL_FACTOR = 4


def nested_sizes(n: int, start: int = 100) -> list[int]:
    """10^2, 3x10^2, 10^3, 3x10^3, ... below ``n``, then ``n``."""
    out = []
    p = start
    while p < n:
        out.append(p)
        if 3 * p < n:
            out.append(3 * p)
        p *= 10
    out.append(n)
    return sorted(set(out))


def extrapolation_sizes(n_max: int, target: int) -> list[int]:
    """1, 2, 5 x 10^k from 100 to ``target``, plus ``n_max`` and ``target``."""
    out = {int(target), int(n_max)}
    k = 2
    while 10**k <= target:
        for m in (1, 2, 5):
            if m * 10**k <= target:
                out.add(m * 10**k)
        k += 1
    return sorted(v for v in out if v >= 1)


@dataclass(frozen=True)
class Band:
    """A point estimate with a bootstrap percentile band."""

    value: float | None
    ci: tuple[float, float] | None

    def to_json(self) -> dict:
        def f(v):
            return None if v is None or not np.isfinite(v) else float(v)

        ci = None if self.ci is None else [f(self.ci[0]), f(self.ci[1])]
        return {"value": f(self.value), "ci": ci}


def _weighted_fit(y, w, u, n_total_w, start=None) -> TailFit | None:
    try:
        xi, sigma, _ = fit_gpd(y, w, start=start)
    except ValueError:
        return None
    return TailFit(u, xi, sigma, float(w.sum()), float(n_total_w))


def _rank1_expected(fmr_of_mates: np.ndarray, sizes, above: np.ndarray | None, w=None, v=None):
    """Mean over mated searches of (1 - FMR(mate))^(N - 1) [times 1(mate >= T)], under the
    frailty ``v`` of each one's stratum."""
    out = []
    lg = np.log1p(-np.clip(fmr_of_mates, 0, 1 - 1e-16))
    for n in sizes:
        p = np.exp(log_none_above(-(n - 1) * lg, v))
        if above is not None:
            p = p * above
        out.append(np.average(p, weights=w) if p.size else np.nan)
    return np.array(out)


def _floats(a) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=np.float64)]


def _tail_grid(vals: np.ndarray, u: float, n_points: int = 200) -> np.ndarray:
    """Scores at which the tail diagnostic compares empirical and fitted FMR: ``n_points``
    quantiles of the pool's values at or above the tail threshold ``u``."""
    tail = vals[vals >= u]
    if not tail.size:
        return np.empty(0)
    return np.unique(np.quantile(tail, np.linspace(0, 1, n_points)))


def build_tail(
    desc: np.ndarray,
    probe: np.ndarray,
    tmpl: np.ndarray,
    n_cols: int,
    propensity: np.ndarray,
    sample: np.ndarray,
    tail_count: int | None = None,
) -> StratifiedTail:
    """The stratified tail of kept scores ``desc`` (descending; search and template of each) of
    searches with ``n_cols`` comparisons each (:mod:`faceaudit.analyses._scale_tail`).

    Each stratum's tail threshold comes from the stability choice over :func:`tail_candidates`;
    a given ``tail_count`` fixes it instead (one candidate: no model uncertainty from it).
    """
    return build_strata(desc, probe, tmpl, n_cols, propensity, sample, tail_count,
                        tail_candidates)  # fmt: skip


def _diagnostic(data: ScaleData, model: _Model, t: float, target: int) -> dict:
    tail = model.tail
    fit, stab, vals = tail.fit, tail.stab, tail.desc
    qm, qe = qq_points(fit, vals[: int(fit.n_exceedances) + 1])
    mu, me, mn = mean_excess(vals)
    stability = []
    for j, ft in enumerate(stab.fits):
        fm = float(tail.pooled.survival(to_w(np.array([t])), ft, tail.sample)[0])
        stability.append(
            {
                "n_exceedances": int(stab.candidates[j]),
                "tail_threshold": ft.threshold,
                "shape": ft.shape,
                "shape_se": float(stab.se[j]),
                "scale": ft.scale,
                "stable": bool(stab.stable[j]),
                "chosen": j == stab.chosen,
                "in_band": j in stab.band,
                "fmr_at_threshold": fm,
                "fpir_at_target_size": float(fpir_from_fmr(fm, target)),
            }
        )
    grid = model.tail_grid
    asc = vals[::-1]
    emp = (asc.size - np.searchsorted(asc, grid, side="left")) / tail.n_total
    return {
        "qq": {"fitted": _floats(qm), "empirical": _floats(qe)},
        "mean_excess": {
            "threshold": _floats(mu),
            "mean_excess": _floats(me),
            "n_above": _floats(mn),
        },
        "stability": stability,
        "tail_curve": {
            "score": _floats(from_w(grid)),
            "empirical": _floats(emp),
            "fitted": _floats(fit.fmr(grid)),
        },
    }


def tail_choice_json(stab) -> dict:
    """How the tail threshold was chosen (``tail_fit.choice`` in results.json)."""
    return {
        "rule": (
            "parameter stability (Coles 2001, 4.3.4): the largest exceedance count whose shape "
            f"agrees with every higher threshold's within {stab.z:g} standard errors "
            "(Bonferroni-adjusted)"
            if len(stab.candidates) > 1
            else "fixed by the user (tail_count)"
        ),
        "n_exceedances": int(stab.candidates[stab.chosen]),
        "candidates": [int(k) for k in stab.candidates],
        "band_n_exceedances": [int(stab.candidates[j]) for j in stab.band],
    }


@dataclass(frozen=True, eq=False)
class _Model:
    """The point estimates of the extrapolation (the full-data tail model)."""

    tail: StratifiedTail
    fmr_source: str
    fmr_t: float
    ext_sizes: list[int]
    fpir_ext: np.ndarray
    fpir_targets: np.ndarray
    target: int
    fmr_needed: np.ndarray  # mean FMR over searches at each target's threshold
    thr_targets: np.ndarray
    above: np.ndarray | None
    r1_sizes: list[int]
    r1_all: np.ndarray
    r1_thr: np.ndarray
    wrong: np.ndarray  # wrong person at rank 1 at each of r1_sizes
    tail_grid: np.ndarray
    beyond: dict
    beyond_targets: tuple[dict, ...]

    @property
    def fit(self) -> TailFit:
        return self.tail.fit


def mates_dispersion(data: ScaleData, tail: StratifiedTail, fits=None) -> np.ndarray:
    """The frailty variance of each mated search's stratum."""
    return tail.dispersions(fits)[tail.stratum_of(data.mated_propensity)]


def mates_fmr(data: ScaleData, tail: StratifiedTail, fits=None, floor: float | None = None):
    """Each mated search's FMR at its own mate score (or at ``max(floor, mate score)``), from
    the tail of its stratum (by its propensity over its non-mate comparisons)."""
    bins = tail.stratum_of(data.mated_propensity)
    at = data.mated_mate_score if floor is None else np.maximum(data.mated_mate_score, floor)
    per = tail.by_stratum(at, fits)  # (n_mated, n_strata)
    return per[np.arange(bins.size), bins]


def wrong_expected(fmr_at: np.ndarray, sizes, w=None, v=None) -> np.ndarray:
    """Mean over mated searches of ``1 - (1 - FMR(max(T, mate)))^(N - 1)``: the chance that a
    non-mate among the N - 1 others scores at or above both the threshold and the mate, i.e.
    that the top candidate shown is the wrong person (NIST's rank-1 false positive of a mated
    search, under independent distractors within the search's stratum, and its frailty ``v``)."""
    lg = np.log1p(-np.clip(fmr_at, 0, 1 - 1e-16))
    out = [np.average(-np.expm1(log_none_above(-(n - 1) * lg, v)), weights=w) if lg.size
           else np.nan for n in sizes]  # fmt: skip
    return np.array(out)


def _model(
    data: ScaleData,
    tail_count: int | None,
    t: float,
    sizes: np.ndarray,
    fpir_targets: Sequence[float],
    target_gallery_size: int,
    warnings: list[str],
) -> _Model:
    """Fit the tail on the full data and extrapolate FPIR, thresholds and rank-1 accuracy."""
    n_total = data.n_total
    n_m = data.mated_mate_score.size
    tail = build_tail(
        data.pool_vals,
        data.pool_probe,
        data.pool_tmpl,
        data.n_templates,
        data.nonmated_propensity,
        data.sample,
        tail_count,
    )
    fit = tail.fit
    if fit.shape >= 0.5:
        warnings.append(
            f"The fitted tail is heavy (shape {fit.shape:.2f} >= 0.5): extrapolation far beyond "
            "the data is unreliable; check the tail-fit diagnostic."
        )
    fmr_source = tail.source(t)
    p_t = tail.p(t)
    fmr_t = float(np.mean(p_t))
    if fmr_source == "empirical":
        warnings.append(
            f"The threshold {t:g} is below the tail threshold of every stratum of searches: "
            "FMR(T) is the empirical rate, not the fitted tail."
        )
    ext_sizes = extrapolation_sizes(int(sizes[-1]), int(target_gallery_size))
    ext_sizes = sorted(set(ext_sizes) | {int(s) for s in sizes})
    thr_targets = tail.threshold_for(np.array(fpir_targets, dtype=float), target_gallery_size)
    fmr_needed = np.array(
        [float(np.mean(tail.p(x))) if np.isfinite(x) else np.nan for x in thr_targets]
    )
    mate_fmr = mates_fmr(data, tail) if n_m else np.empty(0)
    mate_v = mates_dispersion(data, tail) if n_m else None
    above = (data.mated_mate_score >= t).astype(float) if n_m else None
    r1_sizes = sorted(
        {int(sizes[-1]), int(target_gallery_size)}
        | {10**e for e in range(2, 10) if 10**e <= target_gallery_size}
    )
    none = np.full(len(r1_sizes), np.nan)
    return _Model(
        tail=tail,
        fmr_source=fmr_source,
        fmr_t=fmr_t,
        ext_sizes=ext_sizes,
        fpir_ext=tail.fpir(t, np.array(ext_sizes, dtype=np.float64)),
        fpir_targets=np.array(fpir_targets, dtype=float),
        target=int(target_gallery_size),
        fmr_needed=fmr_needed,
        thr_targets=thr_targets,
        above=above,
        r1_sizes=r1_sizes,
        r1_all=_rank1_expected(mate_fmr, r1_sizes, None, v=mate_v) if n_m else none,
        r1_thr=_rank1_expected(mate_fmr, r1_sizes, above, v=mate_v) if n_m else none,
        wrong=wrong_expected(mates_fmr(data, tail, floor=t), r1_sizes, v=mate_v) if n_m else none,
        tail_grid=_tail_grid(tail.desc, fit.threshold),
        beyond=beyond(fmr_t, n_total),
        beyond_targets=tuple(beyond(float(f), n_total) for f in fmr_needed),
    )


def settle_beyond(
    model: _Model,
    fmr_band: tuple[float, float] | None,
    t: float,
    n_total: int,
    warnings: list[str],
) -> _Model:
    """The model with its beyond-the-data flag of FMR(T) settled by the band of FMR(T) (None:
    no band, the estimate alone decides), and the warnings of every flag raised. The flags of
    the targets' thresholds rest on their estimates: the FMR a target needs is fixed by the
    target and N, so its band is narrow."""
    lower = None if fmr_band is None else fmr_band[0]
    model = replace(model, beyond=beyond(model.fmr_t, n_total, lower))
    _beyond_warnings(model.beyond, model.beyond_targets, model.fpir_targets, t, model.target,
                     n_total, warnings)  # fmt: skip
    return model


def _rarer(flag: dict) -> str:
    """``"3e-15, 1,500 times rarer than"`` or ``"0 (past the fitted tail's end), below"``."""
    times = flag["times_below"]
    if times is None:
        return "0 (past the fitted tail's end), below"
    return f"{flag['fmr']:.2g}, {times:,.0f} times rarer than"


def _beyond_warnings(flag, flags, targets, t, n, n_total, warnings) -> None:
    """The beyond-the-data warnings (FPIR at T; thresholds for targets), in plain words."""
    if flag["basis"] == "estimate":
        warnings.append(
            f"Extrapolated beyond the data: the FPIR figures for galleries larger than the "
            f"measured ones rest on a chance that one comparison is a false match at T = {t:g} "
            f"of {_rarer(flag)} the rarest event these {n_total:,} comparisons can show "
            f"(1 in {n_total:,}). No data here can confirm them: read the band, not the figure."
        )
    elif flag["basis"] == "band":
        warnings.append(
            f"Extrapolated beyond the data: the chance that one comparison is a false match at "
            f"T = {t:g} is put at {flag['fmr']:.2g}, but its band reaches down to "
            f"{flag['fmr_band_lower']:.2g}, below the rarest event these {n_total:,} comparisons "
            f"can show (1 in {n_total:,}): the data cannot rule out that the FPIR figures for "
            "larger galleries rest on the extrapolation alone. Read the band, not the figure."
        )
    hit = [f"{tg:g}" for tg, f in zip(targets, flags, strict=True) if f["flagged"]]
    if hit:
        warnings.append(
            f"Extrapolated beyond the data: the threshold for FPIR {', '.join(hit)} at "
            f"N = {n:,} needs a false-match rate per comparison rarer than the rarest event "
            f"these {n_total:,} comparisons can show (1 in {n_total:,}); it is a projection of "
            "the fitted tail: read its band."
        )
