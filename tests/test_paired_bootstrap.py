"""Paired bootstrap differences: same resampled people for both systems, versus unpaired."""

from __future__ import annotations

import numpy as np
import pytest

from faceaudit.stats.paired import paired_difference, unpaired_difference


def test_hand_example():
    a = np.array([0.1, 0.2, 0.3, 0.4])
    b = np.array([0.0, 0.1, 0.2, 0.3])  # replicate by replicate, A is 0.1 worse
    p = paired_difference(a, b, estimate_a=0.25, estimate_b=0.15)
    assert p.paired and p.n_replicates == 4
    assert p.estimate == pytest.approx(0.1)
    assert (p.low, p.high) == (pytest.approx(0.1), pytest.approx(0.1))
    assert not p.indistinguishable
    u = unpaired_difference(a, b, estimate_a=0.25, estimate_b=0.15)
    diffs = (a[:, None] - b[None, :]).ravel()  # all 16 differences
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    assert (u.low, u.high) == (pytest.approx(lo), pytest.approx(hi))
    assert not u.paired and u.n_replicates == 16 and u.indistinguishable
    assert u.to_json()["indistinguishable"] is True and p.to_json()["ci"][0] == pytest.approx(0.1)


def test_nan_replicates_dropped_jointly_and_shapes():
    a = np.array([0.1, np.nan, 0.3, 0.5])
    b = np.array([0.0, 0.1, np.nan, 0.2])
    p = paired_difference(a, b, estimate_a=0.3, estimate_b=0.1)
    assert p.n_replicates == 2
    two = paired_difference(
        np.column_stack([a, a]), np.column_stack([b, b + 1]), estimate_a=[0.3, 0.3],
        estimate_b=[0.1, 1.1], confidence=0.5
    )  # fmt: skip
    assert two.low.shape == (2,) and two.indistinguishable.tolist() == [False, False]
    assert two.estimate.tolist() == pytest.approx([0.2, -0.8])
    with pytest.raises(ValueError, match="one shape"):
        paired_difference(np.ones(5), np.ones(6), estimate_a=1, estimate_b=1)
    with pytest.raises(ValueError, match="confidence"):
        paired_difference(np.ones(5), np.ones(5), estimate_a=1, estimate_b=1, confidence=1.5)
    # unpaired replicates need not be equally many
    assert unpaired_difference(np.ones(5), np.zeros(7), estimate_a=1, estimate_b=0).low == 1.0


def subject_bootstrap(errors_a, errors_b, trials, n_boot, seed):
    """Replicate FNMRs of two systems: ONE draw of subject multiplicities serves both."""
    rng = np.random.default_rng(seed)
    s = trials.size
    w = np.stack([np.bincount(rng.integers(0, s, s), minlength=s) for _ in range(n_boot)])
    n = w @ trials
    return (w @ errors_a) / n, (w @ errors_b) / n


def test_paired_interval_is_narrower_on_correlated_systems():
    """Two systems that fail on the same hard people: B is a little better everywhere.

    Subjects vary a lot in difficulty, so each system's FNMR is uncertain, but the *difference*
    is nearly the same in every resample of people. The paired interval sees that; the unpaired
    one adds up both systems' uncertainty and cannot tell them apart."""
    rng = np.random.default_rng(7)
    subjects = 300
    trials = rng.integers(3, 8, subjects)  # mated comparisons per subject
    difficulty = rng.beta(0.5, 6.0, subjects)  # most people easy, some very hard
    u = rng.uniform(size=(subjects, 8))  # one shared draw: the same comparisons are hard
    mask = np.arange(8)[None, :] < trials[:, None]
    errors_a = ((u < np.minimum(1, difficulty * 1.25)[:, None]) & mask).sum(axis=1)
    errors_b = ((u < difficulty[:, None]) & mask).sum(axis=1)  # a subset of A's errors
    fa, fb = errors_a.sum() / trials.sum(), errors_b.sum() / trials.sum()
    ra, rb = subject_bootstrap(errors_a, errors_b, trials, 1000, seed=11)
    paired = paired_difference(ra, rb, estimate_a=fa, estimate_b=fb)
    # two independent resamples of people for the unpaired view
    ra2, _ = subject_bootstrap(errors_a, errors_b, trials, 1000, seed=12)
    _, rb2 = subject_bootstrap(errors_a, errors_b, trials, 1000, seed=13)
    unpaired = unpaired_difference(ra2, rb2, estimate_a=fa, estimate_b=fb)
    assert paired.estimate == pytest.approx(fa - fb) and fa > fb
    assert paired.width < 0.5 * unpaired.width
    assert not paired.indistinguishable  # the pairing reveals the difference
    assert unpaired.indistinguishable  # ignoring it, the data "cannot tell"
    # the unpaired helper also breaks the pairing of paired replicates: same answer, roughly
    broken = unpaired_difference(ra, rb, estimate_a=fa, estimate_b=fb)
    assert broken.width > 2 * paired.width and broken.indistinguishable


def test_large_unpaired_uses_a_seeded_sample():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 3000), rng.normal(0.5, 1, 3000)
    u1 = unpaired_difference(a, b, estimate_a=0, estimate_b=0.5, max_pairs=100_000, seed=4)
    u2 = unpaired_difference(a, b, estimate_a=0, estimate_b=0.5, max_pairs=100_000, seed=4)
    assert u1.n_replicates == 100_000 and (u1.low, u1.high) == (u2.low, u2.high)
    # sd of a difference of independent N(., 1): sqrt(2); 95% interval about -0.5 +- 2.77
    assert u1.low == pytest.approx(-0.5 - 1.96 * 2**0.5, abs=0.15)
    assert u1.high == pytest.approx(-0.5 + 1.96 * 2**0.5, abs=0.15)
