"""pyeer score files: one score per line, or histograms of integer scores (pyeer's ``-ht``).

Formats (pyeer's README, "Input file formats")
----------------------------------------------
Score list (:func:`read_pyeer`)
    One score per line. A line may hold several whitespace-separated fields: the score is the
    last one (pyeer takes ``line.split(' ')[-1]``). Blank lines are ignored. pyeer has no comment
    lines: a line starting with ``#`` is refused (pyeer would read its last field as a score).
Histogram (``mated_hist`` / ``nonmated_hist``)
    Line ``k`` (counting from 0) holds the number of scores equal to ``k`` (integer scores only),
    in its last field. pyeer accepts this for the non-mated file only (``-ht``); faceaudit reads
    either. Every line counts, so a blank line inside the file is refused (blank lines at its
    end are ignored). The histogram is expanded into its scores exactly (``k`` repeated
    ``count_k`` times; float32 while the scores fit exactly, 4 bytes per score).

A histogram given as a score list is the silent error this module guards against: read as
scores, its counts give a wrong EER. A score list whose lines are all non-negative whole numbers
that sum to far more than the file has lines, and that rise and fall smoothly from line to line
as counts of neighbouring scores do (and scores in the order a comparison run writes them do
not), is refused with a pointer to the histogram option. So is a bob score file given as a score
list (its lines compare a subject with itself on some lines and with others on the rest), and the
same file (or the same content) given as both mated and non-mated scores.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from faceaudit._lazy import lazy_module
from faceaudit.data.scores import ComparisonScores
from faceaudit.errors import InputError
from faceaudit.io._checks import (
    check_file,
    check_orientation,
    count_lines,
    described,
    first_nonfinite,
    open_binary,
    sha256_of,
)
from faceaudit.io._collect import input_file, scores_only
from faceaudit.io._tabular import BadRecord, parse_scores, scalar, to_numpy
from faceaudit.io.lines import (
    NO_DELIMITER,
    Slow,
    arrow_input,
    line_error,
    stream,
    text_reader,
    whole_lines,
)

pa = lazy_module("pyarrow")
pc = lazy_module("pyarrow.compute")

__all__ = ["looks_like_histogram", "read_histogram", "read_pyeer", "read_score_lines"]

PathLike = str | os.PathLike[str]

_ADVICE = "fix or remove the line (a pyeer score file holds one number per line, last field)."
#: Longest file tested for being a histogram (a histogram has one line per integer score).
_HIST_MAX_LINES = 1 << 20


def _label(kind: str) -> str:
    return "mated" if kind == "mated" else "non-mated"


def read_score_lines(path: PathLike, *, kind: str) -> tuple[np.ndarray, int]:
    """Scores of a pyeer score list, validated. Returns ``(float64 scores, their number)``."""
    p = check_file(path)
    with open_binary(p) as fh:
        head = fh.read(6)
    if head.startswith(b"\x93NUMPY"):
        raise InputError(
            "is a NumPy .npy file, not text; name it with the .npy extension.", path=path
        )
    parts: list[np.ndarray] = []
    rows = 0
    try:  # fast path: one number per line, parsed by pyarrow in its threads
        with arrow_input(p) as source:
            reader = text_reader(source, ncols=1, delimiter=NO_DELIMITER, types=pa.float64())
            for batch in stream(reader):
                values = to_numpy(batch.column(0))
                if first_nonfinite(values) is not None:
                    raise Slow
                parts.append(values)
                rows += batch.num_rows
    except (Slow, pa.ArrowInvalid, OSError, EOFError):
        parts, rows = _score_lines_slow(p, path)
    values = np.concatenate(parts) if parts else np.empty(0)
    if values.shape[0] == 0:
        raise InputError(
            f"holds no scores (only blank lines); the {_label(kind)} score file needs one score "
            "per line.",
            path=path,
        )
    return values, rows


def _last_fields(p: Path, path: PathLike, rows: int, lines: pa.Array):
    """Lines trimmed, comment lines refused, and multi-field lines cut to their last field.

    Returns ``(values, fields_per_line or None)``."""
    trimmed = pc.utf8_trim_whitespace(lines)
    comment = to_numpy(pc.starts_with(trimmed, "#"))
    if comment.any():
        raise line_error(
            p,
            path,
            rows + int(np.argmax(comment)),
            "starts with '#', but pyeer score files have no comment lines (pyeer would read the "
            "line's last field as a score); remove the line.",
        )
    if not pc.any(pc.match_substring_regex(trimmed, r"\s")).as_py():
        return trimmed, None
    parts = pc.utf8_split_whitespace(trimmed)
    counts = to_numpy(pc.list_value_length(parts))
    last = pc.replace_substring_regex(trimmed, r"^.*\s", "")
    return last, (parts, counts)


def _score_lines_slow(p: Path, path: PathLike) -> tuple[list[np.ndarray], int]:
    """Text parsing with exact error lines; multi-field lines; lines holding only blanks.
    Returns the scores and their number."""
    parts: list[np.ndarray] = []
    count = 0
    for rows, lines in whole_lines(p, path):
        values, fields = _last_fields(p, path, rows, lines)
        if fields is not None:
            _refuse_bob_layout(p, path, *fields)
        try:
            scores, blank = parse_scores(values, name="score", advice=_ADVICE)
        except BadRecord as bad:
            raise line_error(p, path, rows + bad.index, bad.message) from None
        parts.append(scores if blank is None else scores[~blank])
        count += parts[-1].shape[0]
    return parts, count


def _refuse_bob_layout(p: Path, path: PathLike, parts: pa.Array, counts: np.ndarray) -> None:
    """A bob score file given as a pyeer list: 4 or 5 fields, some comparing a subject with
    itself and some with another, i.e. mated and non-mated comparisons mixed."""
    for n, real in ((4, 1), (5, 2)):
        rows = np.flatnonzero(counts == n)
        if rows.size < max(2, counts.size // 2):
            continue
        sub = parts.filter(pc.equal(pc.list_value_length(parts), scalar(n).cast(pa.int32())))
        same = pc.equal(pc.list_element(sub, scalar(0)), pc.list_element(sub, scalar(real)))
        k = int(pc.sum(same).as_py() or 0)
        if 0 < k < len(sub):
            raise InputError(
                f"looks like a bob score file, not a pyeer score list: its lines have {n} "
                f"fields, and on {k} of them the first field equals field {real + 1} (a subject "
                f"compared with itself) while on {len(sub) - k} it does not, so it mixes mated "
                "and non-mated comparisons; read it as a bob file (--bob).",
                path=described(path, p),
            )


def looks_like_histogram(values: np.ndarray) -> bool:
    """True when a score list reads like pyeer's histogram format (see the module docstring).

    All of: at least 16 lines, at most 2^20; every value a non-negative whole number; a sum of
    at least 4 per line; neither non-decreasing nor non-increasing (a sorted score list is
    not a histogram), with at least max(3, n/100) rises and as many falls; and consecutive lines
    much closer than lines taken at random: the mean absolute difference of neighbours below a
    quarter of Gini's mean difference (for scores in any order that does not sort them, the two
    are about equal).
    """
    n = values.shape[0]
    if n < 16 or n > _HIST_MAX_LINES:
        return False
    head = values[:1024]
    if head.min() < 0 or not np.array_equal(head, np.floor(head)):
        return False
    if values.min() < 0 or not np.array_equal(values, np.floor(values)):
        return False
    if values.sum() < 4 * n:
        return False
    step = np.diff(values)
    rises, falls = int(np.count_nonzero(step > 0)), int(np.count_nonzero(step < 0))
    if min(rises, falls) < max(3, n // 100):
        return False
    ordered = np.sort(values)
    i = np.arange(n, dtype=np.float64)
    gini = 2.0 * float(np.sum((2.0 * i - n + 1.0) * ordered)) / (n * (n - 1.0))
    return gini > 0 and float(np.mean(np.abs(step))) < 0.25 * gini


def _check_not_histogram(values: np.ndarray, path: PathLike, kind: str) -> None:
    if looks_like_histogram(values):
        n, total = values.shape[0], int(values.sum())
        raise InputError(
            f"looks like a pyeer histogram, not a list of {_label(kind)} scores: its {n} lines are "
            f"whole numbers that sum to {total} and rise and fall smoothly from line to line, "
            f"as counts do. Read it as a histogram (--{kind}-hist; {kind}_hist=True), where "
            "line k is the number of scores equal to k; if these really are scores, give them "
            "in a table (--scores) or as a .npy array.",
            path=path,
        )


def read_histogram(path: PathLike, *, kind: str) -> tuple[np.ndarray, int]:
    """Scores of a pyeer histogram file, expanded exactly. Returns ``(scores, lines read)``.

    Raises
    ------
    InputError
        Naming the line: a count that is not a whole number >= 0, a blank line inside the file
        (every line is the count of one score), a comment line; or a histogram with no score.
    """
    p = check_file(path)
    counts_parts: list[np.ndarray] = []
    rows = 0
    for rows, lines in whole_lines(p, path):
        values, _ = _last_fields(p, path, rows, lines)
        try:
            counts, blank = parse_scores(
                values, name="count", advice="write the number of scores equal to k on line k."
            )
        except BadRecord as bad:
            raise line_error(p, path, rows + bad.index, bad.message) from None
        bad = (counts < 0) | (counts != np.floor(counts))
        if blank is not None:
            bad &= ~blank
        if bad.any():
            i = int(np.argmax(bad))
            raise line_error(
                p,
                path,
                rows + i,
                f"count {values[i].as_py()!r} is not a whole number >= 0; line k of a histogram "
                "holds the number of scores equal to k.",
            )
        if blank is not None and blank.any():
            raise line_error(p, path, rows + int(np.argmax(blank)), _HIST_BLANK)
        counts_parts.append(counts.astype(np.int64))
        rows += len(lines)
    counts = np.concatenate(counts_parts) if counts_parts else np.empty(0, np.int64)
    _check_no_gaps(p, path, counts.shape[0])
    total = int(counts.sum())
    if total == 0:
        raise InputError(
            f"holds no scores: every count of the {_label(kind)} histogram is 0.", path=path
        )
    dtype = np.float32 if counts.shape[0] <= (1 << 24) else np.float64
    return np.repeat(np.arange(counts.shape[0], dtype=dtype), counts), counts.shape[0]


_HIST_BLANK = (
    "is blank, but every line of a histogram counts the scores equal to its index (the first "
    "line is score 0); write 0 for a score that never occurs."
)


def _check_no_gaps(p: Path, path: PathLike, records: int) -> None:
    """Empty lines are skipped by the line reader: inside a histogram they would shift every
    later count to the wrong score, so any that is followed by a count is refused."""
    lines, _ = count_lines(p)
    if lines <= records:
        return
    with open_binary(p) as fh:
        gap = None
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                gap = gap or number
            elif gap is not None:
                raise InputError(_HIST_BLANK, path=described(path, p), line=gap)


def _refuse_same(mated_path: PathLike, nonmated_path: PathLike) -> None:
    g, i = check_file(mated_path), check_file(nonmated_path)
    same = os.path.samefile(g, i)
    if not same and g.stat().st_size == i.stat().st_size:
        same = sha256_of(g) == sha256_of(i)
    if same:
        raise InputError(
            f"holds the same bytes as the mated file {mated_path}; give the mated "
            "and the non-mated scores in two different files.",
            path=nonmated_path,
        )


def read_pyeer(
    mated_path: PathLike,
    nonmated_path: PathLike,
    *,
    orientation: str = "similarity",
    mated_hist: bool = False,
    nonmated_hist: bool = False,
) -> ComparisonScores:
    """Read pyeer-style mated and non-mated files (see the module docstring).

    Parameters
    ----------
    mated_path, nonmated_path
        Score lists, or histograms where ``mated_hist`` / ``nonmated_hist``.
    orientation
        ``"similarity"`` or ``"distance"`` (scores are negated after reading).

    There are no subject ids, so the result's subject arrays are None.

    Raises
    ------
    InputError
        Naming the file and the line of a value that is not a finite number, an empty file, a
        histogram given as a score list, a bob file, the same file given twice.
    """
    orientation = check_orientation(orientation)
    _refuse_same(mated_path, nonmated_path)
    arrays, inputs = [], []
    for path, kind, hist in (
        (mated_path, "mated", mated_hist),
        (nonmated_path, "nonmated", nonmated_hist),
    ):
        if hist:
            values, records = read_histogram(path, kind=kind)
        else:
            values, records = read_score_lines(path, kind=kind)
            _check_not_histogram(values, path, kind)
        arrays.append(values)
        inputs.append(input_file(path, records))
    mated, nonmated = arrays
    if orientation == "distance":
        np.negative(mated, out=mated)
        np.negative(nonmated, out=nonmated)
    return scores_only(mated, nonmated, orientation=orientation, inputs=inputs)
