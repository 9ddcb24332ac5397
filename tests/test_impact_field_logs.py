"""Field logs: exact intervals against scipy, published deployments reproduced, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from faceaudit.analyses.impact import field_log_figures
from faceaudit.errors import InputError
from faceaudit.stats.binomial import clopper_pearson
from faceaudit.stats.field_log import field_log
from faceaudit.stats.gallery_fpir import fpir_from_fmr
from faceaudit.stats.impact import gallery_extrapolation, implied_fmr

# --------------------------------------------------------------------------- Clopper-Pearson


def _scipy_exact(k, n, confidence, alternative="two-sided"):
    ci = binomtest(k, n, alternative=alternative).proportion_ci(
        confidence_level=confidence, method="exact"
    )
    return ci.low, ci.high


@pytest.mark.parametrize(
    ("k", "n", "confidence"),
    [(1, 2, 0.95), (8, 42, 0.95), (173, 2470, 0.95), (10, 3_147_436, 0.95), (2067, 2077, 0.9)],
)
def test_clopper_pearson_matches_scipy_inside(k, n, confidence):
    np.testing.assert_allclose(
        clopper_pearson(k, n, confidence), _scipy_exact(k, n, confidence), rtol=1e-9
    )


@given(st.integers(1, 5000), st.data(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_clopper_pearson_matches_scipy_everywhere(n, data, confidence):
    k = data.draw(st.integers(0, n))
    got = clopper_pearson(k, n, confidence)
    if k == 0:  # one-sided exact bound at the edge: scipy's "less" alternative
        want = _scipy_exact(0, n, confidence, alternative="less")
    elif k == n:
        want = _scipy_exact(n, n, confidence, alternative="greater")
    else:
        want = _scipy_exact(k, n, confidence)
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-12)
    assert got[0] <= k / n <= got[1]


def test_zero_count_bound_is_the_exact_rule_of_three():
    lo, hi = clopper_pearson(0, 1000, 0.95)
    assert (
        lo == 0.0
        and hi == pytest.approx(1 - 0.05 ** (1 / 1000))
        and hi == pytest.approx(3e-3, rel=0.01)
    )
    assert clopper_pearson(0, 0) is None


# --------------------------------------------------------------------------- published deployments


def test_metropolitan_police_2024_2025():
    # Met LFR annual report, Sep 2024 - Sep 2025: 3,147,436 faces scanned, 2,077 alerts, 10 false.
    # Published: false alert rate 0.0003% of faces scanned (about 3.2e-6); PPV about 99.5%.
    log = field_log(2077, 10, scanned=3_147_436)
    assert log.false_alerts_per_face.value == 10 / 3_147_436
    assert log.false_alerts_per_face.value == pytest.approx(3.2e-6, rel=0.01)
    assert round(100 * log.false_alerts_per_face.value, 4) == 0.0003  # the published 0.0003%
    assert log.ppv.value == 2067 / 2077 and round(log.ppv.value, 3) == 0.995
    assert log.wrong_one_in.value == pytest.approx(207.7)
    # exact intervals: 10 events give a wide relative interval on the per-face rate
    lo, hi = log.false_alerts_per_face.ci
    np.testing.assert_allclose((lo, hi), _scipy_exact(10, 3_147_436, 0.95), rtol=1e-9)
    assert 1.4e-6 < lo < 1.6e-6 and 5.7e-6 < hi < 6.0e-6
    np.testing.assert_allclose(log.ppv.ci, _scipy_exact(2067, 2077, 0.95), rtol=1e-9)
    assert log.ppv.ci[0] > 0.99


def test_south_wales_police_2017_champions_league_final():
    # 2,470 alerts, 2,297 false -> 173 correct, PPV 7.0% (about 92-93% of alerts wrong)
    r = field_log_figures(2470, 2297, source="South Wales Police, 2017 UEFA Champions League final")
    assert r.log.confirmed_correct == 173
    assert round(r.log.ppv.value, 3) == 0.070
    assert round(r.log.false_discovery.value, 2) == 0.93
    np.testing.assert_allclose(r.log.ppv.ci, _scipy_exact(173, 2470, 0.95), rtol=1e-9)
    assert r.to_json()["source"].startswith("South Wales")


def test_essex_review_of_met_trials():
    # Fussey & Murray 2019: 42 matches, 8 verifiably correct -> 19%
    log = field_log(42, 34)
    assert round(100 * log.ppv.value) == 19 and log.ppv.value == 8 / 42
    lo, hi = log.ppv.ci
    assert 0.08 < lo < 0.09 and 0.34 < hi < 0.35  # 8 of 42 cannot pin PPV down much


def test_npl_2023_neoface_v4_at_threshold_0_6():
    # NPL 2023: FPIR 1 in 6,000 at a watchlist of 10,000 and 1 in 60,000 at 1,000.
    fmr_10k = float(implied_fmr(1 / 6000, 10_000))
    fmr_1k = float(implied_fmr(1 / 60_000, 1_000))
    assert fmr_10k == pytest.approx(1.67e-8, rel=0.002)
    assert fmr_1k == pytest.approx(1.67e-8, rel=0.002)
    assert fmr_10k == pytest.approx(fmr_1k, rel=1e-3)  # both points fit one per-comparison FMR
    # under the independence model at 2.7 x 10^8 enrolled
    false_candidates, fpir = (float(x) for x in gallery_extrapolation(fmr_10k, 2.7e8))
    assert false_candidates == pytest.approx(4.5, rel=2e-3)
    assert fpir == pytest.approx(0.989, abs=5e-4)
    assert fpir == pytest.approx(-np.expm1(-false_candidates), rel=1e-6)


# --------------------------------------------------------------------------- implied FMR, mapping


def test_implied_fmr_interval_is_the_fpir_interval_mapped():
    # constructed counts at NPL's rate (10 false alerts in 60,000 faces, watchlist 10,000)
    log = field_log(12, 10, scanned=60_000, watchlist=10_000, gallery_sizes=[270_000_000])
    lo, hi = log.false_alerts_per_face.ci
    assert log.implied_fmr.value == pytest.approx(float(implied_fmr(1 / 6000, 10_000)))
    assert log.implied_fmr.ci == pytest.approx(
        (float(implied_fmr(lo, 10_000)), float(implied_fmr(hi, 10_000))), rel=1e-12
    )
    (e,) = log.extrapolations
    assert e.gallery_size == 270_000_000
    f_lo, f_hi = log.implied_fmr.ci
    assert e.expected_false_candidates.ci == pytest.approx((2.7e8 * f_lo, 2.7e8 * f_hi))
    assert e.fpir.ci[0] < e.fpir.value < e.fpir.ci[1] < 1.0
    # back at the watchlist size the model returns the observed FPIR
    assert float(fpir_from_fmr(log.implied_fmr.value, 10_000)) == pytest.approx(1 / 6000, rel=1e-9)


@given(st.floats(1e-12, 0.999), st.integers(1, 10**9))
def test_implied_fmr_is_stable_and_inverts(fpir, n):
    fmr = float(implied_fmr(fpir, n))
    assert 0 < fmr <= fpir * (1 + 1e-12)  # equal at N = 1, up to rounding
    _, back = gallery_extrapolation(fmr, n)
    assert float(back) == pytest.approx(fpir, rel=1e-8)


def test_unverified_alerts_bound_the_ppv():
    # 50 alerts: 30 right, 5 wrong, 15 never checked. Verified PPV 30/35; if every unchecked
    # alert was wrong 30/50, if every one was right 45/50.
    log = field_log(50, 5, scanned=10_000, unverified=15)
    assert log.confirmed_correct == 30
    assert log.ppv.value == pytest.approx(30 / 35) and log.ppv.n == 35
    assert log.ppv_if_unverified_wrong.value == pytest.approx(30 / 50)
    assert log.ppv_if_unverified_correct.value == pytest.approx(45 / 50)
    assert log.false_alerts_per_face_if_unverified_wrong.value == pytest.approx(20 / 10_000)
    r = field_log_figures(50, 5, scanned=10_000, unverified=15)
    assert any("15 of 50 alerts were never verified" in w for w in r.warnings)


def test_no_false_alert_gives_bounds_and_json_without_nan():
    r = field_log_figures(40, 0, scanned=500_000, watchlist=5000, gallery_sizes=[10**6])
    j = r.to_json()
    json.dumps(j, allow_nan=False)
    assert j["false_alerts_per_face"]["upper_bound"] is True
    assert j["false_alerts_per_face"]["ci"][0] == 0.0
    assert j["false_alerts_per_face"]["ci"][1] == pytest.approx(1 - 0.05 ** (1 / 500_000))
    assert j["ppv"]["value"] == 1.0 and j["ppv"]["ci"][1] == 1.0
    assert j["wrong_one_in"]["value"] is None and j["wrong_one_in"]["reason"]
    assert any("upper bounds" in w for w in r.warnings)
    assert set(j) == {
        "analysis",
        "source",
        "confidence",
        "interval_method",
        "counts",
        "ppv",
        "false_discovery",
        "wrong_one_in",
        "ppv_if_unverified_wrong",
        "ppv_if_unverified_correct",
        "alerts_per_face",
        "false_alerts_per_face",
        "false_alerts_per_face_if_unverified_wrong",
        "implied_fmr",
        "gallery_extrapolation",
        "assumptions",
        "warnings",
    }


def test_missing_counts_give_none_with_reasons():
    j = field_log_figures(10, 2).to_json()
    json.dumps(j, allow_nan=False)
    assert j["false_alerts_per_face"]["value"] is None
    assert "faces scanned" in j["false_alerts_per_face"]["reason"]
    assert j["implied_fmr"] == {"value": None, "ci": None, "reason": j["implied_fmr"]["reason"]}
    assert "watchlist" in j["implied_fmr"]["reason"]
    assert j["ppv_if_unverified_wrong"]["value"] is None
    assert j["counts"] == {
        "alerts": 10,
        "confirmed_wrong": 2,
        "confirmed_correct": 8,
        "unverified": 0,
        "scanned": None,
        "watchlist": None,
    }
    assert field_log_figures(0, 0).log.ppv is None  # no alert: PPV has no denominator


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "kwargs", "named"),
    [
        ((-1, 0), {}, "alerts = -1: must be at least 0"),
        ((2.5, 0), {}, "alerts"),
        ((True, 0), {}, "alerts"),
        (("ten", 0), {}, "alerts"),
        ((10, -2), {}, "confirmed_wrong"),
        ((10, 11), {}, r"confirmed_wrong \(11\) cannot exceed alerts \(10\)"),
        ((10, 4), {"unverified": 7}, "confirmed_wrong \\+ unverified"),
        ((10, 1), {"scanned": 5}, r"alerts \(10\) cannot exceed scanned \(5\)"),
        ((10, 1), {"watchlist": 100}, "watchlist .* needs scanned"),
        ((10, 1), {"scanned": 100, "watchlist": 0}, "watchlist"),
        ((10, 1), {"scanned": 100, "gallery_sizes": [10**6]}, "gallery_sizes needs watchlist"),
        ((10, 1), {"scanned": 100, "watchlist": 5, "gallery_sizes": [0]}, "gallery_sizes"),
        ((10, 1), {"confidence": 1.0}, "confidence"),
    ],
)
def test_bad_counts_name_the_parameter(args, kwargs, named):
    with pytest.raises(InputError, match=named):
        field_log(*args, **kwargs)


def test_whole_floats_are_accepted_as_counts():
    log = field_log(2077.0, 10.0, scanned=3147436.0)
    assert log.alerts == 2077 and isinstance(log.scanned, int)


@pytest.mark.parametrize(("fpir", "n", "named"), [(1.2, 10, "fpir"), (0.1, 0, "gallery_size")])
def test_independence_model_bad_input(fpir, n, named):
    with pytest.raises(InputError, match=named):
        implied_fmr(fpir, n)
