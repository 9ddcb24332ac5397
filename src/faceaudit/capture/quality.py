"""Built-in per-image quality measures and one combined quality score in [0, 100].

In the spirit of ISO/IEC 29794-1 (a quality score predicts a sample's utility for recognition) and
ISO/IEC 29794-5 (face image quality components), with simple, documented measures that need no
model beyond the recognizer's landmarks. They are meant as a baseline gate to be *evaluated* with
the error-versus-discard characteristic (:mod:`faceaudit.stats.edc`), next to scores of a
dedicated tool such as OFIQ (read with :func:`faceaudit.io.quality_scores.read_quality_scores`).

Measures (:class:`ImageQuality`)
--------------------------------
The **face region** is the square of side 2.5 inter-eye distances (IED) centred 0.5 IED below the
eye midpoint when eyes are known, else the face box, else the whole image. Luminance is
``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601) in digital numbers (DN, 0..255).

``sharpness``
    Variance of the 4-neighbour Laplacian of Y (DN^2) over the face region **resampled to 128 x 128
    pixels** (area averaging when shrinking, bilinear when enlarging), so that the figure measures
    detail per face width whatever the resolution: a small face enlarged is as soft as it looks.
``directional_sharpness``
    The same region's *least* sharp direction: the smallest of the variances of the second
    difference of Y along 0, 45, 90 and 135 degrees (DN^2; diagonal differences divided by 2 for
    their sqrt(2) pixel pitch). The Laplacian variance is blind to the direction of blur: motion
    blur leaves the edges across the motion intact and the Laplacian variance high, while the
    recognizer loses the detail along it. The combined score uses this measure.
``mean_luminance``, ``dark_clipped``, ``bright_clipped``
    Mean of Y / 255 over the face region, and the shares of its pixels at Y <= 2 and Y >= 253 DN.
``contrast``
    RMS contrast: the standard deviation of Y / 255 over the face region (0..0.5).
``noise``
    Standard deviation of the noise in Y (DN) at the native resolution, by Immerkaer's estimator:
    ``sqrt(pi / 2) / (6 (W - 2) (H - 2)) * sum |Y * M|`` with ``M = [[1, -2, 1], [-2, 4, -2],
    [1, -2, 1]]`` (a mask blind to linear shading). Noise also raises the Laplacian variance; this
    component keeps a noisy photo from passing as a sharp one.
``inter_eye_distance``
    Pixels between the eye centres (from landmarks or ``eyes=``); ``None`` without eyes.
``yaw_proxy``
    Signed offset of the nose landmark from the eye midpoint along the eye line, in IED (0 =
    frontal; about +-0.2 at 30 degrees of yaw for a typical face). Needs landmarks with a nose.
``roll``
    Angle of the eye line, degrees counter-clockwise as seen; reported, not scored (alignment
    undoes in-plane rotation).

Combined score
--------------
Each component maps to ``s`` in [0, 1] by a clipped linear ramp, then
``Q = 100 * exp(sum(w_i log max(s_i, 0.01)) / sum(w_i))``, the weighted geometric mean over the
components available::

    sharpness   s = ramp(log10(directional_sharpness), log10(0.3), log10(15))  w = 0.25
    exposure    s = min(ramp(mean_luminance, 0.05, 0.25),
                        ramp(-mean_luminance, -0.95, -0.75),
                        ramp(-(dark_clipped + bright_clipped), -0.25, 0))  w = 0.20
    contrast    s = ramp(contrast, 0.02, 0.12)                          w = 0.10
    noise       s = ramp(-noise, -15, -2)                               w = 0.10
    size        s = ramp(inter_eye_distance, 10, 40)                    w = 0.20
    pose        s = ramp(-abs(yaw_proxy), -0.4, 0)                      w = 0.15

with ``ramp(x, lo, hi) = clip((x - lo) / (hi - lo), 0, 1)``. Components that cannot be measured
(no eyes, no nose) are left out and the weights of the others renormalised. A geometric mean makes
one failed aspect (a black frame, a 6-pixel face) pull the score down whatever the others; the
floor :data:`FLOOR` = 0.01 of each component keeps such photos ordered by their other aspects
(``Q >= 1``), so a quality gate is not left with a large tie at the bottom. The ramps are
engineering choices, not fitted: the EDC shows whether the score predicts errors for a given
system and data.

Examples
--------
>>> import numpy as np
>>> q = measure_quality(np.full((112, 92), 128, np.uint8))
>>> q.contrast, q.components["contrast"], round(q.score, 2)
(0.0, 0.0, 8.38)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from faceaudit.capture.geometry import (
    check_eyes,
    eye_centres,
    inter_eye_distance,
    nose_point,
    roll_degrees,
)
from faceaudit.errors import InputError

__all__ = [
    "CANONICAL_SIDE",
    "FLOOR",
    "QUALITY_VERSION",
    "WEIGHTS",
    "ImageQuality",
    "combined_score",
    "measure_quality",
    "quality_key",
]

#: Changes whenever a measure or the combined score changes, so cached measures made by an older
#: implementation are not reused (:func:`quality_key`).
QUALITY_VERSION = 1

#: Side (pixels) the face region is resampled to before the Laplacian.
CANONICAL_SIDE = 128

#: Lowest value a component enters the combined score with (so ``Q >= 100 * FLOOR``).
FLOOR = 0.01

#: Component weights of the combined score.
WEIGHTS: dict[str, float] = {
    "sharpness": 0.25,
    "exposure": 0.20,
    "contrast": 0.10,
    "noise": 0.10,
    "size": 0.20,
    "pose": 0.15,
}


@dataclass(frozen=True)
class ImageQuality:
    """The quality measures of one image (units in the module docstring) and its score."""

    sharpness: float
    directional_sharpness: float
    mean_luminance: float
    dark_clipped: float
    bright_clipped: float
    contrast: float
    noise: float
    inter_eye_distance: float | None
    yaw_proxy: float | None
    roll: float | None
    components: Mapping[str, float] = field(default_factory=dict)
    score: float = 0.0

    def to_json(self) -> dict:
        """``{sharpness, mean_luminance, ..., components: {name: s}, score}``; null if unknown."""

        def r(x):
            return None if x is None else round(float(x), 6)

        return {
            "sharpness": r(self.sharpness),
            "directional_sharpness": r(self.directional_sharpness),
            "mean_luminance": r(self.mean_luminance),
            "dark_clipped": r(self.dark_clipped),
            "bright_clipped": r(self.bright_clipped),
            "contrast": r(self.contrast),
            "noise": r(self.noise),
            "inter_eye_distance": r(self.inter_eye_distance),
            "yaw_proxy": r(self.yaw_proxy),
            "roll": r(self.roll),
            "components": {k: r(v) for k, v in self.components.items()},
            "score": r(self.score),
        }


def quality_key() -> str:
    """A digest of :data:`QUALITY_VERSION` and OpenCV's version (it resamples the region)."""
    import hashlib
    import json

    import cv2

    blob = json.dumps({"quality": QUALITY_VERSION, "opencv": cv2.__version__}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _ramp(x: float, lo: float, hi: float) -> float:
    return float(min(1.0, max(0.0, (x - lo) / (hi - lo))))


def _luma(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.size == 0:
        raise InputError(f"image must be a non-empty uint8 array, got {a.dtype} {a.shape}.")
    if a.ndim == 3 and a.shape[2] == 3:
        return a.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    if a.ndim == 3 and a.shape[2] == 1:
        return a[:, :, 0].astype(np.float64)
    if a.ndim == 2:
        return a.astype(np.float64)
    raise InputError(f"image must be (h, w), (h, w, 1) or (h, w, 3), got shape {a.shape}.")


def _region(y: np.ndarray, eyes, face_box) -> np.ndarray:
    """The face region of the luminance image (clipped to the image; never empty)."""
    h, w = y.shape
    if eyes is not None:
        d = inter_eye_distance(eyes)
        cx, cy = eyes.mean(axis=0) + np.array([0.0, 0.5 * d])
        half = 1.25 * d
        box = (cx - half, cy - half, cx + half, cy + half)
    elif face_box is not None:
        box = tuple(float(v) for v in face_box)
    else:
        return y
    left, top = max(0, int(math.floor(box[0]))), max(0, int(math.floor(box[1])))
    right, bottom = min(w, int(math.ceil(box[2]))), min(h, int(math.ceil(box[3])))
    if right - left < 2 or bottom - top < 2:
        return y
    return y[top:bottom, left:right]


def _sharpness(region: np.ndarray) -> tuple[float, float]:
    """Laplacian variance and least directional second-difference variance, at 128 x 128."""
    import cv2

    h, w = region.shape
    side = CANONICAL_SIDE
    interp = cv2.INTER_AREA if min(h, w) >= side else cv2.INTER_LINEAR
    c = cv2.resize(region.astype(np.float32), (side, side), interpolation=interp)
    c = c.astype(np.float64)
    lap = cv2.Laplacian(c, cv2.CV_64F, ksize=1, borderType=cv2.BORDER_REFLECT_101)
    mid = c[1:-1, 1:-1]
    second = (
        c[1:-1, 2:] - 2 * mid + c[1:-1, :-2],  # along x
        c[2:, 1:-1] - 2 * mid + c[:-2, 1:-1],  # along y
        (c[2:, 2:] - 2 * mid + c[:-2, :-2]) / 2.0,  # along the diagonal
        (c[2:, :-2] - 2 * mid + c[:-2, 2:]) / 2.0,  # along the anti-diagonal
    )
    return float(lap.var()), float(min(d.var() for d in second))


def _noise_sigma(region: np.ndarray) -> float:
    """Immerkaer (1996) fast noise estimate, DN; 0 for regions smaller than 3 x 3."""
    h, w = region.shape
    if h < 3 or w < 3:
        return 0.0
    r = region
    conv = (
        r[:-2, :-2]
        - 2 * r[:-2, 1:-1]
        + r[:-2, 2:]
        - 2 * r[1:-1, :-2]
        + 4 * r[1:-1, 1:-1]
        - 2 * r[1:-1, 2:]
        + r[2:, :-2]
        - 2 * r[2:, 1:-1]
        + r[2:, 2:]
    )
    return float(math.sqrt(math.pi / 2.0) * np.abs(conv).sum() / (6.0 * (w - 2) * (h - 2)))


def combined_score(components: Mapping[str, float]) -> float:
    """``100 x`` the weighted geometric mean of the component scores, each floored at FLOOR."""
    used = {k: max(float(v), FLOOR) for k, v in components.items() if k in WEIGHTS}
    if not used:
        return 0.0
    total = sum(WEIGHTS[k] for k in used)
    return float(100.0 * math.exp(sum(WEIGHTS[k] * math.log(v) for k, v in used.items()) / total))


def measure_quality(
    image: np.ndarray,
    *,
    landmarks=None,
    layout: str | None = None,
    eyes=None,
    face_box=None,
) -> ImageQuality:
    """The quality measures and combined score of one image.

    Parameters
    ----------
    image : ndarray of uint8, shape (h, w), (h, w, 1) or (h, w, 3)
    landmarks : array-like (k, 2), optional
        The recognizer's landmarks (``Representation.face.landmarks``), with ``layout``.
    layout : {"dlib5", "five", "dlib68"}, optional
        Landmark layout (:func:`faceaudit.capture.geometry.layout_for_model`).
    eyes : array-like (2, 2), optional
        Eye centres, when no landmarks are given (no pose measure then).
    face_box : (left, top, right, bottom), optional
        The face region when no eyes are known.

    Returns
    -------
    ImageQuality
    """
    y = _luma(image)
    nose = None
    if landmarks is not None:
        if layout is None:
            raise InputError("landmarks need their layout (layout='dlib5', 'five' or 'dlib68').")
        eyes = eye_centres(landmarks, layout)
        nose = nose_point(landmarks, layout)
    e = None if eyes is None else check_eyes(eyes)
    region = _region(y, e, face_box)
    sharp, directional = _sharpness(region)
    mean = float(region.mean() / 255.0)
    dark = float((region <= 2.0).mean())
    bright = float((region >= 253.0).mean())
    contrast = float(region.std() / 255.0)
    noise = _noise_sigma(region)
    comp = {
        "sharpness": _ramp(math.log10(max(directional, 1e-12)), math.log10(0.3), math.log10(15.0)),
        "exposure": min(
            _ramp(mean, 0.05, 0.25), _ramp(-mean, -0.95, -0.75), _ramp(-(dark + bright), -0.25, 0.0)
        ),
        "contrast": _ramp(contrast, 0.02, 0.12),
        "noise": _ramp(-noise, -15.0, -2.0),
    }
    ied = yaw = roll = None
    if e is not None:
        ied = inter_eye_distance(e)
        roll = roll_degrees(e)
        comp["size"] = _ramp(ied, 10.0, 40.0)
        if nose is not None:
            u = (e[1] - e[0]) / ied
            yaw = float(np.dot(nose - e.mean(axis=0), u) / ied)
            comp["pose"] = _ramp(-abs(yaw), -0.4, 0.0)
    return ImageQuality(
        sharp,
        directional,
        mean,
        dark,
        bright,
        contrast,
        noise,
        ied,
        yaw,
        roll,
        comp,
        combined_score(comp),
    )
