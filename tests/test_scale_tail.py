"""GPD tail fit and the independence model: against scipy, exact inverses, weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import genpareto

from faceaudit.stats.tail import (
    TailFit,
    default_tail_count,
    fit_gpd,
    fit_tail,
    fmr_for_fpir,
    fpir_from_fmr,
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
