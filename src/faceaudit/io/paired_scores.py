"""Read several systems' score tables of the same comparisons and align them (``compare``).

Each file is a score table as :func:`faceaudit.io.scores.read_table_scores` reads it (CSV/TSV,
optionally compressed, or Parquet; columns ``score``, ``mated`` and/or ``probe_subject`` +
``reference_subject``, optional ``probe`` and ``reference`` sample ids; an empty score is a
failure to acquire). The files are aligned into one :class:`~faceaudit.data.paired_scores.
PairedScores`:

- **on (probe, reference) ids** when every file has both id columns: a comparison is the same
  in two files when its probe and reference ids are. Each pair may appear once per file.
  Comparisons present for some systems only are counted per system (``Coverage``), left out
  (the compared set is the common one) and a warning says how many; ``coverage="strict"``
  refuses them instead.
- **on row order** otherwise: row ``i`` of every file is the same comparison; the files must
  have as many rows, and the same mated flag and subject ids on every row.

On the common comparisons, the files must agree on the mated flag and on the subjects (when more
than one file gives them): otherwise the comparison is not the same one. Subject ids are coded
once for all files (sorted), so one subject bootstrap draws the same people for every system.

Every problem raises :class:`~faceaudit.errors.InputError` naming the file and the line (CSV;
header = line 1) or row (Parquet), what is wrong and what to do.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceaudit.data.paired_scores import Coverage, PairedScores, PairedSearches, SystemCoverage
from faceaudit.errors import InputError
from faceaudit.io._checks import check_orientation
from faceaudit.io._collect import input_file
from faceaudit.io._tabular import BadColumn, BadRecord, SubjectCodes, parse_mated, parse_scores
from faceaudit.io.scores import ColumnNames, _check_columns, _present_columns
from faceaudit.io.tables import Table, open_table

__all__ = ["COVERAGE_RULES", "read_paired_candidates", "read_paired_scores", "system_names"]

PathLike = str | os.PathLike[str]

#: What to do with comparisons present for some systems only.
COVERAGE_RULES = ("common", "strict")


@dataclass(eq=False)
class _Rows:
    """One file's validated rows (codes shared across files)."""

    path: PathLike
    table: Table
    score: np.ndarray  # float64, NaN = missing
    mated: np.ndarray
    ps: np.ndarray | None  # subject codes (first-appearance codes of the shared SubjectCodes)
    rs: np.ndarray | None
    probe: np.ndarray | None  # sample codes
    reference: np.ndarray | None

    @property
    def rows(self) -> int:
        return int(self.score.shape[0])


def system_names(paths: Sequence[PathLike], names: Sequence[str] | None) -> tuple[str, ...]:
    """One distinct name per system: the ones given, or the files' names without extension."""
    if names:
        if len(names) != len(paths):
            raise InputError(
                f"{len(names)} system names for {len(paths)} score files; give one name per "
                "file, in the same order, or none."
            )
        out = tuple(str(n).strip() for n in names)
        if any(not n for n in out):
            raise InputError("a system name is empty; give every system a name.")
    else:
        out = tuple(Path(os.fspath(p)).name.split(".")[0] or os.fspath(p) for p in paths)
        if len(set(out)) != len(out):
            out = tuple(os.fspath(p) for p in paths)
    dup = sorted({n for n in out if out.count(n) > 1})
    if dup:
        raise InputError(
            f"the system name {dup[0]!r} is given twice; give every system its own name."
        )
    return out


