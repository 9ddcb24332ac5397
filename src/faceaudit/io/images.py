"""Safe image reading; image-set discovery (re-exported from :mod:`faceaudit.io.image_sets`).

Reading (:func:`decode_image`) never trusts a file: the pixel count is checked from the header
before any pixel is decoded (decompression bombs), truncated and corrupt files are refused rather
than padded, and every supported pixel format ends as one array layout: RGB, ``uint8``, shape
``(height, width, 3)``, C-contiguous, upright (EXIF orientation applied).

A file that cannot be used raises :class:`AcquisitionError` with a short machine-readable
``reason`` (the failure-to-acquire reasons of :data:`FTA_REASONS`) and a human ``detail``. The
embedding pipeline turns these into FTA records; one bad file never stops a run.

Discovery (:func:`discover_images`) turns a folder or a manifest into an :class:`ImageSet`: a
deterministic, ordered list of :class:`ImageRecord` (file, sample id, subject, metadata). Bad
*input descriptions* (a manifest without a ``path`` column, a duplicate row, an empty folder) raise
:class:`faceaudit.errors.InputError`: those are the user's to fix, not failures to acquire.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np

__all__ = [
    "RESERVED_COLUMNS",
    "DEFAULT_MAX_PIXELS",
    "FTA_REASONS",
    "IMAGE_SUFFIXES",
    "AcquisitionError",
    "ImageRecord",
    "ImageSet",
    "decode_image",
    "discover_images",
    "image_set_input",
    "read_image",
]

#: Largest image accepted, in pixels (width x height), checked from the header before decoding.
#: 80 megapixels admits every phone and DSLR photo in use and keeps one decoded RGB image under
#: 240 MB; larger files are refused as ``too_large`` (Pillow's own bomb guard starts at 89 MP).
DEFAULT_MAX_PIXELS = 80_000_000

#: Failure-to-acquire reasons and what each means. The pipeline reports exactly these strings.
FTA_REASONS: dict[str, str] = {
    "missing": "the file listed in the manifest does not exist",
    "unreadable": "the file exists but could not be read (permissions, I/O error)",
    "not_an_image": "the bytes are not in any image format the reader knows",
    "decode_error": "an image format was recognised but the data are corrupt or truncated",
    "too_large": "more pixels than the limit (decompression-bomb guard), checked before decoding",
    "unsupported": "a pixel format that has no faithful 8-bit RGB rendering (e.g. floating point)",
    "too_small": "the image, or every face found in it, is smaller than the detector can use",
    "no_face": "the detector found no face",
    "embed_error": "the recognizer failed on this image (its message is in the detail)",
    "worker_crash": "the worker process died while processing this image, twice",
}


class AcquisitionError(Exception):
    """An image that yields no usable face: a failure to acquire (ISO/IEC 19795-1 FTA).

    Parameters
    ----------
    reason : str
        One of :data:`FTA_REASONS`.
    detail : str
        One human sentence: what was found.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in FTA_REASONS:
            raise ValueError(f"unknown failure-to-acquire reason {reason!r}")
        self.reason = reason
        self.detail = detail or FTA_REASONS[reason]
        super().__init__(f"{reason}: {self.detail}")


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def read_image(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as upright RGB ``uint8`` (see :func:`decode_image`).

    Raises
    ------
    AcquisitionError
        ``missing``, ``unreadable`` or any reason :func:`decode_image` raises.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise AcquisitionError("missing", f"{path} does not exist") from None
    except OSError as exc:
        raise AcquisitionError("unreadable", f"{path} could not be read ({exc})") from None
    return decode_image(data, max_pixels=max_pixels)


def _image_size_of(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header only, or None when Pillow cannot tell."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
            try:
                with Image.open(io.BytesIO(data)) as im:
                    return im.size
            finally:
                Image.MAX_IMAGE_PIXELS = saved
    except Exception:
        return None


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode image bytes safely into an upright RGB ``uint8`` array of shape ``(h, w, 3)``.

    Parameters
    ----------
    data : bytes
        The file's content.
    max_pixels : int
        Largest accepted ``width * height``; checked from the header, before decoding.

    Returns
    -------
    ndarray of uint8, shape (height, width, 3)
        C-contiguous and writable.

    Raises
    ------
    AcquisitionError
        ``not_an_image``, ``decode_error`` (corrupt or truncated: never padded with grey),
        ``too_large`` (pixel limit), ``unsupported`` (e.g. floating-point pixels).

    Notes
    -----
    Conversions: greyscale, 1-bit and palette images are expanded to RGB; CMYK is converted by
    Pillow (inverted Adobe JPEGs included); alpha is dropped (the colour values are kept);
    16-bit greyscale (``I;16``, ``I``) is scaled by ``round(v / 257)`` onto 0..255 (Pillow's own
    ``convert("L")`` would clip every value above 255 to white); 16-bit RGB is reduced to 8 bits by
    Pillow when it decodes. The EXIF orientation tag is applied (a phone photo taken on its side is
    returned upright); an unreadable EXIF block is ignored. For multi-frame files (GIF, TIFF) the
    first frame is used.
    """
    from PIL import Image

    if not data:
        raise AcquisitionError("not_an_image", "the file is empty")
    saved_limit = Image.MAX_IMAGE_PIXELS
    try:
        # Pillow warns (then errors at 2x) above MAX_IMAGE_PIXELS: make its guard ours, and the
        # warning an error, so that any size over the limit is refused before decoding.
        Image.MAX_IMAGE_PIXELS = max_pixels
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _decode(data, max_pixels)
    finally:
        Image.MAX_IMAGE_PIXELS = saved_limit


def _decode(data: bytes, max_pixels: int) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        im = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise AcquisitionError(
            "not_an_image", "the bytes are not in an image format the reader knows"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        size = _image_size_of(data)
        shown = f"{size[0]} x {size[1]} pixels" if size else "more pixels than allowed"
        raise AcquisitionError(
            "too_large", f"{shown} exceeds the limit of {max_pixels} pixels"
        ) from None
    except Exception as exc:  # Pillow raises many types for broken headers
        raise AcquisitionError("decode_error", f"broken image header ({exc})") from None
    with im:
        width, height = im.size
        if width <= 0 or height <= 0:
            raise AcquisitionError("decode_error", f"the header gives a size of {im.size}")
        if width * height > max_pixels:
            raise AcquisitionError(
                "too_large",
                f"{width} x {height} = {width * height} pixels exceeds the limit of "
                f"{max_pixels} pixels",
            )
        try:
            im.load()
        except Exception as exc:  # truncated (OSError), corrupt (SyntaxError, zlib, ...)
            raise AcquisitionError(
                "decode_error", f"{im.format or 'image'} data could not be decoded ({exc})"
            ) from None
        try:
            upright = ImageOps.exif_transpose(im)
        except Exception:  # a malformed EXIF block: keep the stored orientation
            upright = im
        return _to_rgb8(upright)


def _to_rgb8(im) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        a = np.asarray(im)
        if a.ndim != 2:
            raise AcquisitionError("unsupported", f"pixel mode {mode} with shape {a.shape}")
        a = np.clip(a.astype(np.int64), 0, 65535)
        grey = ((a * 255 + 32767) // 65535).astype(np.uint8)  # round(v / 257)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if mode == "F":
        raise AcquisitionError(
            "unsupported", "floating-point pixels have no defined 8-bit range; export 8- or 16-bit"
        )
    if mode != "RGB":
        try:
            im = im.convert("RGB")
        except (ValueError, OSError) as exc:
            raise AcquisitionError(
                "unsupported", f"pixel mode {mode} cannot be converted to RGB ({exc})"
            ) from None
    a = np.asarray(im, dtype=np.uint8)
    if a.ndim != 3 or a.shape[2] != 3:
        raise AcquisitionError("unsupported", f"pixel mode {mode} gave an array of shape {a.shape}")
    return np.array(a, dtype=np.uint8, order="C", copy=True)


# Discovery lives in :mod:`faceaudit.io.image_sets`; its names are re-exported here.
from faceaudit.io.image_sets import (  # noqa: E402
    IMAGE_SUFFIXES,
    RESERVED_COLUMNS,
    ImageRecord,
    ImageSet,
    discover_images,
    image_set_input,
)
