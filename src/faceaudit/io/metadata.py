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

import os

from faceaudit.data.inputs import InputFile
from faceaudit.data.metadata import SubjectMetadata, _normalise
from faceaudit.errors import InputError
from faceaudit.io._checks import PendingDigest
from faceaudit.io.tables import Table, case_hint, open_table, read_whole, text_values

__all__ = ["read_metadata"]

PathLike = str | os.PathLike[str]


def read_metadata(path: PathLike, *, subject_column: str = "subject") -> SubjectMetadata:
    """Read a subject metadata table (CSV or Parquet), validating every row.

    Parameters
    ----------
    path
        ``.csv`` (comma), ``.tsv`` (tab), optionally ``.gz``/``.bz2``-compressed, or
        ``.parquet``/``.pq``. Other extensions are read as CSV, the delimiter guessed from the
        header (tab or comma). Read by the table reader (:mod:`faceaudit.io.tables`).
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
        raise InputError("the name of the subject-id column must be a non-empty text.")
    table = open_table(path)
    _check_header(table, subject_column)
    columns, rows = read_whole(table, table.names)
    if rows == 0:
        raise table.header_error("has a header but no rows; give one row per subject.")
    subjects = text_values(table, columns[subject_column], subject_column)
    _check_subjects(table, subjects, subject_column)
    attrs = [h for h in table.names if h != subject_column]
    values = {
        a: tuple(_normalise(v) for v in text_values(table, columns[a], a).tolist()) for a in attrs
    }
    source = InputFile(path=os.fspath(path), sha256=PendingDigest(path), records=rows)
    return SubjectMetadata(tuple(subjects.tolist()), values, source, subject_column)


def _check_header(table: Table, subject_column: str) -> None:
    header = table.names
    if any(not h for h in header):
        j = header.index("")
        raise table.header_error(f"column {j + 1} of the header has no name; name every column.")
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise table.header_error(
            f"has two columns named {dup[0]!r}; give each column its own name."
        )
    if subject_column not in header:
        found = ", ".join(repr(h) for h in header)
        raise table.header_error(
            f"has no column {subject_column!r} (columns found: {found}); name the subject-id "
            f"column {subject_column!r} or give its name with --metadata-subject-column."
            + case_hint(subject_column, header)
        )
    if len(header) == 1:
        raise table.header_error(
            f"has only the {subject_column!r} column; add attribute columns (e.g. sex, "
            "age_band) to group subjects by."
        )


def _check_subjects(table: Table, subjects, subject_column: str) -> None:
    """Every row names a subject, and no subject twice (the first repeat is named)."""
    empty = subjects == ""
    if empty.any():
        raise table.error_at(
            int(empty.argmax()),
            f"the {subject_column} field is empty; every row needs a subject id.",
        )
    seen: dict[str, int] = {}
    for k, s in enumerate(subjects.tolist()):
        first = seen.setdefault(s, k)
        if first != k:
            raise table.error_at(
                k,
                f"subject {s!r} appears again (first at {table.where(first)}); give one row "
                "per subject.",
            )
