"""bob score files, read as bob.measure and bob.bio.base read them.

Formats (whitespace-separated fields, told apart by the first line that holds a comparison)
-------------------------------------------------------------------------------------------
2 columns: ``label score`` (bob.measure's ``load.split``)
    ``label`` is ``1`` for a positive (mated) comparison and ``-1`` for a negative (non-mated)
    one; any other label is refused (bob.measure silently drops such lines).
4 columns: ``claimed_id real_id test_label score`` (bob.bio.base ``four_column``)
5 columns: ``claimed_id model_label real_id test_label score`` (``five_column``)
    A comparison is mated when ``claimed_id == real_id``. Subject codes:
    ``mated_subject`` and ``nonmated_subject`` are the ``real_id`` (the probe's subject),
    ``nonmated_reference_subject`` the ``claimed_id``.
CSV (a name with ``.csv`` among its suffixes; bob.bio.base's ``CSVScoreWriter``)
    Columns ``probe_subject_id``, ``bio_ref_subject_id``, ``score`` (+ ``probe_key``), read by
    the table reader.

As in bob, a ``nan`` score is a comparison that could not be made: a failure to acquire, counted
in ``mated_fta`` / ``nonmated_fta``. Blank lines are skipped; a ``#`` at the start of a line or
after a blank starts a comment that runs to the end of the line (bob.measure's ``four_column``
skips lines starting with ``#``; its numpy readers also cut comments after a value). A file may be
``.gz``/``.bz2``-compressed, or a tar archive (compressed or not) whose first regular file is the
score file, which is how bob's ``open_file`` reads archives.

Data-quality warnings: repeated (``claimed_id``/``model_label``, ``test_label``) pairs, and, in
5-column files, a model compared with itself (``model_label == test_label``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from faceaudit._lazy import lazy_module
from faceaudit.data.scores import ComparisonScores
from faceaudit.errors import InputError
from faceaudit.io._checks import (
    archive_member,
    check_file,
    check_orientation,
    described,
    open_binary,
)
from faceaudit.io._collect import Accumulator, input_file
from faceaudit.io._quality import PairCounter, hash_codes, hash_ids
from faceaudit.io._tabular import BadRecord, arrow_indices, parse_scores, scalar, to_numpy
from faceaudit.io.lines import (
    Slow,
    arrow_input,
    line_error,
    line_number,
    stream,
    strip_comments,
    text_reader,
    unreadable,
    whole_lines,
)

pa = lazy_module("pyarrow")
pc = lazy_module("pyarrow.compute")

__all__ = ["BobRecords", "bob_records", "read_bob"]

PathLike = str | os.PathLike[str]

_ADVICE = "fix the value (bob writes nan for a comparison that could not be made)."
_FORMATS = (
    "a bob score file has 2 (label score), 4 (claimed_id real_id test_label score) or 5 "
    "(claimed_id model_label real_id test_label score) whitespace-separated fields"
)


@dataclass(frozen=True)
class _Layout:
    ncols: int
    delimiter: str | None  # one character between every field of the first line, or None

    @property
    def real(self) -> int:  # field index of real_id
        return 1 if self.ncols == 4 else 2

    @property
    def pair(self) -> tuple[int, int, str, str]:
        """Fields and names of the two samples compared."""
        if self.ncols == 4:
            return 0, 2, "claimed_id", "test_label"
        return 1, 3, "model_label", "test_label"


def _layout(p: Path, path: PathLike) -> _Layout:
    """The number of fields and a single-character delimiter, from the first comparison line."""
    shown = described(path, p)
    try:
        with open_binary(p) as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    text = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    raise InputError(
                        "is not UTF-8 text; save it as UTF-8.", path=shown, line=number
                    ) from None
                body = _cut_comment(text)
                if body.strip():
                    break
            else:
                raise InputError(
                    "holds no comparison (only blank lines or comments); give a bob score file.",
                    path=shown,
                )
    except (OSError, EOFError) as exc:
        raise InputError(
            f"could not be read ({exc}); the file is truncated or corrupt.", path=shown
        ) from None
    n = len(body.split())
    if n not in (2, 4, 5):
        raise InputError(f"has {n} fields; {_FORMATS}.", path=shown, line=number)
    if body != text:  # a comment on the first line: split every line the slow way
        return _Layout(n, None)
    for delim in (" ", "\t"):
        parts = text.split(delim)
        if len(parts) == n and all(part and not any(c.isspace() for c in part) for part in parts):
            return _Layout(n, delim)
    return _Layout(n, None)


def _cut_comment(text: str) -> str:
    for j, c in enumerate(text):
        if c == "#" and (j == 0 or text[j - 1] in " \t"):
            return text[:j]
    return text


def read_bob(path: PathLike, *, orientation: str = "similarity") -> ComparisonScores:
    """Read a bob score file: 2, 4 or 5 whitespace-separated columns (see the module docstring).

    Raises
    ------
    InputError
        Naming the file and line: wrong number of fields (also how a truncated file shows), a
        score that is not a number or is infinite, a 2-column label other than 1 or -1, no
        mated or no non-mated comparisons, an archive without a file.
    """
    orientation = check_orientation(orientation)
    p = check_file(path)
    if ".csv" in [s.lower() for s in p.suffixes]:
        return _read_bob_csv(path, orientation)
    layout = _layout(p, path)
    others: list[str] = []
    acc, pairs = _fresh(layout)
    try:
        if layout.delimiter is None:
            raise Slow
        _fast(p, layout, acc, pairs, others)
    except (Slow, pa.ArrowInvalid):
        # Irregular whitespace, comments, or a line to locate: split lines with pyarrow instead.
        acc, pairs = _fresh(layout)
        others.clear()
        _slow(p, path, layout, acc, pairs, others)
    except (OSError, EOFError) as exc:
        raise unreadable(p, path, 0, exc) from None
    if pairs is not None:
        acc.warnings += pairs.warnings(lambda row: f"line {line_number(p, row)}")
    if others:
        acc.warnings.append(
            f"{path} is an archive of more than one file; only the first, "
            f"{archive_member(p)}, was read (as bob reads score archives), not {others[0]} or "
            "any later one."
        )
    what = (
        "(label 1 marks a mated comparison, -1 a non-mated one)"
        if layout.ncols == 2
        else "(a comparison is mated when its claimed_id equals its real_id)"
    )
    return acc.finish(
        path=path, orientation=orientation, inputs=[input_file(path, acc.rows)], what=what
    )


def _fresh(layout: _Layout) -> tuple[Accumulator, PairCounter | None]:
    ids = layout.ncols > 2
    acc = Accumulator(probe_subjects=ids, reference_subjects=ids)
    if not ids:
        return acc, None
    _, _, a, b = layout.pair
    return acc, PairCounter(a, b, self_check=layout.ncols == 5)


def _fast(p: Path, layout: _Layout, acc, pairs, others: list[str]) -> None:
    other = "\t" if layout.delimiter == " " else " "
    rows = 0
    with arrow_input(p, others) as source:
        reader = text_reader(
            source, ncols=layout.ncols, delimiter=layout.delimiter, types=pa.string()
        )
        for batch in stream(reader):
            fields = [batch.column(j) for j in range(layout.ncols)]
            for ids in fields[:-1]:
                if pc.any(pc.match_substring(ids, other)).as_py():
                    raise Slow  # mixed blanks: split the lines on any whitespace instead
                if pc.any(pc.match_substring(ids, "#")).as_py():
                    raise Slow  # a comment (or a '#' in an id): the slow path tells them apart
            try:
                _chunk(fields, layout, acc, pairs, rows, None)
            except BadRecord:
                raise Slow from None
            rows += batch.num_rows


def _chunk(fields, layout: _Layout, acc, pairs, first_row: int, index) -> None:
    scores, missing = parse_scores(fields[-1], name="score", nan_is_missing=True, advice=_ADVICE)
    if layout.ncols == 2:
        mated = _labels(fields[0])
        acc.add(scores, missing, mated, None, None)
        return
    real_codes = acc.codes.encode(fields[layout.real], name="real_id")
    claimed_codes = acc.codes.encode(fields[0], name="claimed_id")
    acc.add(scores, missing, real_codes == claimed_codes, real_codes, claimed_codes)
    a, b, _, _ = layout.pair
    # 4 columns: the model is the claimed_id, already coded (codes are stable across chunks)
    model = hash_codes(claimed_codes) if a == 0 else hash_ids(fields[a])
    pairs.add(first_row, model, hash_ids(fields[b]), index)


def _labels(column: pa.Array) -> np.ndarray:
    """bob.measure's 2-column labels: True for 1 (positive), False for -1; BadRecord otherwise."""
    values, blank = parse_scores(column, name="label", advice="write 1 (mated) or -1 (non-mated).")
    bad = ~((values == 1) | (values == -1))
    if blank is not None:
        bad |= blank
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = column[i].as_py()
        hint = " (bob.measure drops such lines silently)" if values[i] == 0 else ""
        raise BadRecord(
            i,
            f"label {shown!r} is neither 1 (mated) nor -1 (non-mated){hint}; a bob.measure "
            "two-column file labels every comparison 1 or -1.",
        )
    return values == 1


