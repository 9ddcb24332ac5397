"""1:N search of a gallery in shards equals one index: same scores, same candidates, same ties,
same FPIR/FNIR; a gallery written as shards is searched from disk."""

from __future__ import annotations

import json

import numpy as np
import pytest

from faceaudit.audits import audit_search
from faceaudit.compare.search import search_gallery, search_topk
from faceaudit.compare.shards import (
    Templates,
    knn_exact,
    read_gallery_shards,
    sharded_topk,
    write_gallery_shards,
)
from faceaudit.data import EmbeddingSet
from faceaudit.io.embeddings import write_embeddings


def _unit(rng, n, d):
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("seed", range(6))
def test_ties_follow_the_rule_score_then_lower_row(seed):
    import faiss

    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(30, 3000)), int(rng.choice([4, 16, 64]))
    base = _unit(rng, max(2, n // 30), d)
    g = base[rng.integers(0, base.shape[0], n)]  # many exact duplicates: heavy ties
    p = _unit(rng, int(rng.choice([3, 40, 300])), d)
    k = int(rng.integers(1, 40))
    dd, ii = knn_exact(p, g, k)
    full_d, full_i = faiss.knn(p, g, n, metric=faiss.METRIC_INNER_PRODUCT)
    full_d = (p.astype(np.float64) @ g.T.astype(np.float64))[np.arange(len(p))[:, None], full_i]
    full_d = full_d.astype(np.float32)  # the rescored bits: float64 sums rounded once
    order = np.lexsort((full_i, -full_d), axis=1)[:, : min(k, n)]
    np.testing.assert_array_equal(dd, np.take_along_axis(full_d, order, 1))
    np.testing.assert_array_equal(ii, np.take_along_axis(full_i, order, 1))


def test_scores_do_not_depend_on_faiss_threads():
    import faiss

    rng = np.random.default_rng(3)
    g, p = _unit(rng, 5000, 128), _unit(rng, 600, 128)
    before = faiss.omp_get_max_threads()
    try:
        runs = []
        for threads in (1, 2, 3):
            faiss.omp_set_num_threads(threads)
            runs.append(knn_exact(p, g, 20))
    finally:
        faiss.omp_set_num_threads(before)
    for d, i in runs[1:]:
        np.testing.assert_array_equal(d, runs[0][0])
        np.testing.assert_array_equal(i, runs[0][1])
    exact = (p.astype(np.float64) @ g.T.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(runs[0][0], np.take_along_axis(exact, runs[0][1], 1))


def test_units_merge_exactly_ties_included():
    import faiss

    rng = np.random.default_rng(1)
    base = _unit(rng, 900, 32)
    g = np.concatenate([base, base[:300], _unit(rng, 4000, 32)])  # ties across unit borders
    p = _unit(rng, 700, 32)
    d, i = faiss.knn(p, g, g.shape[0], metric=faiss.METRIC_INNER_PRODUCT)
    rule = np.lexsort((i, -d), axis=1)[:, :25]
    for unit in (1024, 2048, 4096, None):
        got = search_topk(g, p, 25, chunk_size=256, unit_rows=unit)
        np.testing.assert_array_equal(got[1], np.take_along_axis(i, rule, 1))
        again = sharded_topk(Templates(array=g), p, 25, chunk_size=256, unit_rows=unit)
        np.testing.assert_array_equal(again[0], got[0])
        np.testing.assert_array_equal(again[1], got[1])


def _sets(rng, n_gallery=5000, d=32):
    x = _unit(rng, n_gallery, d)
    subjects = np.array([f"s{k}" for k in range(n_gallery)])
    gallery = EmbeddingSet.from_arrays(x, subjects, samples=[f"g{k}" for k in range(n_gallery)])
    mated = x[:400] + 0.6 * _unit(rng, 400, d)
    probes = np.concatenate([mated / np.linalg.norm(mated, axis=1, keepdims=True),
                             _unit(rng, 400, d)])  # fmt: skip
    psub = np.concatenate([subjects[:400], [f"n{k}" for k in range(400)]])
    return gallery, EmbeddingSet.from_arrays(probes, psub)


def test_sharded_gallery_from_disk_equals_one_index(tmp_path):
    rng = np.random.default_rng(2)
    gallery, probes = _sets(rng)
    # the gallery as three Parquet files of uneven size, turned into shards on disk
    files = []
    for k, (a, b) in enumerate(((0, 1700), (1700, 1703), (1703, 5000))):
        f = tmp_path / f"part{k}.parquet"
        write_embeddings(f, gallery.embeddings[a:b], gallery.subjects[a:b],
                         samples=gallery.samples[a:b])  # fmt: skip
        files.append(f)
    sharded = write_gallery_shards(files, tmp_path / "shards")
    again = read_gallery_shards(tmp_path / "shards")
    # the single index holds the same vectors (the reader re-normalises what it reads)
    from faceaudit.io.embeddings import read_embeddings

    parts = [read_embeddings(f) for f in files]
    gallery = EmbeddingSet(
        np.concatenate([q.embeddings for q in parts]),
        np.concatenate([q.subjects for q in parts]),
        np.concatenate([q.samples for q in parts]),
    )
    assert again.n == 5000 and len(again.shards.files) == 3
    one = search_gallery(gallery, probes, list_length=20, unit_rows=1024)
    many = search_gallery(sharded, probes, list_length=20, unit_rows=1024)
    np.testing.assert_array_equal(one.lists.candidates, many.lists.candidates)
    np.testing.assert_array_equal(one.lists.scores, many.lists.scores)
    kw = dict(bootstrap=100, fpir_targets=[0.1, 0.01])
    a = audit_search(gallery, probes, **kw).to_json()["identification"]
    b = audit_search(again, probes, **kw).to_json()["identification"]
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_sharded_enrolment_first_sample(tmp_path):
    rng = np.random.default_rng(3)
    x = _unit(rng, 3000, 16)
    subjects = np.array([f"s{k // 3}" for k in range(3000)])
    gallery = EmbeddingSet.from_arrays(x, subjects)
    probes = EmbeddingSet.from_arrays(_unit(rng, 200, 16), [f"s{k}" for k in range(200)])
    sharded = write_gallery_shards(gallery, tmp_path / "g", shards=4)
    one = search_gallery(gallery, probes, list_length=10, unit_rows=1024)
    many = search_gallery(sharded, probes, list_length=10, unit_rows=1024)
    assert one.gallery_size == many.gallery_size == 1000
    np.testing.assert_array_equal(one.lists.candidates, many.lists.candidates)
    np.testing.assert_array_equal(one.lists.scores, many.lists.scores)
