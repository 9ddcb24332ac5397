"""The bootstrap band of the scale analysis: two-way replicates of every extrapolated figure.

Probe subjects and gallery subjects are resampled (two independent subject draws of the one
bootstrap, :class:`faceaudit.stats.bootstrap.Resampler`); units that only matter through their
row of counts are drawn as :class:`~faceaudit.stats.bootstrap.ExchangeableUnits`. A replicate
weights each tail excess by the product of its probe's and its gallery subject's multiplicities,
refits the tail above one of the stable tail thresholds (drawn at random: the band is the mixture
over defensible thresholds, so it carries the threshold choice's uncertainty, not sampling error
alone), and recomputes every extrapolated figure with the searches weighted by their draws; measured
rates are the weighted merge of the probe units' count rows. The bands are percentile intervals,
except the extrapolated FPIR's within the data: recentred on the estimate
(:func:`faceaudit.stats.gallery_fpir.fpir_band`).
"""

from __future__ import annotations

import warnings as warnings_
from collections.abc import Sequence

import numpy as np

from faceaudit.analyses._scale_collect import ScaleData
from faceaudit.analyses._scale_model import (
    Band,
    _Model,
    _rank1_expected,
    _weighted_fit,
    mates_dispersion,
    mates_fmr,
    tail_choice_json,
    wrong_expected,
)
from faceaudit.analyses._scale_tail import Refit
from faceaudit.stats.bootstrap import ExchangeableUnits, Resampler, percentile_interval
from faceaudit.stats.estimate import Rate, make_rate
from faceaudit.stats.gallery_fpir import fpir_band, recentred

#: Replicate figures of the band, by key.
BAND_KEYS = ("fmr", "fpir", "thr", "xi", "sigma", "r1", "r1t", "wrong", "tail", "impact")