def _read(path, columns, subjects: SubjectCodes, samples: SubjectCodes, chunk_rows) -> _Rows:
    table = open_table(path)
    present = _present_columns(table, columns)
    # Subject and sample ids are read dictionary-encoded (Parquet): no per-row strings.
    table.dictionary_columns = [
        present[r]
        for r in ("probe_subject", "reference_subject", "probe", "reference")
        if r in present
    ]
    used = [name for name in table.names if name in present.values()]
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("score", "mated", "ps", "rs", "probe", "reference")
    }
    rows = 0
    for start, batch in table.batches(used, chunk_rows):
        try:
            score, _ = parse_scores(batch.column(present["score"]), name=present["score"])
            parts["score"].append(score)
            codes = {}
            for role, key in (("probe_subject", "ps"), ("reference_subject", "rs")):
                if role in present:
                    codes[key] = subjects.encode(batch.column(present[role]), name=present[role])
                    parts[key].append(codes[key])
            for role in ("probe", "reference"):
                if role in present:
                    parts[role].append(
                        samples.encode(
                            batch.column(present[role]), name=present[role], noun=f"a {role} id"
                        )
                    )
            same = codes["ps"] == codes["rs"] if len(codes) == 2 else None
            if "mated" in present:
                mated = parse_mated(batch.column(present["mated"]), name=present["mated"])
                if same is not None and (mated != same).any():
                    i = int(np.flatnonzero(mated != same)[0])
                    raise BadRecord(
                        i,
                        "the mated flag contradicts the subject ids (mated rows have one subject, "
                        "non-mated rows two); fix the flag or the ids.",
                    )
            else:
                mated = same
            parts["mated"].append(mated)
        except BadRecord as bad:
            raise table.error_at(start + bad.index, bad.message) from None
        except BadColumn as bad:
            raise table.header_error(str(bad)) from None
        rows = start + batch.num_rows
    if rows == 0:
        raise table.header_error(
            "has a header but no data rows; give a file with one comparison per row."
        )

    def cat(key):
        return np.concatenate(parts[key]) if parts[key] else None

    return _Rows(path, table, cat("score"), cat("mated"), cat("ps"), cat("rs"), cat("probe"),
                 cat("reference"))  # fmt: skip


def _read_bob(path, subjects: SubjectCodes, samples: SubjectCodes) -> _Rows:
    """A bob score file as rows: 4/5 columns give subjects (real_id, claimed_id) and the pair's
    samples (model, test_label) to join on; 2 columns only the mated label (row-order join)."""
    from faceaudit.io.bob import _ADVICE, _labels, bob_records

    rec = bob_records(path)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("score", "mated", "ps", "rs", "probe",
                                                          "reference")}  # fmt: skip
    for _, f in rec.chunks():
        base = sum(a.size for a in parts["score"])
        try:
            score, _ = parse_scores(f["score"], name="score", nan_is_missing=True, advice=_ADVICE)
            parts["score"].append(score)
            if rec.ncols == 2:
                parts["mated"].append(_labels(f["label"]))
                continue
            ps = subjects.encode(f["real_id"], name="real_id")
            rs = subjects.encode(f["claimed_id"], name="claimed_id")
            parts["ps"].append(ps)
            parts["rs"].append(rs)
            parts["mated"].append(ps == rs)
            parts["reference"].append(samples.encode(f["model"], name="model", noun="a model id"))
            parts["probe"].append(samples.encode(f["test_label"], name="test_label",
                                                 noun="a probe sample id"))  # fmt: skip
        except BadRecord as bad:
            raise rec.error_at(base + bad.index, bad.message) from None
    if not parts["score"]:
        raise rec.header_error("holds no comparison; give a bob score file.")

    def cat(key):
        return np.concatenate(parts[key]) if parts[key] else None

    return _Rows(path, rec, cat("score"), cat("mated"), cat("ps"), cat("rs"), cat("probe"),
                 cat("reference"))  # fmt: skip


def _duplicate(key: np.ndarray) -> tuple[int, int] | None:
    """``(first, repeat)`` rows of the first repeated key, or None."""
    order = np.argsort(key, kind="stable")
    ks = key[order]
    rep = np.flatnonzero(ks[1:] == ks[:-1])
    if not rep.size:
        return None
    j = int(rep[np.argmin(order[rep + 1])])
    return int(order[j]), int(order[j + 1])


