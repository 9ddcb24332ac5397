"""The paired comparison of systems: planted differences found, no difference covered at about
the nominal rate, pairing narrower than no pairing, McNemar's counts, one bootstrap for all."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from compare_systems_data import MU, SC, SE, SU, paired
from faceaudit.analyses.system_comparison import compare_systems

SD = math.sqrt(SU**2 + SC**2 + SE**2)


def diff(result, figure, **where):
    for d in result.differences:
        if d.figure == figure and all(getattr(d, k) == v for k, v in where.items()):
            return d
    raise AssertionError(f"no {figure} difference {where}")


def test_a_planted_difference_is_found_and_covered():
    t = 2.0
    data = paired(n_subjects=120, shifts=(0.0, 0.6), seed=3)
    r = compare_systems(data, fmr_targets=[1e-2], thresholds=[t], bootstrap=400, seed=1)
    truth = norm.cdf((t - MU) / SD) - norm.cdf((t - MU - 0.6) / SD)  # FNMR_A - FNMR_B > 0
    d = diff(r, "fnmr_at_threshold")
    assert d.paired.low <= truth <= d.paired.high
    assert d.paired.low > 0 and not d.indistinguishable
    d = diff(r, "fnmr_at_fmr", target=1e-2)
    assert d.paired.low > 0  # B misses fewer mated comparisons at the same FMR
    assert diff(r, "eer").paired.low > 0


def test_no_difference_covers_zero_at_about_the_nominal_rate():
    """100 seeds of exchangeable systems: the 95% paired interval contains 0 in 88-100 of them."""
    hits = {"fnmr_at_threshold": 0, "fmr_at_threshold": 0, "eer": 0}
    for seed in range(100):
        data = paired(n_subjects=30, shifts=(0.0, 0.0), seed=seed, nonmated=10)
        r = compare_systems(data, fmr_targets=[], thresholds=[2.0], bootstrap=200, seed=seed)
        for fig in hits:
            d = diff(r, fig)
            hits[fig] += bool(d.paired.low <= 0.0 <= d.paired.high)
    for fig, h in hits.items():
        assert 88 <= h <= 100, (fig, h)


def test_the_paired_interval_is_narrower_than_the_unpaired_one():
    data = paired(n_subjects=60, shifts=(0.0, 0.1), seed=5)
    r = compare_systems(data, fmr_targets=[1e-2], thresholds=[2.0], bootstrap=300)
    for d in r.differences:
        assert d.paired.width < 0.8 * d.unpaired.width, d.figure


def test_a_system_against_itself_differs_by_exactly_zero_in_every_replicate():
    """The same people in every replicate: identical systems give identical replicates."""
    data = paired(n_subjects=25, shifts=(0.0, 0.0), seed=2)
    same = type(data)(("A", "A2"), (data.scores[0], data.scores[0].copy()), data.mated,
                      data.probe_subject, data.reference_subject, data.subjects, "similarity",
                      data.coverage)  # fmt: skip
    r = compare_systems(same, fmr_targets=[1e-1], thresholds=[2.0], bootstrap=100)
    assert r.differences
    for d in r.differences:
        assert d.paired.low == d.paired.high == 0.0 and d.indistinguishable
        assert d.unpaired.width > 0


def test_mcnemar_counts_the_discordant_decisions():
    data = paired(n_subjects=20, shifts=(0.0, 0.4), seed=1)
    r = compare_systems(data, fmr_targets=[], thresholds=[2.0], bootstrap=0)
    (m,) = r.mcnemar
    right = [(s >= 2.0) == data.mated for s in data.scores]
    assert m.test.test.a_only == int(np.sum(right[0] & ~right[1]))
    assert m.test.test.b_only == int(np.sum(~right[0] & right[1]))
    assert m.test.test.n == data.n
    assert r.differences == ()  # no bootstrap: no intervals, no differences


def test_three_systems_every_pair_holm_adjusted():
    data = paired(n_subjects=40, shifts=(0.0, 0.3, 0.6), seed=4)
    r = compare_systems(data, fmr_targets=[], thresholds=[2.0], bootstrap=200)
    fn = [d for d in r.differences if d.figure == "fnmr_at_threshold"]
    assert [(d.a, d.b) for d in fn] == [("A", "B"), ("A", "C"), ("B", "C")]
    p = sorted(d.p_value for d in fn)
    q = sorted(d.adjusted_p for d in fn)
    assert q[0] == pytest.approx(min(1.0, 3 * p[0]))  # Holm: smallest p times the number of pairs
    assert all(qq >= pp for pp, qq in zip(p, q, strict=True))
    assert r.to_json()["adjustment"]["pairs"] == 3
    assert len([m for m in r.mcnemar]) == 3


def test_without_subject_ids_comparisons_are_the_paired_units():
    data = paired(n_subjects=15, shifts=(0.0, 0.0), seed=6)
    bare = type(data)(data.names, data.scores, data.mated, None, None, [], "similarity",
                      data.coverage)  # fmt: skip
    r = compare_systems(bare, fmr_targets=[], thresholds=[2.0], bootstrap=100)
    assert r.bootstrap["unit"] == "comparison" and r.bootstrap["design"] == "comparison (paired)"
    assert any("No subject ids" in w for w in r.warnings)
    assert r.differences


def test_different_failures_to_acquire_are_warned_with_counts():
    data = paired(n_subjects=15, shifts=(0.0, 0.0), seed=8)
    b = data.scores[1].copy()
    b[:7] = np.nan
    holes = type(data)(data.names, (data.scores[0], b), data.mated, data.probe_subject,
                       data.reference_subject, data.subjects, "similarity",
                       data.coverage)  # fmt: skip
    r = compare_systems(holes, fmr_targets=[], thresholds=[2.0], bootstrap=50)
    assert any("A 0, B 7 without a score" in w for w in r.warnings)
    assert r.systems[1].n_mated + r.systems[1].n_nonmated == data.n - 7
