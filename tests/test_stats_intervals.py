"""The rate intervals of the subject bootstrap (faceaudit.stats.intervals), checked by hand.

Korn & Graubard (1998): the Clopper-Pearson interval at the effective sample size
``n_eff = p (1 - p) / V`` (capped at ``n``) and the effective count ``x = p n_eff``, i.e. the beta
quantiles ``B(alpha/2; x, n_eff - x + 1)`` and ``B(1 - alpha/2; x + 1, n_eff - x)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta, norm
from scipy.stats import t as student_t

from faceaudit.stats.binomial import clopper_pearson
from faceaudit.stats.bootstrap import Resampler
from faceaudit.stats.intervals import (
    design_variance,
    influence_df,
    korn_graubard,
    percentile,
    rate_interval,
    ratio_interval,
    subject_df,
)


def _kg(p, v, n, conf=0.95, df=None):
    lo, hi = korn_graubard(np.array([p]), np.array([v]), np.array([n]), conf, df=df)
    return float(lo[0]), float(hi[0])


def test_independent_variance_gives_clopper_pearson():
    for x, n in ((8, 42), (1, 10), (179, 179_400), (9, 10)):
        p = x / n
        assert _kg(p, p * (1 - p) / n, n) == pytest.approx(clopper_pearson(x, n), rel=1e-10)


def test_design_effect_gives_clopper_pearson_at_the_effective_count():
    # p = 0.01 on 10,000 comparisons with a design effect of 5: n_eff = 2,000, x_eff = 20
    p, n = 0.01, 10_000
    lo, hi = _kg(p, 5 * p * (1 - p) / n, n)
    assert (lo, hi) == pytest.approx((0.0061186575, 0.0154021258), rel=1e-8)  # scipy beta, by hand
    assert (lo, hi) == pytest.approx(clopper_pearson(20, 2000), rel=1e-10)


def test_fractional_effective_count():
    # design effect 18.18...: n_eff = 550, x_eff = 5.5 (a fractional count)
    p, n = 0.01, 10_000
    v = p * (1 - p) / 550
    lo, hi = _kg(p, v, n)
    assert lo == pytest.approx(beta.ppf(0.025, 5.5, 545.5), rel=1e-10)
    assert hi == pytest.approx(beta.ppf(0.975, 6.5, 544.5), rel=1e-10)
    assert (lo, hi) == pytest.approx((0.0034770704, 0.0223467840), rel=1e-8)
    # skewed like the binomial: much further above the estimate than below it
    assert hi - p > 1.5 * (p - lo)


def test_degrees_of_freedom_widen_the_design_effect_only():
    p, n = 0.01, 10_000
    v = p * (1 - p) / 550  # design effect 18.2: n_eff = 550, x_eff = 5.5
    lo, hi = _kg(p, v, n, df=9)
    iid = p * (1 - p) / n
    tau = (student_t.ppf(0.975, 9) / norm.ppf(0.975)) ** 2  # 1.3321
    ne = p * (1 - p) / (iid + (v - iid) * tau)  # 418.6
    assert lo == pytest.approx(beta.ppf(0.025, p * ne, ne - p * ne + 1), rel=1e-10)
    assert hi == pytest.approx(beta.ppf(0.975, p * ne + 1, ne - p * ne), rel=1e-10)
    assert (lo, hi) == pytest.approx((0.0028378469, 0.0249184063), rel=1e-7)
    # independent errors (binomial variance): nothing estimated, Clopper-Pearson at any df;
    # one error in 40 people stays the exact [0.0006, 0.13]
    q = 1 / 40
    assert _kg(q, q * (1 - q) / 40, 40, df=1) == pytest.approx(clopper_pearson(1, 40), rel=1e-10)
    assert _kg(0.1, 0.1 * 0.9 / 1000, 1000, df=2) == pytest.approx(
        clopper_pearson(100, 1000), rel=1e-10
    )


def test_effective_size_capped_at_n():
    # a bootstrap variance below the binomial one never makes the interval narrower than CP
    p, n = 0.1, 1000
    assert _kg(p, p * (1 - p) / n / 10, n) == pytest.approx(clopper_pearson(100, 1000), rel=1e-10)


def test_rate_interval_from_replicates():
    rng = np.random.default_rng(1)
    n, count = 10_000, 100
    p = count / n
    reps = rng.normal(p, np.sqrt(4 * p * (1 - p) / n), size=(4000, 1))
    lo, hi = rate_interval(reps, [count], n, 0.95)[:, 0]
    v = float(np.var(reps[:, 0], ddof=1))
    assert (lo, hi) == pytest.approx(_kg(p, v, n), rel=1e-12)
    # the two-way bootstrap's own excess (2 p (1 - p) / n) subtracted: V - 2 iid, about 2 iid
    lo2, hi2 = rate_interval(reps, [count], n, 0.95, iid_excess=2.0)[:, 0]
    assert (lo2, hi2) == pytest.approx(_kg(p, v - 2 * p * (1 - p) / n, n), rel=1e-12)
    assert hi2 - lo2 < hi - lo
    # never below the independent-comparison variance: excess 10 gives Clopper-Pearson
    lo3, hi3 = rate_interval(reps, [count], n, 0.95, iid_excess=10.0)[:, 0]
    assert (lo3, hi3) == pytest.approx(clopper_pearson(count, n), rel=1e-10)


def test_edges_and_percentile_method_keep_the_percentile_interval():
    rng = np.random.default_rng(2)
    reps = rng.uniform(0, 0.01, size=(500, 3))
    pct = percentile(reps, 0.95)
    # count 0 and count n: the caller puts the exact bound in their place
    out = rate_interval(reps, [0, 5, 100], 100, 0.95)
    assert np.array_equal(out[:, [0, 2]], pct[:, [0, 2]])
    assert not np.allclose(out[:, 1], pct[:, 1])
    assert np.array_equal(rate_interval(reps, [0, 5, 100], 100, 0.95, method="percentile"), pct)
    one = rate_interval(reps[:, 1], 5, 100, 0.95)
    assert one.shape == (2,) and np.allclose(one, out[:, 1])
    with pytest.raises(ValueError, match="unknown interval method"):
        rate_interval(reps, [1, 1, 1], 100, 0.95, method="bca")


def test_nan_replicates_ignored_and_all_nan_column_is_nan():
    reps = np.full((200, 2), np.nan)
    reps[:, 0] = np.linspace(0.01, 0.03, 200)
    reps[::7, 0] = np.nan
    out = rate_interval(reps, [2, 0], 100, 0.95)
    v = float(np.nanvar(reps[:, 0], ddof=1))
    assert tuple(out[:, 0]) == pytest.approx(_kg(0.02, v, 100), rel=1e-12)
    assert np.isnan(out[:, 1]).all()


def test_influence_df_counts_the_units_that_carry_the_variance():
    # four replicates of two units with orthogonal centred multiplicities (w - 1 = +-1): a
    # replicate rate that is exactly linear in them, p + sum_u (w_u - 1) s_u, gives back s_u
    # up to a common factor, and the effective number of units (sum s^2)^2 / sum s^4
    w = np.array([[2, 2], [2, 0], [0, 2], [0, 0]], dtype=float)
    for s, expected in (((1, 1), 2.0), ((1, 0), 1.0), ((1, 0.5), 1.5625 / 1.0625)):
        reps = 0.1 + (w - 1) @ np.array(s) * 0.01
        df = influence_df([w[:2], w[2:]], reps, 0.1)  # in batches, like a Resampler's
        assert df == pytest.approx([expected], rel=1e-12)
    # a unit never drawn (weight 0 everywhere) does not count
    w3 = np.hstack([w, np.zeros((4, 1))])
    reps = 0.1 + (w - 1) @ np.array([1.0, 1.0]) * 0.01
    assert influence_df([w3], reps, 0.1) == pytest.approx([2.0], rel=1e-12)


def test_subject_df_many_equal_subjects_and_one_heavy_hitter():
    res = Resampler(200, 2000, seed=3)
    w = res.weights()
    equal = np.full(200, 1e-4)
    heavy = equal.copy()
    heavy[7] = 5e-3  # one subject carries nearly all the variance (a wolf-lamb)
    reps = np.stack([0.01 + (w - 1) @ equal, 0.01 + (w - 1) @ heavy], axis=1)
    df = subject_df(res, reps, [0.01, 0.01], cap=199)
    # ~200 equal units; the influences' own noise (sd ~ sqrt(200 / 2000) of each) halves the
    # estimate, which only costs (z / t_70)^2 = 0.95 of the effective sample: a little wider
    assert 50 < df[0] < 199
    assert 1.0 <= df[1] < 1.5  # (sum s^2)^2 / sum s^4 = 1.17 for these s
    assert subject_df(Resampler(0, 10), reps, [0.01, 0.01]) is None  # comparisons: no df
    # the heavy-hitter rate gets a far wider interval than the same variance on 200 people
    lo, hi = rate_interval(reps[:, 1], 100, 10_000, 0.95, df=df[1])
    lo0, hi0 = rate_interval(reps[:, 1], 100, 10_000, 0.95)
    assert lo < lo0 and hi > 2 * hi0 - 0.01


def test_design_variance_is_what_the_rate_interval_rests_on():
    """Korn-Graubard at the design variance (already widened for its df) is the rate's
    interval: the ratio intervals state the same precision as the rates'."""
    rng = np.random.default_rng(5)
    n, count = np.array([5_000.0, 800.0]), np.array([40.0, 9.0])
    p = count / n
    reps = rng.normal(p, np.sqrt(6 * p * (1 - p) / n), size=(3000, 2))
    df = np.array([4.0, 2.0])
    v = design_variance(reps, count, n, 0.95, iid_excess=2.0, df=df)
    want = rate_interval(reps, count, n, 0.95, iid_excess=2.0, df=df)
    np.testing.assert_allclose(korn_graubard(p, v, n, 0.95), want, rtol=1e-12)
    raw = np.var(reps, axis=0, ddof=1) - 2 * p * (1 - p) / n
    assert np.all(v > raw)  # the design part widened by (t_df / z)^2 > 1
    # no replicate spread: the binomial variance, never less
    flat = np.tile(p, (10, 1))
    np.testing.assert_allclose(design_variance(flat, count, n, 0.95), p * (1 - p) / n)


