"""Standard verification protocols read from their own files: LFW, CFP, pair lists, IJB-B/C.

Each reader returns a :class:`~faceaudit.data.protocols.PairProtocol` (or, for a template
protocol's image list, a :class:`~faceaudit.data.protocols.TemplateMetadata`) whose sample ids are
image paths relative to the data set's folder, so that they name the same images as
``faceaudit embed`` does on that folder. :func:`resolve_pairs` then matches them to an
:class:`~faceaudit.data.EmbeddingSet` (by path, tolerating extra or missing leading folders), and
:func:`check_image_folder` to the images on disk. Every malformed line raises
:class:`~faceaudit.errors.InputError` naming the file and the line (1-based, as an editor shows it).

Formats
-------
LFW ``pairs.txt`` (:func:`read_lfw_pairs`; the LFW README, section "pairs.txt format")
    First line ``folds pairs``: the number of sets and of matched pairs per set (View 2:
    ``10 300``; View 1's ``pairsDevTrain.txt`` / ``pairsDevTest.txt`` give only the number of
    pairs: one set). Then, for each set in turn, ``pairs`` matched lines ``name n1 n2`` and
    ``pairs`` mismatched lines ``name1 n1 name2 n2`` (tab- or space-separated). Image ``n`` of
    ``name`` is ``name/name_%04d.jpg``. Set ``k`` is fold ``k``.
CFP (:func:`read_cfp_pairs`; the layout of ``cfp-dataset.zip``)
    ``Protocol/Pair_list_F.txt`` and ``Protocol/Pair_list_P.txt``: lines ``index path``, the
    frontal and profile images, paths relative to ``Protocol/`` (``../Data/Images/001/frontal/
    01.jpg``). ``Protocol/Split/FF/01 .. 10`` and ``Protocol/Split/FP/01 .. 10``: ``same.txt``
    and ``diff.txt``, lines ``i,j`` of 1-based indices; frontal-frontal pairs index the frontal
    list twice, frontal-profile pairs the frontal then the profile list. The split's folder is the
    fold. The subject is the folder above ``frontal/`` or ``profile/`` (``001``).
Pair lists (:func:`read_pair_list`: AgeDB-30-style lists and the text form of insightface's
verification sets)
    One pair a line: ``path1 path2 label`` or ``path1,path2,label``, optionally a fourth column
    ``fold`` (1..K) and a header line (third column named ``label``, ``issame``, ``is_same``,
    ``same`` or ``mated``). Labels: 1 / 0 / -1 (AgeDB's MATLAB protocol writes -1 for "different"),
    ``true`` / ``false``, ``same`` / ``diff``. Without a fold column, ``folds=K`` splits the list
    into K consecutive blocks, as insightface's ``verification.py`` does for its ``.bin`` sets
    (scikit-learn ``KFold(K, shuffle=False)``: the first ``n % K`` folds one pair longer). Lines
    starting with ``#`` are comments.
IJB-B / IJB-C template protocols (:func:`read_template_metadata`, :func:`read_template_pairs`)
    Template metadata, either NIST's CSV files (``ijbb_1N_gallery_S1.csv``,
    ``ijbc_1N_probe_mixed.csv``, ...: a header with ``TEMPLATE_ID``, ``SUBJECT_ID``,
    ``FILENAME`` (or ``FILE``) and optionally ``SIGHTING_ID`` / ``MEDIA_ID``; lower-case
    ``tid``, ``sid``, ``filename``, ``mid`` also accepted) or insightface's
    ``*_face_tid_mid.txt`` (``filename tid mid``, no header, no subjects). Several files may be
    given: a template's subject is taken from whichever file names it, and an image listed for a
    template in two files is one image. Match lists: NIST's ``*_11_*_matches.csv`` (``t1,t2``)
    or insightface's ``*_template_pair_label.txt`` (``t1 t2 label``); without labels, a pair is
    mated when its templates' subjects are equal.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from faceaudit.data.embeddings import EmbeddingSet
from faceaudit.data.inputs import InputFile
from faceaudit.data.protocols import (
    AMBIGUOUS,
    MISSING,
    PairProtocol,
    ResolvedPairs,
    TemplateEmbeddings,
    TemplateMetadata,
    match_samples,
    normalise_sample_id,
    pool_template_features,
)
from faceaudit.errors import InputError
from faceaudit.io._checks import PendingDigest

__all__ = [
    "LFW_CONVENTION",
    "check_image_folder",
    "contiguous_folds",
    "read_cfp_pairs",
    "read_lfw_pairs",
    "read_pair_list",
    "read_template_metadata",
    "read_template_pairs",
    "resolve_pairs",
    "template_embeddings",
]

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


# ------------------------------------------------------------------------------------------------
# LFW


def read_lfw_pairs(path: str | os.PathLike[str]) -> PairProtocol:
    """Read LFW's ``pairs.txt`` (View 2) or ``pairsDevTrain.txt`` / ``pairsDevTest.txt`` (View 1).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    PairProtocol
        Sample ids ``name/name_%04d.jpg`` (relative to the ``lfw/`` folder), subjects = names,
        fold = the set (1..10 for View 2; 1 for View 1).

    Raises
    ------
    InputError
        A header that is not ``folds pairs`` (or ``pairs``); a pair line with the wrong number of
        fields for its place (matched lines come first in each set); an image number that is not
        a positive integer; a matched pair of one image with itself, or a mismatched pair of one
        person; more or fewer pair lines than the header announces.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pairs.txt"
    >>> _ = p.write_text("1\\t1\\nAbel_Pacheco\\t1\\t4\\nAbel_Pacheco\\t1\\tAkhmed_Zakayev\\t3\\n")
    >>> proto = read_lfw_pairs(p)
    >>> proto.first.tolist(), proto.second.tolist(), proto.mated.tolist()
    (['Abel_Pacheco/Abel_Pacheco_0001.jpg', 'Abel_Pacheco/Abel_Pacheco_0001.jpg'], \
['Abel_Pacheco/Abel_Pacheco_0004.jpg', 'Akhmed_Zakayev/Akhmed_Zakayev_0003.jpg'], [True, False])
    """
    p, lines = _read_lines(path, "LFW pairs file")
    head_line, head = lines[0]
    fields = head.split()
    if len(fields) not in (1, 2):
        raise InputError(
            f"the first line must give the number of folds and of matched pairs per fold "
            f"('10 300' for View 2, or one number for View 1); it has {len(fields)} fields.",
            path=p,
            line=head_line,
        )
    numbers = [_positive_int(f, "header value", p, head_line) for f in fields]
    n_folds, per = (numbers[0], numbers[1]) if len(numbers) == 2 else (1, numbers[0])
    body = lines[1:]
    expected = n_folds * 2 * per
    if len(body) < expected:
        last = body[-1][0] if body else head_line
        raise InputError(
            f"the header announces {n_folds} fold(s) of {per} matched and {per} mismatched pairs "
            f"({expected} pair lines) but the file ends after {len(body)}; it is truncated.",
            path=p,
            line=last,
        )
    if len(body) > expected:
        raise InputError(
            f"a pair line beyond the {expected} that the header announces ({n_folds} fold(s) of "
            f"{per} matched and {per} mismatched pairs); check the header.",
            path=p,
            line=body[expected][0],
        )
    first, second, s1, s2, mated, folds, lns = [], [], [], [], [], [], []
    for j, (ln, text) in enumerate(body):
        fold, pos = divmod(j, 2 * per)
        f = text.split()
        is_matched = pos < per
        if is_matched:
            if len(f) != 3:
                raise InputError(
                    f"expected a matched pair 'name n1 n2' (fold {fold + 1}, matched pair "
                    f"{pos + 1} of {per}), got {len(f)} fields.",
                    path=p,
                    line=ln,
                )
            name1, n1, name2, n2 = f[0], f[1], f[0], f[2]
        else:
            if len(f) != 4:
                raise InputError(
                    f"expected a mismatched pair 'name1 n1 name2 n2' (fold {fold + 1}, "
                    f"mismatched pair {pos - per + 1} of {per}), got {len(f)} fields.",
                    path=p,
                    line=ln,
                )
            name1, n1, name2, n2 = f
        i1 = _positive_int(n1, "image number", p, ln)
        i2 = _positive_int(n2, "image number", p, ln)
        if is_matched and i1 == i2:
            raise InputError(
                f"a matched pair of image {i1} of {name1} with itself; a pair needs two images.",
                path=p,
                line=ln,
            )
        if not is_matched and name1 == name2:
            raise InputError(
                f"a mismatched pair names {name1} twice; mismatched pairs are of two people.",
                path=p,
                line=ln,
            )
        first.append(f"{name1}/{name1}_{i1:04d}.jpg")
        second.append(f"{name2}/{name2}_{i2:04d}.jpg")
        s1.append(name1)
        s2.append(name2)
        mated.append(is_matched)
        folds.append(fold + 1)
        lns.append(ln)
    return _protocol(
        "LFW View 2" if n_folds == 10 else "LFW",
        first,
        second,
        mated,
        s1,
        s2,
        folds,
        n_folds,
        [0] * len(first),
        lns,
        [p],
        [len(lines)],
        LFW_CONVENTION,
        _duplicate_warning(first, second),
    )


# ------------------------------------------------------------------------------------------------
# CFP


def _cfp_subject(sample: str) -> str:
    parts = sample.split("/")
    for k in range(len(parts) - 1, 0, -1):
        if parts[k].lower() in ("frontal", "profile"):
            return parts[k - 1]
    return parts[-3] if len(parts) >= 3 else (parts[-2] if len(parts) >= 2 else "")


def _read_cfp_list(path: Path) -> tuple[dict[int, tuple[str, int]], int]:
    p, lines = _read_lines(path, "CFP image list")
    prefix = p.parent.name
    out: dict[int, tuple[str, int]] = {}
    for ln, text in lines:
        f = text.split()
        if len(f) != 2:
            raise InputError(
                f"expected 'index path' (e.g. '1 ../Data/Images/001/frontal/01.jpg'), got "
                f"{len(f)} fields.",
                path=p,
                line=ln,
            )
        idx = _positive_int(f[0], "image index", p, ln)
        if idx in out:
            raise InputError(
                f"image index {idx} is listed twice (first on line {out[idx][1]}).",
                path=p,
                line=ln,
            )
        # paths are relative to the Protocol folder: make them relative to the data set's root
        out[idx] = (normalise_sample_id(f"{prefix}/{f[1]}"), ln)
    return out, len(lines)


def read_cfp_pairs(root: str | os.PathLike[str], *, protocol: str = "FP") -> PairProtocol:
    """Read a CFP protocol: frontal-frontal (``"FF"``) or frontal-profile (``"FP"``) pairs.

    Parameters
    ----------
    root : path-like
        The ``cfp-dataset`` folder (holding ``Protocol/``), or ``Protocol/`` itself.
    protocol : {"FP", "FF"}

    Returns
    -------
    PairProtocol
        Sample ids relative to ``root`` (``Data/Images/001/frontal/01.jpg``); subjects from the
        image folders; fold = the split folder (``01`` -> 1).

    Raises
    ------
    InputError
        A missing list or split file; a line that is not ``index path`` / ``i,j``; an index
        that the image list does not hold.
    """
    protocol = str(protocol).upper()
    if protocol not in ("FF", "FP"):
        raise InputError(f"CFP protocol {protocol!r} is not known; use 'FF' or 'FP'.")
    r = Path(root)
    pdir = r / "Protocol" if (r / "Protocol").is_dir() else r
    flist = pdir / "Pair_list_F.txt"
    if not flist.is_file():
        raise InputError(
            "holds no Protocol/Pair_list_F.txt; give the cfp-dataset folder (or its Protocol "
            "folder).",
            path=root,
        )
    frontal, f_records = _read_cfp_list(flist)
    sources, records = [flist], [f_records]
    if protocol == "FP":
        plist = pdir / "Pair_list_P.txt"
        if not plist.is_file():
            raise InputError(
                "holds no Pair_list_P.txt; the frontal-profile protocol needs it.", path=pdir
            )
        second_list, p_records = _read_cfp_list(plist)
        sources.append(plist)
        records.append(p_records)
        second_name = plist.name
    else:
        second_list, second_name = frontal, flist.name
    split = pdir / "Split" / protocol
    fold_dirs = (
        sorted(
            (d for d in split.iterdir() if d.is_dir() and d.name.isdigit()),
            key=lambda d: int(d.name),
        )
        if split.is_dir()
        else []
    )
    if not fold_dirs:
        raise InputError(
            f"holds no fold folders (01, 02, ...); expected Split/{protocol}/01/same.txt etc.",
            path=split,
        )
    first, second, s1, s2, mated, folds, origin, lns = [], [], [], [], [], [], [], []
    for k, d in enumerate(fold_dirs, start=1):
        for fname, is_same in (("same.txt", True), ("diff.txt", False)):
            path = d / fname
            if not path.is_file():
                raise InputError(
                    f"fold {d.name} has no {fname}; every fold holds same.txt and diff.txt.",
                    path=path,
                )
            p, lines = _read_lines(path, "CFP pair list")
            sources.append(p)
            records.append(len(lines))
            src = len(sources) - 1
            for ln, text in lines:
                f = [x.strip() for x in text.split(",")]
                if len(f) != 2:
                    raise InputError(
                        f"expected 'i,j' (two image indices separated by a comma), got {text!r}.",
                        path=p,
                        line=ln,
                    )
                i = _positive_int(f[0], "image index", p, ln)
                j = _positive_int(f[1], "image index", p, ln)
                if i not in frontal:
                    raise InputError(
                        f"image index {i} is not in {flist.name} ({len(frontal)} images).",
                        path=p,
                        line=ln,
                    )
                if j not in second_list:
                    raise InputError(
                        f"image index {j} is not in {second_name} ({len(second_list)} images).",
                        path=p,
                        line=ln,
                    )
                a, b = frontal[i][0], second_list[j][0]
                first.append(a)
                second.append(b)
                s1.append(_cfp_subject(a))
                s2.append(_cfp_subject(b))
                mated.append(is_same)
                folds.append(k)
                origin.append(src)
                lns.append(ln)
    warnings = _duplicate_warning(first, second)
    m = np.asarray(mated)
    same_subject = np.asarray(s1) == np.asarray(s2)
    odd = int(np.count_nonzero(m != same_subject))
    if odd:
        warnings.append(
            f"{odd} pair(s) disagree with the image folders (a 'same' pair of two folders or a "
            "'diff' pair of one); the protocol's label is used."
        )
    return _protocol(
        f"CFP-{protocol}",
        first,
        second,
        mated,
        s1,
        s2,
        folds,
        len(fold_dirs),
        origin,
        lns,
        sources,
        records,
        _FOLDS_CONVENTION,
        warnings,
    )


# ------------------------------------------------------------------------------------------------
# Generic pair lists


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
    n = len(first)
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
        fold_arr, n_folds = np.asarray(fold_col, dtype=np.int64), k
        convention = _FOLDS_CONVENTION
    elif folds is not None:
        k = int(folds)
        if k < 2 or k > n:
            raise InputError(
                f"cannot split {n} pairs into {k} folds; give between 2 and {n}.", path=p
            )
        fold_arr, n_folds = contiguous_folds(n, k), k
        convention = _FOLDS_CONVENTION + f" Folds: {k} consecutive blocks of the list."
    else:
        fold_arr, n_folds, convention = np.zeros(n, dtype=np.int64), 0, ""
    if subjects is None:
        s1, s2 = [""] * n, [""] * n
    elif subjects == "parent":
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
    elif callable(subjects):
        s1 = [str(subjects(a)) for a in first]
        s2 = [str(subjects(b)) for b in second]
    else:
        raise InputError(f"subjects {subjects!r} is not None, 'parent' or a function.")
    return _protocol(
        name,
        first,
        second,
        mated,
        s1,
        s2,
        fold_arr.tolist(),
        n_folds,
        [0] * n,
        lns,
        [p],
        [len(lines)],
        convention,
        _duplicate_warning(first, second),
    )


# ------------------------------------------------------------------------------------------------
# IJB-B / IJB-C templates

_TEMPLATE_COLS = ("template_id", "tid", "template")
_SUBJECT_COLS = ("subject_id", "sid", "subject")
_FILE_COLS = ("filename", "file", "sample", "path")
_MEDIA_COLS = ("media_id", "mid", "sighting_id", "media")


def _column(header: list[str], names: Sequence[str]) -> int | None:
    low = [h.strip().lower() for h in header]
    for name in names:
        if name in low:
            return low.index(name)
    return None


def _read_metadata_file(path) -> tuple[Path, list[tuple[str, str, str, str, int]], int]:
    p, lines = _read_lines(path, "template metadata")
    head_ln, head = lines[0]
    rows: list[tuple[str, str, str, str, int]] = []
    if "," in head:
        header = next(csv.reader([head]))
        ti, si = _column(header, _TEMPLATE_COLS), _column(header, _SUBJECT_COLS)
        fi, mi = _column(header, _FILE_COLS), _column(header, _MEDIA_COLS)
        if ti is None or fi is None:
            raise InputError(
                f"the header {header} lacks TEMPLATE_ID and FILENAME; expected NIST's IJB "
                "columns (TEMPLATE_ID, SUBJECT_ID, FILENAME[, SIGHTING_ID]).",
                path=p,
                line=head_ln,
            )
        need = max(c for c in (ti, si, fi, mi) if c is not None) + 1
        for ln, text in lines[1:]:
            f = next(csv.reader([text]))
            if len(f) < need:
                raise InputError(
                    f"has {len(f)} fields; the header needs at least {need}.", path=p, line=ln
                )
            t, fn = f[ti].strip(), f[fi].strip()
            s = f[si].strip() if si is not None else ""
            m = f[mi].strip() if mi is not None else ""
            if not t:
                raise InputError("the template id is empty.", path=p, line=ln)
            if not fn:
                raise InputError("the file name is empty.", path=p, line=ln)
            rows.append((t, normalise_sample_id(fn), s, m, ln))
    else:
        for ln, text in lines:
            f = text.split()
            if len(f) != 3:
                raise InputError(
                    f"expected insightface's 'filename tid mid' (3 fields) or a CSV with a "
                    f"header; got {len(f)} fields.",
                    path=p,
                    line=ln,
                )
            rows.append((f[1], normalise_sample_id(f[0]), "", f[2], ln))
    if not rows:
        raise InputError("holds a header but no image.", path=p)
    return p, rows, len(lines)


def read_template_metadata(*paths: str | os.PathLike[str]) -> TemplateMetadata:
    """Read the images of each template (IJB-B/C); see the module docstring for the formats.

    Parameters
    ----------
    *paths : path-like
        One or more metadata files (e.g. the gallery and probe CSVs, and/or insightface's
        ``*_face_tid_mid.txt``).

    Raises
    ------
    InputError
        No file; an unknown layout; an empty template id or file name; a template given two
        different subjects; an image of a template given two different media.
    """
    if not paths:
        raise InputError("give at least one template metadata file.")
    seen: dict[tuple[str, str], int] = {}  # (template, sample) -> row
    templates, samples, subjects, media, origin, lines = [], [], [], [], [], []
    subject_of: dict[str, tuple[str, str, int]] = {}
    sources, records = [], []
    repeated = 0
    for src, path in enumerate(paths):
        p, rows, n = _read_metadata_file(path)
        sources.append(p)
        records.append(n)
        for t, fn, s, m, ln in rows:
            if s:
                prev = subject_of.get(t)
                if prev is not None and prev[0] != s:
                    raise InputError(
                        f"template {t} is given subject {s} here but subject {prev[0]} in "
                        f"{prev[1]}, line {prev[2]}; a template is of one person.",
                        path=p,
                        line=ln,
                    )
                subject_of.setdefault(t, (s, str(p), ln))
            key = (t, fn)
            row = seen.get(key)
            if row is not None:
                if m and media[row] and media[row] != m:
                    raise InputError(
                        f"image {fn} of template {t} is given media {m} here but {media[row]} "
                        f"in {sources[origin[row]]}, line {lines[row]}.",
                        path=p,
                        line=ln,
                    )
                if m:
                    media[row] = m
                repeated += 1
                continue
            seen[key] = len(templates)
            templates.append(t)
            samples.append(fn)
            subjects.append(s)
            media.append(m)
            origin.append(src)
            lines.append(ln)
    subjects = [subject_of.get(t, ("",))[0] for t in templates]
    warnings = []
    if repeated:
        warnings.append(
            f"{repeated} image row(s) repeat an image of the same template (within or across "
            "files); each image is pooled once."
        )
    unnamed = len({t for t, s in zip(templates, subjects, strict=True) if not s})
    if unnamed:
        warnings.append(
            f"{unnamed} template(s) have no subject in the metadata; give NIST's CSV files too, "
            "or intervals resample templates instead of people."
        )
    n = len(templates)
    return TemplateMetadata(
        templates=np.asarray(templates, dtype=str).reshape(n),
        samples=np.asarray(samples, dtype=str).reshape(n),
        subjects=np.asarray(subjects, dtype=str).reshape(n),
        media=np.asarray(media, dtype=str).reshape(n),
        origin=np.asarray(origin, dtype=np.int32),
        lines=np.asarray(lines, dtype=np.int64),
        sources=tuple(str(s) for s in sources),
        inputs=tuple(_source(s, r) for s, r in zip(sources, records, strict=True)),
        warnings=tuple(warnings),
    )


def read_template_pairs(
    path: str | os.PathLike[str],
    metadata: TemplateMetadata | None = None,
    *,
    name: str = "template pairs",
) -> PairProtocol:
    """Read a template match list (``t1 t2 label`` or ``t1,t2``) as a :class:`PairProtocol`.

    The pairs' sample ids are template ids: pool the images first
    (:func:`template_embeddings`), then :func:`resolve_pairs` against the pooled set.

    Parameters
    ----------
    path : path-like
    metadata : TemplateMetadata, optional
        Needed when the list has no labels (mated = same subject), and to name the subjects
        (bootstrap units); when given, every template of the list must be in it.

    Raises
    ------
    InputError
        A line without 2 or 3 fields; an unknown label; a template not in ``metadata``; no labels
        and no subjects to derive them; a label that contradicts the templates' subjects.
    """
    p, lines = _read_lines(path, "template match list")
    head = _split_fields(lines[0][1])
    if head and head[0].strip().lower().replace("_", "") in {
        "t1", "tid1", "templateid1", "template1", "enrolltemplateid", "templateida",
    }:  # fmt: skip
        lines = lines[1:]
    subject_of = metadata.template_subjects() if metadata is not None else {}
    first, second, labels, lns = [], [], [], []
    width = None
    for ln, text in lines:
        f = _split_fields(text)
        if len(f) not in (2, 3):
            raise InputError(
                f"expected 't1 t2 label' or 't1,t2' (template ids), got {len(f)} fields.",
                path=p,
                line=ln,
            )
        if width is None:
            width = len(f)
        elif len(f) != width:
            raise InputError(f"has {len(f)} fields but line {lns[0]} has {width}.", path=p, line=ln)
        for t in f[:2]:
            if not t:
                raise InputError("a template id is empty.", path=p, line=ln)
            if metadata is not None and t not in subject_of:
                raise InputError(
                    f"template {t} is not in the template metadata "
                    f"({', '.join(metadata.sources)}).",
                    path=p,
                    line=ln,
                )
        first.append(f[0])
        second.append(f[1])
        if len(f) == 3:
            labels.append(_label(f[2], p, ln))
        lns.append(ln)
    s1 = [subject_of.get(t, "") for t in first]
    s2 = [subject_of.get(t, "") for t in second]
    if labels:
        mated = labels
        for i, (a, b, m) in enumerate(zip(s1, s2, mated, strict=True)):
            if a and b and (a == b) != m:
                raise InputError(
                    f"the label says {'mated' if m else 'non-mated'} but template {first[i]} is "
                    f"subject {a} and template {second[i]} subject {b}.",
                    path=p,
                    line=lns[i],
                )
    else:
        mated = []
        for i, (a, b) in enumerate(zip(s1, s2, strict=True)):
            if not a or not b:
                raise InputError(
                    f"the list has no labels and the metadata names no subject for template "
                    f"{first[i] if not a else second[i]}; give labels or NIST's metadata CSVs.",
                    path=p,
                    line=lns[i],
                )
            mated.append(a == b)
    n = len(first)
    return _protocol(
        name,
        first,
        second,
        mated,
        s1,
        s2,
        [0] * n,
        0,
        [0] * n,
        lns,
        [p],
        [len(lines)],
        "TAR (1 - FNMR) at FAR (FMR) targets over all listed template pairs (no folds).",
        _duplicate_warning(first, second),
    )


# ------------------------------------------------------------------------------------------------
# Resolution against embeddings and images


def _check_missing(missing: str) -> str:
    if missing not in ("error", "fta"):
        raise InputError(
            f"missing={missing!r} is not known; use 'error' (refuse) or 'fta' (count the pairs "
            "as failures to acquire)."
        )
    return missing


def resolve_pairs(
    protocol: PairProtocol, embeddings: EmbeddingSet, *, missing: str = "error"
) -> ResolvedPairs:
    """Match a protocol's sample ids to the rows of an embedding set.

    A protocol sample matches an embedding's sample id by path, tolerating extra or missing
    leading folders (:func:`faceaudit.data.protocols.match_samples`). Subjects the protocol does
    not name are taken from the embeddings; where both name one and they differ, the protocol's
    label still decides mated / non-mated and a warning counts the pairs.

    Parameters
    ----------
    protocol : PairProtocol
    embeddings : EmbeddingSet
    missing : {"error", "fta"}
        A sample without an embedding: refuse (InputError naming the protocol line), or count
        its pairs as failures to acquire (``NaN`` scores).

    Returns
    -------
    ResolvedPairs
        ``cosine_scores(embeddings.embeddings)`` gives one score per pair.

    Raises
    ------
    InputError
        A sample that several embeddings match; a sample without an embedding (``missing=
        "error"``).
    """
    _check_missing(missing)
    n = protocol.n
    uniq, inv = np.unique(np.concatenate([protocol.first, protocol.second]), return_inverse=True)
    rows_u = match_samples(uniq, embeddings.samples)
    rows = rows_u[inv.reshape(-1)]
    r1, r2 = rows[:n].copy(), rows[n:].copy()
    where = embeddings.path or "the embeddings"
    amb = (r1 == AMBIGUOUS) | (r2 == AMBIGUOUS)
    if amb.any():
        i = int(np.argmax(amb))
        s = protocol.first[i] if r1[i] == AMBIGUOUS else protocol.second[i]
        leaf = normalise_sample_id(str(s)).rsplit("/", 1)[-1]
        hits = [str(x) for x in embeddings.samples.tolist() if str(x).endswith(leaf)][:2]
        raise InputError(
            f"sample {s!r} matches several samples of {where} ({', '.join(hits)}); give the "
            "embeddings' sample ids as paths relative to the data set's folder.",
            **protocol.location(i),
        )
    lost = (r1 == MISSING) | (r2 == MISSING)
    warnings: list[str] = []
    if lost.any():
        if missing == "error":
            i = int(np.argmax(lost))
            s = protocol.first[i] if r1[i] == MISSING else protocol.second[i]
            example = embeddings.samples[0] if embeddings.n else "none"
            raise InputError(
                f"sample {s!r} has no embedding in {where} ({embeddings.n} samples, e.g. "
                f"{str(example)!r}); embed it, or pass missing='fta' to count its pairs as "
                "failures to acquire.",
                **protocol.location(i),
            )
        n_lost_samples = int(np.count_nonzero(rows_u == MISSING))
        warnings.append(
            f"{n_lost_samples} sample(s) of the protocol have no embedding: {int(lost.sum())} of "
            f"{n} pairs are failures to acquire."
        )
    emb_subj = embeddings.subjects
    subj = []
    disagree = 0
    for side, r in ((protocol.first_subject, r1), (protocol.second_subject, r2)):
        have = r >= 0
        from_emb = np.where(have, emb_subj[np.where(have, r, 0)], "").astype(str)
        known = np.char.str_len(side) > 0
        disagree += int(np.count_nonzero(known & have & (side != from_emb)))
        subj.append(np.where(known, side, from_emb))
    if disagree:
        warnings.append(
            f"{disagree} pair side(s) name a subject that differs from the embeddings' subject; "
            "the protocol's labels and subjects are used."
        )
    resolved = protocol.with_subjects(subj[0], subj[1], warnings=warnings)
    return ResolvedPairs(resolved, r1, r2, tuple(warnings))


def check_image_folder(
    protocol: PairProtocol | TemplateMetadata, folder: str | os.PathLike[str]
) -> list[Path]:
    """The image files a protocol names under ``folder``, in order of first use.

    Raises
    ------
    InputError
        ``folder`` is not a folder; an image is not there (naming the protocol line that uses
        it first). Samples are looked up as given, then with their leading folders dropped one
        by one (a protocol may name ``lfw/A/A_0001.jpg`` for a folder that is ``lfw`` itself).
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError("is not a folder; give the data set's image folder.", path=folder)
    if isinstance(protocol, TemplateMetadata):
        samples, first_at = np.unique(protocol.samples, return_index=True)
    else:
        both = np.concatenate([protocol.first, protocol.second])
        samples, first_at = np.unique(both, return_index=True)
    order = np.argsort(first_at)
    out = []
    for k in order:
        s = str(samples[k])
        parts = s.split("/")
        found = None
        for start in range(len(parts)):
            cand = root.joinpath(*parts[start:])
            if cand.is_file():
                found = cand
                break
        if found is None:
            i = int(first_at[k])
            if isinstance(protocol, TemplateMetadata):
                loc = protocol.location(i)
            else:
                loc = protocol.location(i % protocol.n)
            raise InputError(f"image {s!r} is not in {root}.", **loc)
        out.append(found)
    return out


