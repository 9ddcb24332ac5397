"""Subject metadata (demographic attributes) and the split of a data set's subjects into groups.

Format
------
A table with one row per subject: a ``subject`` column (name configurable) and any number of
attribute columns, e.g. ``subject, sex, age_band, skin_tone``. CSV (``.csv``; ``.tsv`` is
tab-separated; ``.gz``/``.bz2`` compressed; a header line names the columns) or Parquet
(``.parquet``/``.pq``). Values are text; blanks around them are ignored.

Missing values
--------------
An empty field, or one of ``NA``, ``N/A``, ``NaN``, ``null``, ``None``, ``unknown``, ``?``
(any case), is an **unknown** value. Unknown is a group of its own, named ``unknown``: it is
counted and shown, never dropped. A subject of the data with no row in the metadata gets
``unknown`` for every attribute, and is counted in
:attr:`SubjectGroups.subjects_without_metadata`; a subject of the metadata that the data never
mention is counted in :attr:`SubjectGroups.metadata_subjects_not_in_data`. Both are reported.

Intersections
-------------
Grouping by several attributes (``by=["sex", "age_band"]``) makes one group per combination of
values present in the data, labelled ``"female × 18-30"`` (attribute label ``"sex × age_band"``).

Every problem with the file raises :class:`faceaudit.errors.InputError` naming the file and the
line (CSV, 1-based as an editor shows it; the header is line 1 unless blank lines precede it) or
row (Parquet, 1-based), what is wrong and what to do.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from faceaudit.data.inputs import InputFile
from faceaudit.data.metadata import SubjectMetadata, _case_hint, _normalise
from faceaudit.errors import InputError
from faceaudit.io._checks import check_file, compression_of, open_binary, sha256_of

__all__ = ["read_metadata"]

_PARQUET_SUFFIXES = (".parquet", ".pq")

PathLike = str | os.PathLike[str]


def read_metadata(path: PathLike, *, subject_column: str = "subject") -> SubjectMetadata:
    """Read a subject metadata table (CSV or Parquet), validating every row.

    Parameters
    ----------
    path
        ``.csv`` (comma), ``.tsv`` (tab), optionally ``.gz``/``.bz2``-compressed, or
        ``.parquet``/``.pq``. Other extensions are read as CSV, the delimiter guessed from the
        header (tab or comma).
    subject_column
        Name of the subject-id column; every other column is an attribute.

    Returns
    -------
    SubjectMetadata

    Raises
    ------
    InputError
        Naming the file and the line (CSV) or row (Parquet) for: a missing, empty or unreadable
        file; no subject column; no attribute column; an empty or repeated column name; a row
        with the wrong number of fields; an empty subject id; a subject listed twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "meta.csv"
    >>> _ = p.write_text("subject,sex\\ns1,F\\ns2,\\n")
    >>> read_metadata(p).values["sex"]
    ('F', 'unknown')
    """
    if not isinstance(subject_column, str) or not subject_column:
        raise InputError("the name of the subject column must be a non-empty text.")
    p = check_file(path)
    base = p.with_suffix("") if compression_of(p) else p
    if base.suffix.lower() in _PARQUET_SUFFIXES:
        header, rows, where = _read_parquet(p, path)
    else:
        header, rows, where = _read_csv(p, path)
    return _build(header, rows, where, path, p, subject_column)


def _read_csv(p: Path, path: PathLike) -> tuple[list[str], list[list[str]], list[str]]:
    try:
        with open_binary(p) as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise InputError(
            f"could not be read or decompressed ({exc}); the file may be truncated or corrupt.",
            path=path,
        ) from None
    if raw.startswith(b"PAR1"):
        raise InputError(
            "is a Parquet file, not CSV; name it with the .parquet extension.", path=path
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            "is not UTF-8 text; save it as UTF-8 CSV (or give a .parquet file).",
            path=path,
            line=line,
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError("holds a NUL byte; it is not a text table.", path=path, line=line)
    first = next((ln for ln in text.splitlines() if ln.strip()), None)
    if first is None:
        raise InputError("holds no text (only blank lines); give a metadata table.", path=path)
    base = p.with_suffix("") if compression_of(p) else p
    ext = base.suffix.lower()
    delimiter = (
        "\t" if ext == ".tsv" or (ext != ".csv" and "\t" in first and "," not in first) else ","
    )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    where: list[str] = []
    try:
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank line
            if header is None:
                header = [f.strip() for f in fields]
                header_line = reader.line_num
                continue
            if len(fields) != len(header):
                raise InputError(
                    f"has {len(fields)} fields but the header (line {header_line}) has "
                    f"{len(header)}; the row is malformed or the file is truncated.",
                    path=path,
                    line=reader.line_num,
                )
            rows.append(fields)
            where.append(f"line {reader.line_num}")
    except csv.Error as exc:
        raise InputError(
            f"is not valid CSV ({exc}); a quoted field may not be closed.",
            path=path,
            line=reader.line_num,
        ) from None
    assert header is not None
    return header, rows, where


def _read_parquet(p: Path, path: PathLike) -> tuple[list[str], list[list[str]], list[str]]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(p)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            f"is not a Parquet file, or it is truncated or corrupt ({exc}); give a Parquet file, "
            "or a CSV file named .csv.",
            path=path,
        ) from None
    header = [str(n) for n in table.column_names]
    columns = []
    for name in header:
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            try:
                col = pc.cast(col, pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise InputError(
                    f"column {name!r} has type {col.type}; store metadata values as text or "
                    "numbers.",
                    path=path,
                ) from None
        columns.append(col.to_pylist())
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else []
    where = [f"row {i + 1}" for i in range(len(rows))]
    return header, rows, where


def _build(
    header: list[str],
    rows: list[list],
    where: list[str],
    path: PathLike,
    p: Path,
    subject_column: str,
) -> SubjectMetadata:
    def err(message: str, k: int | None = None) -> InputError:
        if k is None:
            return InputError(message, path=path)
        loc = where[k]
        if loc.startswith("line "):
            return InputError(message, path=path, line=int(loc[5:]))
        return InputError(message, path=path, record=loc)

    if any(not h for h in header):
        j = header.index("")
        raise err(f"column {j + 1} of the header has no name; name every column.")
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise err(f"has two columns named {dup[0]!r}; give each column its own name.")
    if subject_column not in header:
        found = ", ".join(repr(h) for h in header)
        raise err(
            f"has no column {subject_column!r} (columns found: {found}); name the subject-id "
            f"column {subject_column!r} or give its name with --metadata-subject-column."
            + _case_hint(subject_column, header)
        )
    attrs = [h for h in header if h != subject_column]
    if not attrs:
        raise err(
            f"has only the {subject_column!r} column; add attribute columns (e.g. sex, "
            "age_band) to group subjects by."
        )
    if not rows:
        raise err("has a header but no rows; give one row per subject.")
    js = header.index(subject_column)
    seen: dict[str, int] = {}
    subjects = []
    for k, row in enumerate(rows):
        s = row[js]
        s = "" if s is None else str(s).strip()
        if not s:
            raise err(f"the {subject_column} field is empty; every row needs a subject id.", k)
        if s in seen:
            raise err(
                f"subject {s!r} appears again (first at {where[seen[s]]}); give one row per "
                "subject.",
                k,
            )
        seen[s] = k
        subjects.append(s)
    values = {a: tuple(_normalise(row[header.index(a)]) for row in rows) for a in attrs}
    source = InputFile(path=os.fspath(path), sha256=sha256_of(p), records=len(rows))
    return SubjectMetadata(tuple(subjects), values, source, subject_column)