def _join_on_ids(files: list[_Rows], n_samples: int) -> tuple[list[np.ndarray], str]:
    keys = []
    for f in files:
        key = f.probe.astype(np.int64) * n_samples + f.reference.astype(np.int64)
        dup = _duplicate(key)
        if dup is not None:
            raise f.table.error_at(
                dup[1],
                f"repeats the comparison of the same probe and reference as "
                f"{f.table.where(dup[0])}; a join on (probe, reference) needs each pair once per "
                "file, so remove the repeat.",
            )
        keys.append(key)
    common = keys[0]
    for key in keys[1:]:
        common = np.intersect1d(common, key, assume_unique=True)
    first = np.flatnonzero(np.isin(keys[0], common, assume_unique=True))
    ordered = keys[0][first]
    index = [first]
    for key in keys[1:]:
        order = np.argsort(key, kind="stable")
        index.append(order[np.searchsorted(key[order], ordered)])
    return index, "probe and reference ids"


def _join_on_rows(files: list[_Rows]) -> tuple[list[np.ndarray], str]:
    n0 = files[0].rows
    for f in files[1:]:
        if f.rows != n0:
            raise InputError(
                f"has {f.rows:,} comparisons but {os.fspath(files[0].path)} has {n0:,}; without "
                "probe and reference id columns in every file, the files are joined on row order "
                "and must list the same comparisons in the same order (add probe and reference "
                "columns to join on them).",
                path=f.path,
            )
    return [np.arange(n0) for _ in files], "row order"


def _agree(files: list[_Rows], index: list[np.ndarray], attr: str, what: str) -> np.ndarray | None:
    """The common rows' values of ``attr`` (the first file that has it), checked equal in all."""
    ref = None
    ref_file = None
    for f, idx in zip(files, index, strict=True):
        v = getattr(f, attr)
        if v is None:
            continue
        v = v[idx]
        if ref is None:
            ref, ref_file, ref_idx = v, f, idx
            continue
        bad = np.flatnonzero(v != ref)
        if bad.size:
            i = int(bad[0])
            raise f.table.error_at(
                int(idx[i]),
                f"the {what} differs from {os.fspath(ref_file.path)} "
                f"({ref_file.table.where(int(ref_idx[i]))}) for the same comparison; the systems "
                "must be compared on the same comparisons of the same people, so fix the file "
                "(or its row order).",
            )
    return ref


