"""Readers for 1:1 comparison scores, validating everything as they read.

Formats
-------
Table (:func:`read_table_scores`)
    CSV (``.csv``; ``.tsv`` is tab-separated; ``.gz``/``.bz2`` compressed) or Parquet
    (``.parquet``, ``.pq``), one comparison per row, streamed in chunks by the table reader
    (:mod:`faceaudit.io.tables`). Columns (names configurable with :class:`ColumnNames`):
    ``score`` (required); ``mated`` (true/false, 1/0, yes/no, any case); optional ``probe`` and
    ``reference`` sample ids and ``probe_subject`` and ``reference_subject`` ids. Without
    ``mated``, a row is mated when its two subject ids are equal. With both, they must agree. An
    **empty score field is a failure to acquire** (FTA): it is counted, by the row's mated flag,
    in ``mated_fta`` / ``nonmated_fta`` and not stored in the score arrays.
pyeer (:func:`~faceaudit.io.pyeer.read_pyeer`)
    Two text files, mated and non-mated: one score per line (the last field), or histograms.
bob (:func:`~faceaudit.io.bob.read_bob`)
    bob.measure's 2-column ``label score`` files, bob.bio.base's 4- and 5-column files, plain,
    compressed or inside a tar archive; ``nan`` = failure to acquire; ``#`` comments.
NumPy (:func:`~faceaudit.io.npy.read_npy`)
    Two ``.npy`` files holding 1-D float (or integer) arrays, memory-mapped, never copied.

Conventions
-----------
Scores are returned similarity-oriented: higher = more similar, a comparison matches when
``score >= threshold``. Distance scores (``orientation="distance"``) are negated after
validation; :attr:`ComparisonScores.orientation` records what the file used so results can be
reported in the file's own units. NaN and infinite scores are errors (except bob's ``nan``).

Every problem with an input raises :class:`faceaudit.errors.InputError` whose message names the
file and the line (1-based, as an editor shows it: a CSV header is line 1) or the record
(Parquet row, array element), says what is wrong and what to do.

Data-quality warnings (:attr:`ComparisonScores.warnings`, with counts): comparisons of a sample
with itself and repeated (probe, reference) pairs, when a table has both sample-id columns (and
the same for bob files); see :mod:`faceaudit.io._quality` for how they stay in bounded memory.

Memory
------
What a table read keeps is its arrays: 8 bytes per score, plus 4 bytes per subject code and
column (16 bytes a row with both subject columns). Above that a read holds a working set that
hardly grows with the file: pyarrow's blocks in flight and the allocators' free lists, the pair
sample of the data-quality checks (at most 16 MiB) and one 32 MiB segment per array while the
arrays are joined. Measured on the benchmark's 6-column CSV (peak RSS above the arrays and the
interpreter): 122 MB at 10^6 rows, 134 MB at 3 x 10^6, 164 MB at 10^7 (17 bytes a row there),
i.e. about 120 MB fixed plus 5 bytes a row of allocator fragmentation (kept down by returning
free heap pages while streaming); about 0.6 GB above 1.6 GB of arrays at 10^8 rows.
"""

from __future__ import annotations

import operator
import os
from dataclasses import dataclass, fields

import numpy as np

from faceaudit._lazy import lazy_module
from faceaudit.data.scores import ComparisonScores
from faceaudit.errors import InputError
from faceaudit.io._checks import check_orientation
from faceaudit.io._collect import Accumulator, input_file
from faceaudit.io._quality import PairCounter, hash_ids
from faceaudit.io._tabular import BadColumn, BadRecord, check_ids, parse_mated, parse_scores
from faceaudit.io.bob import read_bob
from faceaudit.io.npy import read_npy
from faceaudit.io.pyeer import read_pyeer
from faceaudit.io.tables import Table, open_table, require_columns

pa = lazy_module("pyarrow")

__all__ = [
    "ColumnNames",
    "load_scores",
    "read_bob",
    "read_npy",
    "read_pyeer",
    "read_table_scores",
]

PathLike = str | os.PathLike[str]

_ROLES = ("score", "mated", "probe", "reference", "probe_subject", "reference_subject")


@dataclass
class ColumnNames:
    """Names of the columns of a score table (CSV or Parquet)."""

    score: str = "score"
    mated: str = "mated"
    probe: str = "probe"
    reference: str = "reference"
    probe_subject: str = "probe_subject"
    reference_subject: str = "reference_subject"


def _check_columns(columns: ColumnNames) -> None:
    names = [getattr(columns, f.name) for f in fields(columns)]
    for f in fields(columns):
        value = getattr(columns, f.name)
        if not isinstance(value, str) or not value:
            raise InputError(f"the name of the {f.name} column must be a non-empty text.")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(
            f"column name {dup[0]!r} is given for more than one role; give each role its own "
            "column name."
        )


