"""All-vs-all comparison in blocks: equal to the brute-force double loop, whatever the block."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faceaudit.compare.allpairs import all_pairs_scores, pair_counts
from faceaudit.compare.blocks import BlockPlan
from faceaudit.errors import InputError


def _unit(rng, n, d):
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _brute(x, subjects):
    """Every pair i < j by a plain double loop: (score, probe subject, reference subject)."""
    gen, imp = [], []
    for i in range(len(subjects)):
        for j in range(i + 1, len(subjects)):
            s = float(np.dot(x[i].astype(np.float64), x[j].astype(np.float64)))
            if subjects[i] == subjects[j]:
                gen.append((s, subjects[i]))
            else:
                imp.append((s, subjects[i], subjects[j]))
    return gen, imp


def test_hand_example():
    e = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [1.0, 0.0]])
    s = all_pairs_scores(e, ["b", "b", "a", "a"])
    # pairs in order: (0,1) b-b 0.6, (0,2) b-a 0, (0,3) b-a 1, (1,2) b-a 0.8, (1,3) b-a 0.6,
    # (2,3) a-a 0
    assert s.subjects == ["a", "b"]
    np.testing.assert_allclose(s.mated, [0.6, 0.0])
    assert s.mated_subject.tolist() == [1, 0]
    np.testing.assert_allclose(s.nonmated, [0.0, 1.0, 0.8, 0.6])
    assert s.nonmated_subject.tolist() == [1, 1, 1, 1]  # the earlier sample: always "b" here
    assert s.nonmated_reference_subject.tolist() == [0, 0, 0, 0]
    assert s.mated.dtype == np.float64 and s.mated_subject.dtype == np.int32
    assert s.orientation == "similarity" and s.mated_fta == 0 and s.nonmated_fta == 0


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(2, 40),
    n_subjects=st.integers(1, 8),
    block=st.integers(1, 45),
)
def test_equals_brute_force_for_any_block(seed, n, n_subjects, block):
    rng = np.random.default_rng(seed)
    x = _unit(rng, n, 5).astype(np.float32)
    subjects = [f"s{k}" for k in rng.integers(0, n_subjects, n)]
    gen, imp = _brute(x, subjects)
    if not gen or not imp:  # all_pairs_scores refuses a set without one or the other
        return
    out = all_pairs_scores(x.astype(np.float64), subjects, block=block)
    names = out.subjects
    got_gen = [(names[c], s) for s, c in zip(out.mated, out.mated_subject, strict=True)]
    got_imp = [
        (names[p], names[r], s)
        for s, p, r in zip(
            out.nonmated, out.nonmated_subject, out.nonmated_reference_subject, strict=True
        )
    ]
    want_gen = sorted((a, s) for s, a in gen)
    want_imp = sorted((a, b, s) for s, a, b in imp)
    got_gen, got_imp = sorted(got_gen), sorted(got_imp)
    assert [g[:-1] for g in got_gen] == [w[:-1] for w in want_gen]
    assert [g[:-1] for g in got_imp] == [w[:-1] for w in want_imp]
    np.testing.assert_allclose([g[-1] for g in got_gen], [w[-1] for w in want_gen], atol=1e-12)
    np.testing.assert_allclose([g[-1] for g in got_imp], [w[-1] for w in want_imp], atol=1e-12)
    assert (len(gen), len(imp)) == pair_counts(subjects)


def test_block_size_does_not_change_the_multiset_and_memory_is_per_block():
    rng = np.random.default_rng(1)
    x = _unit(rng, 300, 16)
    subjects = [f"p{k // 7}" for k in range(300)]
    ref = all_pairs_scores(x, subjects, block=1000)
    for block in (1, 17, 64, 299):
        s = all_pairs_scores(x, subjects, block=block)
        # BLAS may sum the d products in another order for another block shape: last-bit only
        np.testing.assert_allclose(np.sort(s.mated), np.sort(ref.mated), rtol=0, atol=1e-14)
        np.testing.assert_allclose(np.sort(s.nonmated), np.sort(ref.nonmated), rtol=0, atol=1e-14)
        again = all_pairs_scores(x, subjects, block=block)  # and a given block size is repeatable
        np.testing.assert_array_equal(again.nonmated, s.nonmated)
    plan = BlockPlan(300, 64)  # blocks are rounded up to 256 rows: at most 256 x 256 pairs
    assert max(plan.n_pairs(b) for b in range(plan.n_blocks)) <= 256 * 256


def test_float32_inner_products_are_close():
    rng = np.random.default_rng(2)
    x = _unit(rng, 50, 128).astype(np.float32)
    subjects = [str(k // 5) for k in range(50)]
    a = all_pairs_scores(x, subjects)
    b = all_pairs_scores(x, subjects, dtype=np.float32)
    np.testing.assert_allclose(a.nonmated, b.nonmated, atol=1e-6)


def test_failures_to_acquire_are_counted_as_lost_comparisons():
    rng = np.random.default_rng(3)
    subjects = ["a", "a", "a", "b", "b", "c"]
    x = _unit(rng, 6, 4)
    failed = ["a", "b", "d"]  # one more image of a and of b; d had its only image fail
    s = all_pairs_scores(x, subjects, failed_subjects=failed)
    # all images: a 4, b 3, c 1, d 1 = 9 -> mated 6 + 3 = 9, non-mated 36 - 9 = 27
    # scored:     a 3, b 2, c 1      = 6 -> mated 3 + 1 = 4, non-mated 15 - 4 = 11
    assert (s.mated.size, s.nonmated.size) == (4, 11)
    assert (s.mated_fta, s.nonmated_fta) == (9 - 4, 27 - 11)
    assert comb(9, 2) == 36


def test_pair_counts():
    assert pair_counts(["a", "a", "b"]) == (1, 2)
    assert pair_counts(["x"] * 10) == (45, 0)
    assert pair_counts(list("abcd")) == (0, 6)


@pytest.mark.parametrize(
    ("emb", "subjects", "message"),
    [
        (np.eye(3), ["a", "a"], "3 subject ids|2 subject ids"),
        (np.eye(3) * 2, ["a", "a", "b"], "L2-normalise"),
        (np.array([[1.0, 0], [np.nan, 0], [0, 1]]), ["a", "a", "b"], "L2-normalise"),
        (np.eye(3), ["a", "b", "c"], "no mated pair"),
        (np.eye(3), ["a", "a", "a"], "no non-mated pair"),
        (np.eye(3, dtype=int), ["a", "a", "b"], "floating point"),
    ],
)
def test_bad_input(emb, subjects, message):
    with pytest.raises(InputError, match=message):
        all_pairs_scores(emb, subjects)


def test_result_is_the_io_scores_type():
    from faceaudit.data import ComparisonScores

    x = np.eye(3)[[0, 0, 1, 2]]
    assert isinstance(all_pairs_scores(x, ["a", "a", "b", "b"]), ComparisonScores)
