"""Readers for 1:1 comparison scores, validating everything as they read.

Formats
-------
Table (:func:`read_table_scores`)
    CSV (``.csv``; ``.tsv`` is tab-separated; ``.gz``/``.bz2`` compressed) or Parquet
    (``.parquet``, ``.pq``), one comparison per row, streamed in chunks so that a 10^8-row file
    never needs the whole table in memory. Columns (names configurable with
    :class:`ColumnNames`): ``score`` (required); ``mated`` (true/false, 1/0, yes/no, any case);
    optional ``probe`` and ``reference`` ids and ``probe_subject`` and ``reference_subject`` ids.
    Without ``mated``, a row is mated when its two subject ids are equal. With both, they must
    agree. An **empty score field is a failure to acquire** (FTA): it is counted, by the row's
    mated flag, in ``genuine_fta`` / ``impostor_fta`` and not stored in the score arrays.
pyeer (:func:`read_pyeer`)
    Two text files, genuine and impostor, one score per line; blank lines are ignored.
bob (:func:`read_bob`)
    Whitespace-separated lines ``claimed_id real_id test_label score`` (4 columns) or
    ``claimed_id model_label real_id test_label score`` (5 columns), told apart by the first
    line. A comparison is mated when ``claimed_id == real_id``. Following bob's convention, a
    ``nan`` score is a failure to acquire.
NumPy (:func:`read_npy`)
    Two ``.npy`` files holding 1-D float (or integer) arrays of genuine and impostor scores,
    memory-mapped, never copied.

Conventions
-----------
Scores are returned similarity-oriented: higher = more similar, a comparison matches when
``score >= threshold``. Distance scores (``orientation="distance"``) are negated after
validation; :attr:`ComparisonScores.orientation` records what the file used so results can be
reported in the file's own units. NaN and infinite scores are errors (except bob's ``nan``).

Every problem with an input raises :class:`faceaudit.errors.InputError` whose message names the
file and the line (1-based, as an editor shows it: a CSV header is line 1) or the record
(Parquet row, array element), says what is wrong and what to do.
"""

from __future__ import annotations

import csv
import io
import operator
import os
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from faceaudit._lazy import lazy_module
from faceaudit.data.inputs import InputFile
from faceaudit.data.scores import ComparisonScores
from faceaudit.errors import InputError
from faceaudit.io._checks import (
    PendingDigest,
    check_file,
    check_orientation,
    compression_of,
    count_lines,
    count_nonempty_lines,
    first_nonfinite,
    iter_lines_from,
    locate_nonempty_line,
    open_binary,
)
from faceaudit.io._tabular import (
    BadColumn,
    BadRecord,
    GrowableArray,
    SubjectCodes,
    check_ids,
    parse_mated,
    parse_scores,
)

pa = lazy_module("pyarrow")
pc = lazy_module("pyarrow.compute")
pa_csv = lazy_module("pyarrow.csv")
pq = lazy_module("pyarrow.parquet")

__all__ = [
    "ColumnNames",
    "load_scores",
    "read_bob",
    "read_npy",
    "read_pyeer",
    "read_table_scores",
]

PathLike = str | os.PathLike[str]

#: Bytes per block for pyarrow's streaming CSV reader (memory per block in flight).
_CSV_BLOCK_BYTES = 1 << 21
#: Largest Parquet batch, in rows.
_PARQUET_BATCH_ROWS = 1 << 18
_PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass
class ColumnNames:
    """Names of the columns of a score table (CSV or Parquet)."""

    score: str = "score"
    mated: str = "mated"
    probe: str = "probe"
    reference: str = "reference"
    probe_subject: str = "probe_subject"
    reference_subject: str = "reference_subject"


# ---------------------------------------------------------------------------------------------
# Shared accumulation: chunks of (score, mated, subjects) -> ComparisonScores