def band_replicates(
    data: ScaleData,
    model,
    t: float,
    nm_table: np.ndarray,
    m_table: np.ndarray,
    nm_unit: np.ndarray,
    m_unit: np.ndarray,
    gunits: np.ndarray,
    n_pu: int,
    n_gu: int,
    bootstrap: int,
    seed: int,
) -> tuple[dict, list[np.ndarray], list[np.ndarray]]:
    """``(replicates by key, measured-FPIR replicates, measured rank-1 replicates)``.

    ``model`` is the full-data :class:`faceaudit.analyses._scale_model._Model`. Probe draws use
    stream ``seed``, gallery draws ``seed + 1``, in batches of 50 replicates; the tail threshold
    of each replicate is drawn (stream ``[seed, 5]``) from the stable candidates of the band
    (model uncertainty), and the tail refitted above it on the weighted excesses.
    """
    tail = model.tail
    n_m = data.mated_mate_score.size
    reps = {k_: [] for k_ in BAND_KEYS}
    meas_reps: list[np.ndarray] = []
    r1m_reps: list[np.ndarray] = []
    # the kept scores each replicate refits: per stratum (and the pooled diagnostic fit), the
    # largest band candidate's excesses
    groups = [*tail.strata, tail.pooled]
    kmax = [int(g.desc.size) for g in groups]  # all kept scores: the empirical part too
    top_pu = [nm_unit[g.probe[:k]] for g, k in zip(groups, kmax, strict=True)]
    top_gu = [gunits[g.tmpl[:k]] for g, k in zip(groups, kmax, strict=True)]
    # probe-unit rows: [non-mated searches, hits per size, comparisons >= T, mated searches,
    # rank-1 hits per size]
    unit_ge = np.bincount(nm_unit, weights=data.count_ge_threshold_by_probe, minlength=n_pu)
    p_rows = np.column_stack([nm_table, unit_ge, m_table])
    n_cols = nm_table.shape[1]
    p_special = np.ones(n_pu, dtype=bool)  # every search's weight enters its stratum's mean
    g_rows = np.bincount(gunits, minlength=n_gu).astype(float)[:, None]
    g_special = np.zeros(n_gu, dtype=bool)
    for gu in top_gu:
        g_special[gu] = True
    if not bootstrap:
        return reps, meas_reps, r1m_reps
    pboot = ExchangeableUnits(p_rows, p_special)
    gboot = ExchangeableUnits(g_rows, g_special)
    p_draws = pboot.batches(Resampler(pboot.n, bootstrap, seed))
    g_draws = gboot.batches(Resampler(gboot.n, bootstrap, seed + 1))
    top_pi = [pboot.special_pos[pu] for pu in top_pu]
    top_gi = [gboot.special_pos[gu] for gu in top_gu]
    nm_pi, m_pi = pboot.special_pos[nm_unit], pboot.special_pos[m_unit]
    pick = np.random.default_rng([seed, 5])
    sizes = np.array(model.ext_sizes, dtype=np.float64)
    n_cols_g = data.n_templates
    for (wp_b, tp_b), (wg_b, tg_b) in zip(p_draws, g_draws, strict=True):
        with np.errstate(invalid="ignore", divide="ignore"):
            meas_reps.append(tp_b[:, 1:n_cols] / tp_b[:, :1])
            if n_m:
                r1m_reps.append(tp_b[:, n_cols + 2 :] / tp_b[:, n_cols + 1 : n_cols + 2])
        for wp, _tp, wg, tg in zip(wp_b, tp_b, wg_b, tg_b, strict=True):
            ws = wp[nm_pi]
            g_w = float(tg[0]) / n_cols_g  # share of templates drawn (1 on average)
            if ws.sum() == 0 or g_w == 0:
                continue
            searches = np.bincount(tail.bins, weights=ws, minlength=len(tail.strata))
            fits = []
            for b, g in enumerate(groups):
                n_s = float(ws.sum()) if b == len(tail.strata) else float(searches[b])
                sw = ws if b < len(tail.strata) else None  # the pooled fit needs no frailty
                fits.append(_refit(g, pick, wp[top_pi[b]], wg[top_gi[b]], n_s * tg[0], sw))
            if any(f is None for f in fits):
                continue
            strata_fits, pooled = fits[:-1], fits[-1].fit
            p = tail.p(t, strata_fits)
            reps["fmr"].append(float(np.average(p, weights=ws)))
            reps["fpir"].append(tail.fpir(t, sizes, strata_fits, ws))
            reps["thr"].append(
                tail.threshold_for(model.fpir_targets, model.target, strata_fits, ws)
            )
            reps["tail"].append(pooled.fmr(model.tail_grid))
            reps["xi"].append(pooled.shape)
            reps["sigma"].append(pooled.scale)
            if n_m:
                mf = mates_fmr(data, tail, strata_fits)
                mv = mates_dispersion(data, tail, strata_fits)
                wm = wp[m_pi]
                if wm.sum() > 0:
                    reps["r1"].append(_rank1_expected(mf, model.r1_sizes, None, wm, mv))
                    reps["r1t"].append(_rank1_expected(mf, model.r1_sizes, model.above, wm, mv))
                    mw = mates_fmr(data, tail, strata_fits, floor=t)
                    reps["wrong"].append(wrong_expected(mw, model.r1_sizes, wm, mv))
                    # joint (one replicate's people): FPIR, FNIR at rank 1, wrong top-1 at N
                    j, k = model.ext_sizes.index(model.target), model.r1_sizes.index(model.target)
                    reps["impact"].append(
                        (reps["fpir"][-1][j], 1.0 - reps["r1t"][-1][k], reps["wrong"][-1][k])
                    )
    return reps, meas_reps, r1m_reps


def _refit(group, pick, wp_top, wg_top, n_w, search_w) -> Refit | None:
    """One replicate's tail of a stratum: above one of its band's thresholds (drawn), weighted;
    with the weights of all its kept scores (the empirical part below the tail threshold) and
    its searches' frailty above that threshold (``search_w``: every non-mated search's
    multiplicity; None: the pooled diagnostic fit, no frailty)."""
    stab = group.stab
    j = stab.band[int(pick.integers(len(stab.band)))]
    f0 = stab.fits[j]
    k = int(f0.n_exceedances)
    w_all = wp_top * wg_top
    f = _weighted_fit(group.desc[:k] - f0.threshold, w_all[:k], f0.threshold, float(n_w),
                      (f0.shape, f0.scale))  # fmt: skip
    if f is None:
        return None
    v = 0.0 if search_w is None else group.frailty(k, wg_top, search_w)
    return Refit(f, w_all, float(n_w), v)


