"""The error-versus-discard characteristic and quality gates: hand-checked, against a plain
reference, and on synthetic data whose truth is known (quality that predicts errors, or is noise).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faceaudit.errors import InputError
from faceaudit.stats.bootstrap import Resampler
from faceaudit.stats.edc import error_vs_discard, pair_quality
from faceaudit.stats.quality_gate import quality_gates, recommend_gate


def reference_steps(quality, errors):
    """EDC steps the plain way (as Schlett et al.'s fiqat does): sort by quality, discard whole
    runs of equal quality; error fraction among the rest at each run boundary."""
    order = np.argsort(quality, kind="stable")
    q, e = quality[order], errors[order].astype(int)
    n = q.size
    remaining_errors = np.cumsum(e[::-1])[::-1]
    counts = np.concatenate([[0], np.flatnonzero(q[:-1] != q[1:]) + 1])
    return counts / n, remaining_errors[counts] / (n - counts)


# ---------------------------------------------------------------------------------------------
# Hand-checked
# ---------------------------------------------------------------------------------------------

Q4 = np.array([1.0, 2.0, 2.0, 3.0])
E4 = np.array([True, True, False, False])


def test_small_case_by_hand_ties_never_split():
    res = error_vs_discard(
        Q4, np.ones(4, bool), errors=E4, discard=[0, 0.2, 0.25, 0.5, 0.74, 0.75], pauc_limit=0.5
    )
    got = [(p.discard, p.quality_threshold, p.rate.count, p.rate.n) for p in res.mated.points]
    assert got == [
        (0.0, None, 2, 4),  # nothing discarded
        (0.0, None, 2, 4),  # 20% asked: discarding q=1 would be 25%, more than asked
        (0.25, 2.0, 1, 3),  # exactly 25%: the q=1 comparison goes
        (0.25, 2.0, 1, 3),  # 50% asked: the two q=2 ties would make 75%, so they stay
        (0.25, 2.0, 1, 3),
        (0.75, 3.0, 0, 1),
    ]
    assert res.nonmated is None
    # zero errors left: the rule-of-3 bound replaces the interval
    assert res.mated.points[-1].rate.upper_bound


def test_scores_at_a_fixed_threshold_count_errors_both_ways():
    scores = np.array([0.9, 0.4, 0.5, 0.6, 0.7, 0.2])
    mated = np.array([True, True, True, False, False, False])
    q = np.array([5.0, 1.0, 2.0, 1.0, 4.0, 3.0])
    res = error_vs_discard(q, mated, scores=scores, threshold=0.5, discard=[0, 0.34])
    # mated errors: 0.4 < 0.5 (q=1); 0.5 is a match (>= threshold). non-mated errors: 0.6, 0.7
    assert [p.rate.count for p in res.mated.points] == [1, 0]
    assert [p.rate.count for p in res.nonmated.points] == [2, 1]
    assert res.nonmated.error == "fmr" and res.mated.error == "fnmr"
    ident = error_vs_discard(q, mated, scores=scores, threshold=0.5, identification=True)
    assert (ident.mated.error, ident.nonmated.error) == ("fnir", "fpir")


def test_pauc_by_hand():
    res = error_vs_discard(Q4, np.ones(4, bool), errors=E4, discard=[0], pauc_limit=0.5)
    # steps: 0.5 on [0, 0.25), 1/3 on [0.25, 0.75)
    assert res.mated.pauc == pytest.approx(0.5 * 0.25 + (1 / 3) * 0.25)
    assert res.mated.pauc_random == pytest.approx(0.5 * 0.5)
    # theoretical best: integral_0^0.5 (0.5 - x) / (1 - x) dx = 0.5 + 0.5 ln 0.5
    assert res.mated.pauc_best == pytest.approx(0.5 + 0.5 * math.log(0.5))
    small = error_vs_discard(Q4, np.ones(4, bool), errors=E4, discard=[0], pauc_limit=0.2)
    assert small.mated.pauc == pytest.approx(0.5 * 0.2)


def test_pauc_best_matches_numerical_integration():
    e = np.zeros(1000, bool)
    e[:80] = True
    res = error_vs_discard(np.arange(1000.0), np.ones(1000, bool), errors=e, pauc_limit=0.2)
    x = np.linspace(0, 0.2, 200001)
    best = np.maximum(0.08 - x, 0) / (1 - x)
    assert res.mated.pauc_best == pytest.approx(np.trapezoid(best, x), rel=1e-6)
    # here the errors are exactly the lowest-quality comparisons: the curve *is* the best one
    assert res.mated.pauc == pytest.approx(res.mated.pauc_best, abs=1e-4)


def test_steps_match_a_plain_reference_and_ignore_input_order():
    rng = np.random.default_rng(4)
    q = rng.integers(0, 30, 500).astype(float)
    e = rng.random(500) < 0.1 + 0.01 * (30 - q)
    res = error_vs_discard(q, np.ones(500, bool), errors=e)
    d, r = reference_steps(q, e)
    steps = np.array([(s[0], s[1]) for s in res.mated.steps])
    np.testing.assert_allclose(steps[:, 0], d)
    np.testing.assert_allclose(steps[:, 1], r)
    perm = rng.permutation(500)
    again = error_vs_discard(q[perm], np.ones(500, bool), errors=e[perm])
    assert again.to_json() == res.to_json()


def test_nan_quality_is_discarded_first_and_pair_quality_is_the_lower():
    assert list(pair_quality([1, 5, np.nan], [3, 2, 4])) == [1, 2] + [
        pytest.approx(np.nan, nan_ok=True)
    ]
    q = np.array([np.nan, 1.0, 2.0, 3.0])
    res = error_vs_discard(q, np.ones(4, bool), errors=E4, discard=[0.25])
    p = res.mated.points[0]
    assert (p.discard, p.quality_threshold, p.rate.count) == (0.25, 1.0, 1)


def test_all_ties_means_nothing_can_be_discarded():
    res = error_vs_discard(np.full(10, 7.0), np.ones(10, bool), errors=np.arange(10) < 3)
    assert {p.discard for p in res.mated.points} == {0.0}
    assert {p.rate.count for p in res.mated.points} == {3}


def test_many_levels_are_pooled_without_splitting_ties():
    q = np.repeat(np.arange(100.0), 10)  # 100 distinct values, 10 ties each
    e = q < 20
    res = error_vs_discard(q, np.ones(q.size, bool), errors=e, max_levels=8)
    assert len(res.mated.steps) <= 8
    for p in res.mated.points:
        assert (p.discard * q.size) % 10 == 0  # whole runs of ties only
        assert p.discard <= p.discard_target + 1e-12


def test_results_are_plain_json():
    rng = np.random.default_rng(0)
    n = 400
    subj = rng.integers(0, 40, n)
    mated = rng.random(n) < 0.3
    res = error_vs_discard(
        rng.random(n),
        mated,
        errors=rng.random(n) < 0.05,
        subjects=subj,
        weights=Resampler(40, 50, seed=1).weight_batches(),
    )
    text = json.dumps(res.to_json(), allow_nan=False)
    back = json.loads(text)
    assert back["bootstrap"]["replicates"] == 50
    assert set(back["mated"]["points"][0]) == {
        "discard_target",
        "discard",
        "quality_threshold",
        "kept",
        "rate",
    }


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"discard": [1.0]}, "discard=1.0"),
        ({"discard": [-0.1]}, "discard=-0.1"),
        ({"discard": []}, "at least one"),
        ({"pauc_limit": 0.0}, "pauc_limit=0.0"),
        ({"confidence": 1.5}, "confidence=1.5"),
        ({"max_levels": 1}, "max_levels=1"),
    ],
)
def test_bad_parameters_raise_input_error(kwargs, words):
    with pytest.raises(InputError, match=words.replace(".", r"\.").replace("[", r"\[")):
        error_vs_discard(Q4, np.ones(4, bool), errors=E4, **kwargs)


def test_bad_arrays_raise_value_error():
    with pytest.raises(ValueError, match="one value per comparison"):
        error_vs_discard(Q4[:3], np.ones(4, bool), errors=E4)
    with pytest.raises(ValueError, match="NaN"):
        error_vs_discard(Q4, np.ones(4, bool), scores=[0.1, np.nan, 0.3, 0.4], threshold=0.2)
    with pytest.raises(InputError, match="threshold"):
        error_vs_discard(Q4, np.ones(4, bool), scores=[0.1, 0.2, 0.3, 0.4], threshold=np.nan)
    with pytest.raises(ValueError, match="subjects"):
        error_vs_discard(Q4, np.ones(4, bool), errors=E4, weights=[np.ones((2, 3))])


# ---------------------------------------------------------------------------------------------
# The bootstrap: replicates are weighted sums of per-subject tables
# ---------------------------------------------------------------------------------------------


def expand(weights_row, subj, ref, *arrays):
    """Repeat each comparison by its replicate weight (two-way for non-mated with ``ref``)."""
    w = weights_row[subj] * (weights_row[ref] if ref is not None else 1)
    reps = w.astype(int)
    return [np.repeat(a, reps) for a in arrays]


@pytest.mark.parametrize("two_way", [False, True])
def test_a_replicate_equals_the_estimate_on_resampled_data(two_way):
    rng = np.random.default_rng(11)
    n, S = 600, 30
    subj = rng.integers(0, S, n)
    mated = rng.random(n) < 0.4
    ref = np.where(mated, subj, (subj + rng.integers(1, S, n)) % S)
    q = rng.integers(0, 25, n).astype(float)
    err = rng.random(n) < np.where(mated, 0.3 - 0.01 * q, 0.1)
    w = np.bincount(rng.integers(0, S, S), minlength=S)[None, :].astype(float)
    fractions = [0, 0.05, 0.1, 0.2, 0.3]
    res = error_vs_discard(
        q,
        mated,
        errors=err,
        subjects=subj,
        discard=fractions,
        reference_subjects=ref if two_way else None,
        weights=[w],
    )
    # brute force: build the resampled data set, compute its EDC point estimates
    mq, me = expand(w[0], subj[mated], None, q[mated], err[mated])
    nref = ref[~mated] if two_way else None
    nq, ne = expand(w[0], subj[~mated], nref, q[~mated], err[~mated])
    brute_m = error_vs_discard(mq, np.ones(mq.size, bool), errors=me, discard=fractions)
    brute_n = error_vs_discard(nq, np.zeros(nq.size, bool), errors=ne, discard=fractions)
    for curve, brute in ((res.mated, brute_m.mated), (res.nonmated, brute_n.nonmated)):
        for p, b in zip(curve.points, brute.points, strict=True):
            if p.rate.ci is not None and not p.rate.upper_bound:
                assert p.rate.ci[0] == pytest.approx(b.rate.value)
                assert p.rate.ci[1] == pytest.approx(b.rate.value)
        assert curve.pauc_ci[0] == pytest.approx(brute.pauc)


def synthetic(informative: bool, seed: int = 0):
    """400 subjects x 5 mated comparisons; errors 20% below quality 0.15 and 2% above when
    quality is informative, else a 4.7% error rate whatever the (random) quality."""
    rng = np.random.default_rng(seed)
    subj = np.repeat(np.arange(400), 5)
    q = rng.random(subj.size)
    p = np.where(q < 0.15, 0.20, 0.02) if informative else np.full(q.size, 0.047)
    return subj, q, rng.random(subj.size) < p


def test_edc_falls_when_quality_predicts_errors():
    subj, q, err = synthetic(True)
    res = error_vs_discard(
        q,
        np.ones(q.size, bool),
        errors=err,
        subjects=subj,
        weights=Resampler(400, 300, seed=2).weight_batches(),
    )
    c = res.mated
    e0 = c.points[0].rate.value
    at20 = c.points[20]
    assert at20.discard_target == 0.2
    assert at20.rate.value < 0.6 * e0
    assert at20.rate.ci[1] < e0  # the fall is beyond the noise
    rates = [p.rate.value for p in c.points[:16]]
    assert all(b <= a + 1e-12 for a, b in zip(rates, rates[1:], strict=False))
    assert c.pauc_ci[1] < c.pauc_random
    assert c.pauc_best <= c.pauc


def test_edc_stays_flat_within_its_interval_when_quality_is_noise():
    subj, q, err = synthetic(False)
    res = error_vs_discard(
        q,
        np.ones(q.size, bool),
        errors=err,
        subjects=subj,
        weights=Resampler(400, 300, seed=2).weight_batches(),
    )
    c = res.mated
    e0 = c.points[0].rate.value
    for p in c.points:
        assert p.rate.ci[0] <= e0 <= p.rate.ci[1], p
    assert c.pauc_ci[0] <= c.pauc_random <= c.pauc_ci[1]


# ---------------------------------------------------------------------------------------------
# Quality gates
# ---------------------------------------------------------------------------------------------


def test_gate_by_hand_counts_photos_not_comparisons():
    # photo A (q=1) has 2 mated comparisons, both misses; photos B, C, D (q=2, 3, 4) one each
    q = np.array([1.0, 1.0, 2.0, 3.0, 4.0, 4.0])
    photo = np.array(["A", "A", "B", "C", "D", "D"])
    mated = np.array([True, True, True, True, True, False])
    err = np.array([True, True, False, True, False, True])
    gates = quality_gates(q, mated, errors=err, photo=photo, reject=[0.2, 0.25, 0.5])
    g20, g25, g50 = gates
    assert (g20.photos, g20.photos_rejected, g20.quality_threshold) == (4, 0, None)
    assert (g25.photos_rejected, g25.quality_threshold, g25.rejected_share) == (1, 2.0, 0.25)
    assert (g25.mated_before.count, g25.mated_before.n) == (3, 5)
    assert (g25.mated_after.count, g25.mated_after.n) == (1, 3)
    assert (g25.mated_generalised_after.count, g25.mated_generalised_after.n) == (3, 5)
    assert g25.mated_change == pytest.approx(1 / 3 - 3 / 5)
    assert (g25.nonmated_after.count, g25.nonmated_after.n) == (1, 1)
    assert g50.photos_rejected == 2
    json.dumps([g.to_json() for g in gates], allow_nan=False)
    with pytest.raises(InputError, match="two quality values"):
        quality_gates(np.array([1.0, 2.0]), [True, True], errors=[True, False], photo=["A", "A"])


def test_recommended_gate_is_the_cheapest_that_pays():
    subj, q, err = synthetic(True, seed=5)
    gates = quality_gates(
        q,
        np.ones(q.size, bool),
        errors=err,
        subjects=subj,
        reject=[0.01, 0.05, 0.10, 0.20],
        weights=Resampler(400, 200, seed=3).weight_batches(),
    )
    best = recommend_gate(gates, min_relative_gain=0.25)
    assert best is not None and best.reject_target == 0.10
    assert best.mated_change_ci[1] < 0
    assert best.relative_change <= -0.25
    assert best.rejected_share <= 0.10
    # with quality that is noise no gate qualifies
    subj, q, err = synthetic(False, seed=5)
    noise = quality_gates(
        q,
        np.ones(q.size, bool),
        errors=err,
        subjects=subj,
        reject=[0.01, 0.05, 0.10, 0.20],
        weights=Resampler(400, 200, seed=3).weight_batches(),
    )
    assert recommend_gate(noise) is None


@settings(max_examples=60)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.booleans(), st.booleans()), min_size=1, max_size=60),
    st.lists(st.floats(0, 0.95), min_size=1, max_size=5),
)
def test_every_point_is_the_largest_tie_respecting_gate_not_above_its_target(rows, targets):
    q = np.array([r[0] for r in rows], float)
    mated = np.array([r[1] for r in rows])
    err = np.array([r[2] for r in rows])
    res = error_vs_discard(q, mated, errors=err, discard=targets)
    for curve, sel in ((res.mated, mated), (res.nonmated, ~mated)):
        if not sel.any():
            assert curve is None
            continue
        qs, es = q[sel], err[sel]
        for p, f in zip(curve.points, targets, strict=True):
            gate = -np.inf if p.quality_threshold is None else p.quality_threshold
            kept = qs >= gate
            assert p.discard == pytest.approx(1 - kept.mean())
            assert p.discard <= f + 1e-12
            assert (p.rate.count, p.rate.n) == (int(es[kept].sum()), int(kept.sum()))
            higher = np.unique(qs[qs > qs[kept].min()])
            if higher.size:  # the next realisable gate would discard more than asked
                assert (qs < higher[0]).mean() > f + 1e-12
