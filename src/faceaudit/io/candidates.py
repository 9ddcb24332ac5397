"""1:N candidate lists as NIST FRTE collects them, with the probes' ground truth.

Files (CSV or Parquet, read by the table reader :mod:`faceaudit.io.tables`)
--------------------------------------------------------------------------
Candidate lists
    Columns ``probe, rank, candidate, score``: for each search (``probe``), the enrolled subjects
    returned (``candidate``) at ranks 1, 2, ... with their scores (higher = more similar). A list
    may be shorter than others (a system that only returns candidates above its own threshold); a
    probe with no row returned no candidate. Streamed in chunks: each row costs 20 bytes (probe
    and candidate codes, rank, score) until the lists are built.
Truth table
    Columns ``probe, subject`` (optional ``group``, ``person``): the subject photographed in each
    probe. An empty ``subject`` marks a non-mated search (the person is not enrolled). A subject
    that is not in the gallery subject list also makes the search non-mated (a warning counts
    them). ``person``, when given, identifies the person even in non-mated searches: the
    bootstrap then resamples a person's searches together (otherwise each non-mated search
    without a subject is its own unit).
Gallery subject list (optional)
    One enrolled subject id per line (text; blank lines and ``#`` comment lines skipped), or a
    CSV/Parquet with a ``subject`` column. When only the gallery size is known, pass
    ``gallery_size`` instead.

Validation (each failure raises :class:`~faceaudit.errors.InputError` naming the file, the line
(CSV: the line as an editor numbers it, header = line 1) or row (Parquet, 1-based) and the
problem): required columns present; probe and candidate ids non-empty; ranks are integers
contiguous from 1 within each probe, with no rank repeated; scores are finite numbers,
non-increasing with rank; a candidate appears at most once per list; every probe of the candidate
lists is in the truth table; a truth probe appears once; candidates are enrolled subjects (when a
gallery list is given); the gallery size is at least the number of distinct candidates.

Warnings (:attr:`CandidateSearch.warnings`): searches of the truth table that returned no
candidate at all, and truth subjects missing from the gallery list (counted as non-mated).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from faceaudit._lazy import lazy_module
from faceaudit.data.candidates import CandidateLists, CandidateSearch, ProbeTruth
from faceaudit.data.inputs import InputFile
from faceaudit.errors import InputError
from faceaudit.io._checks import PendingDigest, check_file, table_suffix
from faceaudit.io._tabular import (
    BadColumn,
    BadRecord,
    GrowableArray,
    SubjectCodes,
    parse_scores,
)
from faceaudit.io.lines import id_lines, line_number
from faceaudit.io.tables import (
    PARQUET_SUFFIXES,
    Table,
    first_empty,
    open_table,
    read_whole,
    require_columns,
    text_values,
)

pa = lazy_module("pyarrow")
pc = lazy_module("pyarrow.compute")

__all__ = [
    "CandidateLists",
    "ProbeTruth",
    "CandidateSearch",
    "read_candidates",
    "read_truth",
    "read_gallery_subjects",
    "load_candidate_search",
]

PathLike = str | os.PathLike[str]
_COLUMNS = ("probe", "rank", "candidate", "score")


@dataclass
class _Rows:
    """The candidate file's rows as codes (row order), kept to locate cross-file errors."""

    table: Table
    probe: np.ndarray  # int32 codes into probes
    candidate: np.ndarray  # int32 codes into subjects
    probes: list[str]
    subjects: list[str]

    def first_row(self, codes: np.ndarray, code: int) -> int:
        return int(np.argmax(codes == code))


def _ranks(column: pa.Array) -> np.ndarray:
    values, missing = parse_scores(column, name="rank", advice="write ranks 1, 2, 3, ...")
    bad = (values != np.floor(values)) | (values < 1)
    if missing is not None:
        bad |= missing
    if bad.any():
        i = int(np.argmax(bad))
        raise BadRecord(i, f"rank {column[i].as_py()!r} is not a whole number >= 1.")
    return values.astype(np.int32)


