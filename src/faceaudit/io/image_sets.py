"""Image-set discovery: a folder ``<subject>/<image>`` (LFW layout) or a manifest table.

:func:`discover_images` turns either into an :class:`ImageSet`: a deterministic, ordered list of
:class:`ImageRecord` (file, sample id, subject, metadata), the files it skipped and why, and
data-quality warnings. Bad *input descriptions* (a manifest without a ``path`` column, a
duplicate row, an empty folder) raise :class:`faceaudit.errors.InputError`: those are the user's
to fix, not failures to acquire. Images themselves are read by :mod:`faceaudit.io.images`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from faceaudit.data import InputFile, SubjectMetadata, parse_by
from faceaudit.errors import InputError
from faceaudit.io.tables import Table, first_empty, open_table, read_whole, text_values

__all__ = [
    "IMAGE_SUFFIXES",
    "RESERVED_COLUMNS",
    "ImageRecord",
    "ImageSet",
    "discover_images",
    "image_set_input",
]

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

_HIDDEN = "a hidden file (its name starts with '.')"


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
        Files seen but not taken, with why (e.g. a ``README`` beside the subject folders, a
        hidden file such as ``.DS_Store``).
    warnings : tuple of str
        Data-quality findings, with counts (e.g. manifest paths outside the manifest's folder);
        the audits copy them into ``results.json``.
    """

    source: Path
    root: Path
    kind: str
    records: tuple[ImageRecord, ...]
    metadata_columns: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()

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
            self.warnings,
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
        columns ``path`` (relative to the CSV's folder, or absolute) and ``subject`` (CSV or
        Parquet, read by :mod:`faceaudit.io.tables`). Further columns (e.g. ``group``, ``age``)
        are carried through as strings. Hidden files and folders (names starting with ``.``)
        are skipped and listed in :attr:`ImageSet.skipped`; manifest paths that lead outside
        the manifest's folder (absolute, or through ``..``) are read, and counted in a warning.
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
            skipped.append((entry.name + ("/" if entry.is_dir() else ""), _HIDDEN))
            continue
        if not entry.is_dir():
            skipped.append((entry.name, "a file at the top level (images go in subject folders)"))
            continue
        subject = entry.name
        for f in sorted(entry.iterdir(), key=lambda p: p.name):
            rel = f"{subject}/{f.name}"
            if f.name.startswith("."):
                skipped.append((rel + ("/" if f.is_dir() else ""), _HIDDEN))
            elif f.is_dir():
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


def _manifest_header(table: Table, path_column: str, subject_column: str) -> list[str]:
    header = table.names
    for needed in (path_column, subject_column):
        if needed not in header:
            raise table.header_error(
                f"the header has no column {needed!r} (it has {header}); a manifest needs the "
                f"columns {path_column!r} (image file, relative to the manifest's folder) and "
                f"{subject_column!r}."
            )
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise table.header_error(f"the header names column {dup!r} twice.")
    if any(not h for h in header):
        raise table.header_error(
            f"column {header.index('') + 1} of the header has no name; name every column."
        )
    clash = sorted(RESERVED_COLUMNS & set(header))
    if clash:
        raise table.header_error(
            f"column {clash[0]!r} is reserved for the output table; rename it in the manifest."
        )
    return [h for h in header if h not in (path_column, subject_column)]


def _discover_manifest(path: Path, path_column: str, subject_column: str) -> ImageSet:
    root = path.absolute().parent
    table = open_table(path)
    meta_columns = _manifest_header(table, path_column, subject_column)
    columns, n = read_whole(table, table.names)
    values = {name: text_values(table, col, name) for name, col in columns.items()}
    for name in (path_column, subject_column):
        empty = first_empty(values[name])
        if empty is not None:
            raise table.error_at(empty, f"the {name!r} value is empty.")
    lines = table.row_lines(n)
    records: list[ImageRecord] = []
    seen: dict[str, int] = {}
    outside: list[str] = []
    meta = [values[c].tolist() for c in meta_columns]
    for k, (rel, subject) in enumerate(
        zip(values[path_column].tolist(), values[subject_column].tolist(), strict=True)
    ):
        file = Path(rel) if Path(rel).is_absolute() else root / rel
        key = os.path.normpath(str(file))
        first = seen.setdefault(key, k)
        if first != k:
            raise table.error_at(
                k, f"{rel!r} is already listed on {table.where(first)}; list each image once."
            )
        if Path(rel).is_absolute() or not _inside(root, key):
            outside.append(rel)
        line = None if lines is None else int(lines[k])
        records.append(
            ImageRecord(file, Path(rel).as_posix(), subject, tuple(m[k] for m in meta), line)
        )
    if not records:
        raise table.header_error("the manifest lists no images.")
    if not any(r.path.exists() for r in records):
        raise InputError(
            f"none of the {len(records)} listed files exists (the first is {records[0].path}); "
            "paths are relative to the manifest's folder.",
            path=path,
        )
    warnings = ()
    if outside:
        ex = ", ".join(repr(o) for o in outside[:3])
        warnings = (
            f"{len(outside)} of {len(records)} paths in the manifest {path} lead outside its "
            f"folder (absolute, or through '..'; e.g. {ex}); they were read as listed. Check "
            "that the manifest names the images you mean to audit, and only those.",
        )
    return ImageSet(path, root, "manifest", tuple(records), tuple(meta_columns), (), warnings)


def _inside(root: Path, normalised: str) -> bool:
    base = os.path.normpath(str(root))
    return normalised == base or normalised.startswith(base.rstrip(os.sep) + os.sep)