def template_embeddings(
    embeddings: EmbeddingSet,
    metadata: TemplateMetadata,
    *,
    media: bool = True,
    weights=None,
    normalise_images: bool = True,
    missing: str = "error",
) -> TemplateEmbeddings:
    """Pool image embeddings into one embedding per template (IJB-B/C).

    Pooling (:func:`faceaudit.data.protocols.pool_template_features`): L2-normalise each image's
    embedding, average within each media (all frames of one video) when ``media``, sum over the
    template's media and L2-normalise again: insightface's IJB evaluation with its norm and
    detector-score weighting off (for its "N1D1" mode read the embeddings with
    ``normalise=False`` and pass ``normalise_images=False, weights=face_scores``).

    Parameters
    ----------
    embeddings : EmbeddingSet
        The images' embeddings; sample ids are matched to the metadata's file names by path.
    metadata : TemplateMetadata
    media : bool
        Average a media's frames first (default); False: every image counts once.
    weights : array-like of float, shape (embeddings.n,), optional
        Per-embedding weights (e.g. the detector's face score).
    normalise_images : bool
    missing : {"error", "fta"}
        An image without an embedding: refuse, or pool the template from its other images (a
        template with none left is listed in ``empty``, and its pairs become failures to
        acquire with ``resolve_pairs(..., missing="fta")``).

    Returns
    -------
    TemplateEmbeddings
    """
    _check_missing(missing)
    uniq, inv = np.unique(metadata.samples, return_inverse=True)
    rows_u = match_samples(uniq, embeddings.samples)
    rows = rows_u[inv.reshape(-1)]
    where = embeddings.path or "the embeddings"
    if (rows == AMBIGUOUS).any():
        i = int(np.argmax(rows == AMBIGUOUS))
        raise InputError(
            f"image {metadata.samples[i]!r} matches several samples of {where}; give the "
            "embeddings' sample ids as paths relative to the data set's folder.",
            **metadata.location(i),
        )
    warnings = list(metadata.warnings)
    lost = rows == MISSING
    if lost.any():
        if missing == "error":
            i = int(np.argmax(lost))
            raise InputError(
                f"image {metadata.samples[i]!r} of template {metadata.templates[i]} has no "
                f"embedding in {where}; embed it, or pass missing='fta'.",
                **metadata.location(i),
            )
        warnings.append(
            f"{int(lost.sum())} of {metadata.n} template images have no embedding; their "
            "templates are pooled from the others."
        )
    tids, t_code = np.unique(metadata.templates, return_inverse=True)
    t_code = t_code.reshape(-1)
    # per embedding row: its template (an image may serve several templates: one row per use)
    use = ~lost
    feats = embeddings.embeddings[rows[use]]
    w = None
    if weights is not None:
        w_all = np.asarray(weights, dtype=np.float64)
        if w_all.shape != (embeddings.n,):
            raise InputError(
                f"weights has shape {w_all.shape}; give one weight per embedding ({embeddings.n})."
            )
        w = w_all[rows[use]]
    media_codes = None
    if media:
        m = np.where(np.char.str_len(metadata.media) > 0, metadata.media, "")
        # an image without a media id is its own media
        key = np.where(m != "", np.char.add("m:", m), np.char.add("s:", metadata.samples))
        _, media_codes = np.unique(key[use], return_inverse=True)
    pooled, n_img, n_med = pool_template_features(
        feats,
        t_code[use],
        tids.size,
        media_index=media_codes,
        weights=w,
        normalise_images=normalise_images,
    )
    has = n_img > 0
    zero = has & (np.linalg.norm(pooled, axis=1) == 0)
    if zero.any():
        raise InputError(
            f"template {tids[int(np.argmax(zero))]}: its image features sum to the zero vector; "
            "it has no direction to compare."
        )
    subject_of = metadata.template_subjects()
    subj = np.array([subject_of.get(t, "") or t for t in tids[has].tolist()], dtype=str)
    rule = (
        ("L2-normalised image features" if normalise_images else "image features (norm kept)")
        + (", weighted" if weights is not None else "")
        + (", averaged within each media, then" if media else ",")
        + " summed over the template and L2-normalised"
    )
    if (~has).any():
        warnings.append(f"{int((~has).sum())} template(s) have no embedded image.")
    es = EmbeddingSet(
        pooled[has],
        subj.reshape(int(has.sum())),
        tids[has].astype(str),
        None,
        embeddings.path,
        {**embeddings.metadata, "templates": True, "pooling": rule},
        embeddings.inputs + metadata.inputs,
        tuple(warnings),
    )
    return TemplateEmbeddings(es, n_img[has], n_med[has], tids[~has], rule, tuple(warnings))
