"""``audit --model A --model B``: the same photos through two models, compared on every pair of
images, paired by subject; a model's failure to acquire leaves its pairs without a score."""

from __future__ import annotations

import csv
import json
from typing import Any, ClassVar

import numpy as np
import pytest
from PIL import Image

from faceaudit.recognizers.base import Face, ModelInfo, Recognizer


class MeanColour(Recognizer):
    """A toy model: the mean colour of the image (each subject has its own colour + noise)."""

    name: ClassVar[str] = "mean-colour"
    OPTIONS: ClassVar[dict[str, Any]] = {}

    @classmethod
    def describe(cls, *, hash_file=None, **options) -> ModelInfo:
        return ModelInfo(cls.name, "1", "0" * 64, 3, {})

    def detect(self, image):
        return [Face((0.0, 0.0, float(image.shape[1]), float(image.shape[0])), 1.0)]

    def landmarks(self, image, face):
        return face

    def align(self, image, face):
        return image

    def embed_aligned(self, chip):
        return chip.reshape(-1, 3).mean(axis=0) - 100.0


class TopHalf(MeanColour):
    """Another toy model: the mean colour of the top half only; fails on a too-dark top."""

    name: ClassVar[str] = "top-half"

    def embed_aligned(self, chip):
        top = chip[: chip.shape[0] // 2].reshape(-1, 3).mean(axis=0)
        if top.max() < 5:
            raise RuntimeError("no face in the top half")
        return top - 100.0


@pytest.fixture
def photos(tmp_path):
    """8 subjects x 4 photos: a subject colour, noise in the bottom half; one dark-topped photo."""
    rng = np.random.default_rng(0)
    rows = []
    for s in range(8):
        base = rng.uniform(60, 200, 3)
        for k in range(4):
            img = np.clip(base + rng.normal(0, 25, (24, 24, 3)), 0, 255)
            img[12:] += rng.normal(0, 40, 3)
            if s == 0 and k == 0:
                img[:12] = 0
            path = tmp_path / f"s{s}_{k}.png"
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
            rows.append((str(path), f"s{s}", "f" if s % 2 else "m"))
    manifest = tmp_path / "manifest.csv"
    with open(manifest, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "subject", "sex"])
        w.writerows(rows)
    return manifest


def test_two_models_on_the_same_photos_are_compared_on_every_pair(photos, tmp_path):
    from faceaudit.cli import main

    a, b = f"{__name__}:MeanColour", f"{__name__}:TopHalf"
    out = tmp_path / "cmp"
    try:
        main(["audit", str(photos), "--model", a, "--model", b, "--workers", "0",
              "--cache", str(tmp_path / "cache"), "--fmr-target", "1e-1", "--by", "sex",
              "--threshold-from", "all@0.1", "--bootstrap", "100", "--out", str(out),
              "--quiet"])  # fmt: skip
    except SystemExit as exc:
        assert not exc.code
    r = json.loads((out / "results.json").read_text())  # schema-checked by conftest
    c = r["compare"]
    n = 32 * 31 // 2
    assert c["coverage"]["join"] == "image pairs" and c["coverage"]["common"] == n
    assert c["coverage"]["common_mated"] == 8 * (4 * 3 // 2)
    rows = [s["rows"] for s in c["coverage"]["systems"]]
    assert rows == [n, n - 31]  # the dark-topped photo has no embedding in the second model
    sys_b = c["systems"][1]
    assert sys_b["mated_fta"] == 3 and sys_b["nonmated_fta"] == 28
    assert r["settings"]["models"] == ["mean-colour", "top-half"]
    assert any("top-half" in w or "TopHalf" in w for w in r["warnings"])
    assert "eer" in {d["figure"] for d in c["differences"]}  # 8 people: FMR 0.1 not supported
    assert c["demographics"]["attribute"] == "sex"
    assert "Paired comparison of models" in (out / "report.html").read_text()


def test_pairs_scores_are_the_cosines_of_each_models_embeddings():
    from faceaudit.analyses._system_comparison_images import paired_image_scores
    from faceaudit.embedding.result import EmbeddingResult, Failure

    rng = np.random.default_rng(1)
    e = rng.normal(size=(5, 4)).astype(np.float32)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    subjects = np.array(["x", "x", "y", "y", "z"])
    samples = np.array([f"i{k}" for k in range(5)])
    info = ModelInfo("m", "1", "0" * 64, 4, {})
    ra = EmbeddingResult(e, subjects, samples, {}, (), info, 5)
    rb = EmbeddingResult(e[[0, 1, 3, 4]] * 1.0, subjects[[0, 1, 3, 4]], samples[[0, 1, 3, 4]],
                         {}, (Failure("i2", "y", "no_face", ""),), info, 5)  # fmt: skip
    p = paired_image_scores([ra, rb], ["a", "b"])
    i, j = np.triu_indices(5, 1)
    np.testing.assert_allclose(p.scores[0], np.sum(e[i] * e[j], axis=1), atol=1e-6)
    assert np.isnan(p.scores[1][(i == 2) | (j == 2)]).all()
    keep = (i != 2) & (j != 2)
    np.testing.assert_allclose(p.scores[1][keep], p.scores[0][keep], atol=1e-6)
    assert p.mated.tolist() == (subjects[i] == subjects[j]).tolist()
    assert p.subjects == ["x", "y", "z"]
