"""The mergeable summary: grid ordering, exact tails, merge laws."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from faceaudit.stats.distribution import ScoreDistribution, summarize
from faceaudit.stats.grid import cell_lower_edge, cell_upper_edge, cells_of, order_keys

finite = st.floats(allow_nan=False, allow_infinity=True, width=64)
score_arrays = arrays(np.float64, st.integers(0, 300), elements=finite)


def test_order_keys_preserve_order_and_fold_negative_zero():
    x = np.array([-np.inf, -3.5, -1e-300, -0.0, 0.0, 5e-324, 0.25, 1.0, np.inf])
    k = order_keys(x)
    assert all(int(a) <= int(b) for a, b in zip(k[:-1], k[1:], strict=True))
    assert k[3] == k[4]  # -0.0 and 0.0 are the same score


@given(arrays(np.float64, st.integers(1, 200), elements=finite))
def test_cell_edges_bracket_values(x):
    c = cells_of(x)
    assert np.all(cell_lower_edge(c) <= x)
    assert np.all(x <= cell_upper_edge(c))


@given(score_arrays, st.integers(1, 40))
def test_summary_counts_and_tails_are_exact(x, tail):
    d = summarize(x, tail=tail, chunk_size=17)
    assert d.n == x.size
    s = np.sort(x)
    np.testing.assert_array_equal(d.low, s[: min(tail, s.size)])
    np.testing.assert_array_equal(d.high, s[s.size - min(tail, s.size) :])
    np.testing.assert_array_equal(d.dense(), np.bincount(cells_of(x), minlength=d.dense().size))


@settings(max_examples=60)
@given(score_arrays, score_arrays, score_arrays)
def test_merge_is_exact_associative_and_commutative(a, b, c):
    sa, sb, sc = (summarize(v, tail=8) for v in (a, b, c))
    whole = summarize(np.concatenate([a, b, c]), tail=8)
    assert (sa + sb) + sc == whole
    assert sa + (sb + sc) == whole
    assert sb + sa == summarize(np.concatenate([b, a]), tail=8)


@given(score_arrays)
def test_order_of_input_does_not_matter(x):
    rng = np.random.default_rng(0)
    assert summarize(x, tail=5) == summarize(rng.permutation(x), tail=5, chunk_size=3)


def test_empty_summary_is_the_identity():
    x = np.array([0.1, 0.2, 0.2])
    d = summarize(x)
    assert d + ScoreDistribution.empty() == d
    assert ScoreDistribution.empty().n == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_memmap_input_is_summarised_in_chunks(tmp_path, dtype):
    x = np.random.default_rng(1).normal(size=10_000).astype(dtype)
    np.save(tmp_path / "s.npy", x)
    m = np.load(tmp_path / "s.npy", mmap_mode="r")
    assert summarize(m, chunk_size=999) == summarize(x.astype(np.float64))


def test_exact_cell_values_only_when_tails_cover_the_cell():
    x = np.array([0.10, 0.1001, 0.5, 0.9, 0.9])
    d = summarize(x, tail=2)
    top = cells_of(np.array([0.9]))[0]
    np.testing.assert_array_equal(d.exact_cell_values(top), [0.9, 0.9])
    mid = cells_of(np.array([0.5]))[0]
    assert d.exact_cell_values(mid) is None  # 0.5 is in neither 2-value tail
