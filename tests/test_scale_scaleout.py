"""``scale`` at evaluation scale: its collection is a map/reduce over (search block x gallery
block) jobs, so in-process, a 2-worker LocalCluster, any block sizes and a gallery in shards on
disk give the same results.json figures; an interrupted run resumes from its block summaries."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from faceaudit.audits import audit_scale
from faceaudit.compare.execute import InProcess, use_executor
from faceaudit.compare.shards import write_gallery_shards
from faceaudit.io.embeddings import read_embeddings

GOLDEN = Path(__file__).resolve().parent / "golden"
_spec = importlib.util.spec_from_file_location("golden_generate", GOLDEN / "generate.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

#: The scale golden's inputs: 3,150 templates (d = 32), 150 non-mated and 150 mated searches.
KW = dict(threshold=0.45, validation_fit_size=300, bootstrap=100, seed=3)


@pytest.fixture(scope="module")
def inputs():
    return (
        read_embeddings(GOLDEN / "inputs" / "scale_gallery.npz"),
        read_embeddings(GOLDEN / "inputs" / "scale_probes.npz"),
    )


def _figures(run) -> str:
    res = golden.normalise(json.loads(json.dumps(run.to_json())))
    res = {k: v for k, v in res.items() if k in ("scale", "impact")}
    return json.dumps(res, sort_keys=True)


@pytest.fixture(scope="module")
def reference(inputs):
    with use_executor(InProcess(1)):
        return _figures(audit_scale(*inputs, **KW))


@pytest.mark.parametrize(
    "blocks",
    [
        dict(probe_block=256, gallery_block=512, block_elements=1),  # 256-column chunks
        dict(probe_block=512, gallery_block=1024, block_elements=300_000),
    ],
)
def test_any_block_size_and_thread_count_gives_the_same_figures(inputs, reference, blocks):
    with use_executor(InProcess(2)):
        assert _figures(audit_scale(*inputs, **KW, **blocks)) == reference


def test_a_gallery_in_shards_on_disk_gives_the_same_figures(inputs, reference, tmp_path):
    """Through the command: ``scale --gallery FOLDER`` reads the shards block by block."""
    shards = write_gallery_shards(inputs[0], tmp_path / "shards", rows_per_shard=1000)
    assert len(shards.shards.files) == 4
    out = tmp_path / "results.json"
    golden.run(["scale", "--gallery", str(tmp_path / "shards"), "--probes",
                str(GOLDEN / "inputs" / "scale_probes.npz"), "--threshold", "0.45",
                "--validation-fit-size", "300", "--bootstrap", "100", "--seed", "3",
                "--gallery-block", "768", "--probe-block", "256", "--json", str(out),
                "--quiet"])  # fmt: skip
    res = golden.normalise(json.loads(out.read_text()))
    assert json.dumps({k: res[k] for k in ("scale", "impact")}, sort_keys=True) == reference


def test_an_interrupted_run_resumes_from_its_block_summaries(inputs, reference, tmp_path):
    blocks = dict(probe_block=256, gallery_block=512, work_dir=tmp_path / "work")
    seen = []

    def stop(done, total):
        seen.append(done)
        if len(seen) == 5:
            raise KeyboardInterrupt

    from faceaudit.analyses.scale import scale

    with use_executor(InProcess(1)), pytest.raises(KeyboardInterrupt):
        scale(*inputs, threshold=0.45, validation_fit_size=300, bootstrap=100, seed=3,
              progress=stop, **blocks)  # fmt: skip
    kept = list((tmp_path / "work").rglob("*.pkl"))
    assert len(kept) == 4  # the finished jobs' summaries (the 5th call is the 4th job done)
    with use_executor(InProcess(1)):
        assert _figures(audit_scale(*inputs, **KW, **blocks)) == reference


def test_a_local_cluster_of_two_workers_gives_the_same_figures(inputs, reference, tmp_path):
    pytest.importorskip("distributed")
    from faceaudit.compare.execute import DaskCluster

    gallery, probes = inputs
    shards = write_gallery_shards(gallery, tmp_path / "shards", rows_per_shard=1600)
    with use_executor(DaskCluster(n_workers=2)):
        run = audit_scale(gallery, probes, **KW, probe_block=256, gallery_block=1024)
        assert _figures(run) == reference
        run = audit_scale(shards, probes, **KW, gallery_block=2048)  # workers read the shards
        assert _figures(run) == reference


def test_the_map_equals_a_brute_force_pass():
    """Every per-search figure equals numpy on the whole score matrix (tile-grid products)."""
    from faceaudit.analyses._scale_collect import collect, propensity
    from faceaudit.compare.blocks import cross_scores

    rng = np.random.default_rng(1)

    def unit(n, d=16):
        x = rng.standard_normal((n, d)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    g, nm, m = unit(1100), unit(300), unit(40)
    tsub, msub = np.arange(1100), rng.integers(0, 1100, size=40)
    bounds = np.array([100, 300, 1000, 1100])
    kw = dict(threshold=0.5, pool_size=700, val_templates=300, val_pool_size=90)
    with use_executor(InProcess(2)):
        d = collect(g, bounds, tsub, nm, m, msub, probe_block=256, gallery_block=256,
                    block_elements=3000, **kw)  # fmt: skip
    s = cross_scores(nm, g)
    for j, b in enumerate(bounds):
        assert np.array_equal(d.nonmated_prefix_max[:, j], s[:, :b].max(1))
    assert np.array_equal(d.nonmated_propensity, propensity(s))
    assert np.array_equal(d.val_propensity, propensity(s[:, :300]))
    assert np.array_equal(d.count_ge_threshold_by_probe, (s >= np.float32(0.5)).sum(1))
    top = np.sort(s.ravel())[::-1]
    assert np.array_equal(d.pool_vals, top[: d.pool_vals.size].astype(float))
    assert d.pool_vals.size >= 700 and d.pool_vals[-1] == top[699]
    assert np.array_equal(s[d.pool_probe, d.pool_tmpl].astype(float), d.pool_vals)
    sm = cross_scores(m, g)
    mask = tsub[None, :] == msub[:, None]
    assert np.array_equal(d.mated_mate_score, np.where(mask, sm, -np.inf).max(1).astype(float))
    sm[mask] = -np.inf
    assert np.array_equal(d.mated_propensity, propensity(sm))
    assert np.array_equal(d.mated_prefix_max[:, -1], sm.max(1).astype(float))
