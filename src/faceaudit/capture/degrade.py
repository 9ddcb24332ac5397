"""Synthetic capture degradations of a probe image, each deterministic and in physical units.

Central concept: a :class:`Degradation` is a frozen spec, a registered name and its parameters
(defaults filled in, values validated and canonicalised), with a stable string
:attr:`~Degradation.key` such as ``"defocus:kernel=disc,radius=3"``. The key names the degraded
image in caches and results (an image is identified by its bytes' SHA-256, the chain of keys and
the seed); the same text parses back (:func:`parse_degradation`). :func:`apply` renders one
spec, :func:`apply_chain` several in order; both return a new ``uint8`` image with the input's
layout (``(h, w)``, ``(h, w, 1)`` or ``(h, w, 3)``).

Degradations (parameters, units; defaults in :data:`DEGRADATIONS`)
--------------------------------------------------------------------
``defocus``
    Out-of-focus blur. ``radius``: the radius of the circle of confusion on the sensor, in pixels;
    ``kernel="disc"`` (a uniform disc: the geometric-optics PSF of a defocused lens) or
    ``"gaussian"`` (sigma = radius / 2, the Gaussian with the disc's second moment). 0 = none.
``motion``
    Linear motion blur during the exposure: ``length`` pixels the image moved while the shutter was
    open (speed x exposure time x pixels per metre), at ``angle`` degrees (counter-clockwise as seen
    from the image's x axis). 0 = none.
``downscale``
    A face farther from the camera: resampled with area averaging so that the inter-eye distance
    becomes ``ied`` pixels (ISO/IEC 39794-5 and ICAO 9303 use this distance for resolution; 90 px is
    the passport minimum). **Needs the eye centres** (``eyes=``, e.g. from the recognizer's
    landmarks via :func:`faceaudit.capture.geometry.eye_centres`). The result is the smaller image
    (as a camera would deliver a far face), or, with ``restore=true``, scaled back to the input
    size by bilinear interpolation (as an app's digital zoom). It never enlarges: an image whose
    eyes are already closer than ``ied`` is returned unchanged.
``jpeg``
    Re-compression at JPEG ``quality`` (1..100, libjpeg's scale) with chroma ``subsampling``.
``exposure``
    Under- (``ev`` < 0) or over-exposure by ``ev`` photographic stops: the linear light is
    multiplied by ``2**ev`` after decoding the pixel values with the power law ``gamma``
    (2.2 ~ sRGB), then clipped and re-encoded. Shadows lose their levels to 8-bit quantisation.
``noise``
    Sensor noise, Poisson-Gaussian (Foi et al. 2008): ``var(v) = a v + b`` in digital numbers (DN,
    0..255) with ``sigma`` the noise standard deviation at the signal ``level`` (DN) and ``shot``
    the share of that variance due to photon (shot) noise; the rest is read noise. Applied
    independently to each channel, then clipped to 0..255. Needs the seed.
``mask``
    A lower-face occlusion (a medical mask): a band from ``top`` inter-eye distances below the eye
    line down 2.2 inter-eye distances (past the chin), ``width`` inter-eye distances wide, filled
    with grey ``value`` (DN); it turns with the eye line.
``sunglasses``
    An occlusion band centred on the eye line, ``width`` by ``height`` inter-eye distances, grey
    ``value``.
``rotate``
    In-plane rotation (camera roll) by ``angle`` degrees counter-clockwise as seen, about the eye
    midpoint (or the image centre without eyes); the corners are filled by reflection.

Faces and eyes: ``mask``, ``sunglasses`` and ``rotate`` use the eye centres when given; without
them the occlusions are placed from the face box (``face_box=``, or the whole image) with the eyes
assumed at :data:`~faceaudit.capture.geometry.BOX_EYE_FRACTIONS` of the box. Geometric steps
(``downscale``, ``rotate``) move the eyes, and :func:`apply_chain` passes the moved eyes on
(:func:`track_eyes` gives them).

Seeds: only ``noise`` draws random numbers; its generator is seeded from ``seed`` and the spec's
key (and the step's position in a chain), so a given (image, chain, seed) is reproducible and
different steps never share a stream. Give each image its own seed (e.g. from its SHA-256) so that
noise differs between photos.

Examples
--------
>>> import numpy as np
>>> img = np.full((112, 92), 128, np.uint8)
>>> spec = Degradation("noise", {"sigma": 5})
>>> spec.key
'noise:level=128,shot=0.5,sigma=5'
>>> out = apply(img, spec, seed=1)
>>> out.shape, out.dtype, bool((apply(img, spec, seed=1) == out).all())
((112, 92), dtype('uint8'), True)
>>> parse_degradation("defocus:radius=2.5").to_json()
{'name': 'defocus', 'params': {'kernel': 'disc', 'radius': 2.5}}

References
----------
A. Foi, M. Trimeche, V. Katkovnik, K. Egiazarian, "Practical Poissonian-Gaussian noise modeling
and fitting for single-image raw-data", IEEE TIP 17(10), 2008. ISO/IEC 29794-5:2025 (face image
quality) and ISO/IEC 39794-5 (face image data: inter-eye distance and capture requirements).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from faceaudit.capture import _ops
from faceaudit.capture.geometry import check_eyes
from faceaudit.capture.registry import (
    DEGRADATIONS,
    DIGITS,
    DegradationKind,
    Param,
    register_degradation,
)
from faceaudit.errors import InputError

__all__ = [
    "DEGRADATIONS",
    "Degradation",
    "DegradationKind",
    "Param",
    "apply",
    "apply_chain",
    "chain_key",
    "encode_jpeg",
    "parse_chain",
    "parse_degradation",
    "register_degradation",
    "track_eyes",
]

encode_jpeg = _ops.encode_jpeg


def _kind(name: str) -> DegradationKind:
    if name not in DEGRADATIONS:
        raise InputError(
            f"unknown degradation {name!r}; choose one of {', '.join(sorted(DEGRADATIONS))}."
        )
    return DEGRADATIONS[name]


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.{DIGITS}g}"
    return str(value)


@dataclass(frozen=True)
class Degradation:
    """A degradation spec: a registered name and its complete, validated parameters.

    Parameters
    ----------
    name : str
        A key of :data:`DEGRADATIONS`.
    params : mapping or sequence of (name, value), optional
        Parameters to set; the others take their defaults. Numbers are kept to 10 significant
        digits, so the value used is the one the key shows.

    Raises
    ------
    InputError
        Unknown name or parameter, or a value of the wrong type or out of range (one sentence that
        names the parameter and the value).
    """

    name: str
    params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        kind = _kind(self.name)
        given = dict(self.params.items() if isinstance(self.params, Mapping) else self.params)
        for key in given:
            kind.param(key)
        full = tuple(
            (p.name, p.check(self.name, given[p.name]) if p.name in given else p.default)
            for p in sorted(kind.params, key=lambda p: p.name)
        )
        object.__setattr__(self, "params", full)

    @property
    def kind(self) -> DegradationKind:
        return DEGRADATIONS[self.name]

    def __getitem__(self, name: str) -> Any:
        return dict(self.params)[self.kind.param(name).name]

    @property
    def key(self) -> str:
        """``name:p1=v1,p2=v2`` with every parameter, sorted by name; parses back unchanged."""
        return f"{self.name}:" + ",".join(f"{k}={_fmt(v)}" for k, v in self.params)

    @property
    def cache_key(self) -> str:
        """A digest of the key, the implementation version and the image libraries' versions."""
        import cv2
        import PIL

        blob = json.dumps(
            {
                "key": self.key,
                "version": self.kind.version,
                "opencv": cv2.__version__,
                "pillow": PIL.__version__,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def replace(self, **params: Any) -> Degradation:
        """The same degradation with some parameters changed."""
        return Degradation(self.name, {**dict(self.params), **params})

    def to_json(self) -> dict:
        """``{"name": ..., "params": {...}}`` (every parameter, plain JSON values)."""
        return {"name": self.name, "params": dict(self.params)}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Degradation:
        if not isinstance(obj, Mapping) or "name" not in obj:
            raise InputError(f"a degradation must be an object with a name, got {obj!r}.")
        return cls(str(obj["name"]), dict(obj.get("params", {})))


def parse_degradation(text: str) -> Degradation:
    """A spec from its key form ``name`` or ``name:p=v,p=v``, e.g. ``"motion:length=9,angle=0"``."""
    name, _, rest = text.strip().partition(":")
    params: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise InputError(
                f"degradation {text!r}: {item!r} is not parameter=value (e.g. radius=3)."
            )
        if key.strip() in params:
            raise InputError(f"degradation {text!r}: parameter {key.strip()!r} is given twice.")
        params[key.strip()] = value.strip()
    return Degradation(name.strip(), params)


def parse_chain(text: str) -> tuple[Degradation, ...]:
    """Specs joined by ``|`` (as :func:`chain_key` writes them); empty text: no degradation."""
    return tuple(parse_degradation(part) for part in text.split("|") if part.strip())


def chain_key(specs: Sequence[Degradation]) -> str:
    """The keys of a chain joined by ``|``, in order (``""`` for the untouched image)."""
    return "|".join(s.key for s in specs)


# ---------------------------------------------------------------------------------------------
# Applying
# ---------------------------------------------------------------------------------------------


def _as_float(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise InputError(f"image must be 8-bit (uint8), got {a.dtype}.")
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3))) or a.size == 0:
        raise InputError(f"image must be (h, w), (h, w, 1) or (h, w, 3), got shape {a.shape}.")
    return a.reshape(a.shape[0], a.shape[1], -1).astype(np.float32)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed={seed!r} must be a whole number >= 0.")
    return int(seed)


