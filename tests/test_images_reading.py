"""Safe image decoding: every pixel format to upright RGB uint8, every bad file to its reason."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from faceaudit.io.images import DEFAULT_MAX_PIXELS, AcquisitionError, decode_image, read_image


def _face_like(h: int = 112, w: int = 92) -> np.ndarray:
    """A smooth, asymmetric greyscale test pattern (orientation is detectable)."""
    yy, xx = np.mgrid[0:h, 0:w]
    return ((xx * 2 + yy * 0.5 + 40 * np.sin(yy / 9.0)) % 256).astype(np.uint8)


def _encode(array_or_image, fmt: str, **kw) -> bytes:
    im = (
        array_or_image
        if isinstance(array_or_image, Image.Image)
        else Image.fromarray(array_or_image)
    )
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _reason(data: bytes, **kw) -> str:
    with pytest.raises(AcquisitionError) as info:
        decode_image(data, **kw)
    return info.value.reason


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _zlib_bomb_png(width: int, height: int) -> bytes:
    """A real decompression bomb: a valid greyscale PNG of zeros, ~1000x smaller than its pixels."""
    comp = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte + pixels
    parts = [comp.compress(row) for _ in range(height)]
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


# -- formats that must be read -------------------------------------------------------------------


def test_greyscale_becomes_three_equal_channels():
    grey = _face_like()
    out = decode_image(_encode(grey, "PNG"))
    assert out.shape == (112, 92, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], grey)


def test_pgm_as_in_orl():
    grey = _face_like()
    out = decode_image(_encode(grey, "PPM"))  # Pillow writes mode L as binary PGM (P5)
    np.testing.assert_array_equal(out[:, :, 1], grey)


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    # v16 = 257 * v8 is the exact 16-bit version of an 8-bit value; it must come back as v8.
    grey8 = _face_like()
    grey16 = grey8.astype(np.uint16) * 257
    data = _encode(Image.fromarray(grey16), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    out = decode_image(data)
    np.testing.assert_array_equal(out[:, :, 0], grey8)
    # and in between values round to nearest: 65535 -> 255, 128 -> 0, 129 -> 1
    edge = np.array([[65535, 128, 129, 0]], dtype=np.uint16)
    np.testing.assert_array_equal(
        decode_image(_encode(Image.fromarray(edge), "PNG"))[0, :, 0], [255, 0, 1, 0]
    )


def test_sixteen_bit_rgb_png():
    import cv2

    rgb8 = np.stack([_face_like(), _face_like()[::-1], 255 - _face_like()], axis=2)
    ok, buf = cv2.imencode(".png", (rgb8.astype(np.uint16) * 257)[:, :, ::-1])  # BGR, 48-bit
    assert ok
    out = decode_image(buf.tobytes())
    np.testing.assert_array_equal(out, rgb8)


def test_cmyk_jpeg_becomes_rgb():
    rgb = np.stack([_face_like(), _face_like(), _face_like()], axis=2)
    cmyk = Image.fromarray(rgb).convert("CMYK")
    data = _encode(cmyk, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    out = decode_image(data)
    assert out.shape == rgb.shape
    assert np.abs(out.astype(int) - rgb.astype(int)).mean() < 4.0  # JPEG loss only


def test_palette_png_gives_palette_colours():
    rgb = np.zeros((40, 30, 3), dtype=np.uint8)
    rgb[:20] = (200, 30, 10)
    rgb[20:] = (5, 100, 250)
    pal = Image.fromarray(rgb).quantize(colors=4)
    assert pal.mode == "P"
    out = decode_image(_encode(pal, "PNG"))
    np.testing.assert_array_equal(out, rgb)


def test_alpha_is_dropped():
    rgba = np.zeros((10, 12, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2], rgba[..., 3] = 10, 20, 30, 0
    out = decode_image(_encode(rgba, "PNG"))
    assert out.shape == (10, 12, 3)
    assert out[0, 0].tolist() == [10, 20, 30]


@pytest.mark.parametrize(
    ("orientation", "undo"),
    [
        (3, lambda a: np.rot90(a, 2)),  # stored upside down
        (6, lambda a: np.rot90(a, 1)),  # stored rotated 90 degrees clockwise (a phone on its side)
        (8, lambda a: np.rot90(a, -1)),
        (2, lambda a: a[:, ::-1]),  # mirrored
    ],
)
def test_exif_orientation_is_applied(orientation, undo):
    upright = _face_like()
    stored = undo(upright)  # what the camera wrote; the tag says how to show it upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _encode(np.ascontiguousarray(stored), "PNG", exif=exif)
    out = decode_image(data)
    np.testing.assert_array_equal(out[:, :, 0], upright)


def test_first_frame_of_an_animation():
    frames = [Image.fromarray(np.full((8, 8), v, dtype=np.uint8)) for v in (50, 200)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    assert decode_image(buf.getvalue())[0, 0, 0] == 50


# -- files that must be refused, with their reason ---------------------------------------------


def test_not_an_image():
    assert _reason(b"name,subject\nalice.jpg,alice\n") == "not_an_image"
    assert _reason(b"") == "not_an_image"


def test_truncated_files():
    png = _encode(_face_like(), "PNG")
    jpg = _encode(_face_like(), "JPEG", quality=90)
    assert _reason(png[: len(png) // 2]) == "decode_error"
    assert _reason(jpg[: len(jpg) // 2]) == "decode_error"
    assert _reason(png[:60]) == "decode_error"  # header only


def test_corrupt_files():
    png = bytearray(_encode(_face_like(), "PNG"))
    mid = len(png) // 2
    png[mid : mid + 50] = bytes(50)
    assert _reason(bytes(png)) == "decode_error"
    jpg = bytearray(_encode(_face_like(), "JPEG", quality=90))
    mid = len(jpg) // 2
    jpg[mid : mid + 50] = b"\xff" * 50
    assert _reason(bytes(jpg)) == "decode_error"


def test_decompression_bomb_is_refused_before_decoding():
    # 12000 x 12000 = 144 megapixels of zeros in a ~150 kB file: decoding would need 432 MB RGB.
    bomb = _zlib_bomb_png(12000, 12000)
    assert len(bomb) < 1_000_000
    t0 = time.perf_counter()
    with pytest.raises(AcquisitionError) as info:
        decode_image(bomb)
    assert info.value.reason == "too_large"
    assert "12000 x 12000" in info.value.detail
    assert time.perf_counter() - t0 < 30  # generous: only guards against decoding 432 MB


def test_pixel_limit_is_the_callers():
    img = _encode(_face_like(), "PNG")  # 92 x 112 = 10304 pixels
    assert _reason(img, max_pixels=10_000) == "too_large"
    assert decode_image(img, max_pixels=10_304).shape == (112, 92, 3)
    # above Pillow's own threshold (89 MP) a raised limit is honoured, from the header only
    header_only = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0))
        + _png_chunk(b"IEND", b"")
    )
    assert _reason(header_only) == "too_large"
    assert _reason(header_only, max_pixels=500_000_000) == "decode_error"  # no pixel data
    assert DEFAULT_MAX_PIXELS == 80_000_000


def test_floating_point_pixels_are_unsupported():
    f = Image.fromarray(np.linspace(0, 1, 100, dtype=np.float32).reshape(10, 10), mode="F")
    assert _reason(_encode(f, "TIFF")) == "unsupported"


def test_read_image_missing_file(tmp_path):
    with pytest.raises(AcquisitionError) as info:
        read_image(tmp_path / "nope.jpg")
    assert info.value.reason == "missing"


def test_unknown_reason_is_a_bug():
    with pytest.raises(ValueError):
        AcquisitionError("sunburn")