def measured_rates(
    table: np.ndarray, reps_list: list[np.ndarray], n: int, sizes: np.ndarray, confidence: float
) -> list[tuple[int, Rate]]:
    """``(size, Rate)`` per nested gallery: the exact count, the replicates' interval; a zero
    (or all) count's bound rests on the probe subjects with searches (rows of ``table``)."""
    people = int(np.count_nonzero(table[:, 0]))
    cis = None
    if reps_list:
        with warnings_.catch_warnings():
            warnings_.simplefilter("ignore", RuntimeWarning)  # all-NaN: no searches drawn
            cis = percentile_interval(np.concatenate(reps_list), confidence).T
    out = []
    for j, size in enumerate(sizes):
        ci = None if cis is None else (float(cis[j][0]), float(cis[j][1]))
        rate = make_rate(int(table[:, 1 + j].sum()), n, ci, confidence=confidence,
                         n_units=people, unit="subject")  # fmt: skip
        out.append((int(size), rate))
    return out


def interval_of(
    values: list, confidence: float, j: int | None = None
) -> tuple[float, float] | None:
    """Percentile interval of replicate figures (column ``j``), None without finite ones."""
    if not values:
        return None
    arr = np.array(values, dtype=float)
    if j is not None:
        arr = arr[:, j]
    if np.isnan(arr).all():
        return None
    lo, hi = percentile_interval(arr, confidence)
    return (float(lo), float(hi))


def bands(model: _Model, reps: dict, fpir_targets: Sequence[float], confidence: float) -> dict:
    """The extrapolated figures of :class:`~faceaudit.analyses.scale.ScaleResult`, each with
    its bootstrap band."""

    def band(key, j=None):
        return interval_of(reps[key], confidence, j)

    ext = None
    if reps["fpir"]:
        with warnings_.catch_warnings():
            warnings_.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            ext = fpir_band(np.array(reps["fpir"]), model.fpir_ext, confidence,
                            recentre=not model.beyond["flagged"]).T  # fmt: skip

    def ext_band(j):
        return (
            None if ext is None or np.isnan(ext[j]).any() else (float(ext[j][0]), float(ext[j][1]))
        )

    return {
        "extrapolated": tuple(
            (n, Band(float(model.fpir_ext[j]), ext_band(j))) for j, n in enumerate(model.ext_sizes)
        ),
        "fmr_at_threshold": Band(model.fmr_t, band("fmr")),
        "fmr_source": model.fmr_source,
        "fit": model.fit,
        "fit_band": {"shape": band("xi"), "scale": band("sigma")},
        "tail_choice": tail_choice_json(model.tail.stab),
        "strata": model.tail.strata,
        "beyond_data": model.beyond,
        "beyond_targets": model.beyond_targets,
        "thresholds_for_targets": tuple(
            (float(tg), Band(float(model.thr_targets[j]), band("thr", j)))
            for j, tg in enumerate(fpir_targets)
        ),
        "rank1_expected": tuple(
            (
                n,
                Band(float(model.r1_all[j]), band("r1", j)),
                Band(float(model.r1_thr[j]), band("r1t", j)),
            )
            for j, n in enumerate(model.r1_sizes)
        ),
    }


def impact_rates(model: _Model, reps: dict, n_m: int, n_nm: int):
    """:class:`~faceaudit.analyses.impact.ImpactRates` at the target gallery size (extrapolated),
    with the replicates' joint triples (FPIR's recentred as its band is, unless flagged beyond
    the data: :func:`faceaudit.stats.gallery_fpir.recentred`); None without mated searches.
    ``model`` must carry its settled flag
    (:func:`~faceaudit.analyses._scale_model.settle_beyond`)."""
    from faceaudit.analyses.impact import ImpactRates

    if not n_m or model.target not in model.ext_sizes or model.target not in model.r1_sizes:
        return None
    j, k = model.ext_sizes.index(model.target), model.r1_sizes.index(model.target)
    point = (float(model.fpir_ext[j]), 1.0 - float(model.r1_thr[k]), float(model.wrong[k]))
    if not all(np.isfinite(point)):
        return None
    joint = np.array(reps["impact"], dtype=np.float64).reshape(-1, 3)
    joint = joint[np.isfinite(joint).all(axis=1)]
    if joint.shape[0] >= 2 and not model.beyond["flagged"]:
        # FPIR's replicates moved as its band is (recentred within the data), so that the
        # impact figures computed from them agree with the FPIR band printed beside them
        joint[:, 0] = recentred(joint[:, :1], [point[0]])[:, 0]
    if joint.shape[0] < 2:
        return ImpactRates(*point, n_mated=n_m, n_nonmated=n_nm)
    return ImpactRates(
        *point,
        fpir_replicates=joint[:, 0],
        fnir_rank1_replicates=joint[:, 1],
        wrong_top1_replicates=joint[:, 2],
        n_mated=n_m,
        n_nonmated=n_nm,
    )
