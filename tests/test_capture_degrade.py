"""Capture degradations: deterministic for a seed, in the physical units they claim, validated."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from capture_images import EYES, texture
from faceaudit.capture import geometry
from faceaudit.capture._ops import disc_kernel, line_kernel
from faceaudit.capture.degrade import (
    DEGRADATIONS,
    Degradation,
    apply,
    apply_chain,
    chain_key,
    encode_jpeg,
    parse_chain,
    parse_degradation,
    track_eyes,
)
from faceaudit.capture.profiles import PROFILES, get_profile
from faceaudit.errors import InputError


def lap_var(img: np.ndarray) -> float:
    grey = img if img.ndim == 2 else img.mean(axis=2)
    return float(cv2.Laplacian(grey.astype(np.float64), cv2.CV_64F).var())


SAMPLES = {
    "defocus": {"radius": 2.5},
    "motion": {"length": 7, "angle": 30},
    "downscale": {"ied": 16},
    "jpeg": {"quality": 30},
    "exposure": {"ev": -2},
    "noise": {"sigma": 8},
    "mask": {},
    "sunglasses": {},
    "rotate": {"angle": 12},
}


def test_every_registered_degradation_has_a_sample_here():
    assert set(SAMPLES) == set(DEGRADATIONS)


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("shape", [(112, 92), (112, 92, 1), (112, 92, 3)])
def test_deterministic_layout_preserved_input_untouched(name, shape):
    img = texture(shape)
    before = img.copy()
    spec = Degradation(name, SAMPLES[name])
    a = apply(img, spec, eyes=EYES, seed=7)
    b = apply(img, spec, eyes=EYES, seed=7)
    assert np.array_equal(a, b)
    assert np.array_equal(img, before)
    assert a.dtype == np.uint8 and a.ndim == img.ndim and a.flags.c_contiguous
    if img.ndim == 3:
        assert a.shape[2] == img.shape[2]
    if name != "downscale":
        assert a.shape == img.shape
    assert not np.array_equal(a, img)  # each sample really changes the image
    other = apply(img, spec, eyes=EYES, seed=8)
    assert np.array_equal(a, other) == (name != "noise")  # only noise draws random numbers


@pytest.mark.parametrize("kernel", ["disc", "gaussian"])
def test_defocus_lowers_laplacian_variance_monotonically(kernel):
    img = texture()
    radii = [0, 0.5, 1, 1.5, 2, 3, 4, 6, 8]
    v = [
        lap_var(apply(img, Degradation("defocus", {"radius": r, "kernel": kernel}), seed=0))
        for r in radii
    ]
    assert v[0] == lap_var(img)
    assert all(b < a for a, b in zip(v[1:], v[2:], strict=False)), v
    assert v[-1] < 0.05 * v[0]


def test_motion_lowers_laplacian_variance_monotonically():
    img = texture()
    v = [
        lap_var(apply(img, Degradation("motion", {"length": n, "angle": 20}), seed=0))
        for n in (0, 2, 4, 8, 16, 32)
    ]
    assert all(b < a for a, b in zip(v, v[1:], strict=False)), v


def test_point_spread_functions_have_their_physical_size():
    for r in (2.5, 4.0, 6.0, 10.0):
        k = disc_kernel(r)
        assert k.sum() == pytest.approx(1.0)
        n = k.shape[0]
        y, x = np.mgrid[:n, :n] - (n - 1) / 2
        # a uniform disc of radius r has E[x^2] = r^2 / 4; area-weighted cells add 1/12
        assert (k * x**2).sum() == pytest.approx(r * r / 4 + 1 / 12, rel=0.03)
        assert (k * y**2).sum() == pytest.approx((k * x**2).sum())
    for length, angle in ((10.0, 0.0), (10.0, 90.0), (16.0, 30.0)):
        k = line_kernel(length, angle)
        n = k.shape[0]
        y, x = np.mgrid[:n, :n] - (n - 1) / 2
        a = math.radians(angle)
        along = x * math.cos(a) - y * math.sin(a)  # y points down
        across = x * math.sin(a) + y * math.cos(a)
        assert k.sum() == pytest.approx(1.0)
        # a segment of length L has variance L^2 / 12 along it (plus the bilinear spread)
        assert (k * along**2).sum() == pytest.approx(length**2 / 12, rel=0.05)
        assert (k * across**2).sum() < 0.3


def blobs(shape, eyes, sigma=3.0):
    """A dark image with a bright Gaussian blob at each eye."""
    y, x = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    img = np.zeros(shape)
    for ex, ey in eyes:
        img += 250 * np.exp(-((x - ex) ** 2 + (y - ey) ** 2) / (2 * sigma**2))
    return np.clip(img, 0, 255).astype(np.uint8)


def centroids(img):
    a = img.astype(np.float64)
    a = np.where(a > 0.2 * a.max(), a, 0.0)
    y, x = np.mgrid[: a.shape[0], : a.shape[1]]
    half = a.shape[1] / 2
    out = []
    for side in (x < half, x >= half):
        w = a * side
        out.append([(w * x).sum() / w.sum(), (w * y).sum() / w.sum()])
    return np.array(out)


@pytest.mark.parametrize("target", [64, 40, 24, 12, 8])
def test_downscale_gives_the_requested_inter_eye_distance(target):
    eyes = np.array([[110.0, 140.0], [211.0, 146.0]])  # IED 101.2 px, slightly rolled
    img = blobs((300, 320), eyes, sigma=6.0)
    assert geometry.inter_eye_distance(centroids(img)) == pytest.approx(101.18, abs=0.3)
    spec = Degradation("downscale", {"ied": target})
    out = apply(img, spec, eyes=eyes, seed=0)
    measured = geometry.inter_eye_distance(centroids(out))
    assert abs(measured - target) <= 1.0
    tracked = track_eyes(img.shape, [spec], eyes)
    assert abs(geometry.inter_eye_distance(tracked) - target) <= 0.5
    assert np.abs(tracked - centroids(out)).max() <= 1.0
    restored = apply(img, spec.replace(restore=True), eyes=eyes, seed=0)
    assert restored.shape == img.shape


def test_downscale_needs_eyes_and_never_enlarges():
    img = texture()
    with pytest.raises(InputError, match="needs the eye centres"):
        apply(img, Degradation("downscale", {"ied": 10}), seed=0)
    same = apply(img, Degradation("downscale", {"ied": 200}), eyes=EYES, seed=0)
    assert np.array_equal(same, img)


def test_jpeg_lower_quality_fewer_bytes_larger_error():
    img = texture((112, 92, 3))
    qualities = [95, 75, 50, 25, 10]
    sizes = [len(encode_jpeg(img, q)) for q in qualities]
    assert all(b < a for a, b in zip(sizes, sizes[1:], strict=False)), sizes
    err = [
        np.mean((apply(img, Degradation("jpeg", {"quality": q}), seed=0).astype(float) - img) ** 2)
        for q in qualities
    ]
    assert all(b > a for a, b in zip(err, err[1:], strict=False)), err
    grey = texture()
    assert len(encode_jpeg(grey, 50)) < len(
        encode_jpeg(np.stack([grey] * 3, axis=2), 50, subsampling="4:4:4")
    )


def test_exposure_lowers_mean_luminance_by_the_stops_asked():
    img = texture((112, 92, 3))
    means = [
        apply(img, Degradation("exposure", {"ev": ev}), seed=0).mean()
        for ev in (0, -0.5, -1, -2, -3, -4)
    ]
    assert means[0] == pytest.approx(img.mean())
    assert all(b < a for a, b in zip(means, means[1:], strict=False)), means
    grey = np.full((8, 8), 128, np.uint8)
    one_stop = apply(grey, Degradation("exposure", {"ev": -1}), seed=0)
    # linear light halves: 255 * ((128/255)^2.2 / 2)^(1/2.2) = 128 * 2^(-1/2.2) = 93.4
    assert np.all(one_stop == 93)


@pytest.mark.parametrize("sigma", [2.0, 5.0, 10.0, 20.0])
def test_noise_residual_matches_sigma(sigma):
    flat = np.full((300, 300), 128, np.uint8)
    out = apply(flat, Degradation("noise", {"sigma": sigma}), seed=3)
    resid = out.astype(np.float64) - 128
    expected = math.sqrt(sigma**2 + 1 / 12)  # plus 8-bit rounding
    assert resid.std() == pytest.approx(expected, rel=0.04)
    assert abs(resid.mean()) < 0.1 * sigma


def test_shot_noise_scales_with_the_signal():
    spec = Degradation("noise", {"sigma": 12, "shot": 1.0, "level": 128})
    stds = {}
    for level in (32, 128):
        flat = np.full((300, 300), level, np.uint8)
        stds[level] = (apply(flat, spec, seed=1).astype(float) - level).std()
    # pure photon noise: variance proportional to the signal, so half the std at a quarter signal
    assert stds[128] == pytest.approx(12.0, rel=0.04)
    assert stds[32] == pytest.approx(6.0, rel=0.06)


def test_rotation_by_zero_is_identity_and_rotation_moves_the_eyes():
    img = texture((112, 92, 3))
    assert np.array_equal(apply(img, Degradation("rotate", {"angle": 0}), eyes=EYES, seed=0), img)
    spec = Degradation("rotate", {"angle": 20})
    moved = track_eyes(img.shape, [spec], EYES)
    assert geometry.roll_degrees(moved) == pytest.approx(geometry.roll_degrees(EYES) + 20)
    assert moved.mean(axis=0) == pytest.approx(EYES.mean(axis=0))  # about the eye midpoint
    assert geometry.inter_eye_distance(moved) == pytest.approx(32.0)


def test_occlusions_cover_what_they_name():
    img = np.full((112, 92), 128, np.uint8)
    mid = EYES.mean(axis=0)
    mouth = (int(mid[1] + 1.1 * 32), int(mid[0]))
    eye = (int(EYES[0, 1]), int(EYES[0, 0]))
    m = apply(img, Degradation("mask", {"value": 220}), eyes=EYES, seed=0)
    assert m[mouth] == 220 and m[eye] == 128
    s = apply(img, Degradation("sunglasses", {"value": 10}), eyes=EYES, seed=0)
    assert s[eye] == 10 and s[mouth] == 128
    # without eyes: placed from the face box fractions (here the whole image)
    boxed = apply(img, Degradation("sunglasses", {"value": 10}), seed=0)
    assert boxed[int(0.4 * 112), int(0.3 * 92)] == 10
    # the band turns with the eye line: eyes rotated 90 degrees put the mask to the side
    rolled = np.array([[46.0, 70.0], [46.0, 38.0]])  # eye line pointing up the image
    side = apply(img, Degradation("mask", {"value": 220}), eyes=rolled, seed=0)
    assert side[54, int(46 + 1.1 * 32)] == 220 and side[int(54 + 1.1 * 32) - 1, 46] == 128


@pytest.mark.parametrize(
    "name, params, words",
    [
        ("defocus", {"radius": -1}, "radius=-1"),
        ("defocus", {"radius": "abc"}, "radius='abc'"),
        ("defocus", {"radius": float("nan")}, "radius=nan"),
        ("defocus", {"kernel": "box"}, "kernel='box'"),
        ("jpeg", {"quality": 0}, "quality=0"),
        ("jpeg", {"quality": 50.5}, "whole number"),
        ("exposure", {"ev": 5}, "between -10 and 4 stops"),
        ("noise", {"shot": 1.5}, "shot=1.5"),
        ("downscale", {"restore": "maybe"}, "restore='maybe'"),
        ("motion", {"blur": 3}, "no parameter 'blur'"),
        ("nosuch", {}, "unknown degradation 'nosuch'"),
    ],
)
def test_bad_parameters_raise_one_clear_sentence(name, params, words):
    with pytest.raises(InputError) as exc:
        Degradation(name, params)
    assert words in str(exc.value)
    assert str(exc.value).endswith(".")


def test_bad_images_and_seeds_are_refused():
    spec = Degradation("noise", {"sigma": 2})
    with pytest.raises(InputError, match="uint8"):
        apply(np.zeros((10, 10), np.float32), spec, seed=0)
    with pytest.raises(InputError, match="shape"):
        apply(np.zeros((10, 10, 4), np.uint8), spec, seed=0)
    with pytest.raises(InputError, match="seed"):
        apply(np.zeros((10, 10), np.uint8), spec, seed=-1)
    with pytest.raises(InputError, match="eyes"):
        apply(np.zeros((10, 10), np.uint8), spec, eyes=[[1, 2]], seed=0)


def test_keys_are_stable_canonical_and_round_trip():
    spec = Degradation("defocus", {"radius": 3})
    assert spec.key == "defocus:kernel=disc,radius=3"
    assert spec == Degradation("defocus", {"radius": 3.0}) == parse_degradation(spec.key)
    assert hash(spec) == hash(parse_degradation("defocus : radius = 3.0"))
    assert Degradation("defocus", {"radius": 3.1}).key != spec.key
    assert Degradation.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    assert spec.cache_key != Degradation("defocus", {"radius": 3.1}).cache_key
    chain = (spec, Degradation("jpeg", {"quality": 40}), Degradation("downscale", {"ied": 8.7}))
    assert parse_chain(chain_key(chain)) == chain
    assert chain_key(()) == "" and parse_chain("") == ()
    with pytest.raises(InputError, match="given twice"):
        parse_degradation("defocus:radius=1,radius=2")


def test_profiles_grade_their_conditions_and_scale_lengths():
    for profile in PROFILES.values():
        assert profile.severity(0).steps == ()
        assert profile.max_severity >= 4
        json.dumps(profile.to_json())
    night = get_profile("night-street")
    evs = [
        dict(s.params)["ev"]
        for lvl in range(1, 5)
        for s in night.steps(lvl)
        if s.name == "exposure"
    ]
    assert evs == sorted(evs, reverse=True) and len(evs) == 4
    moving = get_profile("moving-subject")
    lengths = [moving.steps(k)[0]["length"] for k in range(1, 5)]
    assert lengths == sorted(lengths)
    assert moving.steps(3, ied=128)[0]["length"] == pytest.approx(2 * lengths[2])
    far = get_profile("far-away")
    ieds = [far.steps(k)[0]["ied"] for k in range(1, far.max_severity + 1)]
    assert ieds == sorted(ieds, reverse=True)
    assert far.steps(2, ied=300)[0]["ied"] == ieds[1]  # targets are absolute
    with pytest.raises(InputError, match="severity=9"):
        far.steps(9)
    with pytest.raises(InputError, match="unknown capture profile"):
        get_profile("rainy")


def test_profiles_apply_at_every_severity():
    img = texture((112, 92, 3))
    for profile in PROFILES.values():
        prev = None
        for level in range(profile.max_severity + 1):
            out = apply_chain(img, profile.steps(level, ied=32), eyes=EYES, seed=5)
            assert out.dtype == np.uint8 and out.shape[2] == 3
            if level == 0:
                assert np.array_equal(out, img)
            elif prev is not None and out.shape == prev.shape:
                assert not np.array_equal(out, prev)
            prev = out
