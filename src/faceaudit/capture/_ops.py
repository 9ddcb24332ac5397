"""The image operations behind each degradation (see :mod:`faceaudit.capture.degrade`).

Every operation takes a float32 image of shape ``(h, w, c)`` holding 8-bit values (0..255), its
validated parameters, the eye centres (``(2, 2)`` or None), a seeded generator and the face box,
and returns the new image (same value range; rounding to ``uint8`` happens once, in ``apply``) and
the eye centres moved with it (geometric operations) or unchanged.

Borders: filters and warps reflect the image about its edge pixels (OpenCV ``BORDER_REFLECT_101``),
so no dark frame appears that a detector could mistake for an edge.
"""

from __future__ import annotations

import io
import math

import numpy as np

from faceaudit.capture.geometry import eyes_from_box, inter_eye_distance

_BORDER = 4  # cv2.BORDER_REFLECT_101, without importing cv2 at module import
_SUPERSAMPLE = 8  # sub-pixel samples per pixel side when drawing kernels


# ---------------------------------------------------------------------------------------------
# Point-spread functions
# ---------------------------------------------------------------------------------------------


def disc_kernel(radius: float) -> np.ndarray:
    """A uniform disc PSF of ``radius`` pixels, each cell weighted by its covered area.

    Coverage is measured on an 8 x 8 sub-pixel grid, so a fractional radius gives a kernel between
    the two neighbouring whole ones. Sums to 1.
    """
    half = int(math.ceil(radius - 0.5)) if radius > 0.5 else 0
    n = 2 * half + 1
    s = _SUPERSAMPLE
    offs = (np.arange(n * s) + 0.5) / s - (n / 2.0)
    xx, yy = np.meshgrid(offs, offs)
    inside = (xx**2 + yy**2) <= radius**2
    k = inside.reshape(n, s, n, s).sum(axis=(1, 3)).astype(np.float64)
    if k.sum() == 0:  # radius below the sub-pixel pitch: the identity
        k[half, half] = 1.0
    return k / k.sum()


def line_kernel(length: float, angle: float) -> np.ndarray:
    """A linear-motion PSF: a segment of ``length`` pixels at ``angle`` degrees, centred.

    The segment is sampled every 1/8 pixel and each sample spread bilinearly over its four
    neighbouring cells (an anti-aliased line). ``angle`` is counter-clockwise from the image's x
    axis as seen (y points down, so the direction vector is ``(cos a, -sin a)``). Sums to 1.
    """
    half = int(math.ceil(length / 2.0)) + 1
    n = 2 * half + 1
    k = np.zeros((n, n), dtype=np.float64)
    m = max(2, int(math.ceil(length * _SUPERSAMPLE)))
    t = ((np.arange(m) + 0.5) / m - 0.5) * length
    a = math.radians(angle)
    x = half + t * math.cos(a)
    y = half - t * math.sin(a)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    for dx, dy, w in (
        (0, 0, (1 - fx) * (1 - fy)),
        (1, 0, fx * (1 - fy)),
        (0, 1, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        np.add.at(k, (y0 + dy, x0 + dx), w)
    return k / k.sum()


def _filter(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    import cv2

    out = cv2.filter2D(img, cv2.CV_32F, kernel.astype(np.float32), borderType=_BORDER)
    return out.reshape(img.shape)


def defocus(img, p, eyes, rng, box):
    r = p["radius"]
    if r == 0:
        return img, eyes
    if p["kernel"] == "disc":
        return _filter(img, disc_kernel(r)), eyes
    import cv2

    sigma = r / 2.0  # the Gaussian with the disc's second moment (E[x^2] = r^2 / 4)
    k = 2 * int(math.ceil(3.0 * sigma)) + 1
    out = cv2.GaussianBlur(img, (k, k), sigma, sigmaY=sigma, borderType=_BORDER)
    return out.reshape(img.shape), eyes


def motion(img, p, eyes, rng, box):
    if p["length"] == 0:
        return img, eyes
    return _filter(img, line_kernel(p["length"], p["angle"])), eyes


# ---------------------------------------------------------------------------------------------
# Resolution and compression
# ---------------------------------------------------------------------------------------------


def downscale(img, p, eyes, rng, box):
    """Resample (area averaging, as sensor pixels integrate light) to the target eye distance."""
    import cv2

    h, w = img.shape[:2]
    factor = p["ied"] / inter_eye_distance(eyes)
    if factor >= 1.0:  # never enlarges: a closer face cannot be made from a far one
        return img, eyes
    nw, nh = max(1, round(w * factor)), max(1, round(h * factor))
    small = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA).reshape(nh, nw, -1)
    if p["restore"]:
        big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, -1)
        return big, eyes
    scale = np.array([nw / w, nh / h])
    return small, (eyes + 0.5) * scale - 0.5  # pixel-centre convention


def encode_jpeg(image: np.ndarray, quality: int, *, subsampling: str = "4:2:0") -> bytes:
    """JPEG bytes of a ``uint8`` image (greyscale 2-D or ``(h, w, 1)``: one channel; RGB: YCbCr).

    Encoded by Pillow (libjpeg), baseline, no optimisation pass, no metadata: the same bytes for
    the same image, quality and library version.
    """
    from PIL import Image

    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    buf = io.BytesIO()
    if a.ndim == 2:
        Image.fromarray(a, mode="L").save(buf, "JPEG", quality=int(quality))
    else:
        sub = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}[subsampling]
        Image.fromarray(a, mode="RGB").save(buf, "JPEG", quality=int(quality), subsampling=sub)
    return buf.getvalue()


