"""Synthetic embeddings: the documented parameterisation hits its targets; seeded; labelled."""

from __future__ import annotations

import numpy as np
import pytest

from faceaudit.io.embeddings import read_embeddings
from faceaudit.synth import GroupSpec, SynthParams, split_gallery_probes, synthesize


def _scores(data):
    e, s = data.embeddings, data.subjects
    sim = e @ e.T
    iu = np.triu_indices(len(s), 1)
    same = (s[:, None] == s[None, :])[iu]
    return sim[iu][same], sim[iu][~same]


def test_rows_are_unit_vectors_and_ids_are_consistent():
    d = synthesize(30, 3, dim=16, seed=4)
    assert d.embeddings.shape == (90, 16) and d.embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(d.embeddings, axis=1), 1.0, atol=1e-5)
    assert d.subjects[0] == "id0000000" and d.samples[4] == "id0000001/1"
    assert len(set(d.samples.tolist())) == 90
    assert d.synthetic and d.metadata()["synthetic"] is True


def test_same_seed_same_data_other_seed_other_data():
    a = synthesize(20, 2, dim=8, seed=1, quality_spread=0.3, groups=["A:1:0.2", "B:2"])
    b = synthesize(20, 2, dim=8, seed=1, quality_spread=0.3, groups=["A:1:0.2", "B:2"])
    c = synthesize(20, 2, dim=8, seed=2, quality_spread=0.3, groups=["A:1:0.2", "B:2"])
    np.testing.assert_array_equal(a.embeddings, b.embeddings)
    np.testing.assert_array_equal(a.groups, b.groups)
    assert not np.array_equal(a.embeddings, c.embeddings)


@pytest.mark.parametrize("mated_mean", [0.4, 0.7])
def test_mated_mean_and_default_nonmated_sd(mated_mean):
    d = synthesize(1500, 2, dim=64, mated_mean=mated_mean, seed=3)
    gen, imp = _scores(d)
    exp = d.params.expected()
    assert abs(gen.mean() - mated_mean) < 0.01
    assert abs(imp.mean()) < 0.005
    assert exp["nonmated_std"] == pytest.approx(1 / 8, rel=1e-9)  # 1/sqrt(dim) by default
    assert imp.std() == pytest.approx(exp["nonmated_std"], rel=0.03)


def test_nonmated_sd_target_is_reached():
    d = synthesize(1500, 2, dim=128, mated_mean=0.6, nonmated_std=0.2, seed=5)
    _, imp = _scores(d)
    assert d.params.k < 128
    assert imp.std() == pytest.approx(0.2, rel=0.05)


def test_nonmated_sd_below_the_floor_is_refused():
    with pytest.raises(ValueError, match="1/sqrt"):
        SynthParams(dim=64, nonmated_std=0.05)


def test_group_cohesion_raises_within_group_nonmated_scores():
    d = synthesize(
        1200, 2, dim=64, mated_mean=0.6, seed=6, groups=[GroupSpec("A", 1, 0.3), "B:1:0:0.8"]
    )
    e, s, g = d.embeddings, d.subjects, d.groups
    sim = e @ e.T
    other = s[:, None] != s[None, :]
    same = (s[:, None] == s[None, :]) & ~np.eye(len(s), dtype=bool)
    aa = sim[other & (g[:, None] == "A") & (g[None, :] == "A")].mean()
    bb = sim[other & (g[:, None] == "B") & (g[None, :] == "B")].mean()
    ab = sim[other & (g[:, None] == "A") & (g[None, :] == "B")].mean()
    assert aa == pytest.approx(0.3 * 0.6, abs=0.02)  # cohesion x mated mean
    assert abs(bb) < 0.01 and abs(ab) < 0.01
    gen_b = sim[same & (g[:, None] == "B")].mean()
    assert gen_b == pytest.approx(0.8, abs=0.01)  # the group's own mated mean
    assert (g == "A").sum() == (g == "B").sum() == 1200  # equal shares, exact counts


def test_group_spec_parse_and_errors():
    g = GroupSpec.parse("young:2:0.1:0.65")
    assert (g.name, g.share, g.cohesion, g.mated_mean, g.quality_spread) == (
        "young",
        2.0,
        0.1,
        0.65,
        None,
    )
    for bad in ["", ":1", "A:x", "A:1:1.5", "A:0", "A:1:0:1.2", "A:1:0:0.5:0.1:9"]:
        with pytest.raises(ValueError):
            GroupSpec.parse(bad)


def test_split_gallery_probes_and_roundtrip(tmp_path):
    d = synthesize(50, 3, dim=8, seed=7)
    gal, prb = split_gallery_probes(d, held_out_subjects=10, seed=1)
    assert len(gal.subjects) == 40 and len(set(gal.subjects.tolist())) == 40
    held = set(prb.subjects.tolist()) - set(gal.subjects.tolist())
    assert len(held) == 10 and prb.embeddings.shape[0] == 40 * 2 + 10 * 3
    for name in ("g.npz", "g.parquet"):
        gal.save(tmp_path / name)
        back = read_embeddings(tmp_path / name)
        np.testing.assert_allclose(back.embeddings, gal.embeddings, atol=1e-6)
        assert back.subjects.tolist() == gal.subjects.tolist()
        assert back.samples.tolist() == gal.samples.tolist()
        assert back.synthetic and back.metadata["params"]["dim"] == 8
