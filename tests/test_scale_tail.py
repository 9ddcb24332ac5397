"""GPD tail fit and the independence model: against scipy, exact inverses, weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import genpareto

from faceaudit.stats.gallery_fpir import fmr_for_fpir, fpir_from_fmr
from faceaudit.stats.tail import (
    TailFit,
    default_tail_count,
    fit_gpd,
    fit_tail,
    mean_excess,
    qq_points,
)


@pytest.mark.parametrize("xi", [-0.4, -0.1, 0.0, 0.3])
def test_fit_matches_scipy_mle(xi):
    rng = np.random.default_rng(1)
    y = genpareto.rvs(xi, scale=0.02, size=4000, random_state=rng)
    shape, scale, ll = fit_gpd(y)
    c, _, s = genpareto.fit(y, floc=0)
    ll_scipy = genpareto.logpdf(y, c, 0, s).sum()
    assert ll >= ll_scipy - 1e-6  # at least as likely as scipy's optimum
    assert ll == pytest.approx(genpareto.logpdf(y, shape, 0, scale).sum(), rel=1e-9)
    assert shape == pytest.approx(c, abs=2e-3) and scale == pytest.approx(s, rel=2e-3)
    assert shape == pytest.approx(xi, abs=0.06)


def test_integer_weights_equal_repeated_data_and_start_gives_same_fit():
    rng = np.random.default_rng(2)
    y = genpareto.rvs(-0.2, scale=1.0, size=500, random_state=rng)
    w = rng.integers(0, 4, size=y.size)
    a = fit_gpd(y, w)
    b = fit_gpd(np.repeat(y, w))
    np.testing.assert_allclose(a, b, rtol=1e-6)
    c = fit_gpd(y, w, start=fit_gpd(y)[:2])
    np.testing.assert_allclose(a[:2], c[:2], rtol=1e-5)


def test_fit_refuses_degenerate_input():
    with pytest.raises(ValueError):
        fit_gpd(np.array([1.0]))
    with pytest.raises(ValueError):
        fit_gpd(np.array([1.0, -1.0]))


@given(st.floats(1e-15, 0.5), st.integers(1, 10**9))
def test_fpir_and_fmr_are_inverse(fmr, n):
    fpir = fpir_from_fmr(fmr, n)
    assert 0 <= fpir <= 1
    if 1e-12 < fpir < 1 - 1e-9:
        assert fmr_for_fpir(fpir, n) == pytest.approx(fmr, rel=1e-6)


def test_independence_model_hand_values():
    assert fpir_from_fmr(0.5, 2) == pytest.approx(0.75)
    assert fpir_from_fmr(1e-12, 1e6) == pytest.approx(1e-6, rel=1e-6)  # no cancellation
    assert fmr_for_fpir(0.01, 2.7e8) == pytest.approx(-np.log1p(-0.01) / 2.7e8, rel=1e-6)


def test_tailfit_fmr_and_threshold_are_inverse_and_exact_at_u():
    f = TailFit(threshold=0.5, shape=-0.2, scale=0.05, n_exceedances=100, n_total=10**6)
    assert f.exceedance_rate == 1e-4 and f.endpoint == pytest.approx(0.75)
    assert f.fmr(0.5) == pytest.approx(1e-4)
    assert np.isnan(f.fmr(0.4))
    for p in (1e-5, 1e-8, 1e-11):
        assert f.fmr(f.threshold_for_fmr(p)) == pytest.approx(p, rel=1e-6)
    assert np.isnan(f.threshold_for_fmr(1e-3))  # above the tail's reach
    assert f.fmr(0.76) == 0.0  # beyond the fitted endpoint


def test_fit_tail_uses_the_k_largest():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(100_000)
    fit = fit_tail(x, x.size, 1000)
    assert fit.threshold == np.sort(x)[-1001] and fit.n_exceedances == 1000
    # Gaussian tail: the fitted FMR at the 1e-5 quantile is right to within sampling error
    assert fit.fmr(4.265) == pytest.approx(1e-5, rel=0.5)
    assert default_tail_count(10**7) == 10_000 and default_tail_count(10**4) == 500


def test_diagnostic_data():
    rng = np.random.default_rng(4)
    y = genpareto.rvs(0.0, scale=1.0, size=20_000, random_state=rng)
    u, e, n = mean_excess(y)
    # exponential tail: the mean excess is flat at the scale
    assert np.nanmedian(e[n > 500]) == pytest.approx(1.0, rel=0.1)
    fit = fit_tail(y, y.size, 2000)
    model, emp = qq_points(fit, y, n_points=50)
    assert len(model) == len(emp) == 50
    assert np.corrcoef(model, emp)[0, 1] > 0.99


# --- the w transform, the gamma frailty ------------------------------------------------------


def test_w_transform_is_monotone_and_inverts_on_both_signs():
    from faceaudit.analyses._scale_tail import W_MAX, from_w, to_w

    s = np.linspace(-0.999, 0.999, 2001)
    w = to_w(s)
    assert (np.diff(w) > 0).all()
    np.testing.assert_allclose(from_w(w), s, atol=1e-12)
    assert to_w(0.6) == pytest.approx(-np.log(1 - 0.36))
    assert to_w(-0.6) == pytest.approx(np.log(1 - 0.36))
    assert to_w(1.0) == pytest.approx(W_MAX) and np.isfinite(to_w(-1.0))  # duplicates stay finite


@pytest.mark.parametrize("d", [128, 512])
def test_random_directions_have_an_exponential_tail_in_w_not_in_s(d):
    """For directions at random, 1 - s^2 ~ Beta((d-1)/2, 1/2): in w = -ln(1 - s^2) the upper
    tail is exponential with rate about (d - 1)/2 (GPD shape 0), while the score itself, and the
    earlier -ln(1 - s), have clearly negative shapes at the same threshold (the penultimate bias
    that made far extrapolations too low)."""
    from scipy.stats import beta

    from faceaudit.analyses._scale_tail import to_w

    rng = np.random.default_rng(d)
    n, k = 2_000_000, 2000
    # s^2 ~ Beta(1/2, (d-1)/2) exactly, with a random sign: the cosine of two random directions
    s = np.sqrt(beta.rvs(0.5, (d - 1) / 2, size=n, random_state=rng)) * rng.choice([-1, 1], n)
    top = np.sort(s)[::-1][: k + 1]
    xi_s, _, _ = fit_gpd(top[:k] - top[k])
    wt = to_w(top)
    xi_w, sigma_w, _ = fit_gpd(wt[:k] - wt[k])
    old = -np.log1p(-top)
    xi_old, _, _ = fit_gpd(old[:k] - old[k])
    se = 1 / np.sqrt(k)
    assert abs(xi_w) < 3 * se, xi_w
    assert sigma_w == pytest.approx(2 / (d - 1), rel=0.12)
    assert xi_s < -3 * se and xi_old < xi_w - 0.03, (xi_s, xi_old, xi_w)


def test_mean_fpir_frailty_equals_the_gamma_mixture():
    from faceaudit.stats.gallery_fpir import log_none_above, mean_fpir

    p, n, v = 2e-7, 1e6, 0.8
    lam = -n * np.log1p(-p)
    exact = 1 - (1 + v * lam) ** (-1 / v)
    got = mean_fpir(np.array([p]), n, dispersion=np.array([v]))
    assert got == pytest.approx(exact, rel=1e-12)
    rng = np.random.default_rng(0)
    z = rng.gamma(1 / v, v, size=400_000)
    assert got == pytest.approx(np.mean(-np.expm1(n * np.log1p(-np.minimum(z * p, 1)))), rel=5e-3)
    # no frailty: the plain mean; a tiny one: continuous; a frailty lowers FPIR (Jensen)
    plain = mean_fpir(np.array([p]), n)
    assert mean_fpir(np.array([p]), n, dispersion=np.array([0.0])) == plain
    assert mean_fpir(np.array([p]), n, dispersion=np.array([1e-9])) == pytest.approx(plain)
    assert got < plain
    assert log_none_above(np.array([2.0]), None)[0] == -2.0


def test_overdispersion_recovers_a_negative_binomial_and_not_poisson():
    from faceaudit.stats.gallery_fpir import overdispersion

    rng = np.random.default_rng(4)
    mu, v, n = 3.0, 0.5, 20_000
    z = rng.gamma(1 / v, v, size=n)
    c = rng.poisson(z * mu).astype(float)
    assert overdispersion(c, c) == pytest.approx(v, abs=0.05)
    pois = rng.poisson(mu, size=n).astype(float)
    assert overdispersion(pois, pois) < 0.02
    # a replicate's gallery weights (Poisson(1) per score) add their own variance: the noise
    # term of squared weights takes it out again, the plain count would not
    g = [rng.poisson(1.0, size=int(x)).astype(float) for x in pois]
    cw = np.array([x.sum() for x in g])
    noise = np.array([(x * x).sum() for x in g])
    assert overdispersion(cw, noise) < 0.03
    assert overdispersion(cw, cw) > 0.2
    assert overdispersion(np.zeros(5), np.zeros(5)) == 0.0


def test_fpir_band_recentres_the_replicates_on_the_estimate():
    from faceaudit.stats.bootstrap import percentile_interval
    from faceaudit.stats.gallery_fpir import fpir_band, recentred

    rng = np.random.default_rng(7)
    lam = np.exp(rng.normal(np.log(0.5), 0.3, size=(4000, 2)))  # log-normal cumulative hazard
    reps = -np.expm1(-lam)
    med = -np.expm1(-np.exp(np.median(np.log(lam), axis=0)))
    # replicates centred on the estimate: the percentile interval itself
    np.testing.assert_allclose(
        fpir_band(reps, med, 0.95), percentile_interval(reps, 0.95), rtol=1e-6
    )  # fmt: skip  (quantiles interpolate on another scale)
    # an estimate above the replicates' median moves the band by the same log-hazard shift
    est = -np.expm1(-np.exp(np.log(-np.log1p(-med)) + 0.4))
    band = fpir_band(reps, est, 0.95)
    hazard = np.log(-np.log1p(-band))
    pct = np.log(-np.log1p(-percentile_interval(reps, 0.95)))
    np.testing.assert_allclose(hazard - pct, 0.4, atol=1e-6)
    assert np.all((band[0] < est) & (est < band[1]) & (band[1] < 1))
    # no shift from an estimate of 0 or 1, NaN replicates ignored
    np.testing.assert_allclose(fpir_band(reps, [0.0, 1.0], 0.95), percentile_interval(reps, 0.95),
                               rtol=1e-6)  # fmt: skip
    plain = fpir_band(reps, est, 0.95, recentre=False)
    np.testing.assert_array_equal(plain, percentile_interval(reps, 0.95))
    with_nan = np.vstack([reps, np.full((10, 2), np.nan)])
    np.testing.assert_allclose(fpir_band(with_nan, est, 0.95), band)
    # the replicates themselves moved by the same shift: their median is the estimate, their
    # percentile interval the band (up to interpolation on the other scale), NaN kept
    moved = recentred(with_nan, est)
    np.testing.assert_allclose(np.nanmedian(moved, axis=0), est, rtol=1e-4)  # even count
    np.testing.assert_allclose(percentile_interval(moved[:-10], 0.95), band, rtol=1e-3)
    assert np.isnan(moved[-10:]).all()
    np.testing.assert_allclose(recentred(reps, [0.0, 1.0]), reps)  # no shift at 0 or 1


# --- the strata of searches -------------------------------------------------------------------


def _strata_of(n_searches: int, kept_per_search: int = 8, n_cols: int = 2000):
    """build_strata on searches of increasing propensity, each with ``kept_per_search`` kept
    scores (exponential in w), and the candidates of the real analysis."""
    from faceaudit.analyses._scale_tail import build_strata
    from faceaudit.stats.tail import tail_candidates

    rng = np.random.default_rng(n_searches)
    prop = np.sort(rng.normal(size=n_searches))
    probe = np.repeat(np.arange(n_searches), kept_per_search)
    desc = np.sort(0.5 + 0.02 * rng.exponential(size=probe.size))[::-1]
    probe = rng.permutation(probe)
    tmpl = rng.integers(0, n_cols, probe.size)
    return build_strata(desc, probe, tmpl, n_cols, prop, np.sort(rng.uniform(-0.2, 0.4, 500)),
                        None, tail_candidates)  # fmt: skip


def test_strata_are_finer_at_the_top_and_merge_when_small():
    """3,000 searches: 30/30/20/10/5/5% by propensity (the top where FPIR at large N comes
    from); 1,800: the two 5% strata (90 searches) fall below 100 and merge; 500: at most
    500 // 200 = 2 strata; 300: one (every search pooled)."""
    from faceaudit.analyses._scale_tail import MIN_STRATUM_SEARCHES, STRATUM_SHARES

    t = _strata_of(3000)
    sizes = [s.n_searches for s in t.strata]
    assert sizes == [round(3000 * x) for x in STRATUM_SHARES] == [900, 900, 600, 300, 150, 150]
    assert all(a.high <= b.low for a, b in zip(t.strata, t.strata[1:], strict=False))  # ordered
    np.testing.assert_array_equal(np.bincount(t.bins), sizes)
    assert [s.n_searches for s in _strata_of(1800).strata] == [540, 540, 360, 180, 180]
    small = _strata_of(500).strata
    assert len(small) <= 2 and min(s.n_searches for s in small) >= MIN_STRATUM_SEARCHES
    assert len(_strata_of(300).strata) == 1
