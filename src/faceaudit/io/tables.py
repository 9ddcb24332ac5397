"""The one table reader of faceaudit: CSV/TSV and Parquet, streamed, every error located.

Every table faceaudit reads — comparison scores, candidate lists, truth tables, gallery subject
lists, subject metadata and image manifests — is opened with :func:`open_table` and read in
chunks with :meth:`Table.batches` (pyarrow, in threads); small tables are gathered whole with
:func:`read_whole`.

CSV
    ``.csv`` (comma); ``.tsv`` (tab); any other name: the delimiter is guessed from the header
    (tab when it holds tabs and no comma). Optionally ``.gz``/``.bz2``-compressed, or the first
    file of a tar archive. The first non-blank line is the header; column names are stripped of
    blanks. A line holding only blanks is skipped. Fields are quoted with ``"`` (doubled inside);
    a quoted field may not span lines. Every value is read as text; an empty field is missing.
Parquet (``.parquet``, ``.pq``)
    Batches of at most 2^18 rows, in the columns' stored types.

Errors name the file and the line as an editor numbers it (CSV: header = line 1 unless blank
lines precede it) or the row (Parquet, 1-based): :meth:`Table.error_at` finds the line of a data
row only once something is wrong, so the fast path never pays for it.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from faceaudit._lazy import lazy_module
from faceaudit.errors import InputError
from faceaudit.io._checks import (
    BLANK_BYTES,
    CountingReader,
    check_file,
    count_nonempty_lines,
    described,
    is_blank,
    is_plain,
    iter_lines_from,
    locate_nonempty_line,
    nonempty_line_numbers,
    open_binary,
    release_heap,
    table_suffix,
)
from faceaudit.io._tabular import scalar

pa = lazy_module("pyarrow")
pc = lazy_module("pyarrow.compute")
pa_csv = lazy_module("pyarrow.csv")
pq = lazy_module("pyarrow.parquet")

__all__ = [
    "PARQUET_SUFFIXES",
    "Table",
    "case_hint",
    "first_empty",
    "open_table",
    "read_whole",
    "require_columns",
    "text_values",
]

PathLike = str | os.PathLike[str]

PARQUET_SUFFIXES = (".parquet", ".pq")
#: Bytes per block for pyarrow's streaming CSV reader (memory per block in flight).
_CSV_BLOCK_BYTES = 1 << 21
#: Largest Parquet batch, in rows.
_PARQUET_BATCH_ROWS = 1 << 18

_UNCLOSED_QUOTE = (
    "is not valid CSV: a quoted field is not closed on its line; the file may be truncated, or a "
    "value holds a stray quote or a line break (not supported)."
)
_NOT_UTF8 = "is not UTF-8 text; save it as UTF-8 (or give a .parquet file)."


class Table:
    """An open table: its column names and a stream of record batches, with error locations.

    Attributes
    ----------
    path : path-like
        As the user gave it (messages name it).
    names : list of str
        Column names, stripped of blanks.
    kind : str
        ``"CSV"`` or ``"Parquet"``.
    dictionary_columns : list of str
        Parquet only: columns to read dictionary-encoded (subject ids: no per-row strings).
    """

    path: PathLike
    p: Path
    names: list[str]
    kind: str
    dictionary_columns: list[str]

    def batches(self, used: Sequence[str], chunk_rows: int = 1 << 20):
        """Yield ``(first_row, batch)``: record batches of the ``used`` columns (stripped names),
        at most ``chunk_rows`` rows each; ``first_row`` is the 0-based index of the batch's first
        data row."""
        raise NotImplementedError

    def error_at(self, row: int, message: str) -> InputError:
        """InputError naming the line (CSV) or row (Parquet) of data row ``row`` (0-based)."""
        raise NotImplementedError

    def where(self, row: int) -> str:
        """``"line 17"`` / ``"row 17"``: the location of data row ``row`` (0-based), for text."""
        raise NotImplementedError

    def header_error(self, message: str) -> InputError:
        raise NotImplementedError

    def row_lines(self, rows: int) -> np.ndarray | None:
        """The line of each of the first ``rows`` data rows (CSV), or None (Parquet)."""
        return None

    def proves_no_nulls(self, name: str) -> bool:
        """True if the file's metadata show that a column has no missing value."""
        return False

    def _raw(self, used: Sequence[str]) -> list[str]:
        return [self._raw_names[self.names.index(n)] for n in used]

    _raw_names: list[str]


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