class _Accumulator:
    """Collects validated chunks, split into genuine and impostor at once (bounded memory)."""

    def __init__(self, *, probe_subjects: bool, reference_subjects: bool) -> None:
        self.probe_subjects = probe_subjects
        self.reference_subjects = reference_subjects
        self.codes = SubjectCodes()
        self.gen = GrowableArray(np.float64)
        self.imp = GrowableArray(np.float64)
        has_subjects = probe_subjects or reference_subjects
        self.gen_subj = GrowableArray(np.int32) if has_subjects else None
        self.imp_subj = GrowableArray(np.int32) if probe_subjects else None
        self.imp_ref = GrowableArray(np.int32) if reference_subjects else None
        self.genuine_fta = 0
        self.impostor_fta = 0
        self.rows = 0

    def add(
        self,
        scores: np.ndarray,
        missing: np.ndarray | None,
        mated: np.ndarray,
        probe_codes: np.ndarray | None,
        reference_codes: np.ndarray | None,
    ) -> None:
        self.rows += scores.shape[0]
        if missing is None:
            g, i = mated, ~mated
        else:
            have = ~missing
            g, i = mated & have, ~mated & have
            n_missing = int(np.count_nonzero(missing))
            gen_missing = int(np.count_nonzero(missing & mated))
            self.genuine_fta += gen_missing
            self.impostor_fta += n_missing - gen_missing
        self.gen.extend_where(scores, g)
        self.imp.extend_where(scores, i)
        if self.gen_subj is not None:
            subj = probe_codes if probe_codes is not None else reference_codes
            self.gen_subj.extend_where(subj, g)
        if self.imp_subj is not None:
            self.imp_subj.extend_where(probe_codes, i)
        if self.imp_ref is not None:
            self.imp_ref.extend_where(reference_codes, i)

    def finish(
        self, *, path: PathLike, orientation: str, inputs: list[InputFile], what: str
    ) -> ComparisonScores:
        genuine = self.gen.finish()
        impostor = self.imp.finish()
        _check_nonempty(genuine, self.genuine_fta, kind="genuine", path=path, what=what)
        _check_nonempty(impostor, self.impostor_fta, kind="impostor", path=path, what=what)
        if orientation == "distance":
            np.negative(genuine, out=genuine)
            np.negative(impostor, out=impostor)
        subjects, remap = self.codes.canonical()

        def codes(parts: GrowableArray | None) -> np.ndarray | None:
            if parts is None:
                return None
            out = parts.finish()
            return np.take(remap, out, out=out, mode="clip")  # in place: element i -> i

        return ComparisonScores(
            genuine=genuine,
            impostor=impostor,
            genuine_subject=codes(self.gen_subj),
            impostor_subject=codes(self.imp_subj),
            impostor_reference_subject=codes(self.imp_ref),
            subjects=subjects,
            genuine_fta=self.genuine_fta,
            impostor_fta=self.impostor_fta,
            orientation=orientation,
            inputs=inputs,
        )


def _check_nonempty(values: np.ndarray, fta: int, *, kind: str, path: PathLike, what: str) -> None:
    if values.shape[0]:
        return
    label = "genuine (mated)" if kind == "genuine" else "impostor (non-mated)"
    if fta:
        raise InputError(
            f"all {fta} {label} comparisons have no score (failures to acquire); at least one "
            f"scored {kind} comparison is needed to measure error rates.",
            path=path,
        )
    raise InputError(
        f"no {label} comparisons found {what}; error rates need both genuine and impostor "
        "comparisons, so check the mated flags or the subject ids.",
        path=path,
    )


def _input_file(path: PathLike, records: int) -> InputFile:
    return InputFile(path=os.fspath(path), sha256=PendingDigest(path), records=records)


# ---------------------------------------------------------------------------------------------
# Tables: CSV and Parquet


class _TableSource:
    """Common interface of the CSV and Parquet streams."""

    path: PathLike
    names: list[str]

    def batches(self, used: list[str], chunk_rows: int) -> Iterator[tuple[int, pa.RecordBatch]]:
        raise NotImplementedError

    def error_at(self, row: int, message: str) -> InputError:
        raise NotImplementedError

    def header_error(self, message: str) -> InputError:
        raise NotImplementedError

    def proves_no_nulls(self, name: str) -> bool:
        """True if the file's metadata show that a column has no missing value."""
        return False


def _split(batch: pa.RecordBatch, start: int, chunk_rows: int):
    n = batch.num_rows
    if n <= chunk_rows:
        yield start, batch
        return
    for off in range(0, n, chunk_rows):
        yield start + off, batch.slice(off, chunk_rows)


class _CsvDialect(csv.Dialect):
    """pyarrow's default CSV parsing, for the Python csv module on the error path."""

    delimiter = ","
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL


class _TsvDialect(_CsvDialect):
    delimiter = "\t"


