"""Safe image reading and image-set discovery (a folder ``<subject>/<image>`` or a manifest CSV).

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

import csv
import io
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from faceaudit.data import InputFile, SubjectMetadata, parse_by
from faceaudit.errors import InputError

__all__ = [
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

#: File suffixes (lower case) taken as images when a folder is scanned.
IMAGE_SUFFIXES = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".bmp",
        ".dib",
        ".gif",
        ".tif",
        ".tiff",
        ".webp",
        ".pgm",
        ".ppm",
        ".pbm",
        ".pnm",
    }
)

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


# ---------------------------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageRecord:
    """One image to process.

    Attributes
    ----------
    path : Path
        The file to read.
    sample : str
        The sample id: the path relative to the source folder (POSIX separators) for a folder, the
        manifest's ``path`` value (normalised) for a manifest. Unique in its set.
    subject : str
        The subject (identity) id.
    metadata : tuple of str
        Values of :attr:`ImageSet.metadata_columns`, in that order (manifest only).
    line : int or None
        The manifest line the record came from (1-based, header = line 1).
    """

    path: Path
    sample: str
    subject: str
    metadata: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class ImageSet:
    """An ordered set of images with subjects: what :func:`discover_images` found.

    Attributes
    ----------
    source : Path
        The folder or manifest given.
    root : Path
        The folder sample ids are relative to.
    kind : str
        ``"folder"`` or ``"manifest"``.
    records : tuple of ImageRecord
        In processing and output order (sorted names for a folder; row order for a manifest).
    metadata_columns : tuple of str
        Manifest columns carried through (every column but ``path`` and ``subject``).
    skipped : tuple of (str, str)
        Files seen but not taken, with why (e.g. a ``README`` beside the subject folders).
    """

    source: Path
    root: Path
    kind: str
    records: tuple[ImageRecord, ...]
    metadata_columns: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.records)

    def subset(self, indices) -> ImageSet:
        """The records at ``indices`` (in the order given), e.g. for a quick trial run."""
        return ImageSet(
            self.source,
            self.root,
            self.kind,
            tuple(self.records[int(i)] for i in indices),
            self.metadata_columns,
            self.skipped,
        )

    def subject_metadata(self, by: str | Sequence[str]) -> SubjectMetadata:
        """Subject attributes from the manifest's own columns (one value per subject).

        Raises
        ------
        InputError
            When an attribute is not a column of the manifest.
        """
        attrs = parse_by(by)
        missing = [a for a in attrs if a not in self.metadata_columns]
        if missing:
            have = ", ".join(self.metadata_columns) or "no metadata columns"
            raise InputError(
                f"by = {','.join(attrs)!r}: the manifest has no column {missing[0]!r} (it has "
                f"{have}); give a metadata file with that attribute.",
                path=self.source,
            )
        cols = [self.metadata_columns.index(a) for a in attrs]
        mapping = {
            a: {r.subject: r.metadata[c] for r in self.records}
            for a, c in zip(attrs, cols, strict=True)
        }
        return SubjectMetadata.from_mapping(mapping)


def image_set_input(images: ImageSet) -> InputFile:
    """The ``inputs`` entry of an image set: its source, one SHA-256 over every image's bytes in
    order, and the number of images.

    An image that cannot be read (missing, a dangling link, a folder) adds its sample id and the
    error's name to the digest instead of its bytes: it is a failure to acquire, counted by the
    embedding pipeline, never a reason to stop.
    """
    import hashlib

    h = hashlib.sha256()
    for rec in images.records:
        try:
            with open(rec.path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        except OSError as exc:
            h.update(f"\0unreadable:{rec.sample}:{type(exc).__name__}\0".encode())
    return InputFile(path=str(images.source), sha256=h.hexdigest(), records=len(images.records))


#: Column names the output table uses itself; a manifest may not carry columns of these names.
RESERVED_COLUMNS = frozenset({"sample", "embedding"})


def discover_images(
    source: str | os.PathLike[str],
    *,
    path_column: str = "path",
    subject_column: str = "subject",
) -> ImageSet:
    """Find the images of a folder ``<subject>/<image>`` or of a manifest CSV.

    Parameters
    ----------
    source : path-like
        A folder whose sub-folders are subjects holding their images (the LFW layout; files at the
        top level and deeper folders are skipped), or a CSV file with a header and at least the
        columns ``path`` (relative to the CSV's folder, or absolute) and ``subject``. Further
        columns (e.g. ``group``, ``age``) are carried through as strings.
    path_column, subject_column : str
        Manifest column names.

    Returns
    -------
    ImageSet

    Raises
    ------
    InputError
        No such path; a folder with no images; a manifest that is not a CSV with those columns, has
        an empty path or subject, a row with the wrong number of fields, or lists one file twice.
    """
    src = Path(source)
    if src.is_dir():
        return _discover_folder(src)
    if src.is_file():
        return _discover_manifest(src, path_column, subject_column)
    raise InputError(
        "no such file or folder; give a folder of <subject>/<image> files or a manifest CSV.",
        path=src,
    )


def _discover_folder(root: Path) -> ImageSet:
    records: list[ImageRecord] = []
    skipped: list[tuple[str, str]] = []
    try:
        entries = sorted(root.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise InputError(f"the folder cannot be listed ({exc}).", path=root) from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            skipped.append((entry.name, "a file at the top level (images go in subject folders)"))
            continue
        subject = entry.name
        for f in sorted(entry.iterdir(), key=lambda p: p.name):
            rel = f"{subject}/{f.name}"
            if f.name.startswith("."):
                continue
            if f.is_dir():
                skipped.append((rel + "/", "a folder inside a subject folder (not scanned)"))
            elif f.suffix.lower() not in IMAGE_SUFFIXES:
                skipped.append((rel, f"suffix {f.suffix or '(none)'!r} is not an image suffix"))
            else:
                records.append(ImageRecord(f, rel, subject))
    if not records:
        raise InputError(
            "no images found; expected sub-folders named by subject holding image files "
            f"({', '.join(sorted(s for s in IMAGE_SUFFIXES if len(s) <= 5))}).",
            path=root,
        )
    return ImageSet(root, root, "folder", tuple(records), (), tuple(skipped))


def _discover_manifest(path: Path, path_column: str, subject_column: str) -> ImageSet:
    root = path.absolute().parent
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the manifest is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV.", path=path
        ) from None
    except OSError as exc:
        raise InputError(f"the manifest cannot be read ({exc}).", path=path) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(
            "the manifest is empty; expected a header 'path,subject'.", path=path
        ) from None
    except csv.Error as exc:
        raise InputError(f"not a readable CSV ({exc}).", path=path, line=1) from None
    header = [h.strip() for h in header]
    for needed in (path_column, subject_column):
        if needed not in header:
            raise InputError(
                f"the header has no column {needed!r} (it has {header}); a manifest needs the "
                f"columns {path_column!r} (image file, relative to the manifest's folder) and "
                f"{subject_column!r}.",
                path=path,
                line=1,
            )
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise InputError(f"the header names column {dup!r} twice.", path=path, line=1)
    clash = sorted(RESERVED_COLUMNS & set(header))
    if clash:
        raise InputError(
            f"column {clash[0]!r} is reserved for the output table; rename it in the manifest.",
            path=path,
            line=1,
        )
    pi, si = header.index(path_column), header.index(subject_column)
    meta_idx = [i for i, h in enumerate(header) if i not in (pi, si)]
    records: list[ImageRecord] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise InputError(
                    f"{len(row)} fields, but the header has {len(header)}; quote values that "
                    "contain commas.",
                    path=path,
                    line=line,
                )
            rel, subject = row[pi].strip(), row[si].strip()
            if not rel:
                raise InputError(f"the {path_column!r} value is empty.", path=path, line=line)
            if not subject:
                raise InputError(f"the {subject_column!r} value is empty.", path=path, line=line)
            sample = Path(rel).as_posix()
            file = Path(rel) if Path(rel).is_absolute() else root / rel
            key = os.path.normpath(str(file))
            if key in seen:
                raise InputError(
                    f"{rel!r} is already listed on line {seen[key]}; list each image once.",
                    path=path,
                    line=line,
                )
            seen[key] = line
            records.append(
                ImageRecord(file, sample, subject, tuple(row[i] for i in meta_idx), line)
            )
    except csv.Error as exc:
        raise InputError(f"not a readable CSV ({exc}).", path=path, line=reader.line_num) from None
    if not records:
        raise InputError("the manifest lists no images.", path=path)
    if not any(r.path.exists() for r in records):
        raise InputError(
            f"none of the {len(records)} listed files exists (the first is {records[0].path}); "
            "paths are relative to the manifest's folder.",
            path=path,
        )
    return ImageSet(path, root, "manifest", tuple(records), tuple(header[i] for i in meta_idx))