def read_paired_scores(
    paths: Sequence[PathLike],
    *,
    names: Sequence[str] | None = None,
    columns: ColumnNames | None = None,
    orientation: str = "similarity",
    coverage: str = "common",
    chunk_rows: int = 1_000_000,
    bob: bool = False,
) -> PairedScores:
    """Read two or more score tables of the same comparisons and align them.

    Parameters
    ----------
    paths : sequence of path
        One score table per system (CSV/TSV/Parquet, the columns of
        :func:`~faceaudit.io.scores.read_table_scores`).
    names : sequence of str, optional
        One distinct name per system (default: the file names without extension).
    columns : ColumnNames, optional
        Column names, the same for every file.
    orientation : {"similarity", "distance"}
        How the files' scores point (distance scores are negated).
    coverage : {"common", "strict"}
        Comparisons present for some systems only: left out with a warning (``"common"``), or an
        error (``"strict"``).
    bob : bool
        The files are bob score files (:mod:`faceaudit.io.bob`: 4 or 5 columns, joined on the
        (model, test_label) pair, subjects from real_id and claimed_id; 2 columns, on row
        order); ``columns`` is then unused. A ``nan`` score is a failure to acquire.

    Returns
    -------
    PairedScores

    Raises
    ------
    InputError
        Fewer than two files, names missing or repeated, any problem of a file (as
        :func:`~faceaudit.io.scores.read_table_scores`), a pair repeated in a file, files of
        unequal length on a row-order join, mated flags or subjects that differ between files
        for the same comparison, no comparison common to all files, or (``"strict"``) a
        comparison missing from some file.
    """
    orientation = check_orientation(orientation)
    chunk_rows = operator.index(chunk_rows)
    if coverage not in COVERAGE_RULES:
        raise ValueError(f"coverage must be one of {COVERAGE_RULES}, got {coverage!r}")
    paths = list(paths)
    if len(paths) < 2:
        raise InputError(
            f"comparing systems needs at least two score files (one per system); got {len(paths)}."
        )
    names = system_names(paths, names)
    columns = columns or ColumnNames()
    _check_columns(columns)
    subjects, samples = SubjectCodes(), SubjectCodes()
    if bob:
        files = [_read_bob(p, subjects, samples) for p in paths]
    else:
        files = [_read(p, columns, subjects, samples, chunk_rows) for p in paths]
    on_ids = all(f.probe is not None and f.reference is not None for f in files)
    if on_ids:
        index, join = _join_on_ids(files, max(len(samples.names), 1))
    else:
        index, join = _join_on_rows(files)
    n = int(index[0].size)
    if n == 0:
        raise InputError(
            "no comparison (probe, reference pair) is present in every file; check that the "
            "files describe the same comparisons with the same ids."
        )
    mated = _agree(files, index, "mated", "mated flag")
    ps = _agree(files, index, "ps", "probe subject")
    rs = _agree(files, index, "rs", "reference subject")
    names_sorted, remap = subjects.canonical()
    ps = None if ps is None else remap[ps]
    rs = None if rs is None else remap[rs]
    systems = tuple(
        SystemCoverage(name, f.rows, f.rows - n) for name, f in zip(names, files, strict=True)
    )
    cov = Coverage(join, n, int(mated.sum()), int((~mated).sum()), systems)
    warnings = []
    if cov.restricted:
        extra = ", ".join(f"{s.name} {s.only_here:,}" for s in systems if s.only_here)
        msg = (
            f"The systems do not cover the same comparisons: comparisons present for one system "
            f"but not every other ({extra}) are left out; the systems are compared on the "
            f"{n:,} comparisons common to all."
        )
        if coverage == "strict":
            raise InputError(msg.replace(" are left out;", " were found;") + " Give files of "
                             "the same comparisons, or allow the common set.")  # fmt: skip
        warnings.append(msg)
    scores = []
    for f, idx in zip(files, index, strict=True):
        s = f.score[idx]
        if orientation == "distance":
            np.negative(s, out=s)
        scores.append(s)
    for kind, m in (("mated", mated), ("non-mated", ~mated)):
        if not m.any():
            raise InputError(
                f"no {kind} comparison is common to all files; error rates need both mated "
                "and non-mated comparisons, so check the mated flags or the subject ids."
            )
    return PairedScores(
        names=names,
        scores=tuple(scores),
        mated=mated,
        probe_subject=ps,
        reference_subject=rs,
        subjects=names_sorted if (ps is not None or rs is not None) else [],
        orientation=orientation,
        coverage=cov,
        inputs=[input_file(f.path, f.rows) for f in files],
        warnings=warnings,
    )


def read_paired_candidates(
    candidates: Sequence[PathLike],
    truth: PathLike,
    *,
    names: Sequence[str] | None = None,
    gallery: PathLike | None = None,
    gallery_size: int | None = None,
) -> PairedSearches:
    """Read two or more systems' candidate lists for the same probes against one truth table.

    Each file is read as :func:`faceaudit.io.candidates.load_candidate_search` reads it (columns
    ``probe, rank, candidate, score``), against the one ``truth`` file (and ``gallery`` /
    ``gallery_size``): every system's searches are the truth's probes, in its order, so search
    ``j`` is the same probe for every system. A probe a system returned no candidate for is an
    empty list for that system (counted, with a warning, by the reader).

    Raises
    ------
    InputError
        Fewer than two files, names missing or repeated, or any problem of a file.
    """
    from faceaudit.io.candidates import load_candidate_search

    candidates = list(candidates)
    if len(candidates) < 2:
        raise InputError(
            "comparing systems needs at least two candidate-list files (one per system); got "
            f"{len(candidates)}."
        )
    names = system_names(candidates, names)
    searches = tuple(
        load_candidate_search(c, truth, gallery=gallery, gallery_size=gallery_size)
        for c in candidates
    )
    inputs, seen, warnings = [], set(), []
    for name, s in zip(names, searches, strict=True):
        for f in s.inputs:
            if f.path not in seen:
                seen.add(f.path)
                inputs.append(f)
        warnings += [f"{name}: {w}" for w in s.warnings]
    return PairedSearches(names, searches, inputs, warnings)
