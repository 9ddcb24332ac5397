"""McNemar's exact and mid-p tests, and the multiple-comparison adjustments: hand-checked."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from faceaudit.stats.paired import (
    adjust_p_values,
    correct_decisions,
    mcnemar_exact,
    mcnemar_p_value,
    pairwise_mcnemar,
    system_pairs,
)

# (b, c, exact p, mid-p) by hand: p = 2 sum_{i <= k} C(n, i) / 2^n, mid = p - C(n, k) / 2^n
HAND = [
    (0, 0, 1.0, 1.0),
    (1, 6, 2 * (1 + 7) / 2**7, (2 * 1 + 7) / 2**7),  # 0.125, 0.0703125
    (0, 5, 2 / 2**5, 1 / 2**5),  # 0.0625, 0.03125
    (5, 0, 2 / 2**5, 1 / 2**5),  # symmetric
    (3, 3, 1.0, 1.0),  # an even split: 2 P(X <= 3) = 1 + P(X = 3), so p = 1 and mid-p = 1
    (2, 10, 2 * (1 + 12 + 66) / 2**12, (2 * (1 + 12) + 66) / 2**12),  # 0.0386, 0.0225
    (0, 1, 1.0, 0.5),
]


@pytest.mark.parametrize(("b", "c", "exact", "mid"), HAND)
def test_hand_checked_p_values(b, c, exact, mid):
    assert mcnemar_p_value(b, c) == exact  # exact rational arithmetic: equality, not approx
    assert mcnemar_p_value(b, c, mid_p=True) == mid


@pytest.mark.parametrize(("b", "c"), [(4, 9), (17, 30), (150, 190), (900, 1200), (2500, 2620)])
def test_equals_scipy_binomtest(b, c):
    """Doubling the smaller tail is scipy's two-sided binomial test for p = 1/2 (symmetric)."""
    want = stats.binomtest(b, b + c, 0.5, alternative="two-sided").pvalue
    assert mcnemar_p_value(b, c) == pytest.approx(want, rel=1e-9)
    mid = want - stats.binom.pmf(min(b, c), b + c, 0.5)
    assert mcnemar_p_value(b, c, mid_p=True) == pytest.approx(mid, rel=1e-8, abs=1e-300)


def test_table_from_decisions():
    # comparisons: scores of A and B, truth; thresholds fixed beforehand (say, on a dev set)
    mated = np.array([True, True, True, True, False, False, False, False, True, False])
    a = np.array([0.9, 0.8, 0.4, 0.3, 0.2, 0.6, 0.1, 0.7, 0.65, 0.3])
    b = np.array([0.9, 0.3, 0.7, 0.8, 0.2, 0.1, 0.1, 0.2, 0.70, np.nan])
    ca, cb = correct_decisions(a, mated, 0.5), correct_decisions(b, mated, 0.5)
    assert ca.tolist() == [True, True, False, False, True, False, True, False, True, True]
    assert cb.tolist() == [True, False, True, True, True, True, True, True, True, True]
    r = mcnemar_exact(ca, cb)
    assert (r.n, r.both_right, r.a_only, r.b_only, r.both_wrong) == (10, 5, 1, 4, 0)
    assert r.p_value == 2 * (1 + 5) / 2**5  # 0.375: four against one is no evidence
    assert r.better == "b" and r.accuracy_difference == pytest.approx(-0.3)
    assert r.to_json()["p_value"] == 0.375
    assert mcnemar_exact(ca, cb, mid_p=True).p_value == (2 * 1 + 5) / 2**5


def test_concordant_pairs_do_not_matter():
    base = mcnemar_exact([1, 0, 0], [0, 1, 1])
    padded = mcnemar_exact([1, 0, 0] + [1] * 500 + [0] * 300, [0, 1, 1] + [1] * 500 + [0] * 300)
    assert base.p_value == padded.p_value


def test_input_checks():
    with pytest.raises(ValueError):
        mcnemar_exact([1, 0], [1])
    with pytest.raises(ValueError):
        mcnemar_p_value(-1, 2)
    with pytest.raises(ValueError):
        correct_decisions([0.1], [True, False], 0.5)


# ------------------------------------------------------------------------------------------------
# Multiplicity

P = [0.01, 0.04, 0.03, 0.005]


def test_holm_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> running max
    np.testing.assert_allclose(adjust_p_values(P), [0.03, 0.06, 0.06, 0.02])


def test_bh_by_hand_and_scipy():
    # m p / rank = 0.02, 0.02, 0.04, 0.04 -> running min from the top
    np.testing.assert_allclose(adjust_p_values(P, method="bh"), [0.02, 0.04, 0.04, 0.02])
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.2, 15)
    np.testing.assert_allclose(
        adjust_p_values(p, method="bh"), stats.false_discovery_control(p, method="bh")
    )


def test_bonferroni_none_and_properties():
    np.testing.assert_allclose(adjust_p_values(P, method="bonferroni"), [0.04, 0.16, 0.12, 0.02])
    np.testing.assert_array_equal(adjust_p_values(P, method="none"), P)
    rng = np.random.default_rng(1)
    p = rng.uniform(size=30)
    holm, bh, bonf = (adjust_p_values(p, method=m) for m in ("holm", "bh", "bonferroni"))
    assert (holm >= p).all() and (bh >= p).all() and (holm <= bonf + 1e-15).all()
    assert (bh <= holm + 1e-15).all()  # FDR control is never stricter than FWER control
    order = np.argsort(p)
    assert (np.diff(holm[order]) >= 0).all() and (np.diff(bh[order]) >= 0).all()
    assert adjust_p_values([]).size == 0
    with pytest.raises(ValueError):
        adjust_p_values([0.5, 1.5])
    with pytest.raises(ValueError):
        adjust_p_values(P, method="sidak")


def test_all_pairs_of_three_systems():
    assert system_pairs(3) == [(0, 1), (0, 2), (1, 2)]
    n = 200
    base = np.ones(n, dtype=bool)
    a = base.copy()
    a[:30] = False  # A: 30 errors
    b = base.copy()
    b[:2] = False  # B: 2 errors, shared with A
    c = base.copy()
    c[:31] = False
    c[29] = True  # C: errs on 0..28 and 30; A on 0..29: they differ on items 29 and 30 only
    tests = pairwise_mcnemar({"A": a, "B": b, "C": c})
    assert [(t.a, t.b) for t in tests] == [("A", "B"), ("A", "C"), ("B", "C")]
    ab, ac, bc = tests
    assert (ab.test.a_only, ab.test.b_only) == (0, 28)
    assert ab.test.p_value == 2 / 2**28
    assert (ac.test.a_only, ac.test.b_only, ac.test.p_value) == (1, 1, 1.0)
    assert (bc.test.a_only, bc.test.b_only) == (28, 0)
    raw = [t.test.p_value for t in tests]
    np.testing.assert_allclose([t.adjusted_p for t in tests], adjust_p_values(raw))
    assert ab.different and bc.different and not ac.different
    assert ab.to_json()["adjustment"] == "holm"
    with pytest.raises(ValueError):
        pairwise_mcnemar([a])
