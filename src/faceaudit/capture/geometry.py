"""Eye positions from recognizer landmarks, face boxes and the face frame they define.

Degradations placed on the face (downscaling to an inter-eye distance, occlusion bands, rotation
about the eyes) and the quality measures take the **eye centres** as a ``(2, 2)`` array of
``(x, y)`` pixels: row 0 is the eye on the image's left, row 1 the eye on the image's right (for an
upright face: the subject's right eye, then the subject's left eye; the order is kept even when the
face is rotated, since it fixes which way is "down" the face). Coordinates follow OpenCV:
``x`` to the right, ``y`` down, origin at the centre of the top-left pixel.

Recognizers report landmarks in their own layouts (:class:`faceaudit.recognizers.Face`):

``"dlib5"``
    dlib's 5-point shape predictor (``dlib-resnet``): points 0-1 the corners of the eye on the
    image's right (outer, inner), 2-3 the corners of the eye on the image's left (outer, inner),
    4 the base of the nose. An eye centre is the mean of its two corners.
``"five"``
    faceaudit's :data:`~faceaudit.recognizers.align.LANDMARK_NAMES` order (MTCNN: ``facenet``,
    ``onnx``): eye on the image's left, eye on the image's right, nose tip, mouth corners.
``"dlib68"``
    the iBUG 68-point layout: 36-41 the eye on the image's left, 42-47 the other, 30 the nose tip.

Examples
--------
>>> import numpy as np
>>> lm = np.array([[69, 51], [55, 52], [20, 52], [34, 53], [45, 78]], float)  # dlib5, ORL s1/1
>>> eye_centres(lm, "dlib5")
array([[27. , 52.5],
       [62. , 51.5]])
>>> round(inter_eye_distance(eye_centres(lm, "dlib5")), 2)
35.01
"""

from __future__ import annotations

import math

import numpy as np

from faceaudit.errors import InputError

__all__ = [
    "BOX_EYE_FRACTIONS",
    "LANDMARK_LAYOUTS",
    "MODEL_LAYOUTS",
    "check_eyes",
    "eye_centres",
    "eyes_from_box",
    "inter_eye_distance",
    "layout_for_model",
    "nose_point",
    "roll_degrees",
]

#: Landmark layouts understood here: layout -> number of points.
LANDMARK_LAYOUTS = {"dlib5": 5, "five": 5, "dlib68": 68}

#: The layout of each built-in recognizer's ``Face.landmarks``.
MODEL_LAYOUTS = {"dlib-resnet": "dlib5", "facenet": "five", "onnx": "five"}

#: Where eyes are assumed in a face box when no landmarks are given: ``(x, y)`` fractions of the
#: box for the image-left and image-right eye. They fit an upright, centred face that fills the box
#: from forehead to chin, as in a passport-style crop (ISO/IEC 39794-5 "token" geometry puts the
#: eyes at about 0.6 of the height from the bottom); pass real eye positions for anything else.
BOX_EYE_FRACTIONS = ((0.3, 0.4), (0.7, 0.4))


def layout_for_model(model: str) -> str:
    """The landmark layout of a built-in recognizer (``"dlib-resnet"`` -> ``"dlib5"``)."""
    base = model.split(":", 1)[0]
    if base not in MODEL_LAYOUTS:
        raise InputError(
            f"the landmark layout of model {model!r} is not known; pass layout= one of "
            f"{', '.join(LANDMARK_LAYOUTS)}."
        )
    return MODEL_LAYOUTS[base]


def _points(landmarks, layout: str) -> np.ndarray:
    if layout not in LANDMARK_LAYOUTS:
        raise InputError(f"landmark layout {layout!r} is not one of {', '.join(LANDMARK_LAYOUTS)}.")
    pts = np.asarray(landmarks, dtype=np.float64)
    k = LANDMARK_LAYOUTS[layout]
    if pts.shape != (k, 2) or not np.isfinite(pts).all():
        raise InputError(
            f"landmarks for layout {layout!r} must be {k} finite (x, y) points, got an array of "
            f"shape {pts.shape}."
        )
    return pts


def eye_centres(landmarks, layout: str) -> np.ndarray:
    """Eye centres ``[[x, y] image-left eye, [x, y] image-right eye]`` from landmarks.

    Parameters
    ----------
    landmarks : array-like, shape (k, 2)
        Pixel ``(x, y)`` points, e.g. ``Representation.face.landmarks``.
    layout : {"dlib5", "five", "dlib68"}
        See the module docstring (:func:`layout_for_model` gives a recognizer's layout).

    Returns
    -------
    ndarray, float64, shape (2, 2)
    """
    pts = _points(landmarks, layout)
    if layout == "dlib5":
        a, b = pts[2:4].mean(axis=0), pts[0:2].mean(axis=0)
    elif layout == "five":
        a, b = pts[0], pts[1]
    else:
        a, b = pts[36:42].mean(axis=0), pts[42:48].mean(axis=0)
    return np.array([a, b])


def nose_point(landmarks, layout: str) -> np.ndarray:
    """The nose landmark ``(x, y)``: dlib5's nose base, the five-point nose tip, iBUG point 30."""
    pts = _points(landmarks, layout)
    return pts[{"dlib5": 4, "five": 2, "dlib68": 30}[layout]].copy()


def eyes_from_box(box) -> np.ndarray:
    """Eye centres assumed in a face box ``(left, top, right, bottom)`` (see BOX_EYE_FRACTIONS)."""
    left, top, right, bottom = (float(v) for v in box)
    if not (right > left and bottom > top) or not all(
        math.isfinite(v) for v in (left, top, right, bottom)
    ):
        raise InputError(f"face box {tuple(box)} is not (left, top, right, bottom) with area.")
    w, h = right - left, bottom - top
    return np.array([[left + fx * w, top + fy * h] for fx, fy in BOX_EYE_FRACTIONS])


def check_eyes(eyes) -> np.ndarray:
    """Eye centres as a float64 ``(2, 2)`` array; refuses bad input.

    The order is kept: row 0 is the subject's right eye (on the image's left when the face is
    upright). It fixes which way is "down" the face, so swapped eyes put a mask on the forehead.
    """
    e = np.asarray(eyes, dtype=np.float64)
    if e.shape != (2, 2) or not np.isfinite(e).all():
        raise InputError(
            f"eyes must be two finite (x, y) eye centres, shape (2, 2); got shape {e.shape}."
        )
    if inter_eye_distance(e) <= 0.0:
        raise InputError("eyes must be two distinct points (their distance is 0 pixels).")
    return e.copy()


def inter_eye_distance(eyes) -> float:
    """Distance between the two eye centres, in pixels."""
    e = np.asarray(eyes, dtype=np.float64)
    return float(math.hypot(e[1, 0] - e[0, 0], e[1, 1] - e[0, 1]))


def roll_degrees(eyes) -> float:
    """In-plane rotation of the eye line, degrees, counter-clockwise as seen (0 = level eyes)."""
    e = np.asarray(eyes, dtype=np.float64)
    return float(math.degrees(math.atan2(-(e[1, 1] - e[0, 1]), e[1, 0] - e[0, 0])))