def _slow(p: Path, path: PathLike, layout: _Layout, acc, pairs, others: list[str]) -> None:
    ncols = layout.ncols
    for rows, lines in whole_lines(p, path, others):
        lines, _ = strip_comments(lines)
        # (pyarrow's split keeps an empty field for blanks at either end: trim first.)
        trimmed = pc.utf8_trim_whitespace(lines)
        blank = to_numpy(pc.equal(trimmed, scalar("")))
        parts = pc.utf8_split_whitespace(trimmed)
        counts = to_numpy(pc.list_value_length(parts))
        wrong = np.flatnonzero((counts != ncols) & ~blank)
        if wrong.size:
            i = int(wrong[0])
            raise line_error(
                p,
                path,
                rows + i,
                f"has {counts[i]} fields but the first comparison line has {ncols}; every line "
                "of a bob score file has the same fields (a short last line means the file is "
                "truncated).",
            )
        keep = np.flatnonzero(~blank) if blank.any() else None
        if keep is not None:
            parts = parts.take(arrow_indices(keep))
        fields = [pc.list_element(parts, scalar(j)) for j in range(ncols)]
        try:
            _chunk(fields, layout, acc, pairs, rows, keep)
        except BadRecord as bad:
            i = bad.index if keep is None else int(keep[bad.index])
            raise line_error(p, path, rows + i, bad.message) from None