def _scores(column: pa.Array) -> np.ndarray:
    values, missing = parse_scores(
        column, name="score", advice="every candidate needs a finite score."
    )
    if missing is not None and missing.any():
        raise BadRecord(int(np.argmax(missing)), "score is empty; every candidate needs a score.")
    return values


def _read_rows(path: PathLike):
    table = open_table(path)
    require_columns(
        table,
        {c: c for c in _COLUMNS},
        _COLUMNS,
        advice="a candidate-list file has the columns probe, rank, candidate, score.",
    )
    table.dictionary_columns = ["probe", "candidate"]
    probes, subjects = SubjectCodes(), SubjectCodes()
    bufs = {
        "probe": GrowableArray(np.int32),
        "candidate": GrowableArray(np.int32),
        "rank": GrowableArray(np.int32),
        "score": GrowableArray(np.float64),
    }
    for start, batch in table.batches(list(_COLUMNS)):
        try:
            parts = {
                "probe": probes.encode(batch.column("probe"), name="probe", noun="a probe id"),
                "candidate": subjects.encode(
                    batch.column("candidate"), name="candidate", noun="a candidate subject id"
                ),
                "rank": _ranks(batch.column("rank")),
                "score": _scores(batch.column("score")),
            }
        except BadRecord as bad:
            raise table.error_at(start + bad.index, bad.message) from None
        except BadColumn as bad:
            raise table.header_error(str(bad)) from None
        for name, values in parts.items():
            bufs[name].extend_where(values, None)
    arrays = {name: buf.finish() for name, buf in bufs.items()}
    if arrays["probe"].shape[0] == 0:
        raise table.header_error("has no rows; give one row per candidate returned.")
    rows = _Rows(table, arrays["probe"], arrays["candidate"], probes.names, subjects.names)
    return rows, arrays["rank"], arrays["score"]


def read_candidates(path: PathLike) -> CandidateLists:
    """Read and validate a candidate-list file (see the module docstring).

    Returns
    -------
    CandidateLists
        One row per distinct probe, in order of first appearance.
    """
    return _lists(*_read_rows(path))


def _lists(rows: _Rows, rank: np.ndarray, score: np.ndarray) -> CandidateLists:
    table, pcode = rows.table, rows.probe
    n_rows = pcode.shape[0]
    order = np.lexsort((rank, pcode))
    pcs, rk, sc = pcode[order], rank[order], score[order]
    start = np.ones(n_rows, dtype=bool)
    start[1:] = pcs[1:] != pcs[:-1]
    group_start = np.maximum.accumulate(np.where(start, np.arange(n_rows), 0))
    pos = np.arange(n_rows) - group_start
    wrong = rk != pos + 1
    if wrong.any():
        j = int(np.argmax(wrong))
        probe = rows.probes[pcs[j]]
        if j > 0 and not start[j] and rk[j] == rk[j - 1]:
            first, second = sorted((int(order[j]), int(order[j - 1])))
            raise table.error_at(
                second,
                f"probe {probe!r} has rank {rk[j]} twice (also at {table.where(first)}); each "
                "rank holds one candidate.",
            )
        raise table.error_at(
            int(order[j]),
            f"probe {probe!r}: rank {rk[j]} follows rank {pos[j]} (ranks must run 1, 2, 3, ... "
            f"without gaps; rank {pos[j] + 1} is missing).",
        )
    rising = np.zeros(n_rows, dtype=bool)
    rising[1:] = (~start[1:]) & (sc[1:] > sc[:-1])
    if rising.any():
        j = int(np.argmax(rising))
        raise table.error_at(
            int(order[j]),
            f"probe {rows.probes[pcs[j]]!r}: the score {sc[j]:g} at rank {rk[j]} is higher than "
            f"{sc[j - 1]:g} at rank {rk[j - 1]}; scores must not increase with rank (higher score "
            "= more similar, rank 1 = best).",
        )
    cc = rows.candidate[order]
    key = pcs.astype(np.int64) * (len(rows.subjects) + 1) + cc
    ukeys, counts = np.unique(key, return_counts=True)
    if (counts > 1).any():
        where = np.nonzero(key == ukeys[np.argmax(counts > 1)])[0]
        second = int(np.sort(order[where])[1])
        raise table.error_at(
            second,
            f"candidate {rows.subjects[cc[where[0]]]!r} appears more than once in the list of "
            f"probe {rows.probes[pcs[where[0]]]!r}; a candidate list names each enrolled subject "
            "at most once.",
        )
    n_probes, length = len(rows.probes), int(rk.max())
    cand = np.full((n_probes, length), -1, dtype=np.int64)
    scores = np.full((n_probes, length), -np.inf)
    cand[pcs, rk - 1] = cc
    scores[pcs, rk - 1] = sc
    return CandidateLists(
        np.asarray(rows.probes, dtype=str), cand, scores, np.asarray(rows.subjects, dtype=str)
    )


