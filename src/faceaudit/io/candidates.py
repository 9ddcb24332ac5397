"""1:N candidate lists as NIST FRTE collects them, with the probes' ground truth.

Files
-----
Candidate lists (CSV or Parquet)
    Columns ``probe, rank, candidate, score``: for each search (``probe``), the enrolled subjects
    returned (``candidate``) at ranks 1, 2, ... with their scores (higher = more similar). A list
    may be shorter than others (a system that only returns candidates above its own threshold); a
    probe with no row returned no candidate.
Truth table (CSV or Parquet)
    Columns ``probe, subject`` (optional ``group``, ``person``): the subject photographed in each
    probe. An empty ``subject`` marks a non-mated search (the person is not enrolled). A subject
    that is not in the gallery subject list also makes the search non-mated. ``person``, when
    given, identifies the person even in non-mated searches: the bootstrap then resamples a
    person's searches together (otherwise each non-mated search without a subject is its own
    unit).
Gallery subject list (optional)
    One enrolled subject id per line (text), or a CSV/Parquet with a ``subject`` column. When only
    the gallery size is known, pass ``gallery_size`` instead.

Validation (each failure raises :class:`~faceaudit.errors.InputError` naming the file, the line
(CSV: the line as an editor numbers it, header = line 1) or row (Parquet, 1-based) and the
problem): required columns present; probe and candidate ids non-empty; ranks are integers
contiguous from 1 within each probe, with no rank repeated; scores are finite numbers,
non-increasing with rank; a candidate appears at most once per list; every probe of the candidate
lists is in the truth table; a truth probe appears once; candidates are enrolled subjects (when a
gallery list is given); the gallery size is at least the number of distinct candidates.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from faceaudit.data.candidates import CandidateLists, CandidateSearch, ProbeTruth
from faceaudit.data.inputs import InputFile
from faceaudit.errors import InputError
from faceaudit.io._checks import PendingDigest

if TYPE_CHECKING:  # pandas is imported where used: the embedding path never needs it
    import pandas as pd

__all__ = [
    "CandidateLists",
    "ProbeTruth",
    "CandidateSearch",
    "read_candidates",
    "read_truth",
    "read_gallery_subjects",
    "load_candidate_search",
]


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in {".parquet", ".pq"}


def _where(path: Path, i: int) -> dict:
    """Location kwargs of data row ``i`` (0-based) for InputError."""
    if _is_parquet(path):
        return {"path": path, "record": f"row {i + 1}"}
    return {"path": path, "line": i + 2}


def _read_table(path: Path, required: list[str], what: str) -> pd.DataFrame:
    import pandas as pd

    if not path.is_file():
        raise InputError("no such file; check the path.", path=path)
    try:
        if _is_parquet(path):
            df = pd.read_parquet(path)
            df = df.astype({c: str for c in df.columns if df[c].dtype == object})
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"cannot be read as a {what} table ({exc}).", path=path) from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(
            f"the {what} lacks the column(s) {missing} (it has {list(df.columns)}); expected "
            f"columns {required}.",
            path=path,
        )
    return df


def _ids(df: pd.DataFrame, col: str, path: Path, *, allow_empty: bool = False) -> np.ndarray:
    s = df[col]
    if s.isna().any():
        i = int(np.argmax(s.isna().to_numpy()))
        if not allow_empty:
            raise InputError(f"'{col}' is empty.", **_where(path, i))
        s = s.fillna("")
    vals = s.astype(str).str.strip().to_numpy().astype(str)
    if not allow_empty:
        empty = np.char.str_len(vals) == 0
        if empty.any():
            raise InputError(f"'{col}' is empty.", **_where(path, int(np.argmax(empty))))
    return vals


def _numbers(df: pd.DataFrame, col: str, path: Path) -> np.ndarray:
    import pandas as pd

    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(num)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"'{col}' value {raw.iloc[i]!r} is not a finite number.", **_where(path, i)
        )
    return num


def read_candidates(path: str | os.PathLike[str]) -> CandidateLists:
    """Read and validate a candidate-list file (see the module docstring).

    Returns
    -------
    CandidateLists
        One row per distinct probe, in order of first appearance.
    """
    import pandas as pd

    path = Path(path)
    df = _read_table(path, ["probe", "rank", "candidate", "score"], "candidate-list")
    probes = _ids(df, "probe", path)
    cands = _ids(df, "candidate", path)
    rank = _numbers(df, "rank", path)
    nonint = (rank != np.round(rank)) | (rank < 1)
    if nonint.any():
        i = int(np.argmax(nonint))
        raise InputError(
            f"rank {df['rank'].iloc[i]!r} is not a whole number >= 1.", **_where(path, i)
        )
    rank = rank.astype(np.int64)
    score = _numbers(df, "score", path)
    n_rows = len(df)
    if n_rows == 0:
        raise InputError("the candidate-list file has no rows.", path=path)

    pcode, puniq = pd.factorize(probes)
    order = np.lexsort((rank, pcode))
    pc, rk, sc = pcode[order], rank[order], score[order]
    start = np.ones(n_rows, dtype=bool)
    start[1:] = pc[1:] != pc[:-1]
    group_start = np.maximum.accumulate(np.where(start, np.arange(n_rows), 0))
    pos = np.arange(n_rows) - group_start
    wrong = rk != pos + 1
    if wrong.any():
        j = int(np.argmax(wrong))
        row = int(order[j])
        probe = puniq[pc[j]]
        if j > 0 and not start[j] and rk[j] == rk[j - 1]:
            other = int(order[j - 1])
            first, second = sorted((row, other))
            loc = "line" if not _is_parquet(path) else "row"
            off = 2 if loc == "line" else 1
            raise InputError(
                f"probe {str(probe)!r} has rank {rk[j]} twice (also at {loc} {first + off}); "
                "each rank holds one candidate.",
                **_where(path, second),
            )
        raise InputError(
            f"probe {str(probe)!r}: rank {rk[j]} follows rank {pos[j]} (ranks must run 1, 2, 3, "
            f"... without gaps; rank {pos[j] + 1} is missing).",
            **_where(path, row),
        )
    rising = np.zeros(n_rows, dtype=bool)
    rising[1:] = (~start[1:]) & (sc[1:] > sc[:-1])
    if rising.any():
        j = int(np.argmax(rising))
        raise InputError(
            f"probe {str(puniq[pc[j]])!r}: the score {sc[j]:g} at rank {rk[j]} is higher than "
            f"{sc[j - 1]:g} at rank {rk[j - 1]}; scores must not increase with rank (higher score "
            "= more similar, rank 1 = best).",
            **_where(path, int(order[j])),
        )
    ccode, cuniq = pd.factorize(cands)
    cc = ccode[order]
    # a candidate at most once per list
    key = pc.astype(np.int64) * (len(cuniq) + 1) + cc
    ukeys, counts = np.unique(key, return_counts=True)
    if (counts > 1).any():
        where = np.nonzero(key == ukeys[np.argmax(counts > 1)])[0]
        rows = np.sort(order[where])
        raise InputError(
            f"candidate {str(cuniq[cc[where[0]]])!r} appears more than once in the list of "
            f"probe {str(puniq[pc[where[0]]])!r}; a candidate list names each enrolled subject "
            "at most once.",
            **_where(path, int(rows[1])),
        )
    n_probes = len(puniq)
    L = int(rk.max())
    cand = np.full((n_probes, L), -1, dtype=np.int64)
    scores = np.full((n_probes, L), -np.inf)
    cand[pc, rk - 1] = cc
    scores[pc, rk - 1] = sc
    return CandidateLists(
        np.asarray(puniq).astype(str), cand, scores, np.asarray(cuniq).astype(str)
    )


def read_truth(path: str | os.PathLike[str]) -> ProbeTruth:
    """Read a truth table ``probe, subject`` (optional ``group``); empty subject = non-mated."""
    path = Path(path)
    df = _read_table(path, ["probe", "subject"], "truth")
    if len(df) == 0:
        raise InputError("the truth table has no rows.", path=path)
    probes = _ids(df, "probe", path)
    subjects = _ids(df, "subject", path, allow_empty=True)
    uniq, counts = np.unique(probes, return_counts=True)
    if (counts > 1).any():
        dup = uniq[np.argmax(counts > 1)]
        rows = np.nonzero(probes == dup)[0]
        raise InputError(
            f"probe {str(dup)!r} appears more than once in the truth table (first at "
            f"{'line' if not _is_parquet(path) else 'row'} "
            f"{rows[0] + (1 if _is_parquet(path) else 2)}); give one subject per probe.",
            **_where(path, int(rows[1])),
        )
    groups = _ids(df, "group", path, allow_empty=True) if "group" in df.columns else None
    persons = _ids(df, "person", path, allow_empty=True) if "person" in df.columns else None
    return ProbeTruth(probes, subjects, groups, persons)


def read_gallery_subjects(path: str | os.PathLike[str]) -> np.ndarray:
    """Read the enrolled subject ids: text (one per line) or CSV/Parquet with ``subject``."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file; check the path.", path=path)
    suffix = path.suffix.lower()
    if suffix in {".csv", ".parquet", ".pq"}:
        df = _read_table(path, ["subject"], "gallery subject list")
        subjects = _ids(df, "subject", path)
        line_of = np.arange(len(subjects)) + (1 if _is_parquet(path) else 2)
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError) as exc:
            raise InputError(f"cannot be read as UTF-8 text ({exc}).", path=path) from None
        lines = [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines())]
        lines = [(i, s) for i, s in lines if s and not s.startswith("#")]
        subjects = np.array([s for _, s in lines], dtype=str)
        line_of = np.array([i for i, _ in lines], dtype=np.int64)
    if len(subjects) == 0:
        raise InputError("the gallery subject list is empty.", path=path)
    uniq, counts = np.unique(subjects, return_counts=True)
    if (counts > 1).any():
        dup = uniq[np.argmax(counts > 1)]
        lines_dup = line_of[subjects == dup]
        raise InputError(
            f"subject {str(dup)!r} is listed twice (lines/rows {lines_dup[0]} and {lines_dup[1]}); "
            "a gallery enrols each subject once.",
            path=path,
        )
    return subjects


