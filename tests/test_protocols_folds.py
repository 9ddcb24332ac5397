"""The benchmark K-fold accuracy: hand-checked, brute-forced, and against insightface's recipe."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faceaudit.stats.folds import best_accuracy_threshold, cross_validated_accuracy


def brute_best(scores, mated):
    """Max correct over every threshold: each distinct score, and above the largest."""
    cands = np.concatenate([np.unique(scores), [np.inf]])
    return max(int(np.sum((scores >= t) == mated)) for t in cands)


def test_hand_example_three_folds():
    # fold 1: 0.9 T, 0.2 F | fold 2: 0.8 T, 0.3 F | fold 3: 0.7 T, 0.75 F
    s = [0.9, 0.2, 0.8, 0.3, 0.7, 0.75]
    m = [True, False, True, False, True, False]
    r = cross_validated_accuracy(s, m, [1, 1, 2, 2, 3, 3])
    # fold 1 trains on {0.8 T, 0.3 F, 0.7 T, 0.75 F}: 3 of 4 at best, at t in (0.3, 0.7] or
    # (0.75, 0.8]; the strictest interval's midpoint is 0.775
    np.testing.assert_allclose(r.thresholds, [0.775, 0.825, 0.55])
    assert r.correct.tolist() == [2, 1, 1]
    assert r.false_matches.tolist() == [0, 0, 1] and r.false_non_matches.tolist() == [0, 1, 0]
    np.testing.assert_allclose(r.train_accuracy, [0.75, 0.75, 1.0])
    acc = np.array([1.0, 0.5, 0.5])
    assert r.mean == pytest.approx(2 / 3)
    assert r.std == pytest.approx(np.std(acc))
    assert r.sample_std == pytest.approx(np.std(acc, ddof=1))
    assert r.standard_error == pytest.approx(np.std(acc, ddof=1) / np.sqrt(3))
    assert r.pooled_accuracy == pytest.approx(4 / 6)
    j = r.to_json()
    assert j["k"] == 3 and j["folds"][1]["false_non_matches"] == 1


@pytest.mark.parametrize(
    ("scores", "mated", "threshold", "correct"),
    [
        ([0.1, 0.2, 0.7, 0.9], [False, False, True, True], 0.45, 4),  # separable: mid-gap
        ([0.5, 0.5, 0.5], [True, False, True], 0.5, 2),  # one value: all match
        ([0.5, 0.6], [False, False], np.nextafter(0.6, 1), 2),  # nothing should match
        ([0.5, 0.6], [True, True], 0.5, 2),  # everything should match
    ],
)
def test_best_threshold_cases(scores, mated, threshold, correct):
    t, c = best_accuracy_threshold(scores, mated)
    assert t == pytest.approx(threshold) and c == correct


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 12).map(lambda v: v / 12), st.booleans()), min_size=1, max_size=40
    )
)
def test_best_threshold_is_optimal_and_consistent(rows):
    s = np.array([r[0] for r in rows])
    m = np.array([r[1] for r in rows])
    t, c = best_accuracy_threshold(s, m)
    assert c == brute_best(s, m)  # ties included
    assert int(np.sum((s >= t) == m)) == c  # the returned threshold really achieves it


def test_nan_is_a_non_match_and_trains_nothing():
    s = np.array([0.9, np.nan, 0.1, 0.8, np.nan, 0.2])
    m = np.array([True, True, False, True, False, False])
    r = cross_validated_accuracy(s, m, [1, 1, 1, 2, 2, 2])
    assert r.fta.tolist() == [1, 1]
    # fold 1: the NaN mated pair is an error; fold 2: the NaN non-mated pair is right
    assert r.correct.tolist() == [2, 3]


def test_errors():
    with pytest.raises(ValueError, match="two folds"):
        cross_validated_accuracy([0.1, 0.2], [True, False], [1, 1])
    with pytest.raises(ValueError, match="one length"):
        cross_validated_accuracy([0.1, 0.2], [True], [1, 2])
    with pytest.raises(ValueError, match="finite"):
        cross_validated_accuracy([0.1, np.inf], [True, False], [1, 2])
    with pytest.raises(ValueError, match="no score"):
        cross_validated_accuracy([np.nan, 0.2], [True, False], [1, 2])


def insightface_accuracy(scores, mated, folds, grid):
    """insightface/facenet ``calculate_roc``: best training accuracy on a grid of squared
    distances ascending (first maximum = the strictest), then the held-out fold's accuracy.
    Here on similarities, so the grid runs from the strictest (highest) threshold down."""
    accs = []
    for f in np.unique(folds):
        train, test = folds != f, folds == f
        acc_train = [np.mean((scores[train] >= t) == mated[train]) for t in grid]
        t = grid[int(np.argmax(acc_train))]
        accs.append(np.mean((scores[test] >= t) == mated[test]))
    return np.array(accs)


def test_agrees_with_insightface_recipe_on_a_fine_grid():
    """On LFW-sized data with scores on a 0.001 lattice, a 0.0005 grid hits every decision
    interval, the first maximum lies in the strictest best interval as ours does, and every test
    pair falls on the same side of both thresholds: the fold accuracies are identical."""
    rng = np.random.default_rng(3)
    n = 6000
    mated = np.tile(np.repeat([True, False], 300), 10)
    folds = np.repeat(np.arange(1, 11), 600)
    s = np.where(mated, rng.normal(0.6, 0.15, n), rng.normal(0.1, 0.15, n)).round(3)
    ours = cross_validated_accuracy(s, mated, folds)
    grid = np.arange(-1.0, 1.0, 0.0005)[::-1] + 0.00025
    theirs = insightface_accuracy(s, mated, folds, grid)
    np.testing.assert_array_equal(ours.accuracy, theirs)
    assert 0.9 < ours.mean < 1.0 and ours.std == pytest.approx(np.std(ours.accuracy))