def _read_bob_csv(path: PathLike, orientation: str) -> ComparisonScores:
    from faceaudit.io.scores import ColumnNames, read_table_scores

    columns = ColumnNames(
        probe="probe_key",
        probe_subject="probe_subject_id",
        reference_subject="bio_ref_subject_id",
    )
    return read_table_scores(path, columns=columns, orientation=orientation)


@dataclass(eq=False)
class BobRecords:
    """A bob score file's comparisons as fields, chunk by chunk, for readers that keep sample ids
    (``compare`` joins systems on the (model, probe sample) pair).

    ``ncols``: 2, 4 or 5. ``chunks()`` yields ``(first_record, fields)``, ``fields`` a dict of
    pyarrow string arrays: ``score`` and ``label`` (2 columns), or ``score``, ``claimed_id``,
    ``real_id``, ``model`` (the ``model_label``; the ``claimed_id`` in 4 columns) and
    ``test_label``. ``error_at`` / ``where`` locate a comparison (0-based, in the order read)
    by its line, once ``chunks()`` has run over it.
    """

    path: PathLike
    p: Path
    ncols: int
    _raw: list = field(default_factory=list)  # per chunk: the raw record of each comparison

    def _record(self, row: int) -> int:
        for raw in self._raw:
            if row < raw.size:
                return int(raw[row])
            row -= raw.size
        return row

    def chunks(self):
        others: list[str] = []
        names = {
            2: ("label", "score"),
            4: ("claimed_id", "real_id", "test_label", "score"),
            5: ("claimed_id", "model", "real_id", "test_label", "score"),
        }[self.ncols]
        try:
            for rows, lines in whole_lines(self.p, self.path, others):
                lines, _ = strip_comments(lines)
                trimmed = pc.utf8_trim_whitespace(lines)
                blank = to_numpy(pc.equal(trimmed, scalar("")))
                parts = pc.utf8_split_whitespace(trimmed)
                counts = to_numpy(pc.list_value_length(parts))
                wrong = np.flatnonzero((counts != self.ncols) & ~blank)
                if wrong.size:
                    i = int(wrong[0])
                    msg = (f"has {counts[i]} fields but the first comparison line has "
                           f"{self.ncols}; {_FORMATS}.")  # fmt: skip
                    raise line_error(self.p, self.path, rows + i, msg)
                keep = np.flatnonzero(~blank)
                self._raw.append(rows + keep)
                if blank.any():
                    parts = parts.take(arrow_indices(keep))
                fields = {n: pc.list_element(parts, scalar(j)) for j, n in enumerate(names)}
                if self.ncols == 4:
                    fields["model"] = fields["claimed_id"]
                yield rows, fields
        except (OSError, EOFError) as exc:
            raise unreadable(self.p, self.path, 0, exc) from None

    def error_at(self, row: int, message: str) -> InputError:
        return line_error(self.p, self.path, self._record(row), message)

    def where(self, row: int) -> str:
        n = line_number(self.p, self._record(row))
        return f"record {row + 1}" if n is None else f"line {n}"

    def header_error(self, message: str) -> InputError:
        return InputError(message, path=described(self.path, self.p))


def bob_records(path: PathLike) -> BobRecords:
    """Open a 2-, 4- or 5-column bob score file for :class:`BobRecords` (not bob CSV files)."""
    p = check_file(path)
    if ".csv" in [s.lower() for s in p.suffixes]:
        raise InputError(
            "is a bob.bio.base CSV score file; give it as a score table (--scores) with its "
            "columns named (probe_subject_id, bio_ref_subject_id, probe_key).",
            path=described(path, p),
        )
    return BobRecords(path, p, _layout(p, path).ncols)
