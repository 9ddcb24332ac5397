"""Operational impact: hand-checked outcomes and PPV, intervals, properties, bad input."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import faceaudit.analyses.impact as impact_analysis
import faceaudit.stats.impact as impact_stats
from faceaudit.analyses.impact import (
    DEFAULT_PREVALENCE_GRID,
    GroupAssumption,
    ImpactRates,
    operational_impact,
)
from faceaudit.errors import InputError
from faceaudit.stats.impact import encounter_outcomes, hit_ppv, wrong_one_in

# --------------------------------------------------------------------------- hand-checked cases

# (prevalence, fpir, fnir, wrong) -> (correct, wrong_mated, no_hit_mated, wrong_nonmated, ppv)
HAND = [
    # pi = 1/2: correct 1/2 * 4/5 = 0.4; wrong mated 1/2 * 1/10 = 0.05; no hit mated
    # 1/2 * (1/5 - 1/10) = 0.05; wrong non-mated 1/2 * 1/10 = 0.05; hits 0.5; PPV 0.4/0.5 = 0.8
    ((0.5, 0.1, 0.2, 0.1), (0.4, 0.05, 0.05, 0.05, 0.8)),
    # pi = 1%: correct 0.01 * 0.9 = 0.009; wrong mated 0.01 * 0.01 = 1e-4; no hit mated
    # 0.01 * 0.09 = 9e-4; wrong non-mated 0.99 * 0.001 = 9.9e-4; PPV 0.009 / 0.01009 = 900/1009
    ((0.01, 0.001, 0.1, 0.01), (0.009, 1e-4, 9e-4, 9.9e-4, 900 / 1009)),
    # nobody enrolled, FPIR 1%: every hit is wrong, PPV 0
    ((0.0, 0.01, 0.1, 0.05), (0.0, 0.0, 0.0, 0.01, 0.0)),
    # everybody enrolled: FPIR plays no part; PPV = 0.7 / (0.7 + 0.1) = 0.875
    ((1.0, 0.5, 0.3, 0.1), (0.7, 0.1, 0.2, 0.0, 0.875)),
    # every mated search shows someone else, no false positives: all hits wrong
    ((0.3, 0.0, 1.0, 1.0), (0.0, 0.3, 0.0, 0.0, 0.0)),
    # a perfect system: PPV 1
    ((0.2, 0.0, 0.0, 0.0), (0.2, 0.0, 0.0, 0.0, 1.0)),
]


@pytest.mark.parametrize(("rates", "expected"), HAND)
def test_hand_checked_outcomes_and_ppv(rates, expected):
    pi, fpir, fnir, wrong = rates
    o = encounter_outcomes(pi, fpir=fpir, fnir=fnir, mated_wrong_hit=wrong)
    got = (o.correct_hit, o.wrong_hit_mated, o.mated_no_hit, o.wrong_hit_nonmated, o.ppv)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert float(o.miss) == pytest.approx(pi * fnir)
    assert float(o.false_discovery) == pytest.approx(1 - expected[4])
    total = o.correct_hit + o.wrong_hit_mated + o.mated_no_hit + o.wrong_hit_nonmated
    assert float(total + o.nonmated_no_hit) == pytest.approx(1.0)


def test_no_hits_expected_gives_undefined_ppv():
    # nobody enrolled and no false positives: no hit at all, PPV undefined (not 0, not 1)
    assert np.isnan(hit_ppv(0.0, fpir=0.0, fnir=0.3, mated_wrong_hit=0.1))
    # every enrolled person missed without a wrong hit, no false positives: no hit either
    assert np.isnan(hit_ppv(0.5, fpir=0.0, fnir=1.0, mated_wrong_hit=0.0))
    assert np.isnan(wrong_one_in(np.nan))


def test_one_in_x_and_per_day_counts_by_hand():
    # PPV 0.8 -> 1 in 5 hits wrong; 2,000 encounters a day at pi 1%: 18 correct hits a day
    assert float(wrong_one_in(0.8)) == pytest.approx(5.0)
    o = encounter_outcomes(0.01, fpir=0.001, fnir=0.1, mated_wrong_hit=0.01).scaled(2000)
    assert float(o.correct_hit) == pytest.approx(18.0)
    assert float(o.wrong_hit) == pytest.approx(2000 * (1e-4 + 9.9e-4))
    assert float(o.ppv) == pytest.approx(900 / 1009)  # scaling leaves PPV alone


def test_analysis_carries_the_hand_case_to_day_and_year():
    r = operational_impact(
        ImpactRates(fpir=0.001, fnir_rank1=0.1, wrong_top1=0.01, n_mated=500, n_nonmated=4000),
        gallery_size=5000,
        encounters_per_day=2000,
        prevalence_points=[0.05, 0.01],
        days_per_year=300,
    )
    p, q = [x for x in r.points if x.user_given]
    assert (p.prevalence, q.prevalence) == (0.01, 0.05)
    assert p.ppv.value == pytest.approx(900 / 1009)
    assert p.wrong_one_in.value == pytest.approx(1009 / 109)
    assert p.per_day.correct_hit.value == pytest.approx(18.0)
    assert p.per_year.correct_hit.value == pytest.approx(18.0 * 300)
    assert p.per_day.miss.value == pytest.approx(2000 * 0.01 * 0.1)
    assert p.per_encounter.wrong_hit_nonmated.value == pytest.approx(0.99 * 0.001)
    j = r.to_json()
    assert j["rates"]["n_mated"] == 500 and j["rates"]["mated_no_hit"]["value"] == pytest.approx(
        0.09
    )
    # the default grid is in too (0.01 is on it, 0.05 is not), and runs from 0.1% to 90%
    assert len(r.points) == len(DEFAULT_PREVALENCE_GRID) + 1
    assert r.points[0].prevalence == 0.001 and r.points[-1].prevalence == 0.9


def test_without_replicates_no_interval_and_it_says_so():
    r = operational_impact(
        ImpactRates(0.01, 0.2, 0.05), gallery_size=100, encounters_per_day=10, prevalence_grid=[0.1]
    )
    p = r.points[0]
    for e in (p.ppv, p.false_discovery, p.wrong_one_in, p.per_day.hit, p.per_encounter.miss):
        assert e.value is not None and e.ci is None and "no bootstrap replicates" in e.reason
    assert r.bootstrap["replicates"] == 0 and r.bootstrap["interval"] is None
    assert any("No bootstrap replicates" in a for a in r.assumptions)


def test_undefined_ppv_is_none_with_a_reason_and_json_has_no_nan():
    r = operational_impact(
        ImpactRates(0.0, 0.3, 0.0, n_nonmated=1000),
        gallery_size=100,
        encounters_per_day=10,
        prevalence_grid=[0.0, 0.5],
    )
    at0, at_half = r.points
    assert at0.ppv.value is None and "undefined" in at0.ppv.reason
    assert at0.wrong_one_in.value is None
    assert at_half.ppv.value == 1.0  # FPIR 0 and no wrong hit of the enrolled
    assert at_half.wrong_one_in.value is None and "no wrong hit" in at_half.wrong_one_in.reason
    # FPIR 0 measured on 1000 non-mated searches: the figures say it is only a bound
    assert any("FPIR is 0" in w and "1000 non-mated" in w for w in r.warnings)
    text = json.dumps(r.to_json(), allow_nan=False)  # raises on NaN or inf
    assert '"ppv": {"value": null' in text


def test_fpir_band_gives_ppv_at_its_ends_and_is_carried():
    rates = ImpactRates(1e-3, 0.1, 0.01)
    r = operational_impact(
        rates,
        gallery_size=270_000_000,
        encounters_per_day=50,
        fpir_basis="extrapolated",
        fpir_band=(5e-4, 4e-3),
        prevalence_grid=[0.02],
    )
    p = r.points[0]
    lo, hi = p.ppv_over_fpir_band
    assert lo == pytest.approx(float(hit_ppv(0.02, fpir=4e-3, fnir=0.1, mated_wrong_hit=0.01)))
    assert hi == pytest.approx(float(hit_ppv(0.02, fpir=5e-4, fnir=0.1, mated_wrong_hit=0.01)))
    assert lo < p.ppv.value < hi
    j = r.to_json()
    assert j["fpir_at_gallery"] == {"basis": "extrapolated", "band": [5e-4, 4e-3]}
    assert any("extrapolated" in a and "band" in a for a in r.assumptions)


def test_groups_use_their_own_rates_and_stated_prevalence():
    whole = ImpactRates(1e-3, 0.1, 0.01)
    groups = {
        "A": GroupAssumption(ImpactRates(2e-3, 0.2, 0.05), 0.05, "share of A on the watchlist", 40),
        "B": GroupAssumption(ImpactRates(5e-4, 0.1, 0.01), 0.01),
    }
    r = operational_impact(
        whole, gallery_size=1000, encounters_per_day=100, groups=groups, prevalence_grid=[0.01]
    )
    a, b = r.groups
    assert a.point.ppv.value == pytest.approx(
        float(hit_ppv(0.05, fpir=2e-3, fnir=0.2, mated_wrong_hit=0.05))
    )
    assert a.point.per_day.correct_hit.value == pytest.approx(40 * 0.05 * 0.8)
    assert b.point.per_day is None  # no encounters stated for B
    assert b.to_json()["per_day"] is None
    assert any("Group 'B': no basis" in w for w in r.warnings)
    assert not any("Group 'A': no basis" in w for w in r.warnings)
    assert any("share of A on the watchlist" in s for s in r.assumptions)
    json.dumps(r.to_json(), allow_nan=False)


# --------------------------------------------------------------------------- interval propagation


def _joint_replicates(F, W, P, n_mated, n_nonmated, B, seed):
    """Bootstrap replicates of (FPIR, FNIR1, wrong_top1) by resampling searches: the mated
    searches' three outcomes (correct, wrong at rank 1, no hit) are one multinomial draw, so FNIR
    and wrong_top1 stay jointly distributed, as a subject bootstrap keeps them."""
    rng = np.random.default_rng(seed)
    m = rng.multinomial(n_mated, [1 - F, W, F - W], size=B) / n_mated
    fpir = rng.binomial(n_nonmated, P, size=B) / n_nonmated
    return fpir, 1.0 - m[:, 0], m[:, 1]


def _delta_se(pi, F, W, P, n_mated, n_nonmated, covariance=True):
    """Delta-method standard error of PPV = a / (a + b + c), a = pi(1-F), b = pi W, c = (1-pi) P."""
    a, b, c = pi * (1 - F), pi * W, (1 - pi) * P
    d = a + b + c
    grad = np.array([-pi * (b + c), -pi * a, -(1 - pi) * a]) / d**2  # d/dF, d/dW, d/dP
    cov = np.diag([F * (1 - F) / n_mated, W * (1 - W) / n_mated, P * (1 - P) / n_nonmated])
    if covariance:  # FNIR = 1 - p_correct and W = p_wrong of one multinomial
        cov[0, 1] = cov[1, 0] = (1 - F) * W / n_mated
    return float(np.sqrt(grad @ cov @ grad))


@pytest.mark.parametrize(
    ("pi", "F", "W", "P"),
    [
        (0.05, 0.1, 0.02, 0.005),  # PPV ~ 0.89, uncertainty mostly from FPIR
        (0.9, 0.5, 0.4, 0.05),  # PPV ~ 0.55, FNIR and wrong_top1 dominate, their covariance too
    ],
)
def test_percentile_interval_of_ppv_agrees_with_delta_method(pi, F, W, P):
    # Tolerance: 0.15 SE per endpoint. With B = 4000 the Monte Carlo s.d. of a 2.5% percentile is
    # sqrt(0.025 * 0.975 / B) / phi(1.96) ~ 0.042 SE, and with SE / PPV < 1% the curvature of PPV
    # moves the endpoints by far less; 0.15 SE is ~3.5 Monte Carlo s.d.
    n_mated, n_nonmated, B = 20_000, 200_000, 4000
    fpir, fnir, wrong = _joint_replicates(F, W, P, n_mated, n_nonmated, B, seed=1)
    r = operational_impact(
        ImpactRates(P, F, W, fpir, fnir, wrong),
        gallery_size=1000,
        encounters_per_day=1,
        prevalence_grid=[pi],
    )
    p = r.points[0]
    se = _delta_se(pi, F, W, P, n_mated, n_nonmated)
    z = 1.959964
    lo, hi = p.ppv.ci
    assert lo == pytest.approx(p.ppv.value - z * se, abs=0.15 * se)
    assert hi == pytest.approx(p.ppv.value + z * se, abs=0.15 * se)
    assert r.bootstrap == {
        "replicates": B,
        "confidence": 0.95,
        "interval": "percentile",
        "joint": True,
        "reason": None,
    }
    if pi == 0.9:  # here ignoring the joint draw would be visibly wrong (~25% too narrow)
        assert _delta_se(pi, F, W, P, n_mated, n_nonmated, covariance=False) < 0.8 * se


def test_replicate_figures_scale_exactly_to_day_and_year():
    fpir, fnir, wrong = _joint_replicates(0.1, 0.02, 0.005, 2000, 20000, 300, seed=3)
    r = operational_impact(
        ImpactRates(0.005, 0.1, 0.02, fpir, fnir, wrong),
        gallery_size=1000,
        encounters_per_day=250,
        prevalence_grid=[0.1],
    )
    p = r.points[0]
    np.testing.assert_allclose(np.array(p.per_day.hit.ci), 250 * np.array(p.per_encounter.hit.ci))
    np.testing.assert_allclose(np.array(p.per_year.hit.ci), 365 * np.array(p.per_day.hit.ci))
    # the interval of "1 in X" is the false discovery's, mapped through 1 / x
    fd_lo, fd_hi = p.false_discovery.ci
    assert p.wrong_one_in.ci == pytest.approx((1 / fd_hi, 1 / fd_lo))


# --------------------------------------------------------------------------- properties

rate = st.floats(0.0, 1.0, allow_nan=False)


@given(rate, rate, rate, rate)
def test_outcome_shares_sum_to_one(pi, fpir, fnir, frac):
    o = encounter_outcomes(pi, fpir=fpir, fnir=fnir, mated_wrong_hit=fnir * frac)
    parts = [o.correct_hit, o.wrong_hit_mated, o.mated_no_hit, o.wrong_hit_nonmated]
    assert all(float(x) >= 0 for x in [*parts, o.nonmated_no_hit])
    assert float(sum(parts) + o.nonmated_no_hit) == pytest.approx(1.0, abs=1e-12)
    assert float(o.hit + o.mated_no_hit + o.nonmated_no_hit) == pytest.approx(1.0, abs=1e-12)


@given(rate, rate, rate, rate, rate)
def test_ppv_increases_with_prevalence(pi1, pi2, fpir, fnir, frac):
    lo, hi = sorted((pi1, pi2))
    kw = dict(fpir=fpir, fnir=fnir, mated_wrong_hit=fnir * frac)
    a, b = float(hit_ppv(lo, **kw)), float(hit_ppv(hi, **kw))
    assume(not (np.isnan(a) or np.isnan(b)))
    assert a <= b + 1e-12


@given(rate, rate, rate, rate, rate)
def test_ppv_decreases_with_fpir_and_with_wrong_hits(pi, p1, p2, fnir, frac):
    lo, hi = sorted((p1, p2))
    w = fnir * frac
    a = float(hit_ppv(pi, fpir=lo, fnir=fnir, mated_wrong_hit=w))
    b = float(hit_ppv(pi, fpir=hi, fnir=fnir, mated_wrong_hit=w))
    c = float(hit_ppv(pi, fpir=lo, fnir=fnir, mated_wrong_hit=fnir))  # more wrong, same FNIR
    assume(not np.isnan(a))
    assert np.isnan(b) or b <= a + 1e-12
    assert np.isnan(c) or c <= a + 1e-12


@given(st.lists(rate, min_size=1, max_size=5), st.lists(rate, min_size=1, max_size=5), rate)
def test_broadcasting_matches_elementwise(prevalences, fpirs, fnir):
    grid = np.array(prevalences)
    reps = np.array(fpirs)[:, None]
    table = hit_ppv(grid[None, :], fpir=reps, fnir=fnir, mated_wrong_hit=fnir / 2)
    assert table.shape == (len(fpirs), len(prevalences))
    for i, f in enumerate(fpirs):
        for j, pi in enumerate(prevalences):
            one = float(hit_ppv(pi, fpir=f, fnir=fnir, mated_wrong_hit=fnir / 2))
            assert (np.isnan(one) and np.isnan(table[i, j])) or one == table[i, j]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        (dict(prevalence=1.5), "prevalence"),
        (dict(fpir=-0.1), "fpir"),
        (dict(fnir=float("nan")), "fnir"),
        (dict(fnir=[0.1, 0.2], mated_wrong_hit=[0.05, 0.3]), "mated_wrong_hit (0.3) exceeds fnir"),
        (dict(fpir="often"), "fpir"),
    ],
)
def test_stats_bad_input_names_the_parameter(kwargs, named):
    args = dict(prevalence=0.1, fpir=0.01, fnir=0.1, mated_wrong_hit=0.05) | kwargs
    with pytest.raises(InputError, match=named.replace("(", r"\(").replace(")", r"\)")):
        encounter_outcomes(args.pop("prevalence"), **args)


def _impact(**kw):
    args = dict(gallery_size=100, encounters_per_day=10, prevalence_grid=[0.1]) | kw
    rates = args.pop("rates", ImpactRates(0.01, 0.1, 0.05))
    return operational_impact(rates, **args)


B3 = np.full(3, 0.1)


@pytest.mark.parametrize(
    ("kw", "named"),
    [
        (dict(rates=ImpactRates(0.01, 0.1, 0.2)), r"rates\.wrong_top1 \(0\.2\) exceeds"),
        (dict(rates=ImpactRates(0.01, 0.1, 0.05, fpir_replicates=B3)), "fnir_rank1_replicates"),
        (dict(rates=ImpactRates(0.01, 0.1, 0.05, B3, B3, np.full(4, 0.05))), "differ in length"),
        (dict(rates=ImpactRates(0.01, 0.1, 0.05, B3, B3, [0.05, 0.2, 0.05])), "at replicate 1"),
        (dict(rates=ImpactRates(0.01, 0.1, 0.05, B3, B3, [0.05, 1.2, 0.05])), "wrong_top1_rep"),
        (dict(rates=ImpactRates(0.01, 0.1, 0.05, n_mated=-4)), r"rates\.n_mated"),
        (dict(threshold="high"), "threshold"),
        (dict(gallery_size=0), "gallery_size"),
        (dict(gallery_size=10.5), "gallery_size"),
        (dict(encounters_per_day=-3), "encounters_per_day"),
        (dict(days_per_year=0), "days_per_year"),
        (dict(fpir_basis="guessed"), "fpir_basis"),
        (dict(fpir_band=(0.2, 0.1)), "fpir_band"),
        (dict(prevalence_grid=[0.1, 2.0]), r"prevalence_grid = 2.0: must be a number in \[0, 1\]"),
        (dict(prevalence_points=[-0.5]), "prevalence_points"),
        (dict(confidence=1.0), "confidence"),
        (
            dict(groups={"A": GroupAssumption(ImpactRates(0.01, 0.1, 0.05), 1.5)}),
            r"groups\['A'\]\.prevalence",
        ),
        (
            dict(groups={"A": GroupAssumption(ImpactRates(0.01, 0.1, 0.5), 0.1)}),
            r"groups\['A'\]\.rates\.wrong_top1",
        ),
    ],
)
def test_analysis_bad_input_names_the_parameter(kw, named):
    with pytest.raises(InputError, match=named):
        _impact(**kw)


# --------------------------------------------------------------------------- docstrings run


@pytest.mark.parametrize("module", [impact_stats, impact_analysis])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
