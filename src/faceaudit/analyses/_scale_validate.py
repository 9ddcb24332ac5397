"""Self-validation of the scale analysis: fit on a part of the gallery, predict the whole.

The tail model (:mod:`faceaudit.analyses._scale_tail`) is built again from the first
``fit_subjects`` subjects of the nested gallery only (strata by each search's propensity over
that part alone, their own stability choices of the tail threshold), extrapolated to every
larger measured gallery, and compared with the FPIR measured there: predicted (with its two-way
bootstrap band, mixed over the stable tail thresholds as the main band is), measured (with its
interval), and whether the measured value lies inside the band. A model that fails this check on
a 10x extrapolation within the data deserves no trust 10^4x beyond it.
"""

from __future__ import annotations

import numpy as np

from faceaudit.analyses._scale_band import _refit, interval_of
from faceaudit.analyses._scale_model import Band, build_tail, tail_choice_json
from faceaudit.analyses._scale_tail import beyond
from faceaudit.stats.bootstrap import ExchangeableUnits, Resampler
from faceaudit.stats.gallery_fpir import fpir_band


def validate(
    data,
    sizes,
    measured,
    nm_unit,
    gunits,
    n_pu,
    val_templates: int,
    fit_subjects: int,
    t: float,
    bootstrap: int,
    confidence: float,
    seed: int,
) -> dict:
    """The ``validation`` block of results.json (see the module docstring)."""
    n_nm = data.nonmated_prefix_max.shape[0]
    n_total_v = n_nm * val_templates
    try:
        tail = build_tail(data.val_vals, data.val_probe, data.val_tmpl, val_templates,
                          data.val_propensity, data.val_sample)  # fmt: skip
    except ValueError:
        return {
            "fit_gallery_size": int(fit_subjects),
            "skipped": "the part of the gallery is too small for a tail fit",
        }
    check_sizes = np.array([int(n) for n in sizes if n > fit_subjects], dtype=np.float64)
    p_t = tail.p(t)
    pred = tail.fpir(t, check_sizes)
    reps, fmr_reps = _replicates(data, tail, nm_unit, gunits, n_pu, fit_subjects, t,
                                 check_sizes, bootstrap, seed)  # fmt: skip
    fmr_band = interval_of(fmr_reps, confidence)
    flag = beyond(float(np.mean(p_t)), n_total_v, None if fmr_band is None else fmr_band[0])
    bands = None
    if reps:
        bands = fpir_band(np.array(reps), pred, confidence, recentre=not flag["flagged"]).T
    meas = dict(measured)
    points = []
    for j, n in enumerate(check_sizes.astype(int)):
        b = None if bands is None else (float(bands[j][0]), float(bands[j][1]))
        m = meas[int(n)]
        points.append(
            {
                "gallery_size": int(n),
                "growth": float(n / fit_subjects),
                "measured": m.to_json(),
                "extrapolated": Band(float(pred[j]), b).to_json(),
                "ratio": float(pred[j] / m.value) if m.value else None,
                "inside": None if b is None else _inside(m, b),
            }
        )
    return {
        "fit_gallery_size": int(fit_subjects),
        "tail_fit": tail.fit.to_json(),
        "strata": [st.to_json() for st in tail.strata],
        "choice": tail_choice_json(tail.stab),
        "beyond_data": flag,
        "points": points,
        "check": points[-1] if points else None,
    }


def _replicates(data, tail, nm_unit, gunits, n_pu, fit_subjects, t, check_sizes, bootstrap, seed):
    """Two-way bootstrap (probe subjects x the fit's gallery subjects): ``(predicted FPIR
    replicates, FMR(T) replicates)``."""
    if not bootstrap:
        return [], []
    strata = tail.strata
    kmax = [int(g.desc.size) for g in strata]  # all kept scores: the empirical part too
    pu = [nm_unit[g.probe[:k]] for g, k in zip(strata, kmax, strict=True)]
    gu = [gunits[g.tmpl[:k]] for g, k in zip(strata, kmax, strict=True)]
    val_templates = int(data.val_size)
    p_rows = np.bincount(nm_unit, minlength=n_pu).astype(float)[:, None]
    g_rows = np.bincount(gunits[:val_templates], minlength=fit_subjects).astype(float)[:, None]
    g_special = np.zeros(int(fit_subjects), dtype=bool)
    for x in gu:
        g_special[x] = True  # < fit_subjects: the fit's distractors come first
    pboot = ExchangeableUnits(p_rows, np.ones(n_pu, dtype=bool))
    gboot = ExchangeableUnits(g_rows, g_special)
    p_draws = pboot.batches(Resampler(pboot.n, bootstrap, seed + 11))
    g_draws = gboot.batches(Resampler(gboot.n, bootstrap, seed + 12))
    pi = [pboot.special_pos[x] for x in pu]
    gi = [gboot.special_pos[x] for x in gu]
    nm_pi = pboot.special_pos[nm_unit]
    pick = np.random.default_rng([seed, 13])
    reps, fmr_reps = [], []
    for (wp_b, _tp_b), (wg_b, tg_b) in zip(p_draws, g_draws, strict=True):
        for wp, wg, tg in zip(wp_b, wg_b, tg_b, strict=True):
            ws = wp[nm_pi]
            if ws.sum() == 0 or tg[0] == 0:
                continue
            searches = np.bincount(tail.bins, weights=ws, minlength=len(strata))
            fits = [
                _refit(g, pick, wp[pi[b]], wg[gi[b]], float(searches[b]) * float(tg[0]), ws)
                for b, g in enumerate(strata)
            ]
            if all(f is not None for f in fits):
                reps.append(tail.fpir(t, check_sizes, fits, ws))
                fmr_reps.append(float(np.average(tail.p(t, fits), weights=ws)))
    return reps, fmr_reps


def _inside(m, band: tuple[float, float]) -> bool:
    """Whether the measured rate lies in the band; a saturated count (none or all searches)
    only says the rate is at most / at least its bound, so there the band need only reach the
    measured interval."""
    lo, hi = band
    if lo <= m.value <= hi:
        return True
    if m.ci is not None and m.count in (0, m.n):
        return bool(hi >= m.ci[0] and lo <= m.ci[1])
    return False
