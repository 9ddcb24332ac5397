"""Failures to acquire through the pipeline: every bad file lands in the FTA list with its reason.

One run of a pool over a manifest mixing good images in awkward formats (16-bit, CMYK, palette,
greyscale, EXIF-rotated) with broken ones (corrupt, truncated, not an image, a decompression bomb,
no face, too small, floating point, missing). Also: a worker that crashes, a model that raises.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from PIL import Image

from faceaudit.embedding import embed_images
from faceaudit.io.images import read_image
from faceaudit.recognizers.base import Face, ModelInfo, Recognizer

ORL = Path(__file__).resolve().parents[2] / "shared" / "data" / "orl_faces"
needs_orl = pytest.mark.skipif(
    not ORL.is_dir(), reason=f"ORL faces not found at {ORL} (../shared/data is absent)"
)


def _save(path: Path, im: Image.Image, fmt: str, **kw) -> None:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    path.write_bytes(buf.getvalue())


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


@pytest.fixture(scope="module")
def awkward_set(tmp_path_factory):
    """A manifest of awkward but valid faces and of broken files; returns (manifest, expected)."""
    import cv2

    root = tmp_path_factory.mktemp("awkward")
    face = cv2.resize(read_image(ORL / "s1" / "1.pgm")[:, :, 0], (184, 224))  # 2x, greyscale
    grey = Image.fromarray(face)
    expected: dict[str, str] = {}

    def add(name: str, reason: str) -> Path:
        expected[name] = reason
        return root / name

    _save(add("grey.png", "ok"), grey, "PNG")
    _save(add("grey16.png", "ok"), Image.fromarray(face.astype(np.uint16) * 257), "PNG")
    ok, buf = cv2.imencode(".png", np.repeat(face[:, :, None], 3, axis=2).astype(np.uint16) * 257)
    add("rgb48.png", "ok").write_bytes(buf.tobytes())
    _save(add("cmyk.jpg", "ok"), grey.convert("RGB").convert("CMYK"), "JPEG", quality=95)
    _save(add("palette.png", "ok"), grey.convert("P"), "PNG")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display": store the face turned the other way
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(face, 1)))
    _save(add("exif_rotated.jpg", "ok"), stored.convert("RGB"), "JPEG", quality=95, exif=exif)
    png = bytearray((root / "grey.png").read_bytes())
    png[len(png) // 2 : len(png) // 2 + 64] = bytes(64)
    add("corrupt.png", "decode_error").write_bytes(bytes(png))
    jpg = (root / "cmyk.jpg").read_bytes()
    add("truncated.jpg", "decode_error").write_bytes(jpg[: len(jpg) // 2])
    add("not_an_image.jpg", "not_an_image").write_text("this is a text file\n")
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
    bomb += _png_chunk(b"IDAT", zlib.compress(bytes(30001) * 64)) + _png_chunk(b"IEND", b"")
    add("bomb.png", "too_large").write_bytes(bomb)
    _save(add("no_face.png", "no_face"), Image.new("L", (200, 200), 128), "PNG")
    _save(add("tiny.png", "too_small"), Image.new("L", (12, 12), 128), "PNG")
    flt = Image.fromarray(face.astype(np.float32) / 255.0, mode="F")
    _save(add("float.tif", "unsupported"), flt, "TIFF")
    expected["gone.jpg"] = "missing"
    lines = ["path,subject,group"]
    lines += [f"{name},{'a' if k % 2 else 'b'},g{k % 3}" for k, name in enumerate(expected)]
    manifest = root / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest, expected, stored


@needs_orl
@pytest.mark.slow
def test_each_bad_file_lands_in_fta_with_its_reason(awkward_set, tmp_path):
    manifest, expected, _ = awkward_set
    res = embed_images(manifest, model="dlib-resnet", workers=1, cache_dir=tmp_path)
    got = {f.image: f.reason for f in res.failures}
    got.update({s: "ok" for s in res.samples})
    assert got == expected
    assert res.n_images == len(expected)
    # metadata rides along, for embedded rows and for failures
    groups = dict(zip(res.samples, res.metadata["group"], strict=True))
    assert groups["grey.png"] == "g0"
    bomb_group = f"g{list(expected).index('bomb.png') % 3}"
    assert next(f for f in res.failures if f.image == "bomb.png").metadata == {"group": bomb_group}
    # awkward formats give the same face: 16-bit and palette decode to the very same pixels
    emb = dict(zip(res.samples, res.embeddings, strict=True))
    for name in ("grey16.png", "rgb48.png", "palette.png"):
        np.testing.assert_array_equal(emb[name], emb["grey.png"])
    for name in ("cmyk.jpg", "exif_rotated.jpg"):  # JPEG loss only
        assert float(np.dot(emb[name], emb["grey.png"])) > 0.97, name
    # a rerun: no_face / too_small come from the cache, reading failures are found again
    again = embed_images(manifest, model="dlib-resnet", workers=1, cache_dir=tmp_path)
    assert [f.to_json() for f in again.failures] == [f.to_json() for f in res.failures]
    assert again.stats.n_computed == sum(
        r in {"decode_error", "not_an_image", "too_large", "unsupported"} for r in expected.values()
    )


@needs_orl
def test_without_exif_handling_the_rotated_face_is_not_found(awkward_set):
    # shows the EXIF case above is a real test: the stored pixels alone give no face
    from faceaudit.recognizers import load_recognizer

    _, _, stored = awkward_set
    rec = load_recognizer("dlib-resnet")
    with pytest.raises(Exception) as info:
        rec.represent(np.asarray(stored.convert("RGB")))
    assert getattr(info.value, "reason", None) == "no_face"


# -- a model that crashes its worker or raises ---------------------------------------------------


class FlakyModel(Recognizer):
    """A test model: embeds the mean colour; a white image kills the worker, a black one raises."""

    name: ClassVar[str] = "flaky"
    OPTIONS: ClassVar[dict[str, Any]] = {}

    @classmethod
    def describe(cls, *, hash_file=None, **options) -> ModelInfo:
        return ModelInfo("flaky", "1", "0" * 64, 3, {})

    def detect(self, image):
        return [Face((0.0, 0.0, float(image.shape[1]), float(image.shape[0])), 1.0)]

    def landmarks(self, image, face):
        return face

    def align(self, image, face):
        return image

    def embed_aligned(self, chip):
        mean = chip.reshape(-1, 3).mean(axis=0)
        if mean.min() == 255:
            os._exit(3)  # what a segfault in a native library looks like to the parent
        if mean.max() == 0:
            raise RuntimeError("boom")
        return mean + 1.0


class BrokenModel(FlakyModel):
    def __init__(self, **kwargs):
        raise RuntimeError("cannot load weights")


def _colour_folder(root: Path, colours: dict[str, int]) -> Path:
    for name, v in colours.items():
        (root / "s").mkdir(parents=True, exist_ok=True)
        _save(root / "s" / f"{name}.png", Image.new("RGB", (40, 40), (v, v // 2, 10)), "PNG")
    return root


@pytest.mark.slow
def test_a_crashing_worker_costs_one_image_not_the_run(tmp_path):
    white = _colour_folder(tmp_path, {"a": 10, "b": 60, "e": 120, "f": 200, "g": 30})
    Image.new("RGB", (40, 40), (255, 255, 255)).save(white / "s" / "c_white.png")
    Image.new("RGB", (40, 40), (0, 0, 0)).save(white / "s" / "d_black.png")
    res = embed_images(white, model=f"{__name__}:FlakyModel", workers=2, use_cache=False)
    reasons = {f.image: f.reason for f in res.failures}
    assert reasons == {"s/c_white.png": "worker_crash", "s/d_black.png": "embed_error"}
    black = next(f for f in res.failures if f.image == "s/d_black.png")
    assert "RuntimeError: boom" in black.detail
    assert list(res.samples) == ["s/a.png", "s/b.png", "s/e.png", "s/f.png", "s/g.png"]
    expected = np.array([[v + 1.0, v // 2 + 1.0, 11.0] for v in (10, 60, 120, 200, 30)])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(res.embeddings, expected, rtol=1e-6)


def test_workers_that_cannot_start_raise_a_clear_error(tmp_path):
    folder = _colour_folder(tmp_path, {"a": 10, "b": 20})
    with pytest.raises(RuntimeError, match="worker processes died before finishing any image"):
        embed_images(folder, model=f"{__name__}:BrokenModel", workers=1, use_cache=False)