def _present_columns(table: Table, columns: ColumnNames) -> dict[str, str]:
    wanted = {role: getattr(columns, role) for role in _ROLES}
    present = require_columns(
        table,
        wanted,
        ["score"],
        advice=f"name the score column {columns.score!r} or configure the column names.",
    )
    has_subjects = "probe_subject" in present and "reference_subject" in present
    if "mated" not in present and not has_subjects:
        found = ", ".join(repr(n) for n in table.names)
        raise table.header_error(
            f"has no column {columns.mated!r} and not both {columns.probe_subject!r} and "
            f"{columns.reference_subject!r} (columns found: {found}); add a mated column "
            "(true/false) or the two subject-id columns, or configure the column names."
        )
    return present


def read_table_scores(
    path: PathLike,
    *,
    columns: ColumnNames | None = None,
    orientation: str = "similarity",
    chunk_rows: int = 1_000_000,
) -> ComparisonScores:
    """Read comparison scores from a CSV or Parquet table, streaming and validating.

    Parameters
    ----------
    path
        ``.csv`` (comma), ``.tsv`` (tab), optionally ``.gz``/``.bz2``-compressed, or
        ``.parquet``/``.pq``. CSV files need a header line naming the columns; other extensions
        are read as CSV with the delimiter guessed from the header (tab or comma).
    columns
        Column names; defaults to ``score, mated, probe, reference, probe_subject,
        reference_subject``. Only ``score`` and either ``mated`` or both subject columns are
        required; other columns of the file are ignored.
    orientation
        ``"similarity"`` (higher = more similar) or ``"distance"`` (scores are negated).
    chunk_rows
        At most this many rows are converted at a time. Memory use is bounded by the chunk
        plus the kept arrays: 8 bytes per score and 4 bytes per subject code.

    Returns
    -------
    ComparisonScores
        With ``warnings`` about self-comparisons and repeated pairs when the table has both
        ``probe`` and ``reference`` columns.

    Raises
    ------
    InputError
        Naming the file and the line (CSV; header = line 1) or row (Parquet, 1-based) for:
        a missing file, empty file, missing column, non-numeric / NaN / infinite score,
        non-boolean mated value, mated flag contradicting the subject ids, empty subject id,
        a row with the wrong number of fields or an unclosed quote (truncated file), a file that
        is not Parquet, and an experiment without mated or without non-mated scores.

    Notes
    -----
    An empty score field is a failure to acquire: counted in ``mated_fta`` /
    ``nonmated_fta`` by the row's mated flag and left out of the score arrays. Whitespace around
    values is ignored. A quoted field may not span lines.
    """
    orientation = check_orientation(orientation)
    chunk_rows = operator.index(chunk_rows)
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    columns = columns or ColumnNames()
    _check_columns(columns)
    table = open_table(path)
    present = _present_columns(table, columns)
    # Subject and sample ids are read dictionary-encoded (Parquet): no per-row strings.
    table.dictionary_columns = [
        present[r]
        for r in ("probe_subject", "reference_subject", "probe", "reference")
        if r in present
    ]
    pairs = None
    if "probe" in present and "reference" in present:
        pairs = PairCounter(present["probe"], present["reference"])
    used = [name for name in table.names if name in present.values()]
    acc = Accumulator(
        probe_subjects="probe_subject" in present,
        reference_subjects="reference_subject" in present,
    )
    rows = _stream(table, used, present, acc, pairs, chunk_rows)
    if rows == 0:
        raise table.header_error(
            "has a header but no data rows; give a file with one comparison per row."
        )
    if pairs is not None:
        acc.warnings += pairs.warnings(table.where)
    return acc.finish(
        path=path, orientation=orientation, inputs=[input_file(path, rows)], what="in the table"
    )


def _stream(table: Table, used, present, acc: Accumulator, pairs, chunk_rows: int) -> int:
    """Read every chunk into ``acc`` (and ``pairs``); return the number of data rows."""
    rows = 0
    for start, batch in table.batches(used, chunk_rows):
        try:
            _table_chunk(batch, present, acc)
            if pairs is not None:
                pairs.add(
                    start,
                    hash_ids(batch.column(present["probe"])),
                    hash_ids(batch.column(present["reference"])),
                )
        except BadRecord as bad:
            raise table.error_at(start + bad.index, bad.message) from None
        except BadColumn as bad:
            raise table.header_error(str(bad)) from None
        rows = start + batch.num_rows
    return rows


