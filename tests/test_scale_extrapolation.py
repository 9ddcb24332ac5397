"""The extrapolation that validates (issue 10, item 4): per-search FPIR, the stability choice of
the tail threshold, the beyond-the-data flag, the self-validation block."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import genpareto

from faceaudit.analyses._scale_tail import BEYOND_FACTOR, beyond, from_w, to_w
from faceaudit.analyses.scale import scale
from faceaudit.data import EmbeddingSet
from faceaudit.stats.gallery_fpir import fpir_from_fmr, mean_fpir
from faceaudit.stats.tail import (
    fit_gpd,
    gpd_sf,
    stability_choice,
    tail_candidates,
)
from faceaudit.synth import synthesize


def test_mean_fpir_hand_values_and_pooling_overstates_with_lambs():
    # 90 ordinary searches (FMR 1e-6) and 10 lambs (1e-4), N = 10^5
    p = np.array([1e-6] * 90 + [1e-4] * 10)
    exact = 0.9 * -math.expm1(1e5 * math.log1p(-1e-6)) + 0.1 * -math.expm1(1e5 * math.log1p(-1e-4))
    assert mean_fpir(p, 1e5) == pytest.approx(exact, rel=1e-12)
    pooled = fpir_from_fmr(p.mean(), 1e5)
    assert pooled > 3 * exact  # Jensen: one pooled FMR over-states FPIR (0.66 against 0.19)
    assert mean_fpir(np.array([0.0, 0.5]), 2) == pytest.approx(0.375)
    # weights are multiplicities; several sizes at once
    w = np.array([2.0, 1.0])
    assert mean_fpir(np.array([0.0, 0.5]), [1, 2], w) == pytest.approx([0.5 / 3, 0.25])


def test_gpd_sf_equals_scipy():
    y = np.linspace(0, 3, 50)
    for xi in (-0.4, -1e-13, 0.0, 0.3):
        np.testing.assert_allclose(gpd_sf(y, xi, 0.7), genpareto.sf(y, xi, scale=0.7), rtol=1e-9)


def test_weighted_fit_agrees_with_scipy_on_the_chosen_excesses():
    rng = np.random.default_rng(5)
    y = genpareto.rvs(-0.15, scale=0.3, size=3000, random_state=rng)
    xi, sigma, _ = fit_gpd(y, np.ones(y.size))
    c, _, s = genpareto.fit(y, floc=0)
    assert xi == pytest.approx(c, abs=3e-3) and sigma == pytest.approx(s, rel=3e-3)


def _spliced(n: int, tail_share: float, xi: float, seed: int) -> np.ndarray:
    """A body that is no GPD (uniform on [0, 1)) below 1 and an exact GPD(xi) above it."""
    rng = np.random.default_rng(seed)
    m = int(round(tail_share * n))
    body = rng.random(n - m)
    tail = 1.0 + genpareto.rvs(xi, scale=0.5, size=m, random_state=rng)
    return np.sort(np.concatenate([body, tail]))[::-1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stability_picks_a_count_inside_the_gpd_part(seed):
    desc = _spliced(400_000, 0.01, -0.1, seed)  # the 4,000 largest are the GPD
    cands = tail_candidates(desc.size, desc.size)
    assert cands[0] == 100 and cands[-1] == 800  # 4 x the lowest (0.05% would be 200)
    st = stability_choice(desc, desc.size, [250, 500, 1000, 2000, 4000, 8000, 16000, 32000])
    k = st.candidates[st.chosen]
    assert 1000 <= k <= 4000  # a stable count in the GPD part, not the body beyond it
    assert st.stable[-1] is False and st.stable[-2] is False  # 16,000 and 32,000: the body
    assert st.fit.shape == pytest.approx(-0.1, abs=0.08)
    assert all(st.stable[j] for j in st.band) and st.chosen in st.band
    assert min(st.candidates[j] for j in st.band) >= k / 4


@pytest.mark.parametrize("seed", [9, 13])
def test_stability_keeps_every_count_of_a_pure_gpd_and_mixes_the_top_ones(seed):
    rng = np.random.default_rng(seed)
    desc = np.sort(genpareto.rvs(0.1, scale=1.0, size=200_000, random_state=rng))[::-1]
    st = stability_choice(desc, desc.size, [500, 1000, 2000, 4000, 8000])
    assert st.candidates[st.chosen] >= 2000
    assert st.fit.shape == pytest.approx(0.1, abs=0.06)
    assert st.chosen in st.band


def test_beyond_the_data_rule():
    assert BEYOND_FACTOR == 1.0
    b = beyond(1e-9, 10**6)
    assert b["flagged"] and b["smallest_fmr_shown"] == 1e-6
    assert b["times_below"] == pytest.approx(1000.0)
    assert not beyond(2e-6, 10**6)["flagged"]
    zero = beyond(0.0, 10**6)
    assert zero["flagged"] and zero["times_below"] is None
    assert zero["basis"] == "estimate" and zero["fmr_band_lower"] is None
    # the band: an estimate the data can show, a band reaching below 1 / n
    assert beyond(2e-6, 10**6, band_lower=4e-7)["basis"] == "band"
    assert beyond(2e-6, 10**6, band_lower=4e-7)["flagged"]
    clear = beyond(2e-6, 10**6, band_lower=1.5e-6)
    assert not clear["flagged"] and clear["basis"] is None and clear["fmr_band_lower"] == 1.5e-6
    assert beyond(1e-9, 10**6, band_lower=1e-10)["basis"] == "estimate"  # the estimate first
    s = np.array([-0.5, 0.0, 0.9, 1.0])
    np.testing.assert_allclose(from_w(to_w(s))[:3], s[:3])
    assert np.isfinite(to_w(s)).all()  # a score of 1 (a duplicate) stays finite


def _gallery_and_searches(dim: int) -> tuple[EmbeddingSet, EmbeddingSet]:
    """A gallery of 2,000 subjects and 300 non-mated searches (600,000 comparisons)."""
    gal = synthesize(2000, 1, dim=dim, mated_mean=0.6, seed=3, subject_prefix="g")
    out = synthesize(300, 1, dim=dim, mated_mean=0.6, seed=4, subject_prefix="n")
    g = EmbeddingSet(gal.embeddings, gal.subjects, gal.samples, metadata=gal.metadata())
    p = EmbeddingSet(out.embeddings, out.subjects, out.samples, metadata=out.metadata())
    return g, p


@pytest.fixture(scope="module")
def bounded():
    """16-dimensional embeddings: a bounded score tail far below 1."""
    return _gallery_and_searches(16)


def test_the_flag_fires_past_the_end_of_a_bounded_tail(bounded):
    g, p = bounded
    t = 0.99999
    r = scale(g, p, threshold=t, target_gallery_size=10**8, bootstrap=30, seed=1)
    assert all(s.fit.shape < 0 and from_w(s.fit.endpoint) < t for s in r.strata)  # past the end
    assert r.fmr_at_threshold.value == 0.0
    assert r.beyond_data["flagged"] and r.beyond_data["times_below"] is None
    j = r.to_json()
    ext = [q for q in j["points"] if not q["measured"]]
    assert all(q["beyond_data"] == (q["gallery_size"] > 2000) for q in ext)
    assert any("past the fitted tail's end" in w for w in r.warnings)
    assert all(t["beyond_data"] is False or t["fmr"] < 1 / r.fit.n_total for t in
               j["threshold_needed"])  # fmt: skip
    # a threshold the data reach is not flagged
    r2 = scale(g, p, threshold=0.5, target_gallery_size=10**4, bootstrap=0, seed=1)
    assert not r2.beyond_data["flagged"]


def test_no_message_asks_for_a_gallery_of_zero(bounded):
    g, p = bounded
    small = g.subset(np.arange(g.n) < 500)
    off = scale(small, p, threshold=0.5, validation_fit_size=0, bootstrap=0)
    auto = scale(small, p, threshold=0.5, bootstrap=0)
    big = scale(small, p, threshold=0.5, validation_fit_size=100, bootstrap=0)
    for r in (off, auto, big):
        assert r.validation is None
        assert not any("at least 0 " in w for w in r.warnings)
    assert any("switched off" in w for w in off.warnings)
    assert any("needs at least 1,000 subjects (this one has 500)" in w for w in auto.warnings)
    assert any("needs a gallery of at least 1,000 (this one has 500)" in w for w in big.warnings)


def test_self_validation_fields_on_a_homogeneous_gallery(bounded):
    g, p = bounded
    t = 0.75
    r = scale(g, p, threshold=t, target_gallery_size=10**6, bootstrap=60, seed=2)
    v = r.validation
    assert v["fit_gallery_size"] == 200  # a tenth of the gallery
    assert v["tail_fit"]["n_total"] == 300 * 200
    assert v["choice"]["n_exceedances"] in v["choice"]["candidates"]
    measured = dict(r.measured)
    assert [q["gallery_size"] for q in v["points"]] == [n for n in measured if n > 200]
    s = p.embeddings.astype(np.float64) @ g.embeddings.T.astype(np.float64)
    for q in v["points"]:
        m = measured[q["gallery_size"]]
        assert q["measured"]["count"] == m.count and q["measured"]["n"] == 300
        assert q["growth"] == q["gallery_size"] / 200
        assert q["ratio"] == pytest.approx(q["extrapolated"]["value"] / m.value)
        lo, hi = q["extrapolated"]["ci"]
        assert lo <= q["extrapolated"]["value"] <= hi
        if 0 < m.count < m.n:
            assert q["inside"] == (lo <= m.value <= hi)
    check = v["check"]
    assert check == v["points"][-1] and check["gallery_size"] == 2000
    # the measured value there is the exact count of searches with a score >= T (brute force)
    order_top = s.max(axis=1)
    assert check["measured"]["count"] == int(np.sum(order_top >= np.float32(t)))
    # a homogeneous population: the 10x prediction is right to within its band's reach
    assert 0.5 < check["ratio"] < 2.0 and check["inside"] is True


def test_what_a_hit_means_at_the_target_gallery_size_is_extrapolated_and_consistent():
    """A scale run carries the impact at N: FPIR extrapolated (its band is the scale band), FNIR
    at rank 1 and the wrong person at rank 1 from the same tails; at N = the measured gallery the
    modelled wrong-person rate agrees with the one counted on the data."""
    from faceaudit.audits import audit_scale
    from faceaudit.synth import split_gallery_probes, synthesize

    d = synthesize(600, 2, dim=16, seed=5)
    gs, ps = split_gallery_probes(d, held_out_subjects=300, seed=1)
    g = EmbeddingSet(gs.embeddings, gs.subjects, gs.samples, metadata=gs.metadata())
    p = EmbeddingSet(ps.embeddings, ps.subjects, ps.samples, metadata=ps.metadata())
    run = audit_scale(g, p, threshold=0.55, gallery_size=10**6, bootstrap=100)
    res, imp = run["scale"], run["impact"].to_json()
    assert imp["gallery_size"] == 10**6 and imp["fpir_at_gallery"]["basis"] == "extrapolated"
    assert imp["fpir_at_gallery"]["band"] == list(dict(res.extrapolated)[10**6].ci)
    r = imp["rates"]
    assert r["wrong_top1"]["value"] <= r["fnir_rank1"]["value"] + 1e-12
    assert r["wrong_top1"]["ci"] is not None and imp["bootstrap"]["joint"]

    # at the measured gallery size, against the count on the data
    n = res.gallery_size
    at_n = audit_scale(g, p, threshold=0.55, gallery_size=n, bootstrap=0)
    model_wrong = at_n["impact"].to_json()["rates"]["wrong_top1"]["value"]
    data_wrong = _counted_wrong_top1(g, p, 0.55)
    assert abs(model_wrong - data_wrong) < 0.03, (model_wrong, data_wrong)  # 0.282 vs 0.287


def _counted_wrong_top1(gallery, probes, t: float) -> float:
    """Share of mated searches whose top candidate is someone else scoring >= t (brute force;
    gallery enrolled by each subject's first sample, as the scale analysis does)."""
    subjects = np.asarray(gallery.subjects)
    _, first = np.unique(subjects, return_index=True)
    emb, subj = gallery.embeddings[first].astype(np.float64), subjects[first]
    psub = np.asarray(probes.subjects)
    mated = np.isin(psub, subj)
    s = probes.embeddings[mated].astype(np.float64) @ emb.T
    own = subj[None, :] == psub[mated][:, None]
    mate = np.where(own, s, -np.inf).max(axis=1)
    other = np.where(own, -np.inf, s).max(axis=1)
    return float(np.mean(other >= np.maximum(t, mate)))


def test_each_stratum_carries_its_frailty_into_fpir():
    """On a population with lambs the strata's searches are over-dispersed (v > 0), and the
    extrapolated FPIR is the search-weighted mean of each stratum's gamma-frailty term, by hand
    from the strata in results.json; without the frailty it would be higher (Jensen)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from validation.generators import embedding_preset, gallery_prefix_max

    pop = embedding_preset("lambs", 32)
    P, fit, top, _ = gallery_prefix_max(pop, 7, n_probes=1500, fit_size=3000, large_size=3000)
    ids = {k: np.array([f"{k}{i}" for i in range(m)]) for k, m in (("g", len(fit)), ("p", len(P)))}
    gal = EmbeddingSet(fit.astype(np.float32), ids["g"], ids["g"])
    prb = EmbeddingSet(P.astype(np.float32), ids["p"], ids["p"])
    t = float(np.quantile(top, 0.95))
    n = 300_000
    r = scale(gal, prb, threshold=t, target_gallery_size=n, bootstrap=0,
              validation_fit_size=0, seed=1)  # fmt: skip
    strata = r.to_json()["tail_fit"]["strata"]
    assert len(strata) > 1 and max(s["overdispersion"] for s in strata) > 0.05
    wt = float(to_w(t))
    num = plain = 0.0
    for s in strata:
        assert wt >= s["threshold"]  # T in every stratum's fitted tail
        p = s["exceedance_rate"] * genpareto.sf(wt - s["threshold"], s["shape"], scale=s["scale"])
        lam, v = -n * math.log1p(-p), s["overdispersion"]
        num += s["n_searches"] * (1 - (1 + v * lam) ** (-1 / v) if v > 0 else -math.expm1(-lam))
        plain += s["n_searches"] * -math.expm1(-lam)
    total = sum(s["n_searches"] for s in strata)
    assert dict(r.extrapolated)[n].value == pytest.approx(num / total, rel=1e-9)
    assert num < plain


@pytest.fixture(scope="module")
def thin():
    """32-dimensional embeddings, with the eight highest non-mated scores."""
    g, p = _gallery_and_searches(32)
    top = np.sort((p.embeddings @ g.embeddings.T).ravel())[::-1][:8]
    return g, p, top


def test_the_flag_fires_when_only_the_band_reaches_below_what_the_data_show(thin):
    # T between the 2nd and 3rd highest non-mated scores: the estimate of FMR(T) sits above
    # 1 / n (two comparisons above T), but the band of FMR(T) reaches below it
    g, p, top = thin
    r = scale(g, p, threshold=float(top[1] + top[2]) / 2, target_gallery_size=10**6,
              bootstrap=50, seed=1, validation_fit_size=0)  # fmt: skip
    b = r.beyond_data
    assert b["fmr"] > b["smallest_fmr_shown"] > b["fmr_band_lower"]
    assert b["flagged"] and b["basis"] == "band"
    assert b["fmr_band_lower"] == r.fmr_at_threshold.ci[0]
    assert any("its band reaches down to" in w for w in r.warnings)
    # the band is then the plain percentile interval, not recentred on the estimate
    ext = dict(r.extrapolated)[10**6]
    assert ext.ci[0] <= ext.value <= ext.ci[1]
    # further in, with six comparisons above T, the band stays above 1 / n: no flag
    r6 = scale(g, p, threshold=float(top[5] + top[6]) / 2, target_gallery_size=10**6,
               bootstrap=50, seed=1, validation_fit_size=0)  # fmt: skip
    assert not r6.beyond_data["flagged"] and r6.beyond_data["basis"] is None
    assert r6.beyond_data["fmr_band_lower"] > r6.beyond_data["smallest_fmr_shown"]
    assert not any("Extrapolated beyond the data: the chance" in w for w in r6.warnings)


def test_without_a_band_the_estimate_alone_decides(thin):
    g, p, top = thin
    r = scale(g, p, threshold=float(top[1] + top[2]) / 2, target_gallery_size=10**6,
              bootstrap=0, seed=1, validation_fit_size=0)  # fmt: skip
    assert r.beyond_data["fmr_band_lower"] is None
    assert not r.beyond_data["flagged"] and r.beyond_data["basis"] is None
