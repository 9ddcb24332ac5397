"""A degraded variant of an image (its chain, seed and eye centres), its cache key, and what
embedding it gave."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from faceaudit.capture.degrade import Degradation, chain_key
from faceaudit.embedding.result import EmbedStats
from faceaudit.recognizers.base import ModelInfo

__all__ = [
    "EYE_DECIMALS",
    "Variant",
    "VariantOutcome",
    "VariantResult",
    "image_seed",
    "variant_key",
]

#: Decimals of a pixel the eye centres are rounded to (before use and in the key).
EYE_DECIMALS = 2

Eyes = tuple[tuple[float, float], tuple[float, float]]


def _round_eyes(eyes) -> Eyes | None:
    if eyes is None:
        return None
    e = np.asarray(eyes, dtype=np.float64)
    if e.shape != (2, 2) or not np.isfinite(e).all():
        raise ValueError(f"eyes must be two finite (x, y) points, got shape {e.shape}")
    r = [[round(float(v), EYE_DECIMALS) + 0.0 for v in row] for row in e]
    return ((r[0][0], r[0][1]), (r[1][0], r[1][1]))


@dataclass(frozen=True)
class Variant:
    """Image ``record`` of an image set through ``chain`` with ``seed`` and ``eyes``.

    Attributes
    ----------
    record : int
        Index into :attr:`ImageSet.records`.
    chain : tuple of Degradation
        Applied in order; empty for the image as stored.
    seed : int
        Seeds the random steps (see :func:`image_seed`).
    eyes : ((x, y), (x, y)) or None
        Eye centres in the stored image's pixels, image-left eye first, rounded to
        :data:`EYE_DECIMALS` decimals; give them only when a step of the chain uses them.
    """

    record: int
    chain: tuple[Degradation, ...] = ()
    seed: int = 0
    eyes: Eyes | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "chain", tuple(self.chain))
        object.__setattr__(self, "eyes", _round_eyes(self.eyes))
        if isinstance(self.seed, bool) or int(self.seed) != self.seed or self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))

    @property
    def chain_json(self) -> str:
        return json.dumps([s.to_json() for s in self.chain], sort_keys=True)


def image_seed(image_sha256: str, seed: int) -> int:
    """The seed of one image: a digest of its SHA-256 and the run's ``seed`` (0 <= s < 2^63)."""
    digest = hashlib.sha256(f"{image_sha256}|{int(seed)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def variant_key(image_sha256: str, variant: Variant) -> str:
    """The derived image key of a variant (the image's own SHA-256 for the empty chain)."""
    if not variant.chain:
        return image_sha256
    eyes = "none" if variant.eyes is None else ";".join(f"{x:.2f},{y:.2f}" for x, y in variant.eyes)
    parts = [
        image_sha256,
        chain_key(variant.chain),
        *(s.cache_key for s in variant.chain),
        str(variant.seed),
        eyes,
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class VariantOutcome:
    """What one variant gave: an embedding (``status == "ok"``) or a failure to acquire.

    ``face`` is the recognizer's face (box, score, landmarks in the degraded image's pixels),
    ``quality`` the measures (:meth:`ImageQuality.to_json`) when asked for and a face was found,
    ``cached`` whether the embedding came from the cache, ``image_sha256`` the stored image's
    SHA-256 (None if it could not be read) and ``key`` the derived key.
    """

    status: str
    detail: str
    width: int | None
    height: int | None
    embedding: np.ndarray | None
    face: dict | None
    quality: dict | None
    cached: bool
    image_sha256: str | None
    key: str | None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True, eq=False)
class VariantResult:
    """The outcomes of :meth:`EmbeddingSession.embed`, in the order of the variants given.

    ``stats.n_cached`` / ``n_computed`` count embeddings served from the cache / computed;
    ``n_quality_computed`` counts quality measurements made in this run (0 on a rerun).
    """

    variants: tuple[Variant, ...]
    outcomes: tuple[VariantOutcome, ...]
    model: ModelInfo
    stats: EmbedStats
    n_quality_computed: int = 0

    def __len__(self) -> int:
        return len(self.outcomes)
