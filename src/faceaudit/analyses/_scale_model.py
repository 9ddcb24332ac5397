"""The tail model of the scale analysis: fits, FMR of any score, diagnostic, validation.

The extrapolation method itself (:mod:`faceaudit.stats.tail`); its bootstrap band draws from the
one bootstrap (:class:`faceaudit.stats.bootstrap.Resampler`, :class:`ExchangeableUnits`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from faceaudit.analyses._scale_collect import ScaleData
from faceaudit.stats.bootstrap import ExchangeableUnits, Resampler, percentile_interval
from faceaudit.stats.tail import (
    TailFit,
    default_tail_count,
    fit_gpd,
    fmr_for_fpir,
    fpir_from_fmr,
    mean_excess,
    qq_points,
)

#: Multiples of the tail count refitted by the stability diagnostic.
STABILITY_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)


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


def _fit_from_pool(vals: np.ndarray, k: int, n_total: int) -> tuple[TailFit, np.ndarray]:
    """Fit over the k largest of a descending pool; returns the fit and the excess mask."""
    k = min(k, vals.size - 1)
    u = float(vals[k])
    mask = vals > u
    xi, sigma, _ = fit_gpd(vals[mask] - u)
    return TailFit(u, xi, sigma, float(mask.sum()), float(n_total)), mask


def _fmr_model(fit: TailFit, sample: np.ndarray, pool: np.ndarray, n_total: int):
    """FMR(s) for arbitrary scores: the tail fit above u, the exact pool below it where the pool
    reaches, else the uniform sample's empirical survival."""
    pool_asc = np.sort(pool)

    def fmr(s: np.ndarray) -> np.ndarray:
        s = np.asarray(s, dtype=np.float64)
        out = np.empty_like(s)
        tail = s >= fit.threshold
        out[tail] = fit.fmr(s[tail])
        rest = ~tail
        if rest.any():
            cnt = pool_asc.size - np.searchsorted(pool_asc, s[rest], side="left")
            from_pool = cnt / n_total
            in_pool = pool_asc.size and (s[rest] >= pool_asc[0])
            if sample.size:
                emp = (sample.size - np.searchsorted(sample, s[rest], side="left")) / sample.size
            else:
                emp = np.ones(rest.sum())
            out[rest] = np.where(in_pool, from_pool, np.maximum(emp, from_pool))
        return out

    return fmr


def _rank1_expected(fmr_of_mates: np.ndarray, sizes, above: np.ndarray | None, w=None):
    """Mean over mated searches of (1 - FMR(mate))^(N - 1) [times 1(mate >= T)]."""
    out = []
    for n in sizes:
        p = np.exp((n - 1) * np.log1p(-np.clip(fmr_of_mates, 0, 1 - 1e-16)))
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


def _diagnostic(
    data: ScaleData, fit: TailFit, k: int, n_total: int, t: float, target: int, grid: np.ndarray
):
    vals = data.pool_vals
    qm, qe = qq_points(fit, vals[: int(fit.n_exceedances) + 1])
    mu, me, mn = mean_excess(vals)
    stability = []
    for f in STABILITY_FACTORS:
        kk = int(round(f * k))
        if kk < 20 or kk >= vals.size:
            continue
        try:
            ft, _ = _fit_from_pool(vals, kk, n_total)
        except ValueError:
            continue
        fm = float(ft.fmr(t)) if t >= ft.threshold else None
        stability.append(
            {
                "n_exceedances": kk,
                "tail_threshold": ft.threshold,
                "shape": ft.shape,
                "scale": ft.scale,
                "fmr_at_threshold": fm,
                "fpir_at_target_size": None if fm is None else float(fpir_from_fmr(fm, target)),
            }
        )
    # empirical vs fitted survival over the pool's range
    asc = np.sort(vals)
    emp = (asc.size - np.searchsorted(asc, grid, side="left")) / n_total
    fitted = fit.fmr(grid)
    return {
        "qq": {"fitted": _floats(qm), "empirical": _floats(qe)},
        "mean_excess": {
            "threshold": _floats(mu),
            "mean_excess": _floats(me),
            "n_above": _floats(mn),
        },
        "stability": stability,
        "tail_curve": {
            "score": _floats(grid),
            "empirical": _floats(emp),
            "fitted": _floats(fitted),
        },
    }


