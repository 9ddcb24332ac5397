"""The embedding pipeline on real faces (ORL, ../shared/data): accuracy, determinism, the cache.

ORL is embedded once per model per session (2 worker processes, a temporary cache); the other tests
reuse that run. Skipped with a clear reason when ../shared/data is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceaudit.compare.allpairs import all_pairs_scores
from faceaudit.embedding import embed_images
from faceaudit.io.images import discover_images

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MANIFEST = DATA / "orl_faces.csv"
pytestmark = pytest.mark.skipif(
    not MANIFEST.is_file(), reason=f"ORL manifest not found at {MANIFEST} (../shared/data absent)"
)

MODELS = ["dlib-resnet", "facenet"]


def exact_eer(mated: np.ndarray, nonmated: np.ndarray) -> float:
    """EER by exhaustive search over observed thresholds (match iff score >= t).

    At every candidate threshold t: FMR(t) = #non-mated >= t / n_nonmated and
    FNMR(t) = #mated < t / n_mated; the EER is (FMR + FNMR) / 2 where |FMR - FNMR| is smallest.
    """
    scores = np.concatenate([mated, nonmated])
    t = np.unique(scores)
    g = np.sort(mated)
    i = np.sort(nonmated)
    fnmr = np.searchsorted(g, t, side="left") / g.size
    fmr = (i.size - np.searchsorted(i, t, side="left")) / i.size
    k = int(np.argmin(np.abs(fmr - fnmr)))
    return float((fmr[k] + fnmr[k]) / 2)


def test_exact_eer_by_hand_and_against_sklearn():
    from sklearn.metrics import roc_curve

    # mated 0.9 0.8 0.3, non-mated 0.5 0.2 0.1: at t=0.5 FMR 1/3, FNMR 1/3
    assert exact_eer(np.array([0.9, 0.8, 0.3]), np.array([0.5, 0.2, 0.1])) == pytest.approx(1 / 3)
    rng = np.random.default_rng(0)
    g, i = rng.normal(2, 1, 500), rng.normal(0, 1, 3000)
    fpr, tpr, _ = roc_curve(np.r_[np.ones(500), np.zeros(3000)], np.r_[g, i])
    k = np.argmin(np.abs(fpr - (1 - tpr)))
    assert exact_eer(g, i) == pytest.approx((fpr[k] + 1 - tpr[k]) / 2, abs=1e-3)


@pytest.fixture(scope="session")
def orl_runs(tmp_path_factory):
    """Each built-in model's embedding of all 400 ORL images: 2 workers, fresh cache."""
    images = discover_images(MANIFEST)
    cache = tmp_path_factory.mktemp("orl-cache")
    runs = {m: embed_images(images, model=m, workers=2, cache_dir=cache) for m in MODELS}
    return images, cache, runs


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_each_model_separates_mated_from_nonmated_on_orl(orl_runs, model):
    _, _, runs = orl_runs
    res = runs[model]
    assert res.n_images == 400
    assert res.embeddings.shape == (400 - res.n_failed, res.model.dim)
    assert set(res.failure_counts()) <= {"no_face"}
    np.testing.assert_allclose(np.linalg.norm(res.embeddings, axis=1), 1.0, atol=1e-5)
    scores = all_pairs_scores(res.embeddings, res.subjects)
    eer = exact_eer(scores.mated, scores.nonmated)
    # Measured here: dlib-resnet EER 0.30% with 12 no_face (3.0%, as ../shared/data/README says
    # for HOG with one upsampling); facenet EER 0.44% with no failure. A subject bootstrap of
    # ORL (40 subjects resampled, 300 replicates) puts the 99th percentile of the EER at 0.69%
    # (dlib) and 0.84% (facenet): 1.5% is about twice that sampling spread, so version drift
    # passes, while a pipeline that loses alignment or normalisation does not (random embeddings
    # give ~50%; facenet on unaligned MTCNN box crops gave 1.2% and prewhitening 0.6%).
    assert eer < 0.015, f"{model}: EER {eer:.4f}"
    # FTA: dlib's HOG misses some tilted ORL faces (12/400 here): allow twice that.
    max_fta = {"dlib-resnet": 24, "facenet": 8}[model]
    assert res.n_failed <= max_fta, res.failure_counts()
    assert (
        scores.mated.size + scores.nonmated.size == (400 - res.n_failed) * (399 - res.n_failed) // 2
    )


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_deterministic_across_runs_and_worker_counts(orl_runs, model):
    images, _, runs = orl_runs
    full = runs[model]
    subset = images.subset(range(0, 400, 17))  # 24 images across the subjects, no cache
    one = embed_images(subset, model=model, workers=1, use_cache=False)
    assert one.stats.n_cached == 0
    rows = {s: k for k, s in enumerate(full.samples)}
    assert list(one.samples) == [r.sample for r in subset.records if r.sample in rows]
    for k, s in enumerate(one.samples):
        np.testing.assert_array_equal(one.embeddings[k], full.embeddings[rows[s]])
    failed_full = {f.image: f.reason for f in full.failures}
    assert {f.image: f.reason for f in one.failures} == {
        r.sample: failed_full[r.sample] for r in subset.records if r.sample in failed_full
    }


@pytest.mark.slow
def test_rerun_is_served_from_the_cache(orl_runs):
    images, cache, runs = orl_runs
    for model in MODELS:
        again = embed_images(images, model=model, workers=2, cache_dir=cache)
        assert (again.stats.n_cached, again.stats.n_computed) == (400, 0)
        np.testing.assert_array_equal(again.embeddings, runs[model].embeddings)
        assert [f.to_json() for f in again.failures] == [f.to_json() for f in runs[model].failures]
        assert list(again.samples) == list(runs[model].samples)


def test_fta_rate_with_subject_bootstrap(orl_runs):
    _, _, runs = orl_runs
    res = runs["dlib-resnet"]
    acq = res.acquisition(bootstrap=500)
    assert acq["n_images"] == 400 and acq["n_failed"] == res.n_failed
    fta = acq["fta"]
    assert fta["count"] == res.n_failed and fta["n"] == 400
    if res.n_failed:
        lo, hi = fta["ci"]
        assert lo <= fta["value"] <= hi
    assert all({"image", "subject", "reason", "detail"} <= set(f) for f in acq["failures"])


def test_result_feeds_the_1n_embedding_set(orl_runs):
    io_embeddings = pytest.importorskip("faceaudit.io.embeddings")
    _, _, runs = orl_runs
    res = runs["facenet"]
    es = res.to_embedding_set()
    assert isinstance(es, io_embeddings.EmbeddingSet)
    assert es.n == res.embeddings.shape[0] and es.dim == 512
    assert es.metadata["model"]["id"] == "facenet"
    np.testing.assert_allclose(es.embeddings, res.embeddings, atol=1e-6)
