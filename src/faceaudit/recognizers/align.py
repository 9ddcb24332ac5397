"""Face alignment: a similarity transform from detected landmarks onto a canonical template.

A similarity transform (rotation, uniform scale, translation; no reflection, no shear) keeps a
face's proportions, so identity cues are not distorted; it is fitted to the five landmarks (eye
centres, nose tip, mouth corners) by least squares (Umeyama 1991), in closed form: deterministic,
with no random sampling.

Coordinates are pixels, ``(x, y)`` with ``x`` to the right and ``y`` down, origin at the centre
of the top-left pixel (OpenCV's convention).

References
----------
S. Umeyama, "Least-squares estimation of transformation parameters between two point patterns",
IEEE TPAMI 13(4), 1991.
J. Deng et al., "ArcFace: Additive Angular Margin Loss for Deep Face Recognition", CVPR 2019 (the
112 x 112 five-point template used by InsightFace models).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ARCFACE_112",
    "LANDMARK_NAMES",
    "apply_transform",
    "similarity_transform",
    "template_points",
    "warp_to_template",
]

#: Order of the five landmarks everywhere in faceaudit (subject's left eye is on the image right).
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")

#: InsightFace's ArcFace template for a 112 x 112 crop, in :data:`LANDMARK_NAMES` order (image-left
#: eye first, as MTCNN reports them).
ARCFACE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)


def template_points(name: str | np.ndarray | list, size: tuple[int, int] | int) -> np.ndarray:
    """Five template points for a crop of ``size`` pixels.

    Parameters
    ----------
    name : "arcface" or array-like of shape (5, 2)
        ``"arcface"``: :data:`ARCFACE_112` scaled by ``min(w, h) / 112`` and centred in the crop.
        An array is taken as given (already in the crop's pixels).
    size : int or (width, height)

    Returns
    -------
    ndarray, float64, shape (5, 2)
    """
    w, h = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if isinstance(name, str):
        if name != "arcface":
            raise ValueError(f"unknown alignment template {name!r}; use 'arcface' or 5 points")
        s = min(w, h) / 112.0
        return ARCFACE_112 * s + np.array([(w - 112.0 * s) / 2.0, (h - 112.0 * s) / 2.0])
    pts = np.asarray(name, dtype=np.float64)
    if pts.shape != (5, 2) or not np.isfinite(pts).all():
        raise ValueError(f"an alignment template must be 5 finite (x, y) points, got {pts.shape}")
    return pts


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform taking points ``src`` onto ``dst``.

    Parameters
    ----------
    src, dst : array-like, shape (k, 2), k >= 2
        Corresponding points (e.g. detected landmarks and a template).

    Returns
    -------
    ndarray, float64, shape (2, 3)
        ``M`` with ``dst ~ src @ M[:, :2].T + M[:, 2]``; ``M[:, :2] = s R`` with ``R`` a proper
        rotation (``det R = +1``) and ``s > 0``. Exact when ``dst`` is a similarity image of
        ``src``.

    Raises
    ------
    ValueError
        Mismatched shapes, non-finite points, or ``src`` points that all coincide.

    Notes
    -----
    Umeyama (1991): with centred point sets ``P`` (src) and ``Q`` (dst), ``Sigma = Q^T P / k``
    ``= U D V^T``; ``R = U S V^T`` with ``S = diag(1, sign(det U det V))``;
    ``s = trace(D S) / var(P)``; ``t = mean(Q) - s R mean(P)``.

    Examples
    --------
    >>> src = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> M = similarity_transform(src, 2 * src + [3, 4])
    >>> np.round(M, 12)
    array([[2., 0., 3.],
           [0., 2., 4.]])
    """
    p = np.asarray(src, dtype=np.float64)
    q = np.asarray(dst, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape != q.shape or p.shape[0] < 2:
        raise ValueError(f"need two (k, 2) arrays with k >= 2, got {p.shape} and {q.shape}")
    if not (np.isfinite(p).all() and np.isfinite(q).all()):
        raise ValueError("landmarks must be finite")
    k = p.shape[0]
    mp, mq = p.mean(axis=0), q.mean(axis=0)
    pc, qc = p - mp, q - mq
    var_p = float((pc**2).sum() / k)
    if var_p <= 1e-12:
        raise ValueError("the source points coincide; no transform is defined")
    sigma = qc.T @ pc / k
    u, d, vt = np.linalg.svd(sigma)
    s_fix = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        s_fix[1] = -1.0
    rot = u @ np.diag(s_fix) @ vt
    scale = float((d * s_fix).sum() / var_p)
    t = mq - scale * rot @ mp
    return np.hstack([scale * rot, t[:, None]])


def apply_transform(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map points ``(k, 2)`` with a 2 x 3 affine matrix."""
    pts = np.asarray(points, dtype=np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def warp_to_template(
    image: np.ndarray,
    landmarks: np.ndarray,
    template: np.ndarray,
    size: tuple[int, int],
) -> np.ndarray:
    """Crop an aligned face: warp ``image`` so that ``landmarks`` land on ``template``.

    Parameters
    ----------
    image : ndarray, uint8, shape (h, w, 3)
    landmarks : ndarray, shape (5, 2)
        Detected points in ``image`` pixels, in :data:`LANDMARK_NAMES` order.
    template : ndarray, shape (5, 2)
        Where they go in the crop (see :func:`template_points`).
    size : (width, height)
        Crop size in pixels.

    Returns
    -------
    ndarray, uint8, shape (height, width, 3)
        Bilinear interpolation; pixels from outside the image are black.
    """
    import cv2

    m = similarity_transform(landmarks, template)
    w, h = int(size[0]), int(size[1])
    return cv2.warpAffine(
        image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