def _validate(
    data,
    sizes,
    measured,
    nm_unit,
    gunits,
    n_pu,
    val_templates,
    val_subjects,
    t,
    bootstrap,
    confidence,
    seed,
):
    """Fit on the first ``val_subjects`` distractors only; compare with the measured FPIR."""
    n_nm = data.nonmated_prefix_max.shape[0]
    n_total_v = n_nm * val_templates
    kv = min(default_tail_count(n_total_v), data.val_vals.size - 1)
    fit_v, mask_v = _fit_from_pool(data.val_vals, kv, n_total_v)
    if t >= fit_v.threshold:
        fm = float(fit_v.fmr(t))
    else:
        return {
            "fit_gallery_size": int(val_subjects),
            "skipped": "the threshold is below the validation fit's tail threshold",
        }
    check_sizes = [int(n) for n in sizes if n > val_subjects]
    pred = fpir_from_fmr(fm, np.array(check_sizes, dtype=float))
    reps = []
    if bootstrap:
        y = data.val_vals[mask_v] - fit_v.threshold
        pu = nm_unit[data.val_probe[mask_v]]
        gu = gunits[data.val_tmpl[mask_v]]  # < val_subjects: the fit's distractors come first
        p_rows = np.bincount(nm_unit, minlength=n_pu).astype(float)[:, None]
        g_rows = np.bincount(gunits[:val_templates], minlength=val_subjects).astype(float)[:, None]
        p_special = np.zeros(n_pu, dtype=bool)
        p_special[pu] = True
        g_special = np.zeros(int(val_subjects), dtype=bool)
        g_special[gu] = True
        pboot = ExchangeableUnits(p_rows, p_special)
        gboot = ExchangeableUnits(g_rows, g_special)
        p_draws = pboot.batches(Resampler(pboot.n, bootstrap, seed + 11))
        g_draws = gboot.batches(Resampler(gboot.n, bootstrap, seed + 12))
        pi, gi = pboot.special_pos[pu], gboot.special_pos[gu]
        for (wp_b, tp_b), (wg_b, tg_b) in zip(p_draws, g_draws, strict=True):
            for wp, tp, wg, tg in zip(wp_b, tp_b, wg_b, tg_b, strict=True):
                n_w = float(tp[0]) * float(tg[0])
                if n_w == 0:
                    continue
                f = _weighted_fit(
                    y, wp[pi] * wg[gi], fit_v.threshold, n_w, (fit_v.shape, fit_v.scale)
                )
                if f is not None:
                    reps.append(fpir_from_fmr(float(f.fmr(t)), np.array(check_sizes, float)))
    bands = percentile_interval(np.array(reps), confidence).T if reps else None
    meas = dict(measured)
    points = []
    for j, n in enumerate(check_sizes):
        b = None if bands is None else (float(bands[j][0]), float(bands[j][1]))
        m = meas[n]
        points.append(
            {
                "gallery_size": n,
                "measured": m.to_json(),
                "extrapolated": Band(float(pred[j]), b).to_json(),
                "inside": None if b is None else bool(b[0] <= m.value <= b[1]),
            }
        )
    last = points[-1] if points else None
    return {
        "fit_gallery_size": int(val_subjects),
        "tail_fit": fit_v.to_json(),
        "points": points,
        "check": last,
    }


@dataclass(frozen=True, eq=False)
class _Model:
    """The point estimates of the extrapolation (the full-data tail fit)."""

    fit: TailFit
    exc_mask: np.ndarray
    fmr_source: str
    fmr_t: float
    ext_sizes: list[int]
    fpir_ext: np.ndarray
    fmr_needed: np.ndarray
    thr_targets: np.ndarray
    above: np.ndarray | None
    r1_sizes: list[int]
    r1_all: np.ndarray
    r1_thr: np.ndarray
    tail_grid: np.ndarray


def _model(
    data: ScaleData,
    k: int,
    t: float,
    sizes: np.ndarray,
    fpir_targets: Sequence[float],
    target_gallery_size: int,
    warnings: list[str],
) -> _Model:
    """Fit the tail on the full data and extrapolate FPIR, thresholds and rank-1 accuracy."""
    n_total = data.n_total
    n_m = data.mated_mate_score.size
    fit, exc_mask = _fit_from_pool(data.pool_vals, k, n_total)
    if fit.shape >= 0.5:
        warnings.append(
            f"The fitted tail is heavy (shape {fit.shape:.2f} >= 0.5): extrapolation far beyond "
            "the data is unreliable; check the tail-fit diagnostic."
        )
    fmr_source = "gpd" if t >= fit.threshold else "empirical"
    if fmr_source == "gpd":
        fmr_t = float(fit.fmr(t))
    else:
        fmr_t = float(data.count_ge_threshold_by_probe.sum() / n_total)
        warnings.append(
            f"The threshold {t:g} is below the tail threshold {fit.threshold:g}: FMR(T) is the "
            "empirical rate, not the fitted tail."
        )
    ext_sizes = extrapolation_sizes(int(sizes[-1]), int(target_gallery_size))
    ext_sizes = sorted(set(ext_sizes) | {int(s) for s in sizes})
    fmr_needed = fmr_for_fpir(np.array(fpir_targets, dtype=float), target_gallery_size)
    fmr_fn = _fmr_model(fit, data.sample, data.pool_vals, n_total)

    thr = fit.threshold_for_fmr(fmr_needed)
    # above the fitted tail's reach: the exact pool (k-th largest of n_total)
    kk = np.floor(fmr_needed * n_total).astype(np.int64)
    from_pool = np.where(
        kk < data.pool_vals.size,
        data.pool_vals[np.clip(kk, 0, data.pool_vals.size - 1)],
        np.nan,
    )
    thr_targets = np.where(np.isnan(thr), np.nextafter(from_pool, np.inf), thr)
    mate_fmr = fmr_fn(data.mated_mate_score) if n_m else np.empty(0)
    above = (data.mated_mate_score >= t).astype(float) if n_m else None
    r1_sizes = sorted(
        {int(sizes[-1]), int(target_gallery_size)}
        | {10**e for e in range(2, 10) if 10**e <= target_gallery_size}
    )
    none = np.full(len(r1_sizes), np.nan)
    return _Model(
        fit=fit,
        exc_mask=exc_mask,
        fmr_source=fmr_source,
        fmr_t=fmr_t,
        ext_sizes=ext_sizes,
        fpir_ext=fpir_from_fmr(fmr_t, np.array(ext_sizes)),
        fmr_needed=fmr_needed,
        thr_targets=thr_targets,
        above=above,
        r1_sizes=r1_sizes,
        r1_all=_rank1_expected(mate_fmr, r1_sizes, None) if n_m else none,
        r1_thr=_rank1_expected(mate_fmr, r1_sizes, above) if n_m else none,
        tail_grid=_tail_grid(data.pool_vals, fit.threshold),
    )
