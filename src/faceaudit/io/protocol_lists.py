"""Generic pair lists: AgeDB-30 style, insightface text sets.

Formats: :mod:`faceaudit.io.protocols`.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from faceaudit.data.protocols import (
    PairProtocol,
    normalise_sample_id,
)
from faceaudit.errors import InputError
from faceaudit.io._protocol_lines import (
    _FOLDS_CONVENTION,
    _LABEL_HEADERS,
    _duplicate_warning,
    _label,
    _positive_int,
    _protocol,
    _read_lines,
    _split_fields,
)

# ------------------------------------------------------------------------------------------------
# Generic pair lists


def contiguous_folds(n: int, k: int) -> np.ndarray:
    """Fold (1..k) of each of ``n`` items in order: k consecutive blocks, the first ``n % k`` one
    item longer (scikit-learn ``KFold(k, shuffle=False)``, as insightface's ``verification.py``).

    Examples
    --------
    >>> contiguous_folds(7, 3).tolist()
    [1, 1, 1, 2, 2, 3, 3]
    """
    sizes = np.full(k, n // k, dtype=np.int64)
    sizes[: n % k] += 1
    return np.repeat(np.arange(1, k + 1, dtype=np.int64), sizes)


def read_pair_list(
    path: str | os.PathLike[str],
    *,
    folds: int | None = None,
    subjects: str | Callable[[str], str] | None = None,
    name: str = "pair list",
) -> PairProtocol:
    """Read a list of pairs ``path1 path2 label [fold]`` (AgeDB-30-style, insightface text sets).

    Parameters
    ----------
    path : path-like
    folds : int, optional
        Split a list without a fold column into this many consecutive folds (insightface's
        convention for its verification sets: 10). A file with a fold column must not be given
        one.
    subjects : None, "parent" or callable
        How to name each image's subject: None leaves it unknown (filled from the embeddings'
        subjects by :func:`resolve_pairs`); ``"parent"``: the image's folder; a callable maps a
        sample id to its subject.
    name : str
        The protocol's name in reports (e.g. ``"AgeDB-30"``).

    Raises
    ------
    InputError
        A line without 3 or 4 fields; an unknown label; an empty path; a fold that is not a
        positive integer, or fold ids that do not run 1..K; ``folds`` given for a file that has
        a fold column; ``subjects="parent"`` for an image without a folder.
    """
    p, lines = _read_lines(path, "pair list")
    lines = [(ln, t) for ln, t in lines if not t.lstrip().startswith("#")]
    if not lines:
        raise InputError("holds only comments; a pair list lists at least one pair.", path=p)
    head = _split_fields(lines[0][1])
    if len(head) >= 3 and head[2].strip().lower() in _LABEL_HEADERS:
        lines = lines[1:]
    if not lines:
        raise InputError("holds a header but no pair.", path=p)
    first, second, mated, fold_col, lns = _pair_rows(lines, p)
    fold_arr, n_folds, convention = _list_folds(fold_col, folds, len(first), p)
    s1, s2 = _list_subjects(subjects, first, second, lns, p)
    return _protocol(
        name,
        first,
        second,
        mated,
        s1,
        s2,
        fold_arr.tolist(),
        n_folds,
        [0] * len(first),
        lns,
        [p],
        [len(lines)],
        convention,
        _duplicate_warning(first, second),
    )


def _pair_rows(lines, p):
    """``(first, second, mated, fold column, line numbers)`` of the list's ``path1 path2 label
    [fold]`` lines, every line with the same number of fields."""
    first, second, mated, fold_col, lns = [], [], [], [], []
    width = None
    for ln, text in lines:
        f = _split_fields(text)
        if len(f) not in (3, 4):
            raise InputError(
                f"expected 'path1 path2 label' (optionally a fourth column, the fold), got "
                f"{len(f)} fields.",
                path=p,
                line=ln,
            )
        if width is None:
            width = len(f)
        elif len(f) != width:
            raise InputError(
                f"has {len(f)} fields but line {lns[0]} has {width}; give every pair the same "
                "columns.",
                path=p,
                line=ln,
            )
        if not f[0] or not f[1]:
            raise InputError("an image path is empty.", path=p, line=ln)
        first.append(normalise_sample_id(f[0]))
        second.append(normalise_sample_id(f[1]))
        mated.append(_label(f[2], p, ln))
        if len(f) == 4:
            fold_col.append(_positive_int(f[3], "fold", p, ln))
        lns.append(ln)
    return first, second, mated, fold_col, lns


def _list_folds(fold_col: list[int], folds: int | None, n: int, p):
    """``(fold per pair, number of folds, convention)``: the file's fold column (ids 1..K), or
    ``folds`` consecutive blocks, or no folds (0)."""
    if fold_col:
        if folds is not None:
            raise InputError(
                "the file has a fold column; do not also ask for a number of folds.", path=p
            )
        k = max(fold_col)
        present = set(fold_col)
        absent = [f for f in range(1, k + 1) if f not in present]
        if absent:
            raise InputError(
                f"fold ids must run 1..{k} without gaps; fold {absent[0]} has no pair.", path=p
            )
        return np.asarray(fold_col, dtype=np.int64), k, _FOLDS_CONVENTION
    if folds is not None:
        k = int(folds)
        if k < 2 or k > n:
            raise InputError(
                f"cannot split {n} pairs into {k} folds; give between 2 and {n}.", path=p
            )
        convention = _FOLDS_CONVENTION + f" Folds: {k} consecutive blocks of the list."
        return contiguous_folds(n, k), k, convention
    return np.zeros(n, dtype=np.int64), 0, ""


def _list_subjects(subjects, first, second, lns, p) -> tuple[list[str], list[str]]:
    """Each image's subject by the ``subjects`` rule of :func:`read_pair_list`."""
    n = len(first)
    if subjects is None:
        return [""] * n, [""] * n
    if subjects == "parent":
        s1, s2 = [], []
        for a, b, ln in zip(first, second, lns, strict=True):
            for s in (a, b):
                if "/" not in s:
                    raise InputError(
                        f"image {s!r} has no folder to name its subject; use subjects=None to "
                        "take subjects from the embeddings.",
                        path=p,
                        line=ln,
                    )
            s1.append(a.rsplit("/", 2)[-2])
            s2.append(b.rsplit("/", 2)[-2])
        return s1, s2
    if callable(subjects):
        return [str(subjects(a)) for a in first], [str(subjects(b)) for b in second]
    raise InputError(f"subjects {subjects!r} is not None, 'parent' or a function.")
