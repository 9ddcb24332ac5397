"""Degraded variants through the embedding pipeline: derived keys, seeds, cache reuse, measures."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from PIL import Image

from capture_images import texture
from faceaudit.capture import Degradation
from faceaudit.embedding import embed_images
from faceaudit.embedding.cache import EmbeddingCache
from faceaudit.embedding.variants import (
    EmbeddingSession,
    Variant,
    as_embedding_result,
    embed_variants,
    image_seed,
    variant_key,
)
from faceaudit.io.images import discover_images
from faceaudit.recognizers.base import Face, ModelInfo, Recognizer


class TextureModel(Recognizer):
    """A test model: the whole image is the face; the embedding is a coarse 4 x 4 thumbnail."""

    name: ClassVar[str] = "texture"
    OPTIONS: ClassVar[dict[str, Any]] = {}

    @classmethod
    def describe(cls, *, hash_file=None, **options) -> ModelInfo:
        return ModelInfo("texture", "1", "0" * 64, 16, {})

    def detect(self, image):
        return [Face((0.0, 0.0, float(image.shape[1]), float(image.shape[0])), 1.0)]

    def landmarks(self, image, face):
        return face

    def align(self, image, face):
        return image

    def embed_aligned(self, chip):
        import cv2

        grey = chip.mean(axis=2).astype(np.float32)
        return cv2.resize(grey, (4, 4), interpolation=cv2.INTER_AREA).ravel() - 100.0


MODEL = f"{__name__}:TextureModel"
SHA = "ab" * 32
DEFOCUS = (Degradation("defocus", {"radius": 2}),)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "images"
    for s in range(3):
        (root / f"p{s}").mkdir(parents=True)
        for i in range(3):
            Image.fromarray(texture(seed=10 * s + i)).save(root / f"p{s}" / f"{i}.png")
    return root


def _variants(images, outcomes=None):
    out = []
    for i in range(len(images)):
        sha = None if outcomes is None else outcomes[i].image_sha256
        seed = 0 if sha is None else image_seed(sha, 0)
        out.append(Variant(i, DEFOCUS, seed))
        out.append(Variant(i, (Degradation("noise", {"sigma": 8}),), seed))
    return out


# -- keys and seeds -------------------------------------------------------------------------------


def test_the_untouched_image_keeps_its_own_sha256():
    assert variant_key(SHA, Variant(3)) == SHA
    assert variant_key(SHA, Variant(0, (), seed=5, eyes=((1, 2), (3, 4)))) == SHA


def test_every_ingredient_of_a_degraded_image_changes_its_key():
    base = Variant(0, DEFOCUS, seed=1, eyes=((30, 52), (62, 52)))
    key = variant_key(SHA, base)
    others = [
        variant_key("cd" * 32, base),
        variant_key(SHA, Variant(0, (Degradation("defocus", {"radius": 3}),), 1, base.eyes)),
        variant_key(SHA, Variant(0, (Degradation("motion", {"length": 2}),), 1, base.eyes)),
        variant_key(SHA, Variant(0, DEFOCUS, seed=2, eyes=base.eyes)),
        variant_key(SHA, Variant(0, DEFOCUS, seed=1, eyes=((30, 52), (62, 53)))),
        variant_key(SHA, Variant(0, DEFOCUS, seed=1)),
        variant_key(SHA, Variant(0, DEFOCUS * 2, seed=1, eyes=base.eyes)),
    ]
    assert len({key, *others}) == len(others) + 1
    assert len(key) == 64 and int(key, 16) >= 0
    # eyes are rounded before use: a difference below the rounding is the same image
    same = Variant(0, DEFOCUS, seed=1, eyes=((30.001, 52.0), (62.0, 51.999)))
    assert variant_key(SHA, same) == key
    assert same.eyes == ((30.0, 52.0), (62.0, 52.0))


def test_image_seeds_are_stable_per_image_and_run_seed():
    assert image_seed(SHA, 0) == image_seed(SHA, 0)
    assert len({image_seed(SHA, 0), image_seed(SHA, 1), image_seed("cd" * 32, 0)}) == 3
    assert 0 <= image_seed(SHA, 7) < 2**63


def test_a_bad_variant_is_refused():
    with pytest.raises(ValueError, match="seed"):
        Variant(0, DEFOCUS, seed=-1)
    with pytest.raises(ValueError, match="eyes"):
        Variant(0, DEFOCUS, eyes=[1, 2, 3])


# -- the pipeline ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_rerun_is_served_from_the_cache_and_computes_nothing(folder, tmp_path):
    images = discover_images(folder)
    cache = tmp_path / "cache"
    with EmbeddingSession(model=MODEL, workers=1, cache_dir=cache) as s:
        clean = s.embed(images, [Variant(i) for i in range(len(images))], measure=True)
        first = s.embed(images, _variants(images, clean.outcomes), measure=True)
    assert (first.stats.n_computed, first.stats.n_cached) == (18, 0)
    assert first.n_quality_computed == 18
    with EmbeddingSession(model=MODEL, workers=1, cache_dir=cache) as s:
        clean2 = s.embed(images, [Variant(i) for i in range(len(images))], measure=True)
        again = s.embed(images, _variants(images, clean2.outcomes), measure=True)
    assert (clean2.stats.n_computed, clean2.stats.n_cached) == (0, 9)
    assert (again.stats.n_computed, again.stats.n_cached) == (0, 18)
    assert again.n_quality_computed == 0 and clean2.n_quality_computed == 0
    for a, b in zip(first.outcomes, again.outcomes, strict=True):
        np.testing.assert_array_equal(a.embedding, b.embedding)
        assert a.quality == b.quality and a.key == b.key and b.cached
    with EmbeddingCache(cache, read_only=True) as c:
        assert c.count() == 27 and c.count_quality() == 27


def test_degraded_variants_differ_and_are_deterministic(folder):
    images = discover_images(folder)
    variants = [Variant(0), *_variants(images)[:2]]
    one = embed_variants(images, variants, model=MODEL, workers=0, use_cache=False, measure=True)
    two = embed_variants(images, variants, model=MODEL, workers=0, use_cache=False, measure=True)
    clean, blurred, noisy = one.outcomes
    assert all(o.ok for o in one.outcomes)
    assert not np.allclose(clean.embedding, blurred.embedding)
    assert blurred.quality["directional_sharpness"] < clean.quality["directional_sharpness"]
    assert noisy.quality["noise"] > clean.quality["noise"]
    for a, b in zip(one.outcomes, two.outcomes, strict=True):
        np.testing.assert_array_equal(a.embedding, b.embedding)
        assert a.quality == b.quality
    assert clean.key == clean.image_sha256 and blurred.key != blurred.image_sha256


def test_embeddings_cached_without_measures_get_measured_not_recomputed(folder, tmp_path):
    images = discover_images(folder)
    cache = tmp_path / "cache"
    plain = embed_images(images, model=MODEL, workers=0, cache_dir=cache)
    res = embed_variants(
        images,
        [Variant(i) for i in range(len(images))],
        model=MODEL,
        workers=0,
        cache_dir=cache,
        measure=True,
    )
    assert (res.stats.n_computed, res.stats.n_cached, res.n_quality_computed) == (0, 9, 9)
    assert all(o.quality is not None for o in res.outcomes)
    back = as_embedding_result(images, res)
    np.testing.assert_array_equal(back.embeddings, plain.embeddings)
    assert list(back.samples) == list(plain.samples)


def test_a_failing_degradation_is_a_failure_to_acquire_not_a_crash(folder):
    images = discover_images(folder)
    needs_eyes = Variant(0, (Degradation("downscale", {"ied": 8}),), 0)  # no eyes given
    res = embed_variants(images, [needs_eyes], model=MODEL, workers=0, use_cache=False)
    (o,) = res.outcomes
    assert o.status == "embed_error" and "eye centres" in o.detail