def _table_chunk(batch: pa.RecordBatch, present: dict[str, str], acc: Accumulator) -> None:
    scores, missing = parse_scores(batch.column(present["score"]), name=present["score"])
    probe_codes = reference_codes = None
    if "probe_subject" in present:
        probe_codes = acc.codes.encode(
            batch.column(present["probe_subject"]), name=present["probe_subject"]
        )
    if "reference_subject" in present:
        reference_codes = acc.codes.encode(
            batch.column(present["reference_subject"]), name=present["reference_subject"]
        )
    same = None
    if probe_codes is not None and reference_codes is not None:
        same = probe_codes == reference_codes
    if "mated" in present:
        mated = parse_mated(batch.column(present["mated"]), name=present["mated"])
        if same is not None:
            _check_mated(mated, same, probe_codes, reference_codes, acc)
    else:
        assert same is not None
        mated = same
    for role in ("probe", "reference"):
        if role in present:
            check_ids(batch.column(present[role]), name=present[role])
    acc.add(scores, missing, mated, probe_codes, reference_codes)


def _check_mated(mated, same, probe_codes, reference_codes, acc: Accumulator) -> None:
    bad = np.flatnonzero(mated != same)
    if not bad.size:
        return
    i = int(bad[0])
    p = acc.codes.names[probe_codes[i]]
    r = acc.codes.names[reference_codes[i]]
    if mated[i]:
        msg = (
            f"the row is marked mated but its subjects differ ({p!r} vs {r!r}); fix the mated "
            "flag or the subject ids."
        )
    else:
        msg = (
            f"the row is marked non-mated but both subjects are {p!r}; fix the mated flag or the "
            "subject ids."
        )
    raise BadRecord(i, msg)


def load_scores(
    *,
    table: PathLike | None = None,
    mated: PathLike | None = None,
    nonmated: PathLike | None = None,
    mated_hist: PathLike | None = None,
    nonmated_hist: PathLike | None = None,
    bob: PathLike | None = None,
    columns: ColumnNames | None = None,
    orientation: str = "similarity",
) -> ComparisonScores:
    """Read scores from exactly one source; used by the ``faceaudit errors`` command.

    Give either ``table`` (CSV/Parquet, see :func:`read_table_scores`), or a mated and an
    non-mated file (both ``.npy`` -> :func:`read_npy`; otherwise pyeer text -> :func:`read_pyeer`,
    each a score list (``mated``, ``nonmated``) or a histogram (``mated_hist``,
    ``nonmated_hist``)), or ``bob`` (:func:`read_bob`). ``columns`` applies to tables only.

    Raises
    ------
    InputError
        For any other combination, or any problem in the files.
    """
    options = {
        "table": table,
        "mated": mated,
        "nonmated": nonmated,
        "mated_hist": mated_hist,
        "nonmated_hist": nonmated_hist,
        "bob": bob,
    }
    given = [name for name, value in options.items() if value is not None]
    kinds = {name if name in ("table", "bob") else "pair" for name in given}
    if len(kinds) != 1:
        raise InputError(
            "give exactly one score source: a table (CSV/Parquet), a mated and a non-mated "
            "file, or a bob score file"
            + (f" (got: {', '.join(given)})." if given else " (none given).")
        )
    if table is not None:
        return read_table_scores(table, columns=columns, orientation=orientation)
    if bob is not None:
        return read_bob(bob, orientation=orientation)
    return _load_pair(mated, nonmated, mated_hist, nonmated_hist, orientation)


def _load_pair(mated, nonmated, mated_hist, nonmated_hist, orientation) -> ComparisonScores:
    for kind, lists, hist in (
        ("mated", mated, mated_hist),
        ("nonmated", nonmated, nonmated_hist),
    ):
        if lists is not None and hist is not None:
            raise InputError(
                f"give the {kind.replace('nonm', 'non-m')} scores once: as a score list or as a "
                "histogram, not both."
            )
    g, i = (
        mated if mated is not None else mated_hist,
        nonmated if nonmated is not None else nonmated_hist,
    )
    if g is None or i is None:
        missing = "non-mated" if i is None else "mated"
        raise InputError(
            f"a mated and a non-mated score file go together; the {missing} file is missing."
        )
    npy = [os.fspath(x).lower().endswith(".npy") for x in (g, i)]
    if all(npy) and mated_hist is None and nonmated_hist is None:
        return read_npy(g, i, orientation=orientation)
    if any(npy):
        raise InputError(
            "the mated and non-mated files must be of one kind: both .npy arrays or both "
            "text files with one score per line (or histograms)."
        )
    return read_pyeer(
        g,
        i,
        orientation=orientation,
        mated_hist=mated_hist is not None,
        nonmated_hist=nonmated_hist is not None,
    )