def read_truth(path: PathLike) -> ProbeTruth:
    """Read a truth table ``probe, subject`` (optional ``group``, ``person``); an empty subject
    marks a non-mated search."""
    return _read_truth(open_table(path))


def _read_truth(table: Table) -> ProbeTruth:
    wanted = {c: c for c in ("probe", "subject", "group", "person")}
    present = require_columns(
        table,
        wanted,
        ["probe", "subject"],
        advice="a truth table has the columns probe, subject (empty for a non-mated search).",
    )
    columns, n = read_whole(table, list(present.values()))
    if n == 0:
        raise table.header_error("has no rows; give one row per probe (search).")
    values = {name: text_values(table, col, name) for name, col in columns.items()}
    probes = values["probe"]
    empty = first_empty(probes)
    if empty is not None:
        raise table.error_at(empty, "probe is empty; every row needs a probe id.")
    repeat = _first_repeat(probes)
    if repeat is not None:
        first, second = repeat
        raise table.error_at(
            second,
            f"probe {str(probes[second])!r} appears more than once in the truth table (first at "
            f"{table.where(first)}); give one subject per probe.",
        )
    as_str = {k: v.astype(str) for k, v in values.items()}
    return ProbeTruth(as_str["probe"], as_str["subject"], as_str.get("group"), as_str.get("person"))


def read_gallery_subjects(path: PathLike) -> np.ndarray:
    """Read the enrolled subject ids: text (one per line) or CSV/Parquet with ``subject``."""
    p = check_file(path)
    if table_suffix(p) in (".csv", ".tsv", *PARQUET_SUFFIXES):
        table = open_table(path)
        require_columns(
            table, {"subject": "subject"}, ["subject"], advice="list one enrolled subject per row."
        )
        columns, _ = read_whole(table, ["subject"])
        subjects = text_values(table, columns["subject"], "subject")
        empty = first_empty(subjects)
        if empty is not None:
            raise table.error_at(empty, "subject is empty; every row names an enrolled subject.")
        where = table.where
    else:
        subjects, record = id_lines(p, path)

        def where(i: int) -> str:
            return f"line {line_number(p, int(record[i]))}"

    if len(subjects) == 0:
        raise InputError("the gallery subject list is empty.", path=path)
    subjects = subjects.astype(str)
    repeat = _first_repeat(subjects)
    if repeat is not None:
        first, second = repeat
        raise InputError(
            f"subject {str(subjects[first])!r} is listed twice ({where(first)} and "
            f"{where(second)}); a gallery enrols each subject once.",
            path=path,
        )
    return subjects


def _first_repeat(values: np.ndarray) -> tuple[int, int] | None:
    """``(first, second)``: the earliest row repeating an earlier value, and that earlier row."""
    order = np.argsort(values, kind="stable")
    same = np.flatnonzero(values[order][1:] == values[order][:-1])
    if not same.size:
        return None
    second = int(order[same + 1].min())
    return int(np.argmax(values == values[second])), second


