"""Bootstrap by subject (and by comparison): replicate counts, determinism, and CI coverage."""

import numpy as np
import pytest
from scipy.stats import norm

from faceaudit.stats.bootstrap import (
    Resampler,
    percentile_interval,
    replicate_rates_ge,
    unit_counts_ge,
)
from faceaudit.stats.scoreset import ScoreSet


def test_unit_counts_hand_checked():
    s = ScoreSet(np.array([0.1, 0.5, 0.7, 0.2, 0.9]), units=np.array([0, 0, 1, 1, 1]))
    table = unit_counts_ge(s, [0.5, 0.15], n_units=3)
    # columns: n, >= 0.5, >= 0.15 (thresholds keep the caller's order)
    np.testing.assert_array_equal(table, [[2, 1, 1], [3, 2, 3], [0, 0, 0]])


def test_weights_are_multiplicities_and_deterministic():
    r = Resampler(n_units=7, n_boot=120, seed=3, batch=50)
    w = np.concatenate(list(r.weight_batches()))
    assert w.shape == (120, 7) and np.all(w.sum(axis=1) == 7)
    np.testing.assert_array_equal(w, np.concatenate(list(r.weight_batches())))


def test_replicate_of_all_ones_weights_is_the_point_estimate():
    x = np.array([0.1, 0.5, 0.7, 0.2, 0.9, 0.95])
    s = ScoreSet(x, units=np.array([0, 0, 1, 1, 2, 2]))
    r = Resampler(n_units=3, n_boot=400, seed=1)
    reps = replicate_rates_ge(r, s, [0.5])
    assert reps.shape == (400, 1)
    # every replicate is a mixture of the subjects' own rates (1/2, 1/3... here 1/2, 1/2, 1)
    assert set(np.round(reps[:, 0], 6)) <= {0.5, round(2 / 3, 6), round(5 / 6, 6), 1.0, 0.666667}
    assert reps.mean() == pytest.approx(np.mean(x >= 0.5), abs=0.05)


def _clustered(rng, n_subjects, per_subject, tau):
    d = rng.normal(0.0, tau, n_subjects)
    units = np.repeat(np.arange(n_subjects), per_subject)
    return rng.normal(d[units], 1.0), units


@pytest.mark.slow
@pytest.mark.parametrize("by_subject", [True, False])
def test_ci_coverage_near_nominal(by_subject):
    """Nominal 95% intervals cover the true FMR 90-99% of the time over repeated data sets."""
    tau, t = (0.5, 2.0) if by_subject else (0.0, 2.0)
    truth = norm.sf(t / np.sqrt(1 + tau**2))  # marginal FMR of the clustered model
    covered, runs = 0, 200
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        x, units = _clustered(rng, 150, 40, tau)
        s = ScoreSet(x, units=units if by_subject else None)
        r = Resampler(n_units=150 if by_subject else 0, n_boot=400, seed=seed)
        lo, hi = percentile_interval(replicate_rates_ge(r, s, [t]), 0.95)[:, 0]
        covered += lo <= truth <= hi
    assert 0.90 <= covered / runs <= 0.99


def test_comparison_bootstrap_understates_clustered_uncertainty():
    """With strong subject effects, resampling comparisons gives too narrow an interval."""
    rng = np.random.default_rng(4)
    x, units = _clustered(rng, 100, 50, 1.0)
    by_subj = Resampler(n_units=100, n_boot=500, seed=0)
    by_comp = Resampler(n_units=0, n_boot=500, seed=0)
    w_s = np.diff(
        percentile_interval(replicate_rates_ge(by_subj, ScoreSet(x, units=units), [1.5]), 0.95)[
            :, 0
        ]
    )
    w_c = np.diff(percentile_interval(replicate_rates_ge(by_comp, ScoreSet(x), [1.5]), 0.95)[:, 0])
    assert w_s[0] > 2 * w_c[0]


def test_a_replicate_is_a_weighted_merge_of_unit_tables():
    """Tables of two blocks merge by addition; a replicate of the merge = merge of replicates."""
    from faceaudit.stats.bootstrap import UnitTable

    rng = np.random.default_rng(0)
    a = UnitTable(rng.integers(0, 5, (6, 3)).astype(float))
    b = UnitTable(rng.integers(0, 5, (6, 3)).astype(float))
    w = np.concatenate(list(Resampler(n_units=6, n_boot=70, seed=2).weight_batches()))
    np.testing.assert_array_equal(a.merge(b).replicate(w), a.replicate(w) + b.replicate(w))
    np.testing.assert_array_equal(a.replicate(np.ones((1, 6)))[0], a.total())


def test_stratified_and_plain_streams_are_fixed():
    """The draws are part of the results: pin the first replicate of each mode."""
    plain = next(Resampler(n_units=5, n_boot=3, seed=0).weight_batches())
    ref = np.random.default_rng(0).integers(0, 5, size=(3, 5))
    for row, draws in zip(plain, ref, strict=True):
        np.testing.assert_array_equal(row, np.bincount(draws, minlength=5))
    strata = np.array([1, 1, -1, 0, 0])
    w = next(Resampler.stratified(strata, n_boot=2, seed=4).weight_batches())
    assert np.all(w[:, 2] == 0) and np.all(w[:, 3:].sum(axis=1) == 2)
    rng = np.random.default_rng(4)
    first = rng.integers(0, 2, size=(2, 2))  # stratum 0 first (members 3, 4), then stratum 1
    np.testing.assert_array_equal(w[0, 3:], np.bincount(first[0], minlength=2))


def test_exchangeable_units_merge_identical_rows_without_changing_totals():
    from faceaudit.stats.bootstrap import ExchangeableUnits

    rows = np.array([[1.0, 0.0], [1.0, 0.0], [2.0, 1.0], [1.0, 0.0]])
    special = np.array([False, False, True, False])
    ex = ExchangeableUnits(rows, special)
    assert ex.m == 1 and ex.table.n_units == 2  # one special unit + one merged category
    for w_special, totals in ex.batches(Resampler(4, 40, seed=1)):
        # every replicate draws 4 units in all: 1 per unit of column 0, plus the special's extra
        np.testing.assert_array_equal(totals[:, 0], 4 + w_special[:, 0])
