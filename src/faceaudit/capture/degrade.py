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
import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from faceaudit.capture import _ops
from faceaudit.capture.geometry import check_eyes
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

#: Significant digits kept of a number parameter: the value used is the value shown in the key.
_DIGITS = 10


@dataclass(frozen=True)
class Param:
    """One declared parameter of a degradation: type, default, allowed range or choices, unit.

    ``length`` marks a length in pixels of the face (blur radius, motion length) that a profile
    scales with the face's inter-eye distance (:meth:`faceaudit.capture.profiles.Profile.steps`).
    """

    name: str
    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    length: bool = False

    def check(self, degradation: str, value: Any) -> Any:
        """The canonical value, or InputError naming the parameter and the value."""
        where = f"degradation {degradation!r}: parameter {self.name}={value!r}"
        if self.kind is bool:
            if isinstance(value, str) and value.strip().lower() in (
                "true",
                "1",
                "yes",
                "false",
                "0",
                "no",
            ):
                return value.strip().lower() in ("true", "1", "yes")
            if isinstance(value, bool | np.bool_):
                return bool(value)
            raise InputError(f"{where} must be true or false.")
        if self.kind is str:
            if not isinstance(value, str) or value not in self.choices:
                raise InputError(f"{where} must be one of {', '.join(self.choices)}.")
            return value
        return self._number(where, value)

    def _number(self, where: str, value: Any) -> float | int:
        if isinstance(value, bool | np.bool_):
            raise InputError(f"{where} must be a number, not true/false.")
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{where} must be a number.") from None
        if not math.isfinite(x):
            raise InputError(f"{where} must be a finite number.")
        if self.kind is int:
            if x != int(x):
                raise InputError(f"{where} must be a whole number.")
            x = int(x)
        else:
            x = float(f"{x:.{_DIGITS}g}") + 0.0  # canonical; -0.0 -> 0.0
        too_low = self.low is not None and x < self.low
        too_high = self.high is not None and x > self.high
        if too_low or too_high:
            unit = f" {self.unit}" if self.unit else ""
            if self.low is not None and self.high is not None:
                limits = f"between {self.low:g} and {self.high:g}"
            else:
                limits = f"at least {self.low:g}" if too_low else f"at most {self.high:g}"
            raise InputError(f"{where} must be {limits}{unit}.")
        return x


#: ``(image, params, eyes, rng, face_box) -> (image, eyes)`` on float32 ``(h, w, c)`` images.
Operation = Callable[..., tuple[np.ndarray, np.ndarray | None]]


@dataclass(frozen=True)
class DegradationKind:
    """A registered degradation: its parameters, its operation and what it needs.

    ``eyes``: ``"required"`` (refused without eye centres), ``"optional"`` (used when given) or
    ``"unused"``. ``version`` changes whenever the rendering changes, so cached degraded images made
    by an older implementation are not reused (:attr:`Degradation.cache_key`).
    """

    name: str
    params: tuple[Param, ...]
    operation: Operation
    summary: str
    eyes: str = "unused"
    version: int = 1

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise InputError(
            f"degradation {self.name!r} has no parameter {name!r}; its parameters are "
            f"{', '.join(p.name for p in self.params)}."
        )


#: The registry: name -> :class:`DegradationKind`.
DEGRADATIONS: dict[str, DegradationKind] = {}


def register_degradation(kind: DegradationKind) -> DegradationKind:
    """Add a degradation to :data:`DEGRADATIONS` (a name is registered once)."""
    if kind.name in DEGRADATIONS:
        raise ValueError(f"degradation {kind.name!r} is already registered")
    if not kind.name or any(c in kind.name for c in ":,=|"):
        raise ValueError(f"degradation name {kind.name!r} is empty or holds one of : , = |")
    DEGRADATIONS[kind.name] = kind
    return kind


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
        return f"{value:.{_DIGITS}g}"
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
# The built-in degradations
# ---------------------------------------------------------------------------------------------


def _builtin() -> None:
    reg = register_degradation
    reg(
        DegradationKind(
            "defocus",
            (
                Param("radius", float, 0.0, 0.0, 50.0, unit="pixels", length=True),
                Param("kernel", str, "disc", choices=("disc", "gaussian")),
            ),
            _ops.defocus,
            "out-of-focus blur (PSF radius in pixels)",
        )
    )
    reg(
        DegradationKind(
            "motion",
            (
                Param("length", float, 0.0, 0.0, 200.0, unit="pixels", length=True),
                Param("angle", float, 0.0, -360.0, 360.0, unit="degrees"),
            ),
            _ops.motion,
            "linear motion blur (length in pixels, angle in degrees)",
        )
    )
    reg(
        DegradationKind(
            "downscale",
            (Param("ied", float, 24.0, 2.0, 1000.0, unit="pixels"), Param("restore", bool, False)),
            _ops.downscale,
            "fewer pixels on the face (target inter-eye distance)",
            eyes="required",
        )
    )
    reg(
        DegradationKind(
            "jpeg",
            (
                Param("quality", int, 75, 1, 100),
                Param("subsampling", str, "4:2:0", choices=("4:2:0", "4:2:2", "4:4:4")),
            ),
            _ops.jpeg,
            "JPEG re-compression",
        )
    )
    reg(
        DegradationKind(
            "exposure",
            (
                Param("ev", float, 0.0, -10.0, 4.0, unit="stops"),
                Param("gamma", float, 2.2, 1.0, 3.0),
            ),
            _ops.exposure,
            "under- or over-exposure in photographic stops",
        )
    )
    reg(
        DegradationKind(
            "noise",
            (
                Param("sigma", float, 0.0, 0.0, 100.0, unit="DN"),
                Param("level", float, 128.0, 1.0, 255.0, unit="DN"),
                Param("shot", float, 0.5, 0.0, 1.0),
            ),
            _ops.noise,
            "Poisson-Gaussian sensor noise (sigma in DN at a signal level)",
        )
    )
    reg(
        DegradationKind(
            "mask",
            (
                Param("top", float, 0.6, 0.0, 3.0, unit="inter-eye distances"),
                Param("width", float, 2.6, 0.5, 6.0, unit="inter-eye distances"),
                Param("value", float, 200.0, 0.0, 255.0, unit="DN"),
            ),
            _ops.mask,
            "lower-face occlusion band (a medical mask)",
            eyes="optional",
        )
    )
    reg(
        DegradationKind(
            "sunglasses",
            (
                Param("height", float, 0.55, 0.1, 2.0, unit="inter-eye distances"),
                Param("width", float, 2.0, 1.0, 4.0, unit="inter-eye distances"),
                Param("value", float, 15.0, 0.0, 255.0, unit="DN"),
            ),
            _ops.sunglasses,
            "occlusion band over the eyes",
            eyes="optional",
        )
    )
    reg(
        DegradationKind(
            "rotate",
            (Param("angle", float, 0.0, -180.0, 180.0, unit="degrees"),),
            _ops.rotate,
            "in-plane rotation (camera roll)",
            eyes="optional",
        )
    )


_builtin()
