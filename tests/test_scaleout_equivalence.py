"""``errors --embeddings`` (streamed) equals today's ``all_pairs_scores`` + ``audit_scores`` path on
the golden fixtures' embeddings, and its figures do not depend on the block size or threads."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from faceaudit.audits import GroupBy, audit_embeddings, audit_scores
from faceaudit.compare.allpairs import all_pairs_scores
from faceaudit.compare.execute import InProcess
from faceaudit.data import EmbeddingSet
from faceaudit.io.embeddings import read_embeddings
from faceaudit.io.metadata import read_metadata

GOLDEN = Path(__file__).resolve().parent / "golden"
_spec = importlib.util.spec_from_file_location("golden_generate", GOLDEN / "generate.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


def _joined(*names: str) -> EmbeddingSet:
    sets = [read_embeddings(GOLDEN / "inputs" / n) for n in names]
    return EmbeddingSet.from_arrays(
        np.concatenate([s.embeddings for s in sets]), np.concatenate([s.subjects for s in sets])
    )


@pytest.fixture(scope="module")
def ident_set() -> EmbeddingSet:
    return _joined("gallery.npz", "probes.npz")  # 400 subjects x 2 samples: 319,600 pairs


@pytest.fixture(scope="module")
def groups() -> GroupBy:
    return GroupBy(read_metadata(GOLDEN / "inputs" / "groups.csv"), "group")


def _figures(run) -> dict:
    res = golden.normalise(run.to_json())
    return {k: v for k, v in res.items() if k in ("verification", "demographics")}


def _old(eset, **kw):
    scores = all_pairs_scores(eset.embeddings, eset.subjects)
    return audit_scores(scores, **kw)


def test_float64_equals_all_pairs_scores_path(ident_set, groups):
    kw = dict(bootstrap=200, thresholds=[0.3, 0.55], demographics=groups)
    want = _figures(_old(ident_set, **kw))
    got = _figures(audit_embeddings(ident_set, precision="float64", block=256, **kw))
    assert golden.diff(want, got) == []


def test_float32_counts_equal_and_floats_agree_at_reported_precision(ident_set, groups):
    kw = dict(bootstrap=200, demographics=groups)
    want = _figures(_old(ident_set, **kw))
    got = _figures(audit_embeddings(ident_set, **kw))
    old_tol = golden.FLOAT_RTOL, golden.FLOAT_ATOL
    try:  # float32 products: within d x 2^-24 of float64 ones; counts identical here
        golden.FLOAT_RTOL, golden.FLOAT_ATOL = 1e-5, 1e-5
        assert golden.diff(want, got, limit=1000) == []
    finally:
        golden.FLOAT_RTOL, golden.FLOAT_ATOL = old_tol


@pytest.mark.slow
def test_large_set_beyond_the_exact_curve_limit():
    eset = _joined("scale_gallery.npz", "scale_probes.npz")  # 3300 samples: 5.4 million pairs
    want = _figures(_old(eset, bootstrap=100))
    got = _figures(audit_embeddings(eset, precision="float64", block=1024, bootstrap=100))
    assert golden.diff(want, got) == []


def test_block_size_and_threads_give_bit_identical_figures(ident_set, groups):
    runs = [
        _figures(
            audit_embeddings(
                ident_set, bootstrap=100, demographics=groups, block=b, executor=InProcess(t)
            )
        )  # fmt: skip
        for b, t in ((256, 2), (512, 1), (4096, 2))
    ]
    first = json.dumps(runs[0], sort_keys=True)
    assert all(json.dumps(r, sort_keys=True) == first for r in runs[1:])