def load_candidate_search(
    candidates: str | os.PathLike[str],
    truth: str | os.PathLike[str],
    *,
    gallery: str | os.PathLike[str] | None = None,
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
    """
    cpath, tpath = Path(candidates), Path(truth)
    lists = read_candidates(cpath)
    tr = read_truth(tpath)
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
    # every probe of the lists is in the truth table
    known = set(tr.probes.tolist())
    unknown = [p for p in lists.probes.tolist() if p not in known]
    if unknown:
        df = _read_table(cpath, ["probe"], "candidate-list")
        first_row = int(np.argmax(df["probe"].astype(str).str.strip().to_numpy() == unknown[0]))
        raise InputError(
            f"probe {str(unknown[0])!r} is not in the truth table {tpath}"
            + (f" ({len(unknown)} probes are missing)" if len(unknown) > 1 else "")
            + "; add it (empty subject for a non-mated search).",
            **_where(cpath, first_row),
        )
    if gallery_subjects is not None:
        enrolled = set(gallery_subjects.tolist())
        stray = [c for c in lists.subjects.tolist() if c not in enrolled]
        if stray:
            df = _read_table(cpath, ["candidate"], "candidate-list")
            first_row = int(
                np.argmax(df["candidate"].astype(str).str.strip().to_numpy() == stray[0])
            )
            raise InputError(
                f"candidate {str(stray[0])!r} is not in the gallery subject list {gallery}; "
                "candidate lists can only name enrolled subjects.",
                **_where(cpath, first_row),
            )
    if len(lists.subjects) > gallery_size:
        raise InputError(
            f"the candidate lists name {len(lists.subjects)} distinct subjects but the gallery "
            f"size is {gallery_size}; the gallery size must count every enrolled subject.",
            path=cpath,
        )
    inputs = [
        InputFile(str(cpath), PendingDigest(cpath), int((lists.candidates >= 0).sum())),
        InputFile(str(tpath), PendingDigest(tpath), len(tr.probes)),
    ]
    if gallery is not None:
        inputs.append(InputFile(str(Path(gallery)), PendingDigest(gallery), len(gallery_subjects)))
    return CandidateSearch(
        lists.align(tr.probes), tr, int(gallery_size), gallery_subjects, tuple(inputs)
    )
