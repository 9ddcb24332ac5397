"""LFW ``pairs.txt`` and CFP protocol readers (formats: :mod:`faceaudit.io.protocols`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from faceaudit.data.protocols import (
    PairProtocol,
    normalise_sample_id,
)
from faceaudit.errors import InputError
from faceaudit.io._protocol_lines import (
    _FOLDS_CONVENTION,
    LFW_CONVENTION,
    _duplicate_warning,
    _positive_int,
    _protocol,
    _read_lines,
)

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
    lists = _cfp_lists(root, pdir, protocol)
    fold_dirs = _cfp_fold_dirs(pdir / "Split" / protocol, protocol)
    rows = _CfpRows()
    for k, d in enumerate(fold_dirs, start=1):
        for fname, is_same in (("same.txt", True), ("diff.txt", False)):
            path = d / fname
            if not path.is_file():
                raise InputError(
                    f"fold {d.name} has no {fname}; every fold holds same.txt and diff.txt.",
                    path=path,
                )
            p, lines = _read_lines(path, "CFP pair list")
            lists.sources.append(p)
            lists.records.append(len(lines))
            for ln, text in lines:
                rows.add(lists, p, ln, text, is_same, k, len(lists.sources) - 1)
    warnings = _duplicate_warning(rows.first, rows.second)
    odd = int(np.count_nonzero(np.asarray(rows.mated) != (np.asarray(rows.s1) == rows.s2)))
    if odd:
        warnings.append(
            f"{odd} pair(s) disagree with the image folders (a 'same' pair of two folders or a "
            "'diff' pair of one); the protocol's label is used."
        )
    return _protocol(
        f"CFP-{protocol}",
        rows.first,
        rows.second,
        rows.mated,
        rows.s1,
        rows.s2,
        rows.folds,
        len(fold_dirs),
        rows.origin,
        rows.lines,
        lists.sources,
        lists.records,
        _FOLDS_CONVENTION,
        warnings,
    )


@dataclass
class _CfpLists:
    """CFP's image lists: index -> (sample id, ...) of the frontal and of the second images."""

    frontal: dict
    frontal_name: str
    second: dict
    second_name: str
    sources: list
    records: list


def _cfp_lists(root, pdir: Path, protocol: str) -> _CfpLists:
    flist = pdir / "Pair_list_F.txt"
    if not flist.is_file():
        raise InputError(
            "holds no Protocol/Pair_list_F.txt; give the cfp-dataset folder (or its Protocol "
            "folder).",
            path=root,
        )
    frontal, f_records = _read_cfp_list(flist)
    if protocol == "FF":
        return _CfpLists(frontal, flist.name, frontal, flist.name, [flist], [f_records])
    plist = pdir / "Pair_list_P.txt"
    if not plist.is_file():
        raise InputError(
            "holds no Pair_list_P.txt; the frontal-profile protocol needs it.", path=pdir
        )
    profile, p_records = _read_cfp_list(plist)
    return _CfpLists(
        frontal, flist.name, profile, plist.name, [flist, plist], [f_records, p_records]
    )


def _cfp_fold_dirs(split: Path, protocol: str) -> list[Path]:
    """``Split/FP/01``, ``02``, ... in numeric order."""
    dirs = (
        sorted(
            (d for d in split.iterdir() if d.is_dir() and d.name.isdigit()),
            key=lambda d: int(d.name),
        )
        if split.is_dir()
        else []
    )
    if not dirs:
        raise InputError(
            f"holds no fold folders (01, 02, ...); expected Split/{protocol}/01/same.txt etc.",
            path=split,
        )
    return dirs


@dataclass
class _CfpRows:
    """The pairs read so far, one entry per pair in each list."""

    first: list = field(default_factory=list)
    second: list = field(default_factory=list)
    s1: list = field(default_factory=list)
    s2: list = field(default_factory=list)
    mated: list = field(default_factory=list)
    folds: list = field(default_factory=list)
    origin: list = field(default_factory=list)
    lines: list = field(default_factory=list)

    def add(self, lists: _CfpLists, p, ln: int, text: str, is_same: bool, fold: int, src: int):
        """One ``i,j`` line: image ``i`` of the frontal list, ``j`` of the second."""
        f = [x.strip() for x in text.split(",")]
        if len(f) != 2:
            raise InputError(
                f"expected 'i,j' (two image indices separated by a comma), got {text!r}.",
                path=p,
                line=ln,
            )
        i = _positive_int(f[0], "image index", p, ln)
        j = _positive_int(f[1], "image index", p, ln)
        for idx, table, name in ((i, lists.frontal, lists.frontal_name),
                                 (j, lists.second, lists.second_name)):  # fmt: skip
            if idx not in table:
                raise InputError(
                    f"image index {idx} is not in {name} ({len(table)} images).", path=p, line=ln
                )
        a, b = lists.frontal[i][0], lists.second[j][0]
        self.first.append(a)
        self.second.append(b)
        self.s1.append(_cfp_subject(a))
        self.s2.append(_cfp_subject(b))
        self.mated.append(is_same)
        self.folds.append(fold)
        self.origin.append(src)
        self.lines.append(ln)
