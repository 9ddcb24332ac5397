"""Header-less text files read line by line, streamed through pyarrow: score lists (pyeer),
bob score files, histograms, id lists.

A line is a record; an empty line is skipped by pyarrow (``ignore_empty_lines``), so record
``k`` is the ``k``-th non-empty line, which :func:`line_error` turns into the line an editor
shows. Files may be ``.gz``/``.bz2``-compressed or the first file of a tar archive (as bob reads
them). Comments (:func:`strip_comments`) are removed where a format has them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from faceaudit._lazy import lazy_module
from faceaudit.errors import InputError
from faceaudit.io._checks import (
    archive_member,
    described,
    iter_lines_from,
    locate_nonempty_line,
    open_binary,
    release_heap,
)
from faceaudit.io._tabular import to_numpy

pa = lazy_module("pyarrow")
pc = lazy_module("pyarrow.compute")
pa_csv = lazy_module("pyarrow.csv")

__all__ = [
    "NO_DELIMITER",
    "Slow",
    "arrow_input",
    "id_lines",
    "line_error",
    "line_number",
    "stream",
    "strip_comments",
    "text_reader",
    "unreadable",
    "whole_lines",
]

PathLike = str | os.PathLike[str]

#: A delimiter that does not occur in score files, so that each line is one field.
NO_DELIMITER = "\x1f"
#: Bytes per block for pyarrow's streaming reader.
BLOCK_BYTES = 1 << 21
#: A comment: ``#`` at the start of a line or after a blank, to the end of the line.
_COMMENT = r"(^|[ \t])#.*$"


class Slow(Exception):
    """Internal: leave a fast path and locate the problem on the slow path."""


@contextlib.contextmanager
def arrow_input(p: Path, others: list[str] | None = None):
    """What pyarrow reads: the path itself (it decompresses .gz/.bz2 natively), or a stream of
    the first file of a tar archive; then, read to its end, ``others`` gets the name of the
    archive's next file, if it has one."""
    if archive_member(p) is None:
        yield str(p)
        return
    fh = open_binary(p)
    try:
        yield fh
        if others is not None:
            name = fh.raw.next_file()
            if name:
                others.append(name)
    finally:
        fh.close()


def text_reader(source, *, ncols: int, delimiter: str, types: pa.DataType):
    """A streaming pyarrow reader for a header-less text file with ``ncols`` fields per line."""
    names = [f"f{j}" for j in range(ncols)]
    return pa_csv.open_csv(
        source,
        read_options=pa_csv.ReadOptions(
            block_size=BLOCK_BYTES, use_threads=True, column_names=names
        ),
        parse_options=pa_csv.ParseOptions(delimiter=delimiter, quote_char=False),
        convert_options=pa_csv.ConvertOptions(
            column_types={n: types for n in names}, null_values=[], strings_can_be_null=False
        ),
    )


def stream(reader) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return
        release_heap()


def line_error(p: Path, path: PathLike, row: int, message: str) -> InputError:
    """InputError at the line of record ``row`` (0-based: the row-th non-empty line)."""
    found = locate_nonempty_line(p, row)
    if found is None:  # pragma: no cover
        return InputError(message, path=described(path, p), record=f"record {row + 1}")
    return InputError(message, path=described(path, p), line=found[0])


def line_number(p: Path, row: int) -> int | None:
    """The line an editor shows for record ``row`` (0-based), or None."""
    found = locate_nonempty_line(p, row)
    return None if found is None else found[0]


def unreadable(p: Path, path: PathLike, rows_before: int, exc: BaseException) -> InputError:
    """Locate why pyarrow could not read a text file (bad UTF-8, stray delimiter, truncation)."""
    shown = described(path, p)
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
                        "is not UTF-8 text; save it as UTF-8.", path=shown, line=number
                    )
                if NO_DELIMITER.encode() in raw:
                    return InputError(
                        "holds a control character (0x1f); remove it.", path=shown, line=number
                    )
        except (OSError, EOFError) as err:
            exc = err
    return InputError(
        f"could not be read ({exc}); the file is truncated, corrupt or not text.", path=shown
    )


def whole_lines(
    p: Path, path: PathLike, others: list[str] | None = None
) -> Iterator[tuple[int, pa.Array]]:
    """``(first_record, lines)``: the file's non-empty lines as strings, in chunks.

    Raises
    ------
    InputError
        For a file that is not UTF-8, holds the control character 0x1f, or is truncated.
    """
    rows = 0
    try:
        with arrow_input(p, others) as source:
            reader = text_reader(source, ncols=1, delimiter=NO_DELIMITER, types=pa.string())
            for batch in stream(reader):
                yield rows, batch.column(0)
                rows += batch.num_rows
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise unreadable(p, path, rows, exc) from None


def id_lines(p: Path, path: PathLike) -> tuple[np.ndarray, np.ndarray]:
    """The ids of a one-id-per-line list: stripped lines, blank lines and ``#`` comment lines
    skipped. Returns ``(ids, records)`` (object array of str; each id's record, for
    :func:`line_number`)."""
    ids, records = [], []
    if p.stat().st_size:
        for first, lines in whole_lines(p, path):
            text = to_numpy(pc.utf8_trim_whitespace(lines))
            keep = np.flatnonzero((text != "") & ~np.char.startswith(text.astype(str), "#"))
            ids.append(text[keep])
            records.append(keep + first)
    if not ids:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    return np.concatenate(ids), np.concatenate(records)


def strip_comments(lines: pa.Array) -> tuple[pa.Array, int]:
    """Lines with comments removed (``#`` at a line's start or after a blank, to its end), and
    the number of lines that held a comment."""
    has = pc.match_substring(lines, "#")
    if not pc.any(has).as_py():
        return lines, 0
    cut = pc.replace_substring_regex(lines, _COMMENT, "")
    changed = int(np.count_nonzero(to_numpy(pc.not_equal(cut, lines))))
    return cut, changed
