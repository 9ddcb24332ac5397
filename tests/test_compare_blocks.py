"""The block map: every pair once, mated pairs found without a mask, products whose bits do not
depend on the block, and accumulators equal to the engine's functions on all comparisons."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faceaudit.compare.accumulate import (
    CellValues,
    GroupTables,
    PairSummaries,
    PairUnitCountsGE,
    UnitCellHistograms,
    UnitCountsGE,
)
from faceaudit.compare.allpairs import all_pairs_scores, subject_codes
from faceaudit.compare.blocks import (
    BlockPlan,
    block_pair_counts,
    block_scores,
    make_block,
    mated_pairs,
)
from faceaudit.stats.bootstrap import unit_cell_histograms, unit_counts_ge
from faceaudit.stats.distribution import summarize
from faceaudit.stats.groups import unit_error_counts
from faceaudit.stats.scoreset import ScoreSet


def _unit(rng, n, d, dtype=np.float32):
    x = rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(dtype)


def _all_blocks(acc, x, codes, plan):
    out = None
    for b in range(plan.n_blocks):
        p = acc(make_block(x, codes, plan, b))
        out = p if out is None else acc.merge(out, p)
    return out


def test_plan_covers_every_pair_once():
    plan = BlockPlan(1000, 300)
    assert plan.block == 512
    assert sum(plan.n_pairs(b) for b in range(plan.n_blocks)) == 1000 * 999 // 2
    codes = np.arange(1000) // 3
    counts = block_pair_counts(codes, plan)
    assert counts[:, 0].sum() == 333 * 3 + 0  # 333 subjects of 3 samples (3 pairs each), one of 1
    assert counts.sum() == plan.total_pairs


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), r=st.integers(1, 40), c=st.integers(1, 40),
       k=st.integers(1, 6), diagonal=st.booleans())  # fmt: skip
def test_mated_pairs_equal_the_mask(seed, r, c, k, diagonal):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, k, r)
    b = a.copy() if diagonal else rng.integers(0, k, c)
    gi, gj = mated_pairs(a, b, diagonal)
    mask = a[:, None] == b[None, :]
    if diagonal:
        mask &= np.arange(b.size)[None, :] > np.arange(a.size)[:, None]
    wi, wj = np.nonzero(mask)
    assert gi.tolist() == wi.tolist() and gj.tolist() == wj.tolist()


@pytest.mark.parametrize("d", [16, 128])
def test_float32_scores_have_the_same_bits_for_every_block(d):
    rng = np.random.default_rng(d)
    x = _unit(rng, 1300, d)
    blocks = {}
    for block in (256, 512, 768, 2048):
        plan = BlockPlan(1300, block)
        full = np.zeros((1300, 1300), dtype=np.float32)
        for b in range(plan.n_blocks):
            a0, a1, b0, b1 = plan.bounds(b)
            full[a0:a1, b0:b1] = block_scores(x, plan, b)
        blocks[block] = np.triu(full, 1)
    assert all(np.array_equal(blocks[256], v) for v in blocks.values())
    np.testing.assert_allclose(blocks[256], np.triu(x @ x.T, 1), atol=1e-6)


def test_float64_scores_have_the_same_bits_for_every_block():
    rng = np.random.default_rng(5)
    x = _unit(rng, 900, 64)
    blocks = {}
    for block in (256, 512, 1024):
        plan = BlockPlan(900, block, "float64")
        full = np.empty((900, 900))
        for b in range(plan.n_blocks):
            a0, a1, b0, b1 = plan.bounds(b)
            full[a0:a1, b0:b1] = block_scores(x, plan, b)
        blocks[block] = np.triu(full, 1)
    assert all(np.array_equal(blocks[256], v) for v in blocks.values())
    np.testing.assert_allclose(blocks[256], np.triu(x.astype(np.float64) @ x.T, 1), atol=1e-15)


def _case(seed, n, d, n_subjects, zeros=False):
    rng = np.random.default_rng(seed)
    x = _unit(rng, n, d)
    if zeros:  # orthogonal rows: exact zero scores (the float32 bins' special case)
        x[:4] = np.eye(4, d, dtype=np.float32)
    subjects = [f"s{k}" for k in rng.integers(0, n_subjects, n)]
    _, codes = subject_codes(subjects)
    return x, subjects, codes


@pytest.mark.parametrize(("n", "block", "tail", "zeros"), [
    (700, 256, 50, True), (700, 256, 5000, False), (1500, 512, 300, False), (300, 256, 20, True),
])  # fmt: skip
def test_pair_summaries_equal_summarize_of_all_pairs(n, block, tail, zeros):
    x, subjects, codes = _case(n, n, 24, n // 4, zeros)
    ref = all_pairs_scores(x, subjects, dtype=np.float32)
    plan = BlockPlan(n, block)
    s = _all_blocks(PairSummaries(tail=tail), x, codes, plan)
    assert s.mated == summarize(ref.mated, tail=tail)
    assert s.nonmated == summarize(ref.nonmated, tail=tail)
    slow = _all_blocks(PairSummaries(tail=tail, fast=False), x, codes, plan)
    assert slow.nonmated == s.nonmated


def test_tables_equal_the_engine_functions_on_all_comparisons():
    x, subjects, codes = _case(3, 900, 16, 200)
    ref = all_pairs_scores(x, subjects, dtype=np.float32)
    n_units = int(codes.max()) + 1
    plan = BlockPlan(900, 256)
    imp = ScoreSet(ref.nonmated, units=ref.nonmated_subject)
    gen = ScoreSet(ref.mated, units=ref.mated_subject)
    t = np.array([0.1, 0.35, -0.2, float(np.sort(ref.nonmated)[-5])])
    for side, s in (("nonmated", imp), ("mated", gen)):
        got = _all_blocks(UnitCountsGE(side, t, n_units), x, codes, plan)
        np.testing.assert_array_equal(got, unit_counts_ge(s, t, n_units))
    cells = np.union1d(imp.distribution.cells, gen.distribution.cells)
    got = _all_blocks(UnitCellHistograms("nonmated", cells, n_units), x, codes, plan)
    want_h = unit_cell_histograms(imp, cells, n_units).counts.toarray()
    np.testing.assert_array_equal(got.counts.toarray(), want_h)
    group_of_unit = np.arange(n_units) % 3
    neg, pos = _all_blocks(GroupTables(0.3, group_of_unit, 3), x, codes, plan)
    want = unit_error_counts(
        imp, 0.3, n_units, reference_units=ref.nonmated_reference_subject,
        group_of_unit=group_of_unit, n_groups=3,
    )  # fmt: skip
    np.testing.assert_array_equal(neg, want)
    want_pos = unit_error_counts(gen, 0.3, n_units, errors_below=True)[:, 0]
    np.testing.assert_array_equal(pos, want_pos)
    cell = int(imp.distribution.cells[imp.distribution.cells.size // 2])
    v, pu, ru = _all_blocks(CellValues("nonmated", np.array([cell])), x, codes, plan)
    np.testing.assert_array_equal(np.sort(v), np.sort(imp.cell_values(cell)))
    assert v.size == imp.distribution.cell_count(cell)


def test_two_way_tables_count_each_probe_reference_pair():
    x, subjects, codes = _case(4, 600, 8, 90)
    ref = all_pairs_scores(x, subjects, dtype=np.float32)
    n_units = int(codes.max()) + 1
    t = np.array([0.2, float(np.median(ref.nonmated))])
    got = _all_blocks(PairUnitCountsGE(t, n_units), x, codes, BlockPlan(600, 256))
    for j in range(3):
        keep = np.ones(ref.nonmated.size, bool) if j == 0 else ref.nonmated >= t[j - 1]
        want = np.zeros((n_units, n_units), dtype=np.int64)
        np.add.at(want, (ref.nonmated_subject[keep], ref.nonmated_reference_subject[keep]), 1)
        np.testing.assert_array_equal(got[j].toarray(), want)