def _rng(seed: int, spec: Degradation, step: int) -> np.random.Generator:
    return np.random.default_rng([seed, step, zlib.crc32(spec.key.encode())])


def _run(img, specs, eyes, face_box, seed):
    for step, spec in enumerate(specs):
        if not isinstance(spec, Degradation):
            raise InputError(f"step {step + 1} of the chain is not a Degradation: {spec!r}.")
        if spec.kind.eyes == "required" and eyes is None:
            raise InputError(
                f"degradation {spec.name!r} needs the eye centres (eyes=, e.g. from the "
                "recognizer's landmarks via faceaudit.capture.geometry.eye_centres)."
            )
        used = eyes if spec.kind.eyes != "unused" else None
        out, moved = spec.kind.operation(
            img, dict(spec.params), used, _rng(seed, spec, step), face_box
        )
        if spec.kind.eyes != "unused" and eyes is not None:
            eyes = moved
        img = np.clip(np.rint(out), 0, 255).astype(np.float32)  # 8-bit between steps
    return img, eyes


def apply_chain(
    image: np.ndarray,
    specs: Sequence[Degradation],
    *,
    eyes=None,
    seed: int,
    face_box=None,
) -> np.ndarray:
    """Apply degradations in order; a new ``uint8`` image with the input's channel layout.

    Parameters
    ----------
    image : ndarray of uint8, shape (h, w), (h, w, 1) or (h, w, 3)
    specs : sequence of Degradation
        Applied first to last; the image is rounded to 8 bits after each step (as each stage of a
        camera pipeline hands on 8-bit data) and eye centres move with geometric steps.
    eyes : array-like (2, 2), optional
        Eye centres in ``image`` pixels, image-left eye first (see
        :mod:`faceaudit.capture.geometry`); required by ``downscale``.
    seed : int
        Seeds the random steps (``noise``), with each step's key and position.
    face_box : (left, top, right, bottom), optional
        Places occlusions when no eyes are given (default: the whole image).

    Returns
    -------
    ndarray of uint8
        Same number of dimensions and channels as ``image``; ``downscale`` makes it smaller.
    """
    img = _as_float(image)
    e = None if eyes is None else check_eyes(eyes)
    seed = _check_seed(seed)
    out, _ = _run(img, tuple(specs), e, face_box, seed)
    out = out.astype(np.uint8)
    if np.asarray(image).ndim == 2:
        return np.ascontiguousarray(out[:, :, 0])
    return np.ascontiguousarray(out)


def apply(
    image: np.ndarray, spec: Degradation, *, eyes=None, seed: int, face_box=None
) -> np.ndarray:
    """Apply one degradation (see :func:`apply_chain`); a new ``uint8`` image."""
    return apply_chain(image, (spec,), eyes=eyes, seed=seed, face_box=face_box)


def track_eyes(image_shape: Sequence[int], specs: Sequence[Degradation], eyes) -> np.ndarray:
    """Where the eye centres are after the chain (geometry only; no pixels are computed).

    ``image_shape`` is the input's ``(h, w[, c])``. Returns the ``(2, 2)`` eye centres in the
    pixels of the degraded image.
    """
    h, w = int(image_shape[0]), int(image_shape[1])
    e = check_eyes(eyes)
    probe = np.zeros((h, w, 1), dtype=np.float32)
    for spec in specs:
        if spec.name in ("downscale", "rotate"):
            probe, e = spec.kind.operation(probe, dict(spec.params), e, None, None)
    return e


# ---------------------------------------------------------------------------------------------
