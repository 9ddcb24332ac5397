"""Private: what the protocol readers share (line reading, labels, the PairProtocol builder).

See :mod:`faceaudit.io.protocols` for the formats and conventions.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from faceaudit.data.inputs import InputFile
from faceaudit.data.protocols import (
    PairProtocol,
)
from faceaudit.errors import InputError
from faceaudit.io._checks import PendingDigest

#: How LFW View 2 results are published (LFW README, "Test procedure"; Huang et al. 2007).
LFW_CONVENTION = (
    "10-fold cross-validation: each fold is tested with the threshold chosen on the other 9 "
    "(maximum training accuracy); reported as the mean accuracy over the folds with its standard "
    "error (LFW results pages) or standard deviation (insightface, facenet)."
)
_FOLDS_CONVENTION = (
    "K-fold cross-validation over the protocol's folds: each fold tested with the threshold "
    "chosen on the others; mean accuracy and its spread over the folds."
)

_TRUE = {"1", "true", "same", "mated", "genuine", "match", "yes", "y", "t"}
_FALSE = {"0", "-1", "false", "diff", "different", "nonmated", "non-mated", "impostor", "no"}
_LABEL_HEADERS = {"label", "issame", "is_same", "same", "mated", "target", "y"}


# ------------------------------------------------------------------------------------------------
# Text helpers


def _read_lines(path: str | os.PathLike[str], what: str) -> tuple[Path, list[tuple[int, str]]]:
    """``(path, [(line_number, text), ...])`` of the non-blank lines of a UTF-8 text file."""
    p = Path(path)
    if not p.is_file():
        if p.is_dir():
            raise InputError(f"is a folder; give the {what} file.", path=path)
        raise InputError(f"no such file; give the path of the {what}.", path=path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror}).", path=path) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"is not UTF-8 text (byte {exc.start}); save the {what} as UTF-8.", path=path, line=line
        ) from None
    lines = [(i + 1, ln.rstrip("\r")) for i, ln in enumerate(text.split("\n"))]
    lines = [(i, ln) for i, ln in lines if ln.strip()]
    if not lines:
        raise InputError(f"is empty; a {what} lists at least one pair.", path=path)
    return p, lines


def _source(path: Path, records: int) -> InputFile:
    return InputFile(str(path), PendingDigest(path), records)


def _positive_int(token: str, what: str, path, line: int) -> int:
    try:
        value = int(token)
    except ValueError:
        value = 0
    if value <= 0 or not token.strip().lstrip("+").isdigit():
        raise InputError(f"{what} {token!r} is not a positive integer.", path=path, line=line)
    return value


def _arrays(rows: list, n_fields: int) -> list[np.ndarray]:
    cols = list(zip(*rows, strict=True)) if rows else [()] * n_fields
    return [np.asarray(c) for c in cols]


def _protocol(
    name: str,
    first: list[str],
    second: list[str],
    mated: list[bool],
    s1: list[str],
    s2: list[str],
    folds: list[int],
    n_folds: int,
    origin: list[int],
    lines: list[int],
    sources: list[Path],
    records: list[int],
    convention: str,
    warnings: Sequence[str] = (),
) -> PairProtocol:
    n = len(first)
    return PairProtocol(
        name=name,
        first=np.asarray(first, dtype=str).reshape(n),
        second=np.asarray(second, dtype=str).reshape(n),
        mated=np.asarray(mated, dtype=bool).reshape(n),
        first_subject=np.asarray(s1, dtype=str).reshape(n),
        second_subject=np.asarray(s2, dtype=str).reshape(n),
        folds=np.asarray(folds, dtype=np.int64).reshape(n),
        n_folds=int(n_folds),
        origin=np.asarray(origin, dtype=np.int32).reshape(n),
        lines=np.asarray(lines, dtype=np.int64).reshape(n),
        sources=tuple(str(s) for s in sources),
        inputs=tuple(_source(s, r) for s, r in zip(sources, records, strict=True)),
        convention=convention,
        warnings=tuple(warnings),
    )


def _duplicate_warning(first: list[str], second: list[str]) -> list[str]:
    keys = {tuple(sorted(p)) for p in zip(first, second, strict=True)}
    dup = len(first) - len(keys)
    if dup:
        return [f"{dup} pair(s) appear more than once in the protocol; each is counted as listed."]
    return []


def _label(token: str, path, line: int) -> bool:
    t = token.strip().lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise InputError(
        f"label {token!r} is not a pair label; use 1 (same person) or 0 (different people).",
        path=path,
        line=line,
    )


def _split_fields(text: str) -> list[str]:
    if "," in text:
        return [f.strip() for f in next(csv.reader([text]))]
    return text.split()