class _CsvSource(_TableSource):
    def __init__(self, path: PathLike, p: Path) -> None:
        self.path = path
        self.p = p
        base = p.with_suffix("") if compression_of(p) else p
        with open_binary(p) as fh:
            try:
                head = fh.read(1 << 16)
            except (OSError, EOFError) as exc:
                raise InputError(
                    f"could not be decompressed ({exc}); the file may be truncated or corrupt.",
                    path=path,
                ) from None
        if head.startswith(b"PAR1"):
            raise InputError(
                "is a Parquet file, not CSV; name it with the .parquet extension.", path=path
            )
        first, self.header_line = _first_line(head)
        if first is None:
            raise InputError(
                "holds no text (only blank lines); give a file with scores.", path=path
            )
        try:
            text = first.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(
                "is not UTF-8 text; save it as UTF-8 CSV (or give a .parquet file).",
                path=path,
                line=self.header_line,
            ) from None
        ext = base.suffix.lower()
        if ext == ".tsv" or (ext != ".csv" and "\t" in text and "," not in text):
            self.delimiter = "\t"
        else:
            self.delimiter = ","
        self._dialect = _CsvDialect if self.delimiter == "," else _TsvDialect
        try:
            self.names = next(csv.reader([text.rstrip("\r\n")], self._dialect))
        except (csv.Error, StopIteration):
            raise InputError(
                "has a header that is not valid CSV; the first line must name the columns.",
                path=path,
                line=self.header_line,
            ) from None

    def header_error(self, message: str) -> InputError:
        return InputError(message, path=self.path, line=self.header_line)

    def error_at(self, row: int, message: str) -> InputError:
        try:
            found = locate_nonempty_line(self.p, row + 1)
        except (OSError, EOFError):  # a compressed file truncated after the bad row
            found = None
        if found is None:
            return InputError(message, path=self.path, record=f"data row {row + 1}")
        return InputError(message, path=self.path, line=found[0])

    def batches(self, used: list[str], chunk_rows: int) -> Iterator[tuple[int, pa.RecordBatch]]:
        try:
            reader = pa_csv.open_csv(
                self.p,
                read_options=pa_csv.ReadOptions(block_size=_CSV_BLOCK_BYTES, use_threads=True),
                parse_options=pa_csv.ParseOptions(delimiter=self.delimiter),
                convert_options=pa_csv.ConvertOptions(
                    column_types={c: pa.string() for c in used},
                    include_columns=used,
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
        except (pa.ArrowInvalid, OSError) as exc:
            raise self._diagnose(0, exc) from None
        rows = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, OSError, EOFError) as exc:
                raise self._diagnose(rows, exc) from None
            yield from _split(batch, rows, chunk_rows)
            rows += batch.num_rows
        # pyarrow lets a quoted field run over line ends: an unclosed quote (a truncated file)
        # silently swallows the lines after it. One cheap count of lines proves that none did.
        # The last line is checked on its own: an unclosed quote there swallows nothing.
        try:
            lines, last = count_lines(self.p)
            if lines != rows + 1 and count_nonempty_lines(self.p) != rows + 1:
                raise self._diagnose(0, None)
        except (OSError, EOFError) as exc:
            raise self._diagnose(rows, exc) from None
        try:
            next(csv.reader([last.decode("utf-8", "replace")], self._dialect, strict=True))
        except csv.Error:
            found = locate_nonempty_line(self.p, rows)
            raise InputError(
                _UNCLOSED_QUOTE, path=self.path, line=found[0] if found else lines
            ) from None

    def _diagnose(self, rows_before: int, exc: BaseException | None) -> InputError:
        """Find the line pyarrow could not parse (or that spans lines), from data row
        ``rows_before`` on."""
        ncols = len(self.names)
        try:
            found = locate_nonempty_line(self.p, rows_before + 1) if rows_before else None
            start = found or (self.header_line, 0)
            if compression_of(self.p) is None and start == (self.header_line, 0):
                start = (1, 0)
            for number, raw in iter_lines_from(self.p, *start):
                body = raw.rstrip(b"\r\n")
                if not body or number <= self.header_line:
                    continue
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    return InputError(
                        "is not valid UTF-8 text; save the file as UTF-8.",
                        path=self.path,
                        line=number,
                    )
                try:
                    row = next(csv.reader([text], self._dialect, strict=True))
                except csv.Error:
                    return InputError(
                        _UNCLOSED_QUOTE,
                        path=self.path,
                        line=number,
                    )
                if len(row) != ncols:
                    return InputError(
                        f"has {len(row)} fields but the header has {ncols}; the row is malformed "
                        "or the file is truncated.",
                        path=self.path,
                        line=number,
                    )
        except (OSError, EOFError) as err:
            return InputError(
                f"could not be read to the end ({err}); the file is truncated or corrupt.",
                path=self.path,
            )
        if exc is None:  # pragma: no cover - a line count mismatch we could not explain
            return InputError(
                "has a quoted field that spans lines; remove line breaks from values.",
                path=self.path,
            )
        return InputError(
            f"could not be parsed as CSV after line {start[0]} ({exc}); check the file's format.",
            path=self.path,
        )


_UNCLOSED_QUOTE = (
    "has a quoted field that is not closed on its line; the file may be truncated, or a value "
    "holds a stray quote or a line break (not supported)."
)


def _first_line(head: bytes) -> tuple[bytes | None, int]:
    """The first non-empty line of ``head`` and its 1-based number."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    for number, raw in enumerate(io.BytesIO(head), start=1):
        if raw.rstrip(b"\r\n"):
            return raw, number
    return None, 0


class _ParquetSource(_TableSource):
    def __init__(self, path: PathLike, p: Path) -> None:
        self.path = path
        self.p = p
        try:
            self.file = pq.ParquetFile(p)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(
                f"is not a Parquet file, or it is truncated or corrupt ({exc}); give a Parquet "
                "file, or a CSV file named .csv.",
                path=path,
            ) from None
        self.names = list(self.file.schema_arrow.names)
        self.dictionary_columns: list[str] = []

    def header_error(self, message: str) -> InputError:
        return InputError(message, path=self.path)

    def error_at(self, row: int, message: str) -> InputError:
        return InputError(message, path=self.path, record=f"row {row + 1}")

    def proves_no_nulls(self, name: str) -> bool:
        """True if the file's statistics show that column ``name`` has no missing value."""
        md = self.file.metadata
        paths = [md.schema.column(k).path for k in range(md.num_columns)]
        if paths.count(name) != 1:
            return False
        k = paths.index(name)
        for rg in range(md.num_row_groups):
            stats = md.row_group(rg).column(k).statistics
            if stats is None or not stats.has_null_count or stats.null_count:
                return False
        return True

    def batches(self, used: list[str], chunk_rows: int) -> Iterator[tuple[int, pa.RecordBatch]]:
        rows = 0
        try:
            # Subject ids are read dictionary-encoded: no per-row strings are built.
            file = pq.ParquetFile(
                self.p, read_dictionary=self.dictionary_columns or None, buffer_size=1 << 20
            )
            it = file.iter_batches(
                batch_size=min(chunk_rows, _PARQUET_BATCH_ROWS), columns=used, use_threads=True
            )
        except (pa.ArrowException, OSError) as exc:
            raise InputError(
                f"could not be read ({exc}); the file is truncated or corrupt.", path=self.path
            ) from None
        while True:
            try:
                batch = next(it)
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:
                raise InputError(
                    f"could not be read after row {rows} ({exc}); the file is truncated or "
                    "corrupt.",
                    path=self.path,
                ) from None
            yield from _split(batch, rows, chunk_rows)
            rows += batch.num_rows


def _table_source(path: PathLike) -> _TableSource:
    p = check_file(path)
    base = p.with_suffix("") if compression_of(p) else p
    if base.suffix.lower() in _PARQUET_SUFFIXES:
        return _ParquetSource(path, p)
    return _CsvSource(path, p)


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

    Raises
    ------
    InputError
        Naming the file and the line (CSV; header = line 1) or row (Parquet, 1-based) for:
        a missing file, empty file, missing column, non-numeric / NaN / infinite score,
        non-boolean mated value, mated flag contradicting the subject ids, empty subject id,
        a row with the wrong number of fields or an unclosed quote (truncated file), a file that
        is not Parquet, and an experiment without genuine or without impostor scores.

    Notes
    -----
    An empty score field is a failure to acquire: counted in ``genuine_fta`` /
    ``impostor_fta`` by the row's mated flag and left out of the score arrays. Whitespace around
    values is ignored. Line numbers assume no newline inside a quoted field (pyarrow rejects
    those by default).
    """
    orientation = check_orientation(orientation)
    chunk_rows = operator.index(chunk_rows)
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    columns = columns or ColumnNames()
    _check_columns(columns)
    source = _table_source(path)
    names = source.names
    dup = sorted({n for n in names if names.count(n) > 1})
    used_roles = {
        role: getattr(columns, role)
        for role in ("score", "mated", "probe", "reference", "probe_subject", "reference_subject")
    }
    for role, name in used_roles.items():
        if name in dup:
            raise source.header_error(
                f"has two columns named {name!r}; rename one so the {role} column is unambiguous."
            )
    present = {role: name for role, name in used_roles.items() if name in names}
    found = ", ".join(repr(n) for n in names)
    if "score" not in present:
        raise source.header_error(
            f"has no column {columns.score!r} (columns found: {found}); name the score column "
            f"{columns.score!r} or configure the column names." + _case_hint(columns.score, names)
        )
    has_subjects = "probe_subject" in present and "reference_subject" in present
    if "mated" not in present and not has_subjects:
        raise source.header_error(
            f"has no column {columns.mated!r} and not both {columns.probe_subject!r} and "
            f"{columns.reference_subject!r} (columns found: {found}); add a mated column "
            "(true/false) or the two subject-id columns, or configure the column names."
            + _case_hint(columns.mated, names)
        )
    # The probe and reference ids are only checked to be present: skip reading them where the
    # file's statistics already prove it (Parquet).
    for role in ("probe", "reference"):
        if role in present and source.proves_no_nulls(present[role]):
            del present[role]
    if isinstance(source, _ParquetSource):
        source.dictionary_columns = [
            present[r] for r in ("probe_subject", "reference_subject") if r in present
        ]
    used = [name for name in names if name in present.values()]
    acc = _Accumulator(
        probe_subjects="probe_subject" in present,
        reference_subjects="reference_subject" in present,
    )
    rows = 0
    for start, batch in source.batches(used, chunk_rows):
        try:
            _table_chunk(batch, present, acc)
        except BadRecord as bad:
            raise source.error_at(start + bad.index, bad.message) from None
        except BadColumn as bad:
            raise source.header_error(str(bad)) from None
        rows = start + batch.num_rows
    if rows == 0:
        raise source.header_error(
            "has a header but no data rows; give a file with one comparison per row."
        )
    return acc.finish(
        path=path,
        orientation=orientation,
        inputs=[_input_file(path, rows)],
        what="in the table",
    )


def _case_hint(wanted: str, names: list[str]) -> str:
    close = [n for n in names if n.strip().lower() == wanted.lower() and n != wanted]
    return f" (Did you mean {close[0]!r}? Column names are case-sensitive.)" if close else ""


def _table_chunk(batch: pa.RecordBatch, present: dict[str, str], acc: _Accumulator) -> None:
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
            bad = np.flatnonzero(mated != same)
            if bad.size:
                i = int(bad[0])
                p = acc.codes.names[probe_codes[i]]
                r = acc.codes.names[reference_codes[i]]
                if mated[i]:
                    msg = (
                        f"the row is marked mated but its subjects differ ({p!r} vs {r!r}); "
                        "fix the mated flag or the subject ids."
                    )
                else:
                    msg = (
                        f"the row is marked non-mated but both subjects are {p!r}; fix the "
                        "mated flag or the subject ids."
                    )
                raise BadRecord(i, msg)
    else:
        assert same is not None
        mated = same
    for role in ("probe", "reference"):
        if role in present:
            check_ids(batch.column(present[role]), name=present[role])
    acc.add(scores, missing, mated, probe_codes, reference_codes)


# ---------------------------------------------------------------------------------------------
# Text files: pyeer (one score per line) and bob (4/5 columns)


def _text_reader(p: Path, *, ncols: int, delimiter: str, types: pa.DataType):
    """A streaming pyarrow reader for a header-less text file with ``ncols`` fields per line."""
    names = [f"f{j}" for j in range(ncols)]
    return pa_csv.open_csv(
        p,
        read_options=pa_csv.ReadOptions(
            block_size=_CSV_BLOCK_BYTES, use_threads=True, column_names=names
        ),
        parse_options=pa_csv.ParseOptions(delimiter=delimiter, quote_char=False),
        convert_options=pa_csv.ConvertOptions(
            column_types={n: types for n in names}, null_values=[], strings_can_be_null=False
        ),
    )


def _stream(reader) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return


def _text_error(p: Path, path: PathLike, row: int, message: str) -> InputError:
    found = locate_nonempty_line(p, row)
    if found is None:  # pragma: no cover
        return InputError(message, path=path, record=f"record {row + 1}")
    return InputError(message, path=path, line=found[0])


#: A delimiter that does not occur in score files, so that each line is one field.
_NO_DELIMITER = "\x1f"


def _read_score_lines(path: PathLike, *, kind: str) -> tuple[np.ndarray, int]:
    """Scores of a one-score-per-line text file, validated. Returns (float64 scores, count)."""
    p = check_file(path)
    with open_binary(p) as fh:
        head = fh.read(6)
    if head.startswith(b"\x93NUMPY"):
        raise InputError(
            "is a NumPy .npy file, not text; name it with the .npy extension.", path=path
        )
    # Fast path: pyarrow parses numbers in its threads (blanks around numbers are allowed).
    parts: list[np.ndarray] = []
    rows = 0
    try:
        reader = _text_reader(p, ncols=1, delimiter=_NO_DELIMITER, types=pa.float64())
        for batch in _stream(reader):
            col = batch.column(0)
            values = col.to_numpy(zero_copy_only=False)
            bad = first_nonfinite(values)
            if bad is not None:
                raise _Slow from None
            parts.append(values)
            rows += batch.num_rows
    except (_Slow, pa.ArrowInvalid, OSError, EOFError):
        parts, rows = _read_score_lines_slow(p, path)
    values = np.concatenate(parts) if parts else np.empty(0)
    if values.shape[0] == 0:
        label = "genuine (mated)" if kind == "genuine" else "impostor (non-mated)"
        raise InputError(
            f"holds no scores (only blank lines); the {label} score file needs one score per line.",
            path=path,
        )
    return values, rows


class _Slow(Exception):
    """Internal: leave the fast path and locate the problem on the slow path."""


def _read_score_lines_slow(p: Path, path: PathLike) -> tuple[list[np.ndarray], int]:
    """Text parsing with exact error lines; also accepts lines that hold only blanks."""
    parts: list[np.ndarray] = []
    rows = 0  # non-empty lines seen (pyarrow's rows), for line numbers
    count = 0  # scores kept
    try:
        reader = _text_reader(p, ncols=1, delimiter=_NO_DELIMITER, types=pa.string())
        for batch in _stream(reader):
            try:
                values, blank = parse_scores(batch.column(0), name="score", advice=_PYEER_ADVICE)
            except BadRecord as bad:
                raise _text_error(p, path, rows + bad.index, bad.message) from None
            if blank is not None:
                values = values[~blank]
            parts.append(values)
            rows += batch.num_rows
            count += values.shape[0]
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise _text_unreadable(p, path, rows, exc) from None
    return parts, count


_PYEER_ADVICE = "fix or remove the line (a pyeer score file holds one number per line)."


def _text_unreadable(p: Path, path: PathLike, rows_before: int, exc: BaseException) -> InputError:
    """Locate why pyarrow could not read a text file (bad UTF-8, stray delimiter, truncation)."""
    try:
        found = locate_nonempty_line(p, rows_before)
    except (OSError, EOFError) as err:
        found, exc = None, err
    if found is not None:
        try:
            for number, raw in iter_lines_from(p, *found):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    return InputError(
                        "is not valid UTF-8 text; save the file as UTF-8.", path=path, line=number
                    )
                if _NO_DELIMITER.encode() in raw:
                    return InputError(
                        "holds a control character (0x1f); remove it.", path=path, line=number
                    )
        except (OSError, EOFError) as err:
            exc = err
    return InputError(
        f"could not be read ({exc}); the file is truncated, corrupt or not text.", path=path
    )


def read_pyeer(
    genuine_path: PathLike, impostor_path: PathLike, *, orientation: str = "similarity"
) -> ComparisonScores:
    """Read pyeer-style score files: genuine and impostor scores, one number per line.

    Blank lines (and lines holding only blanks) are ignored; any other line must hold exactly
    one finite decimal number (blanks around it allowed). There are no subject ids, so the
    result's subject arrays are None.

    Raises
    ------
    InputError
        Naming the file and the line of a value that is not a finite number, or an empty file.
    """
    orientation = check_orientation(orientation)
    genuine, n_gen = _read_score_lines(genuine_path, kind="genuine")
    impostor, n_imp = _read_score_lines(impostor_path, kind="impostor")
    if orientation == "distance":
        np.negative(genuine, out=genuine)
        np.negative(impostor, out=impostor)
    return ComparisonScores(
        genuine=genuine,
        impostor=impostor,
        genuine_subject=None,
        impostor_subject=None,
        impostor_reference_subject=None,
        subjects=[],
        orientation=orientation,
        inputs=[_input_file(genuine_path, n_gen), _input_file(impostor_path, n_imp)],
    )


def _bob_layout(p: Path, path: PathLike) -> tuple[int, str | None]:
    """Number of fields (4 or 5) and a single-character delimiter, from the first line."""
    try:
        with open_binary(p) as fh:
            number = 0
            for number, raw in enumerate(fh, start=1):  # noqa: B007
                if raw.strip():
                    break
            else:
                raise InputError("holds only blank lines; give a bob score file.", path=path)
    except (OSError, EOFError) as exc:
        raise InputError(
            f"could not be read ({exc}); the file is truncated or corrupt.", path=path
        ) from None
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text; save it as UTF-8.", path=path, line=number) from None
    n = len(text.split())
    if n not in (4, 5):
        raise InputError(
            f"has {n} fields; a bob score file has 4 (claimed_id real_id test_label score) or "
            "5 (claimed_id model_label real_id test_label score) whitespace-separated fields.",
            path=path,
            line=number,
        )
    for delim in (" ", "\t"):
        parts = text.split(delim)
        if len(parts) == n and all(part and not any(c.isspace() for c in part) for part in parts):
            return n, delim
    return n, None


def read_bob(path: PathLike, *, orientation: str = "similarity") -> ComparisonScores:
    """Read a bob score file (4 or 5 whitespace-separated columns).

    4 columns: ``claimed_id real_id test_label score``; 5 columns: ``claimed_id model_label
    real_id test_label score`` (detected from the first non-blank line; every line must have the
    same count). A comparison is mated when ``claimed_id == real_id``. Subject codes:
    ``genuine_subject`` and ``impostor_subject`` are the ``real_id`` (the probe's subject),
    ``impostor_reference_subject`` the ``claimed_id``.

    Notes
    -----
    bob writes ``nan`` as the score of a comparison that could not be made (no face found):
    as in bob.measure, a NaN score is a failure to acquire, counted in ``genuine_fta`` /
    ``impostor_fta``. An infinite or non-numeric score is an error.

    Raises
    ------
    InputError
        Naming the file and line: wrong number of fields (also how a truncated file shows), a
        score that is not a number or is infinite, no genuine or no impostor comparisons.
    """
    orientation = check_orientation(orientation)
    p = check_file(path)
    ncols, delimiter = _bob_layout(p, path)
    acc = _Accumulator(probe_subjects=True, reference_subjects=True)
    try:
        if delimiter is None:
            raise _Slow
        _bob_fast(p, ncols, delimiter, acc)
    except (_Slow, pa.ArrowInvalid):
        # Irregular whitespace, or a line to locate: split lines with pyarrow instead.
        acc = _Accumulator(probe_subjects=True, reference_subjects=True)
        _bob_slow(p, path, ncols, acc)
    except (OSError, EOFError) as exc:
        raise _text_unreadable(p, path, 0, exc) from None
    return acc.finish(
        path=path,
        orientation=orientation,
        inputs=[_input_file(path, acc.rows)],
        what="(a comparison is genuine when its claimed_id equals its real_id)",
    )


def _bob_columns(ncols: int) -> tuple[int, int]:
    """Field indices of claimed_id and real_id."""
    return 0, (1 if ncols == 4 else 2)


def _bob_fast(p: Path, ncols: int, delimiter: str, acc: _Accumulator) -> None:
    reader = _text_reader(p, ncols=ncols, delimiter=delimiter, types=pa.string())
    claimed_j, real_j = _bob_columns(ncols)
    other = "\t" if delimiter == " " else " "
    for batch in _stream(reader):
        claimed, real = batch.column(claimed_j), batch.column(real_j)
        for ids in (claimed, real):
            if pc.any(pc.match_substring(ids, other)).as_py():
                raise _Slow  # mixed blanks: split the lines on any whitespace instead
        try:
            _bob_chunk(claimed, real, batch.column(ncols - 1), acc)
        except BadRecord:
            raise _Slow from None


def _bob_chunk(claimed: pa.Array, real: pa.Array, score: pa.Array, acc: _Accumulator) -> None:
    scores, missing = parse_scores(
        score,
        name="score",
        nan_is_missing=True,
        advice="fix the value (bob writes nan for a comparison that could not be made).",
    )
    real_codes = acc.codes.encode(real, name="real_id")
    claimed_codes = acc.codes.encode(claimed, name="claimed_id")
    acc.add(scores, missing, real_codes == claimed_codes, real_codes, claimed_codes)


def _bob_slow(p: Path, path: PathLike, ncols: int, acc: _Accumulator) -> None:
    rows = 0
    claimed_j, real_j = _bob_columns(ncols)
    try:
        reader = _text_reader(p, ncols=1, delimiter=_NO_DELIMITER, types=pa.string())
        for batch in _stream(reader):
            # (pyarrow's split keeps an empty field for blanks at either end: trim first.)
            trimmed = pc.utf8_trim_whitespace(batch.column(0))
            blank = pc.equal(trimmed, "").to_numpy(zero_copy_only=False)
            parts = pc.utf8_split_whitespace(trimmed)
            counts = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
            wrong = np.flatnonzero((counts != ncols) & ~blank)
            if wrong.size:
                i = int(wrong[0])
                raise _text_error(
                    p,
                    path,
                    rows + i,
                    f"has {counts[i]} fields but the first line has {ncols}; every line of a bob "
                    "score file has the same fields (a short last line means the file is "
                    "truncated).",
                )
            keep = np.flatnonzero(~blank) if blank.any() else None
            if keep is not None:
                parts = parts.take(pa.array(keep))
            try:
                _bob_chunk(
                    pc.list_element(parts, claimed_j),
                    pc.list_element(parts, real_j),
                    pc.list_element(parts, ncols - 1),
                    acc,
                )
            except BadRecord as bad:
                i = bad.index if keep is None else int(keep[bad.index])
                raise _text_error(p, path, rows + i, bad.message) from None
            rows += batch.num_rows
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise _text_unreadable(p, path, rows, exc) from None


# ---------------------------------------------------------------------------------------------
# NumPy arrays


def _load_npy(path: PathLike, *, kind: str) -> np.ndarray:
    p = check_file(path)
    try:
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise InputError(
            f"is not a readable .npy array ({exc}); the file may be truncated or corrupt, or not "
            "written by numpy.save.",
            path=path,
        ) from None
    if not isinstance(arr, np.ndarray):
        if hasattr(arr, "close"):
            arr.close()
        raise InputError(
            "is an .npz archive, not a .npy array; save each score array with numpy.save.",
            path=path,
        )
    if arr.ndim != 1:
        raise InputError(
            f"holds an array of shape {arr.shape}; a 1-D array of {kind} scores is needed "
            "(save array.ravel()).",
            path=path,
        )
    if arr.shape[0] == 0:
        label = "genuine (mated)" if kind == "genuine" else "impostor (non-mated)"
        raise InputError(f"holds no scores; the {label} score array is empty.", path=path)
    dt = arr.dtype
    if dt.kind == "f":
        if dt.itemsize not in (4, 8):
            arr = arr.astype(np.float64)
    elif dt.kind in "iu":
        arr = arr.astype(np.float64)
    else:
        raise InputError(
            f"holds {dt} values; scores must be floating-point (or integer) numbers.", path=path
        )
    bad = first_nonfinite(arr)
    if bad is not None:
        what = "NaN" if np.isnan(arr[bad]) else "infinite"
        raise InputError(
            f"score {float(arr[bad])!r} is {what}; every score in a .npy file must be a finite "
            "number (drop failures to acquire, or give them in a table with an empty score).",
            path=path,
            record=f"element {bad} (0-based)",
        )
    return arr


def read_npy(
    genuine_path: PathLike, impostor_path: PathLike, *, orientation: str = "similarity"
) -> ComparisonScores:
    """Read genuine and impostor scores from two ``.npy`` files.

    The arrays are memory-mapped read-only and returned as they are (float32 or float64, never
    copied); integer arrays (and float16) are converted to float64. With
    ``orientation="distance"`` the negated arrays are new in-memory copies.

    Raises
    ------
    InputError
        For a file that is not a readable .npy array (truncated, corrupt, pickled, .npz), not
        1-D, empty, of a non-numeric dtype, or holding a NaN/infinite element (its index is
        named).
    """
    orientation = check_orientation(orientation)
    genuine = _load_npy(genuine_path, kind="genuine")
    impostor = _load_npy(impostor_path, kind="impostor")
    if orientation == "distance":
        genuine = np.negative(genuine)
        impostor = np.negative(impostor)
    return ComparisonScores(
        genuine=genuine,
        impostor=impostor,
        genuine_subject=None,
        impostor_subject=None,
        impostor_reference_subject=None,
        subjects=[],
        orientation=orientation,
        inputs=[
            _input_file(genuine_path, int(genuine.shape[0])),
            _input_file(impostor_path, int(impostor.shape[0])),
        ],
    )


# ---------------------------------------------------------------------------------------------
# Dispatcher


def load_scores(
    *,
    table: PathLike | None = None,
    genuine: PathLike | None = None,
    impostor: PathLike | None = None,
    bob: PathLike | None = None,
    columns: ColumnNames | None = None,
    orientation: str = "similarity",
) -> ComparisonScores:
    """Read scores from exactly one source; used by the ``faceaudit errors`` command.

    Give either ``table`` (CSV/Parquet, see :func:`read_table_scores`), or ``genuine`` and
    ``impostor`` (both ``.npy`` -> :func:`read_npy`, otherwise pyeer-style text ->
    :func:`read_pyeer`), or ``bob`` (:func:`read_bob`). ``columns`` applies to tables only.

    Raises
    ------
    InputError
        For any other combination, or any problem in the files.
    """
    options = {"table": table, "genuine": genuine, "impostor": impostor, "bob": bob}
    given = [name for name, value in options.items() if value is not None]
    kinds = {"pair" if name in ("genuine", "impostor") else name for name in given}
    if len(kinds) != 1:
        raise InputError(
            "give exactly one score source: a table (CSV/Parquet), a genuine and an impostor "
            "file, or a bob score file"
            + (f" (got: {', '.join(given)})." if given else " (none given).")
        )
    if table is not None:
        return read_table_scores(table, columns=columns, orientation=orientation)
    if bob is not None:
        return read_bob(bob, orientation=orientation)
    if genuine is None or impostor is None:
        missing = "impostor" if impostor is None else "genuine"
        raise InputError(
            f"a genuine and an impostor score file go together; the {missing} file is missing."
        )
    npy = [os.fspath(x).lower().endswith(".npy") for x in (genuine, impostor)]
    if all(npy):
        return read_npy(genuine, impostor, orientation=orientation)
    if any(npy):
        raise InputError(
            "the genuine and impostor files must be of one kind: both .npy arrays or both "
            "text files with one score per line."
        )
    return read_pyeer(genuine, impostor, orientation=orientation)
