"""Exact FMR/FNMR, thresholds for FMR targets, EER, DET and AUC: hand-checked and cross-checked."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyeer.eer_stats import calculate_roc
from sklearn.metrics import det_curve as sk_det_curve
from sklearn.metrics import roc_auc_score, roc_curve

from faceaudit.stats.rates import (
    area_under_roc,
    det_curve,
    equal_error_rate,
    max_false_positives,
    operating_threshold,
    target_supported,
)
from faceaudit.stats.scoreset import ScoreSet

GEN = [0.5, 0.7, 0.7, 0.9]
IMP = [0.1, 0.5, 0.5, 0.7]


def sets(g, i, tail=4096, chunk=1 << 22):
    return (
        ScoreSet(np.asarray(g, float), tail=tail, chunk_size=chunk),
        ScoreSet(np.asarray(i, float), tail=tail, chunk_size=chunk),
    )


@pytest.mark.parametrize("tail", [1, 2, 4096])
@pytest.mark.parametrize(
    "t, fm, fnm", [(0.1, 4, 0), (0.5, 3, 0), (0.6, 1, 1), (0.7, 1, 1), (0.9, 0, 3), (1.0, 0, 4)]
)
def test_counts_at_threshold_with_ties(tail, t, fm, fnm):
    g, i = sets(GEN, IMP, tail=tail)
    assert i.count_ge(t) == fm  # score >= t matches: ties at t are matches
    assert g.count_lt(t) == fnm


@pytest.mark.parametrize(
    "target, thr, fm, fnm, supported",
    [
        (1.0, 0.1, 4, 0, True),
        (0.8, 0.5, 3, 0, True),
        (0.25, 0.7, 1, 1, False),
        (0.1, 0.9, 0, 3, False),
    ],
)
def test_operating_threshold_hand_checked(target, thr, fm, fnm, supported):
    g, i = sets(GEN, IMP, tail=1)  # tail 1 forces the exact look inside cells
    op = operating_threshold(i, g, target)
    assert (op.threshold, op.negatives_ge, op.positives_lt, op.supported) == (
        thr,
        fm,
        fnm,
        supported,
    )


def test_threshold_above_every_score_when_nothing_may_match():
    g, i = sets([0.2, 0.3], [0.9, 0.1])
    op = operating_threshold(i, g, 0.1)  # k = 0: must exceed the top non-mated 0.9
    assert op.threshold > 0.9 and op.negatives_ge == 0 and op.positives_lt == 2


def test_supported_needs_three_over_target_negatives():
    assert target_supported(1e-3, 3000) and not target_supported(1e-3, 2999)
    assert max_false_positives(1e-3, 10**6) == 1000  # exact decimal arithmetic, no 999
    assert max_false_positives(0.1, 30) == 3


def test_eer_hand_checked():
    g, i = sets(GEN, IMP, tail=1)
    e = equal_error_rate(g, i)
    assert (e.value, e.threshold, e.fmr, e.fnmr) == (0.25, 0.7, 0.25, 0.25)


def test_auc_hand_checked():
    g, i = sets(GEN, IMP)
    auc, err = area_under_roc(g, i)
    assert auc == pytest.approx(13 / 16) and err == 0.0
    assert auc == pytest.approx(roc_auc_score([1] * 4 + [0] * 4, GEN + IMP))


def _random_case(rng, kind):
    ng, ni = int(rng.integers(2, 2000)), int(rng.integers(2, 30000))
    g, i = rng.normal(0.6, 0.2, ng), rng.normal(0.2, 0.2, ni)
    if kind == "int":  # vendor scores 0-100
        g, i = np.round(g * 100), np.round(i * 100)
    elif kind == "3dp":
        g, i = np.round(g, 3), np.round(i, 3)
    return g, i


@pytest.mark.parametrize("kind", ["float", "int", "3dp"])
@pytest.mark.parametrize("seed", range(4))
def test_rates_equal_sklearn_and_pyeer_at_every_threshold(kind, seed):
    rng = np.random.default_rng(seed)
    g, i = _random_case(rng, kind)
    gen_set, imp_set = sets(g, i, tail=16, chunk=997)
    y, s = np.r_[np.ones(g.size), np.zeros(i.size)], np.r_[g, i]
    fpr, fnr, thr = sk_det_curve(y, s)
    pt, pfm, pfnm = calculate_roc(g, i)
    for t, a, b in zip(thr, fpr, fnr, strict=True):
        assert abs(imp_set.count_ge(t) / i.size - a) <= 1e-12
        assert abs(gen_set.count_lt(t) / g.size - b) <= 1e-12
    for t, a, b in zip(pt[::7], pfm[::7], pfnm[::7], strict=True):
        assert abs(imp_set.count_ge(t) / i.size - a) <= 1e-12
        assert abs(gen_set.count_lt(t) / g.size - b) <= 1e-12


@pytest.mark.parametrize("kind", ["float", "int", "3dp"])
@pytest.mark.parametrize("seed", range(4))
def test_fmr_target_threshold_is_the_best_the_data_allow(kind, seed):
    rng = np.random.default_rng(100 + seed)
    g, i = _random_case(rng, kind)
    gen_set, imp_set = sets(g, i, tail=16, chunk=997)
    fpr, tpr, thr = roc_curve(
        np.r_[np.ones(g.size), np.zeros(i.size)], np.r_[g, i], drop_intermediate=False
    )
    fnr = 1 - tpr
    for target in (0.3, 0.1, 1e-2, 1e-3):
        op = operating_threshold(imp_set, gen_set, target)
        ok = fpr <= target
        assert op.negatives_ge / i.size <= target
        assert op.positives_lt / g.size == pytest.approx(fnr[ok].min(), abs=1e-12)
        assert op.negatives_ge == imp_set.count_ge(op.threshold)
        assert op.positives_lt == gen_set.count_lt(op.threshold)


@pytest.mark.parametrize("seed", range(6))
def test_eer_matches_sklearn_det_crossing(seed):
    rng = np.random.default_rng(200 + seed)
    g, i = _random_case(rng, ["float", "int", "3dp"][seed % 3])
    gen_set, imp_set = sets(g, i, tail=8, chunk=1000)
    fpr, fnr, _ = sk_det_curve(np.r_[np.ones(g.size), np.zeros(i.size)], np.r_[g, i])
    j = np.argmin(np.abs(fpr - fnr))
    e = equal_error_rate(gen_set, imp_set)
    assert abs(e.fmr - e.fnmr) == pytest.approx(abs(fpr[j] - fnr[j]), abs=1e-12)
    assert e.value == pytest.approx((fpr[j] + fnr[j]) / 2, abs=abs(fpr[j] - fnr[j]) / 2 + 1e-12)


def test_det_curve_points_are_exact_counts():
    rng = np.random.default_rng(5)
    g, i = rng.normal(0.6, 0.2, 5000), rng.normal(0.2, 0.2, 50000)
    gen_set, imp_set = sets(g, i, tail=32)
    d = det_curve(gen_set, imp_set)
    for t, a, b in list(zip(d.threshold, d.fmr, d.fnmr, strict=True))[::50]:
        assert a == np.mean(i >= t) and b == np.mean(g < t)
    thin = d.thinned(100)
    assert thin.threshold.size <= 102 and np.all(np.diff(thin.threshold) > 0)


def test_auc_grid_estimate_within_its_stated_error():
    rng = np.random.default_rng(9)
    g, i = rng.normal(0.5, 0.2, 6000), rng.normal(0.3, 0.2, 6000)
    auc, err = area_under_roc(*sets(g, i, tail=16))
    exact = roc_auc_score(np.r_[np.ones(g.size), np.zeros(i.size)], np.r_[g, i])
    assert abs(auc - exact) <= err + 1e-12 and err < 0.01


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 20), min_size=1, max_size=60),
    st.lists(st.integers(0, 20), min_size=1, max_size=60),
    st.lists(st.integers(-1, 22), min_size=2, max_size=8),
)
def test_rates_are_monotone_in_threshold(g, i, ts):
    gen_set, imp_set = sets(np.array(g) / 10, np.array(i) / 10, tail=2, chunk=7)
    ts = sorted(t / 10 for t in ts)
    fm = [imp_set.count_ge(t) for t in ts]
    fnm = [gen_set.count_lt(t) for t in ts]
    assert fm == sorted(fm, reverse=True) and fnm == sorted(fnm)


def test_float32_memmap_scores_give_exact_thresholds(tmp_path):
    """The exact look inside a cell works on float32 files (range test in float32, then exact)."""
    rng = np.random.default_rng(11)
    g = rng.normal(0.6, 0.15, 3000).astype(np.float32)
    i = rng.normal(0.1, 0.15, 200_000).astype(np.float32)
    np.save(tmp_path / "g.npy", g)
    np.save(tmp_path / "i.npy", i)
    gen_set = ScoreSet(np.load(tmp_path / "g.npy", mmap_mode="r"), tail=8, chunk_size=1 << 16)
    imp_set = ScoreSet(np.load(tmp_path / "i.npy", mmap_mode="r"), tail=8, chunk_size=1 << 16)
    g64, i64 = np.sort(g.astype(np.float64)), np.sort(i.astype(np.float64))
    for target in (1e-1, 1e-2, 1e-3, 1e-4):
        op = operating_threshold(imp_set, gen_set, target)
        k = max_false_positives(target, i.size)
        v = i64[i.size - k - 1]  # the (k+1)-th largest non-mated
        both = np.concatenate([g64, i64])
        assert op.threshold == both[both > v].min()
        assert op.negatives_ge == int((i64 >= op.threshold).sum()) <= k
        assert op.positives_lt == int((g64 < op.threshold).sum())
    e = equal_error_rate(gen_set, imp_set)
    assert e.nonmated_ge == int((i64 >= e.threshold).sum())
    assert e.mated_lt == int((g64 < e.threshold).sum())


def test_large_det_curve_on_the_grid_includes_exact_extra_points(monkeypatch):
    import faceaudit.stats.rates as rates

    monkeypatch.setattr(rates, "EXACT_CURVE_LIMIT", 100)  # force the grid path on small data
    rng = np.random.default_rng(6)
    g, i = rng.normal(0.6, 0.2, 3000), rng.normal(0.2, 0.2, 30000)
    gen_set, imp_set = sets(g, i, tail=16)
    extra = [float(np.quantile(i, 0.999)), float(np.median(g))]
    d = rates.det_curve(gen_set, imp_set, extra_thresholds=extra)
    assert np.all(np.diff(d.threshold) > 0)
    for t in extra:
        j = int(np.searchsorted(d.threshold, t))
        assert d.threshold[j] == t
        assert d.fmr[j] == np.mean(i >= t) and d.fnmr[j] == np.mean(g < t)
    for t, a, b in list(zip(d.threshold, d.fmr, d.fnmr, strict=True))[::97]:
        assert a == np.mean(i >= t) and b == np.mean(g < t)
    kept = d.thinned(50, keep=extra)
    assert set(extra) <= set(kept.threshold.tolist())
