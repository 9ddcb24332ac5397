"""Synthetic images shared by the capture and quality tests (no face data needed)."""

from __future__ import annotations

import cv2
import numpy as np

#: Eye centres for a 92 x 112 image, image-left eye first: 32 px apart, level.
EYES = np.array([[30.0, 52.0], [62.0, 52.0]])


def texture(shape=(112, 92), seed=0) -> np.ndarray:
    """A deterministic image with detail at every scale (smoothed noise plus edges)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(128, 60, size=shape[:2]).astype(np.float32)
    a = cv2.GaussianBlur(a, (0, 0), 1.0) + cv2.GaussianBlur(a, (0, 0), 4.0)
    a[::16, :] += 60
    out = np.clip(a / 2 + 64, 0, 255).astype(np.uint8)
    if len(shape) == 3:
        out = np.stack([out, np.roll(out, 3, axis=1), out[::-1]], axis=2)
    return out