@pytest.mark.parametrize("x_a,e_a,x_b,e_b", [(10, 1e4, 5, 1e4), (12, 1e3, 4, 3e3),
                                             (3, 2e5, 40, 1e5), (1, 50, 1, 70)])  # fmt: skip
def test_ratio_interval_is_the_exact_poisson_rate_ratio_at_integer_counts(x_a, e_a, x_b, e_b):
    """Independent Poisson counts (variance ``p / e`` of a rate ``p = x / e``): the exact
    conditional interval, checked against scipy's Clopper-Pearson of the binomial split."""
    from scipy.stats import binomtest

    ci = binomtest(x_a, x_a + x_b).proportion_ci(0.95, method="exact")
    scale = e_b / e_a
    want = (ci.low / (1 - ci.low) * scale, ci.high / (1 - ci.high) * scale)
    p_a, p_b = x_a / e_a, x_b / e_b
    got = ratio_interval(p_a, p_a / e_a, p_b, p_b / e_b, 0.95)
    assert got == pytest.approx(want, rel=1e-9)
    assert got[0] < p_a / p_b < got[1]


def test_ratio_interval_widens_with_the_variance_and_needs_positive_inputs():
    base = ratio_interval(0.02, 0.02 / 5_000, 0.01, 0.01 / 5_000, 0.95)
    design = ratio_interval(0.02, 4 * 0.02 / 5_000, 0.01, 4 * 0.01 / 5_000, 0.95)
    assert design[0] < base[0] < 2.0 < base[1] < design[1]
    narrow = ratio_interval(0.02, 0.02 / 5_000, 0.01, 0.01 / 5_000, 0.8)
    assert base[0] < narrow[0] and narrow[1] < base[1]
    for bad in ((0.0, 1e-6, 0.01, 1e-6), (0.02, 0.0, 0.01, 1e-6), (0.02, 1e-6, 0.01, np.nan)):
        assert ratio_interval(*bad, 0.95) is None
