"""Built-in quality measures: each responds to the condition it names; the score is bounded."""

from __future__ import annotations

import json

import numpy as np
import pytest

from capture_images import EYES, texture
from faceaudit.capture.degrade import Degradation, apply
from faceaudit.capture.quality import WEIGHTS, combined_score, measure_quality
from faceaudit.errors import InputError

# dlib5 landmarks matching EYES: image-right eye corners, image-left eye corners, nose base
DLIB5 = np.array([[69.0, 52.0], [55.0, 52.0], [23.0, 52.0], [37.0, 52.0], [46.0, 78.0]])


def test_sharpness_falls_with_blur_and_face_size_normalises_it():
    img = texture((112, 92, 3))
    s = [
        measure_quality(
            apply(img, Degradation("defocus", {"radius": r}), seed=0), eyes=EYES
        ).sharpness
        for r in (0, 1, 2, 4)
    ]
    assert all(b < a for a, b in zip(s, s[1:], strict=False)), s
    # the same face at twice the resolution (region resampled to 128 px) reads about as sharp
    import cv2

    big = cv2.resize(img, (184, 224), interpolation=cv2.INTER_CUBIC)
    q_big = measure_quality(big, eyes=EYES * 2 + 0.5)
    assert q_big.sharpness == pytest.approx(s[0], rel=0.5)


def test_directional_sharpness_sees_motion_blur_the_laplacian_misses():
    img = texture((112, 92, 3))
    q0 = measure_quality(img, eyes=EYES)
    qs = [
        measure_quality(apply(img, Degradation("motion", {"length": n}), seed=0), eyes=EYES)
        for n in (4, 8, 16)
    ]
    d = [q.directional_sharpness for q in qs]
    assert d[0] > d[1] > d[2]
    lap_ratio = qs[1].sharpness / q0.sharpness
    dir_ratio = qs[1].directional_sharpness / q0.directional_sharpness
    assert dir_ratio < lap_ratio / 3  # motion kills one direction, not the Laplacian
    assert qs[1].components["sharpness"] < 0.5 * q0.components["sharpness"]


def test_exposure_contrast_and_noise_measures():
    img = texture((112, 92, 3))
    q0 = measure_quality(img, eyes=EYES)
    exposure = [
        measure_quality(apply(img, Degradation("exposure", {"ev": ev}), seed=0), eyes=EYES)
        for ev in (-1, -3, -4, -5, -6)
    ]
    means = [q.mean_luminance for q in exposure]
    assert all(b < a for a, b in zip([q0.mean_luminance] + means, means, strict=False))
    # the ramp is flat inside 0.25..0.75 of full scale, then falls with each stop darker
    scores = [q.components["exposure"] for q in exposure]
    assert scores[0] == scores[1] == 1.0 and scores[2] > scores[3] > scores[4] > 0
    black = measure_quality(np.zeros((112, 92), np.uint8))
    assert black.dark_clipped == 1.0 and black.score < 3.0
    flat = np.full((200, 200), 128, np.uint8)
    assert measure_quality(flat).contrast == 0.0
    noisy = apply(flat, Degradation("noise", {"sigma": 6}), seed=1)
    # Immerkaer's estimator on a flat image recovers the noise sigma
    assert measure_quality(noisy).noise == pytest.approx(6.0, rel=0.08)
    assert measure_quality(flat).noise == 0.0


def test_geometry_from_landmarks():
    img = texture((112, 92, 3))
    q = measure_quality(img, landmarks=DLIB5, layout="dlib5")
    assert q.inter_eye_distance == pytest.approx(32.0)
    assert q.roll == pytest.approx(0.0)
    assert q.yaw_proxy == pytest.approx(0.0)
    turned = DLIB5.copy()
    turned[4, 0] += 8.0  # nose 8 px towards the image-right eye: a quarter IED
    qt = measure_quality(img, landmarks=turned, layout="dlib5")
    assert qt.yaw_proxy == pytest.approx(0.25)
    assert qt.components["pose"] < q.components["pose"]
    small = measure_quality(img, eyes=EYES / 4)
    assert small.components["size"] == 0.0  # 8 px between the eyes
    no_eyes = measure_quality(img)
    assert no_eyes.inter_eye_distance is None and "size" not in no_eyes.components
    with pytest.raises(InputError, match="layout"):
        measure_quality(img, landmarks=DLIB5)
    with pytest.raises(InputError, match="5 finite"):
        measure_quality(img, landmarks=DLIB5[:4], layout="dlib5")


def test_combined_score_formula():
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)
    assert combined_score({k: 1.0 for k in WEIGHTS}) == pytest.approx(100.0)
    assert combined_score({"sharpness": 0.5, "exposure": 0.5}) == pytest.approx(50.0)
    # weighted geometric mean: 100 * 0.25^(0.25/0.45) * 1^(0.20/0.45)
    assert combined_score({"sharpness": 0.25, "exposure": 1.0}) == pytest.approx(
        100 * 0.25 ** (0.25 / 0.45)
    )
    # each component is floored at 0.01, so photos failing one aspect stay ordered by the others
    assert combined_score({"sharpness": 0.0, "exposure": 1.0}) == pytest.approx(
        100 * 0.01 ** (0.25 / 0.45)
    )
    assert combined_score({"sharpness": 0.0, "exposure": 0.5}) < combined_score(
        {"sharpness": 0.0, "exposure": 1.0}
    )
    for r in (0, 1, 3, 8):
        q = measure_quality(
            apply(texture(), Degradation("defocus", {"radius": r}), seed=0),
            landmarks=DLIB5,
            layout="dlib5",
        )
        assert 0.0 <= q.score <= 100.0
        json.dumps(q.to_json(), allow_nan=False)
