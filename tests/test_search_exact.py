"""1:N search: faiss vs brute-force numpy, subject-level lists, chunks, approximate recall."""

from __future__ import annotations

import numpy as np
import pytest

from faceaudit.compare.search import enrol_gallery, search_gallery, search_topk, split_enrolment
from faceaudit.data import EmbeddingSet
from faceaudit.errors import InputError
from faceaudit.synth import synthesize


def _unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_topk_matches_brute_force(chunk):
    rng = np.random.default_rng(0)
    g, p = _unit(rng, 300, 16), _unit(rng, 40, 16)
    scores, idx = search_topk(g, p, 10, chunk_size=chunk)
    full = p.astype(np.float64) @ g.T.astype(np.float64)
    want = -np.sort(-full, axis=1)[:, :10]
    np.testing.assert_allclose(scores, want, atol=1e-5)
    # the returned indices carry the returned scores
    np.testing.assert_allclose(np.take_along_axis(full, idx, axis=1), scores, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-7).all()


def test_k_larger_than_gallery_pads():
    rng = np.random.default_rng(1)
    scores, idx = search_topk(_unit(rng, 3, 4), _unit(rng, 2, 4), 5)
    assert (idx[:, 3:] == -1).all() and np.isneginf(scores[:, 3:]).all()
    assert (idx[:, :3] >= 0).all()


def test_progress_reports_every_chunk():
    rng = np.random.default_rng(2)
    calls = []
    search_topk(
        _unit(rng, 50, 8),
        _unit(rng, 25, 8),
        3,
        chunk_size=10,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(0, 25), (10, 25), (20, 25), (25, 25)]


def _brute_subject_lists(gal: EmbeddingSet, probes: EmbeddingSet, L: int):
    """Best template per subject, subjects sorted by that score (ties: any order)."""
    sim = probes.embeddings.astype(np.float64) @ gal.embeddings.T.astype(np.float64)
    names = np.unique(gal.subjects)
    best = np.stack([sim[:, gal.subjects == s].max(axis=1) for s in names], axis=1)
    order = np.argsort(-best, axis=1, kind="stable")[:, :L]
    return names[order], np.take_along_axis(best, order, axis=1)


def test_subject_level_lists_with_all_samples_enrolled():
    d = synthesize(40, 3, dim=16, seed=3, mated_mean=0.5)
    es = EmbeddingSet.from_arrays(d.embeddings, d.subjects, samples=d.samples)
    gal = es.subset(np.arange(0, es.n, 1) % 3 != 2)  # two templates per subject
    prb = es.subset(np.arange(es.n) % 3 == 2)
    found = search_gallery(gal, prb, list_length=8, enrol="all")
    names, best = _brute_subject_lists(gal, prb, 8)
    np.testing.assert_allclose(found.lists.scores, best, atol=1e-5)
    ids = found.lists.candidate_ids()
    for r in range(ids.shape[0]):
        assert len(set(ids[r])) == 8  # one entry per subject
    # where scores are distinct the subjects agree exactly
    distinct = np.abs(np.diff(best, axis=1)).min(axis=1) > 1e-5
    assert (ids[distinct] == names[distinct]).all()
    assert found.gallery_size == 40 and found.n_templates == 80


def test_default_enrolment_is_first_sample_and_named_samples():
    d = synthesize(10, 3, dim=8, seed=4)
    es = EmbeddingSet.from_arrays(d.embeddings, d.subjects, samples=d.samples)
    first = enrol_gallery(es)
    assert first.samples.tolist() == [f"id{i:07d}/0" for i in range(10)] and first.n_unused == 20
    named = enrol_gallery(es, ["id0000001/2", "id0000003/1"])
    assert named.samples.tolist() == ["id0000001/2", "id0000003/1"]
    assert named.subjects.tolist() == ["id0000001", "id0000003"]
    with pytest.raises(InputError, match="sample 'x' named for enrolment is not in the gallery"):
        enrol_gallery(es, ["x"])


def test_split_enrolment_holds_subjects_out():
    d = synthesize(20, 2, dim=8, seed=5)
    es = EmbeddingSet.from_arrays(d.embeddings, d.subjects, samples=d.samples)
    g, p = split_enrolment(es, held_out=0.25, seed=1)
    assert g.n == 15 and p.n == 15 + 5 * 2
    assert len(set(p.subjects.tolist()) - set(g.subjects.tolist())) == 5


@pytest.mark.parametrize("index", ["ivf", "hnsw"])
def test_approximate_index_reports_recall(index):
    d = synthesize(3000, 1, dim=16, seed=6)
    q = synthesize(200, 1, dim=16, seed=7, subject_prefix="q")
    g = EmbeddingSet.from_arrays(d.embeddings, d.subjects, samples=d.samples)
    p = EmbeddingSet.from_arrays(q.embeddings, q.subjects, samples=q.samples)
    found = search_gallery(
        g,
        p,
        list_length=10,
        index=index,
        recall_probes=100,
        index_params={"nprobe": 64} if index == "ivf" else None,
    )
    a = found.approximate
    assert a is not None and a.index == index and a.n_probes_checked == 100
    assert 0.5 <= a.recall_at_l <= 1.0
    # recall is measured against the exact lists
    exact = search_gallery(g, p, list_length=10)
    ids_a, ids_e = found.lists.candidate_ids(), exact.lists.candidate_ids()
    assert np.mean([len(set(x) & set(y)) / 10 for x, y in zip(ids_a, ids_e, strict=True)]) > 0.5


def test_dimension_mismatch_is_an_input_error():
    rng = np.random.default_rng(8)
    g = EmbeddingSet.from_arrays(_unit(rng, 5, 8), list("abcde"))
    p = EmbeddingSet.from_arrays(_unit(rng, 2, 4), ["a", "z"], path="p.npz")
    with pytest.raises(InputError, match="p.npz: the probe embeddings have 4 dimensions"):
        search_gallery(g, p)