def jpeg(img, p, eyes, rng, box):
    from PIL import Image

    u8 = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    data = encode_jpeg(u8, p["quality"], subsampling=p["subsampling"])
    with Image.open(io.BytesIO(data)) as im:
        out = np.asarray(im, dtype=np.float32)
    return out.reshape(img.shape), eyes


# ---------------------------------------------------------------------------------------------
# Exposure and noise
# ---------------------------------------------------------------------------------------------


def exposure(img, p, eyes, rng, box):
    """Scale the linear light by ``2**ev``: decode with the power law, scale, clip, re-encode."""
    if p["ev"] == 0:
        return img, eyes
    g = p["gamma"]
    lin = np.power(img.astype(np.float64) / 255.0, g) * (2.0 ** p["ev"])
    out = np.power(np.clip(lin, 0.0, 1.0), 1.0 / g) * 255.0
    return out.astype(np.float32), eyes


def noise(img, p, eyes, rng, box):
    """Poisson-Gaussian noise in DN: ``var(v) = a v + b`` with ``a v_ref + b = sigma^2``."""
    sigma = p["sigma"]
    if sigma == 0:
        return img, eyes
    v = img.astype(np.float64)
    var_ref = sigma * sigma
    a = p["shot"] * var_ref / p["level"]  # DN per photo-electron
    b = (1.0 - p["shot"]) * var_ref  # read-noise variance, DN^2
    if a > 0:
        out = a * rng.poisson(np.maximum(v, 0.0) / a).astype(np.float64)
    else:
        out = v.copy()
    if b > 0:
        out += rng.normal(0.0, math.sqrt(b), size=v.shape)
    return np.clip(out, 0.0, 255.0).astype(np.float32), eyes


# ---------------------------------------------------------------------------------------------
# Occlusion and rotation
# ---------------------------------------------------------------------------------------------


def _face_frame(img, eyes, box):
    """Eye midpoint, unit vector along the eye line, unit vector down the face, eye distance."""
    if eyes is None:
        h, w = img.shape[:2]
        eyes = eyes_from_box(box if box is not None else (0.0, 0.0, float(w), float(h)))
    mid = eyes.mean(axis=0)
    d = inter_eye_distance(eyes)
    u = (eyes[1] - eyes[0]) / d
    down = np.array([-u[1], u[0]])
    return mid, u, down, d


def _fill_band(img, mid, u, down, d, across, along, value):
    """Fill the rectangle ``across`` (x from the midpoint, IED) by ``along`` (y below it, IED)."""
    import cv2

    corners = [
        mid + d * (x * u + y * down)
        for x, y in ((across[0], along[0]), (across[1], along[0]), (across[1], along[1]))
    ]
    corners.append(mid + d * (across[0] * u + along[1] * down))
    shift = 4  # sub-pixel vertex precision: 1/16 pixel
    pts = np.rint(np.array(corners) * (1 << shift)).astype(np.int32)
    mask = np.zeros(img.shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(mask, pts, 1, lineType=cv2.LINE_8, shift=shift)
    out = img.copy()
    out[mask.astype(bool)] = np.float32(value)
    return out


def mask(img, p, eyes, rng, box):
    mid, u, down, d = _face_frame(img, eyes, box)
    half = p["width"] / 2.0
    out = _fill_band(img, mid, u, down, d, (-half, half), (p["top"], p["top"] + 2.2), p["value"])
    return out, eyes


def sunglasses(img, p, eyes, rng, box):
    mid, u, down, d = _face_frame(img, eyes, box)
    half_w, half_h = p["width"] / 2.0, p["height"] / 2.0
    out = _fill_band(img, mid, u, down, d, (-half_w, half_w), (-half_h, half_h), p["value"])
    return out, eyes


def rotate(img, p, eyes, rng, box):
    """Rotate ``angle`` degrees counter-clockwise (as seen) about the eye midpoint or the centre."""
    import cv2

    if p["angle"] == 0:
        return img, eyes
    h, w = img.shape[:2]
    centre = eyes.mean(axis=0) if eyes is not None else np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), p["angle"], 1.0)
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=_BORDER)
    moved = None if eyes is None else eyes @ m[:, :2].T + m[:, 2]
    return out.reshape(img.shape), moved
