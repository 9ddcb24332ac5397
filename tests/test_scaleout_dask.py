"""The same map/merge on a Dask LocalCluster: identical figures, a killed worker's blocks rerun,
and an interrupted run resumes from the block products in its work folder."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

pytest.importorskip("distributed")

from faceaudit.compare.accumulate import PairSummaries  # noqa: E402
from faceaudit.compare.execute import DaskCluster, InProcess  # noqa: E402
from faceaudit.compare.stream import StreamedComparisons  # noqa: E402


def _data(n=1800, d=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, [f"s{k // 4}" for k in rng.permutation(n)]


@pytest.fixture(scope="module")
def cluster():
    ex = DaskCluster(n_workers=2)
    _ = ex.client  # start it once for the module
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def reference():
    x, subjects = _data()
    c = StreamedComparisons(x, subjects, block=256, tail=300, executor=InProcess())
    return x, subjects, c.summary, c.unit_counts_ge("nonmated", [0.2, 0.4])


def test_local_cluster_gives_identical_products(cluster, reference, tmp_path):
    x, subjects, summary, table = reference
    c = StreamedComparisons(x, subjects, block=512, tail=300, executor=cluster, work_dir=tmp_path)
    s = c.summary
    assert s.mated == summary.mated and s.nonmated == summary.nonmated
    np.testing.assert_array_equal(c.unit_counts_ge("nonmated", [0.2, 0.4]), table)
    cell = int(s.nonmated.cells[s.nonmated.cells.size // 3])
    assert np.array_equal(c.cell_values("nonmated", [cell])[cell],
                          StreamedComparisons(x, subjects, block=256).cell_values(
                              "nonmated", [cell])[cell])  # fmt: skip


def test_a_killed_worker_loses_nothing(cluster, reference):
    x, subjects, summary, _ = reference
    client = cluster.client
    pids = list(client.run(os.getpid).values())
    killed = []

    def progress(done, total):
        if not killed and done > total // 4:
            os.kill(pids[0], signal.SIGKILL)  # mid-run: its tasks and held products are lost
            killed.append(pids[0])

    c = StreamedComparisons(x, subjects, block=256, tail=300, executor=cluster, progress=progress)
    s = c.summary
    assert killed
    assert s.mated == summary.mated and s.nonmated == summary.nonmated


def test_ctrl_c_cancels_the_cluster_work_and_the_cluster_stays_usable(cluster, reference):
    """A KeyboardInterrupt on the client mid-run (what Ctrl-C raises) cancels every pending
    block task on the cluster; the next run on the same cluster gives the same figures."""
    import time

    x, subjects, summary, _ = reference
    client = cluster.client

    def interrupt(done, total):
        if 0 < done < total:
            raise KeyboardInterrupt

    c = StreamedComparisons(x, subjects, block=256, tail=300, executor=cluster, progress=interrupt)
    with pytest.raises(KeyboardInterrupt):
        _ = c.summary

    def n_block_tasks(dask_scheduler):
        return sum(1 for k in dask_scheduler.tasks if "faceaudit-block" in str(k))

    deadline = time.monotonic() + 30
    while client.run_on_scheduler(n_block_tasks) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.run_on_scheduler(n_block_tasks) == 0
    again = StreamedComparisons(x, subjects, block=256, tail=300, executor=cluster).summary
    assert again.mated == summary.mated and again.nonmated == summary.nonmated


class _Stop(Exception):
    pass


def test_an_interrupted_run_resumes_from_its_work_folder(reference, tmp_path, monkeypatch):
    x, subjects, summary, _ = reference
    calls = []
    real = PairSummaries.__call__

    def counting(self, blk):
        calls.append(blk.block_id)
        return real(self, blk)

    monkeypatch.setattr(PairSummaries, "__call__", counting)

    def stop_half_way(done, total):
        if done > total // 2:
            raise _Stop

    first = StreamedComparisons(x, subjects, block=256, tail=300, executor=InProcess(1),
                                work_dir=tmp_path, progress=stop_half_way)  # fmt: skip
    with pytest.raises(_Stop):
        _ = first.summary
    done_before = len(calls)
    n_blocks = first.plan.n_blocks
    assert 0 < done_before < n_blocks
    calls.clear()
    again = StreamedComparisons(x, subjects, block=256, tail=300, executor=InProcess(1),
                                work_dir=tmp_path)  # fmt: skip
    s = again.summary
    assert len(calls) == n_blocks - done_before  # only the blocks not yet on disk
    assert s.mated == summary.mated and s.nonmated == summary.nonmated
    calls.clear()
    other = StreamedComparisons(x, subjects, block=256, tail=299, executor=InProcess(1),
                                work_dir=tmp_path)  # fmt: skip
    _ = other.summary  # other settings, other key: nothing reused
    assert len(calls) == n_blocks


def test_audit_figures_are_bit_identical_on_the_cluster(cluster, tmp_path):
    import json

    from faceaudit.audits import GroupBy, audit_embeddings
    from faceaudit.data import EmbeddingSet
    from faceaudit.data.metadata import SubjectMetadata

    x, subjects = _data(n=800, seed=3)
    eset = EmbeddingSet.from_arrays(x, subjects)
    meta = SubjectMetadata.from_mapping({"g": {s: "ab"[int(s[1:]) % 2] for s in set(subjects)}})
    kw = dict(bootstrap=100, seed=7, demographics=GroupBy(meta, "g"))

    def figures(run):
        res = run.to_json()
        return json.dumps({k: res[k] for k in ("verification", "demographics")}, sort_keys=True)

    here = figures(audit_embeddings(eset, block=2048, executor=InProcess(), **kw))
    there = figures(audit_embeddings(eset, block=256, executor=cluster, work_dir=tmp_path, **kw))
    assert here == there


def test_search_on_the_cluster_equals_one_index(cluster, tmp_path):
    from faceaudit.compare.execute import use_executor
    from faceaudit.compare.search import search_gallery
    from faceaudit.data import EmbeddingSet

    rng = np.random.default_rng(4)
    g = rng.normal(size=(3000, 16)).astype(np.float32)
    gallery = EmbeddingSet.from_arrays(g, [f"s{k}" for k in range(3000)])
    p = rng.normal(size=(300, 16)).astype(np.float32)
    probes = EmbeddingSet.from_arrays(p, [f"s{k * 7}" for k in range(300)])
    one = search_gallery(gallery, probes, list_length=10, unit_rows=1024)
    with use_executor(cluster, close=False):
        many = search_gallery(gallery, probes, list_length=10, unit_rows=1024)
    np.testing.assert_array_equal(one.lists.candidates, many.lists.candidates)
    np.testing.assert_array_equal(one.lists.scores, many.lists.scores)