def _header_of(head: bytes) -> tuple[bytes | None, int]:
    """The first non-blank line of ``head`` (BOM removed) and its 1-based line number."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    for number, raw in enumerate(io.BytesIO(head), start=1):
        if raw.strip(BLANK_BYTES + b"\n"):
            return raw, number
    return None, 0


class _Csv(Table):
    kind = "CSV"

    def __init__(self, path: PathLike, p: Path) -> None:
        self.path, self.p = path, p
        self.shown = described(path, p)
        self.dictionary_columns = []
        try:
            with open_binary(p) as fh:
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
        first, self.header_line = _header_of(head)
        if first is None:
            raise InputError("holds no text (only blank lines); give a table.", path=self.shown)
        try:
            text = first.decode("utf-8")
        except UnicodeDecodeError:
            raise self.header_error(_NOT_UTF8) from None
        if "\x00" in text:
            raise self.header_error("holds a NUL byte; it is not a text table.")
        ext = table_suffix(p)
        tab = ext == ".tsv" or (ext != ".csv" and "\t" in text and "," not in text)
        self._dialect = _TsvDialect if tab else _CsvDialect
        try:
            self._raw_names = next(csv.reader([text.rstrip("\r\n")], self._dialect, strict=True))
        except (csv.Error, StopIteration):
            raise self.header_error(
                "has a header that is not valid CSV; the first line must name the columns."
            ) from None
        self.names = [n.strip() for n in self._raw_names]
        self._blank_rows = 0

    def header_error(self, message: str) -> InputError:
        return InputError(message, path=self.shown, line=self.header_line)

    def _line_of(self, row: int) -> int | None:
        try:
            found = locate_nonempty_line(self.p, row + 1, skip_blank=True)
        except (OSError, EOFError):  # a compressed file truncated after the bad row
            return None
        return None if found is None else found[0]

    def where(self, row: int) -> str:
        line = self._line_of(row)
        return f"data row {row + 1}" if line is None else f"line {line}"

    def error_at(self, row: int, message: str) -> InputError:
        line = self._line_of(row)
        if line is None:
            return InputError(message, path=self.shown, record=f"data row {row + 1}")
        return InputError(message, path=self.shown, line=line)

    def row_lines(self, rows: int) -> np.ndarray | None:
        return nonempty_line_numbers(self.p, skip_blank=True)[1 : rows + 1]

    def _on_invalid(self, row) -> str:
        if is_blank(row.text):
            self._blank_rows += 1
            return "skip"
        return "error"

    def _reader(self, used: Sequence[str], stream: CountingReader):
        return pa_csv.open_csv(
            stream,
            read_options=pa_csv.ReadOptions(
                block_size=_CSV_BLOCK_BYTES,
                use_threads=True,
                skip_rows=self.header_line,
                column_names=self._raw_names,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=self._dialect.delimiter, invalid_row_handler=self._on_invalid
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: pa.string() for c in self._raw(used)},
                include_columns=self._raw(used),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )

    def batches(self, used: Sequence[str], chunk_rows: int = 1 << 20):
        self._blank_rows = 0
        single = len(self.names) == 1
        stream = CountingReader(self.p)
        rows = 0
        try:
            reader = self._reader(used, stream)
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                if single:  # one column: a blank line is a row of blanks to pyarrow
                    batch = self._drop_blank(batch)
                batch = pa.RecordBatch.from_arrays(batch.columns, names=list(used))
                yield from _split(batch, rows, chunk_rows)
                rows += batch.num_rows
                release_heap()
        except (pa.ArrowInvalid, OSError, EOFError) as exc:
            raise self._diagnose(rows, exc) from None
        finally:
            stream.close()
        self._check_lines(stream, rows)

    def _drop_blank(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        col = batch.column(0)
        blank = pc.equal(pc.utf8_trim(col, BLANK_BYTES.decode()), scalar(""))
        blank = pc.fill_null(blank, scalar(False))
        n = pc.sum(blank).as_py() or 0
        if not n:
            return batch
        self._blank_rows += n
        return batch.filter(pc.invert(blank))

    def _check_lines(self, stream: CountingReader, rows: int) -> None:
        """Prove that every line became a row: pyarrow lets a quoted field run over line ends, so
        an unclosed quote (a truncated file) would silently swallow the lines after it."""
        lines, last = stream.lines()
        if lines != self.header_line + rows + self._blank_rows:
            try:
                if count_nonempty_lines(self.p, skip_blank=True) != rows + 1:
                    raise self._diagnose(0, None)
            except (OSError, EOFError) as exc:
                raise self._diagnose(rows, exc) from None
        try:  # the last line: an unclosed quote there swallows nothing, but is still wrong
            next(csv.reader([last.decode("utf-8", "replace")], self._dialect, strict=True))
        except csv.Error:
            line = self._line_of(rows - 1) if rows else None
            raise InputError(_UNCLOSED_QUOTE, path=self.shown, line=line or lines) from None
        except StopIteration:
            pass

    def _diagnose(self, rows_before: int, exc: BaseException | None) -> InputError:
        """Find the line pyarrow could not parse (or that spans lines), from data row
        ``rows_before`` on."""
        ncols = len(self.names)
        try:
            found = None
            if rows_before:
                found = locate_nonempty_line(self.p, rows_before + 1, skip_blank=True)
            start = found or ((1, 0) if is_plain(self.p) else (self.header_line, 0))
            for number, raw in iter_lines_from(self.p, *start):
                body = raw.rstrip(b"\r\n")
                if number <= self.header_line or not body.strip(BLANK_BYTES):
                    continue
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    return InputError(_NOT_UTF8, path=self.shown, line=number)
                try:
                    row = next(csv.reader([text], self._dialect, strict=True))
                except csv.Error:
                    return InputError(_UNCLOSED_QUOTE, path=self.shown, line=number)
                if len(row) != ncols:
                    return InputError(
                        f"has {len(row)} fields but the header (line {self.header_line}) has "
                        f"{ncols}; the row is malformed or the file is truncated.",
                        path=self.shown,
                        line=number,
                    )
        except (OSError, EOFError) as err:
            return InputError(
                f"could not be read to the end ({err}); the file is truncated or corrupt.",
                path=self.shown,
            )
        if exc is None:  # pragma: no cover - a line count mismatch we could not explain
            return InputError(
                "has a quoted field that spans lines; remove line breaks from values.",
                path=self.shown,
            )
        return InputError(
            f"could not be parsed as CSV after line {start[0]} ({exc}); check the file's format.",
            path=self.shown,
        )


class _Parquet(Table):
    kind = "Parquet"

    def __init__(self, path: PathLike, p: Path) -> None:
        self.path, self.p, self.shown = path, p, os.fspath(path)
        try:
            self.file = pq.ParquetFile(p)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(
                f"is not a Parquet file, or it is truncated or corrupt ({exc}); give a Parquet "
                "file, or a CSV file named .csv.",
                path=path,
            ) from None
        self._raw_names = [str(n) for n in self.file.schema_arrow.names]
        self.names = [n.strip() for n in self._raw_names]
        self.dictionary_columns = []

    def header_error(self, message: str) -> InputError:
        return InputError(message, path=self.path)

    def where(self, row: int) -> str:
        return f"row {row + 1}"

    def error_at(self, row: int, message: str) -> InputError:
        return InputError(message, path=self.path, record=f"row {row + 1}")

    def proves_no_nulls(self, name: str) -> bool:
        md = self.file.metadata
        raw = self._raw([name])[0]
        paths = [md.schema.column(k).path for k in range(md.num_columns)]
        if paths.count(raw) != 1:
            return False
        k = paths.index(raw)
        for rg in range(md.num_row_groups):
            stats = md.row_group(rg).column(k).statistics
            if stats is None or not stats.has_null_count or stats.null_count:
                return False
        return True

    def batches(self, used: Sequence[str], chunk_rows: int = 1 << 20):
        rows = 0
        try:
            file = pq.ParquetFile(
                self.p,
                read_dictionary=self._raw(self.dictionary_columns) or None,
                buffer_size=1 << 20,
            )
            it = file.iter_batches(
                batch_size=min(chunk_rows, _PARQUET_BATCH_ROWS),
                columns=self._raw(used),
                use_threads=True,
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
            batch = pa.RecordBatch.from_arrays(batch.columns, names=list(used))
            yield from _split(batch, rows, chunk_rows)
            rows += batch.num_rows
            release_heap()


def open_table(path: PathLike) -> Table:
    """Open a CSV/TSV or Parquet table (see the module docstring); its header is read and checked.

    Raises
    ------
    InputError
        A missing, empty or unreadable file; a Parquet file named .csv or a file that is not
        Parquet named .parquet; no header; a header that is not UTF-8 or not valid CSV.
    """
    p = check_file(path)
    if table_suffix(p) in PARQUET_SUFFIXES:
        return _Parquet(path, p)
    return _Csv(path, p)


# The column helpers every reader uses, kept in a module of their own.
from faceaudit.io._columns import (  # noqa: E402
    case_hint,
    first_empty,
    read_whole,
    require_columns,
    text_values,
)