def load_candidate_search(
    candidates: PathLike,
    truth: PathLike,
    *,
    gallery: PathLike | None = None,
    gallery_size: int | None = None,
) -> CandidateSearch:
    """Read candidate lists, truth and gallery; cross-validate them; align lists to the truth.

    Parameters
    ----------
    candidates, truth : path-like
    gallery : path-like, optional
        Gallery subject list; its length is the gallery size.
    gallery_size : int, optional
        Number of enrolled subjects N (required when ``gallery`` is not given; must agree with it
        when both are).

    Returns
    -------
    CandidateSearch
        With ``warnings`` (counts): searches that returned no candidate; truth subjects missing
        from the gallery list.
    """
    rows, rank, score = _read_rows(candidates)
    lists = _lists(rows, rank, score)
    tr = read_truth(truth)
    gallery_subjects = None
    if gallery is not None:
        gallery_subjects = read_gallery_subjects(gallery)
        if gallery_size is not None and gallery_size != len(gallery_subjects):
            raise InputError(
                f"--gallery-size {gallery_size} disagrees with the gallery subject list, which "
                f"names {len(gallery_subjects)} subjects; give one or make them agree.",
                path=gallery,
            )
        gallery_size = len(gallery_subjects)
    if gallery_size is None:
        raise InputError(
            "the gallery size is unknown; pass --gallery-size N or a gallery subject list."
        )
    if gallery_size < 1:
        raise InputError(f"the gallery size must be >= 1, got {gallery_size}.")
    _cross_check(rows, lists, tr, truth, gallery, gallery_subjects, gallery_size)
    inputs = [
        InputFile(str(candidates), PendingDigest(candidates), int(rows.probe.shape[0])),
        InputFile(str(truth), PendingDigest(truth), len(tr.probes)),
    ]
    if gallery is not None:
        inputs.append(InputFile(str(gallery), PendingDigest(gallery), len(gallery_subjects)))
    return CandidateSearch(
        lists.align(tr.probes),
        tr,
        int(gallery_size),
        gallery_subjects,
        tuple(inputs),
        tuple(_warnings(lists, tr, gallery_subjects)),
    )


def _cross_check(rows, lists, tr, truth, gallery, gallery_subjects, gallery_size) -> None:
    known = set(tr.probes.tolist())
    unknown = [k for k, p in enumerate(lists.probes.tolist()) if p not in known]
    if unknown:
        more = f" ({len(unknown)} probes are missing)" if len(unknown) > 1 else ""
        raise rows.table.error_at(
            rows.first_row(rows.probe, unknown[0]),
            f"probe {str(lists.probes[unknown[0]])!r} is not in the truth table {truth}{more}; "
            "add it (empty subject for a non-mated search).",
        )
    if gallery_subjects is not None:
        enrolled = set(gallery_subjects.tolist())
        stray = [k for k, c in enumerate(lists.subjects.tolist()) if c not in enrolled]
        if stray:
            raise rows.table.error_at(
                rows.first_row(rows.candidate, stray[0]),
                f"candidate {str(lists.subjects[stray[0]])!r} is not in the gallery subject list "
                f"{gallery}; candidate lists can only name enrolled subjects.",
            )
    if len(lists.subjects) > gallery_size:
        raise InputError(
            f"the candidate lists name {len(lists.subjects)} distinct subjects but the gallery "
            f"size is {gallery_size}; the gallery size must count every enrolled subject.",
            path=rows.table.path,
        )


def _warnings(lists: CandidateLists, tr: ProbeTruth, gallery_subjects) -> list[str]:
    out = []
    n = len(tr.probes)
    returned = set(lists.probes.tolist())
    silent = [p for p in tr.probes.tolist() if p not in returned]
    if silent:
        ex = ", ".join(silent[:3])
        out.append(
            f"{len(silent)} of {n} searches of the truth table returned no candidate (no row in "
            f"the candidate lists; e.g. {ex}). They count as misses when mated and as correct "
            "rejections when non-mated: if the export dropped them rather than the system "
            "returning nothing, FPIR is understated."
        )
    if gallery_subjects is not None:
        enrolled = set(gallery_subjects.tolist())
        named = [s for s in tr.subjects.tolist() if s and s not in enrolled]
        if named:
            ex = ", ".join(sorted(set(named))[:3])
            out.append(
                f"{len(named)} of {n} probes of the truth table name a subject that is not in "
                f"the gallery subject list (e.g. {ex}); they are counted as non-mated searches. "
                "Check that the truth table and the gallery list use the same subject ids."
            )
    return out
