"""Alignment on synthetic landmark sets: the similarity fit, templates and the warp."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faceaudit.recognizers.align import (
    ARCFACE_112,
    apply_transform,
    similarity_transform,
    template_points,
    warp_to_template,
)


def _similarity(angle: float, scale: float, tx: float, ty: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[scale * c, -scale * s, tx], [scale * s, scale * c, ty]])


def test_doc_example_pure_scale_and_shift():
    src = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    m = similarity_transform(src, 2 * src + [3, 4])
    np.testing.assert_allclose(m, [[2, 0, 3], [0, 2, 4]], atol=1e-12)


def test_quarter_turn_by_hand():
    # (1,0) -> (0,1) and (0,1) -> (-1,0): a 90 degree rotation, no scale, no shift.
    src = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    dst = np.array([[0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [1.0, 0.0]])
    np.testing.assert_allclose(similarity_transform(src, dst), [[0, -1, 0], [1, 0, 0]], atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    angle=st.floats(-math.pi, math.pi),
    scale=st.floats(0.05, 20.0),
    tx=st.floats(-500, 500),
    ty=st.floats(-500, 500),
    jitter=st.lists(st.floats(-15, 15), min_size=10, max_size=10),
)
def test_exact_similarity_is_recovered(angle, scale, tx, ty, jitter):
    # landmarks: the ArcFace template moved about (a non-degenerate, face-like set)
    src = ARCFACE_112 + np.reshape(jitter, (5, 2))
    truth = _similarity(angle, scale, tx, ty)
    dst = apply_transform(truth, src)
    m = similarity_transform(src, dst)
    np.testing.assert_allclose(m, truth, rtol=1e-9, atol=1e-7 * max(1.0, abs(tx), abs(ty)))
    np.testing.assert_allclose(apply_transform(m, src), dst, atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), noise=st.floats(0.1, 5.0))
def test_least_squares_matches_linear_solution(seed, noise):
    # Independent formulation: x' = a x - b y + tx, y' = b x + a y + ty is linear in (a, b, tx,
    # ty); its least-squares solution is the optimal similarity (Umeyama's closed form must agree).
    rng = np.random.default_rng(seed)
    src = ARCFACE_112 + rng.normal(0, 3, (5, 2))
    dst = apply_transform(_similarity(rng.uniform(-1, 1), rng.uniform(0.5, 3), 20, -10), src)
    dst = dst + rng.normal(0, noise, dst.shape)
    rows = []
    rhs = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows += [[x, -y, 1, 0], [y, x, 0, 1]]
        rhs += [u, v]
    (a, b, tx, ty), *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    expected = np.array([[a, -b, tx], [b, a, ty]])
    np.testing.assert_allclose(similarity_transform(src, dst), expected, atol=1e-8)


def test_mirror_image_gives_a_rotation_never_a_reflection():
    src = ARCFACE_112.copy()
    mirrored = src * [-1, 1]
    m = similarity_transform(src, mirrored)
    assert np.linalg.det(m[:, :2]) > 0


@pytest.mark.parametrize(
    "src",
    [np.zeros((5, 2)), np.ones((5, 2)) * 7.0],
)
def test_coincident_points_are_refused(src):
    with pytest.raises(ValueError, match="coincide"):
        similarity_transform(src, ARCFACE_112)


def test_bad_shapes_and_nan_are_refused():
    with pytest.raises(ValueError):
        similarity_transform(np.zeros((5, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError):
        similarity_transform(np.full((5, 2), np.nan), ARCFACE_112)


def test_templates():
    np.testing.assert_allclose(template_points("arcface", 112), ARCFACE_112)
    np.testing.assert_allclose(template_points("arcface", 224), ARCFACE_112 * 2)
    np.testing.assert_allclose(template_points("arcface", (160, 160)), ARCFACE_112 * 160 / 112)
    # non-square: scaled by the short side and centred horizontally
    np.testing.assert_allclose(template_points("arcface", (132, 112)), ARCFACE_112 + [10, 0])
    with pytest.raises(ValueError):
        template_points("nope", 112)
    with pytest.raises(ValueError):
        template_points([[0, 0]] * 4, 112)


def test_warp_puts_landmarks_on_the_template():
    # Draw five bright dots where a rotated, scaled, shifted face's landmarks are; after the warp
    # they must sit on the template (to interpolation accuracy).
    template = template_points("arcface", 160)
    truth = _similarity(0.4, 1.7, 60.0, 25.0)  # template -> image
    landmarks = apply_transform(truth, template)
    image = np.zeros((400, 420, 3), dtype=np.uint8)
    for x, y in landmarks:
        xi, yi = round(x), round(y)
        image[yi - 1 : yi + 2, xi - 1 : xi + 2] = 255
    landmarks_drawn = np.round(landmarks)
    chip = warp_to_template(image, landmarks_drawn, template, (160, 160))
    assert chip.shape == (160, 160, 3) and chip.dtype == np.uint8
    grey = chip[:, :, 0].astype(float)
    for tx, ty in template:
        x0, y0 = int(tx) - 6, int(ty) - 6
        win = grey[y0 : y0 + 13, x0 : x0 + 13]
        yy, xx = np.mgrid[0:13, 0:13]
        cx = (win * xx).sum() / win.sum() + x0
        cy = (win * yy).sum() / win.sum() + y0
        assert abs(cx - tx) < 1.0 and abs(cy - ty) < 1.0


def test_warp_outside_the_image_is_black():
    image = np.full((50, 50, 3), 200, dtype=np.uint8)
    template = template_points("arcface", 112)
    landmarks = template + 30  # a pure shift: chip (x, y) shows image (x + 30, y + 30)
    chip = warp_to_template(image, landmarks, template, (112, 112))
    assert chip[5, 5].tolist() == [200, 200, 200]  # image (35, 35)
    assert chip[100, 100].tolist() == [0, 0, 0]  # image (130, 130): outside
