"""1:N candidate lists and the probes' ground truth (the black-box view of a search)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from faceaudit.data.inputs import InputFile

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CandidateLists", "CandidateSearch", "ProbeTruth"]


@dataclass(frozen=True)
class CandidateLists:
    """Subject-level top-L candidate lists of a set of 1:N searches.

    Attributes
    ----------
    probes : ndarray of str, shape (n,)
        One id per search.
    candidates : ndarray of int64, shape (n, L)
        Code of the candidate subject at each rank (column ``r - 1`` is rank ``r``) into
        ``subjects``; ``-1`` where the list has no candidate at that rank.
    scores : ndarray of float64, shape (n, L)
        Candidate scores, non-increasing along each row; ``-inf`` where there is no candidate.
    subjects : ndarray of str
        Table of candidate subject ids.
    """

    probes: np.ndarray
    candidates: np.ndarray
    scores: np.ndarray
    subjects: np.ndarray

    @property
    def n(self) -> int:
        return int(self.probes.shape[0])

    @property
    def list_length(self) -> int:
        return int(self.candidates.shape[1])

    def candidate_ids(self) -> np.ndarray:
        """Candidate subject ids as strings (``""`` where there is no candidate)."""
        table = np.append(self.subjects.astype(str), "")
        return table[self.candidates]

    def to_frame(self) -> pd.DataFrame:
        """Long table ``probe, rank, candidate, score`` (the candidate-list file format)."""
        import pandas as pd

        has = self.candidates >= 0
        rows, cols = np.nonzero(has)
        return pd.DataFrame(
            {
                "probe": self.probes[rows],
                "rank": cols + 1,
                "candidate": self.subjects[self.candidates[rows, cols]],
                "score": self.scores[rows, cols],
            }
        )

    def align(self, probes: np.ndarray) -> CandidateLists:
        """Lists in the order of ``probes``; a probe without a list gets an empty one."""
        pos = {p: i for i, p in enumerate(self.probes)}
        idx = np.array([pos.get(p, -1) for p in probes], dtype=np.int64)
        L = self.list_length
        cand = np.full((len(probes), L), -1, dtype=np.int64)
        sc = np.full((len(probes), L), -np.inf)
        hit = idx >= 0
        cand[hit] = self.candidates[idx[hit]]
        sc[hit] = self.scores[idx[hit]]
        return CandidateLists(np.asarray(probes).astype(str), cand, sc, self.subjects)


@dataclass(frozen=True)
class ProbeTruth:
    """Ground truth of the searches: the subject in each probe (``""`` = not enrolled).

    ``persons`` (optional) names the person in each probe even when not enrolled; it only serves
    as the bootstrap unit (searches of one person are resampled together).
    """

    probes: np.ndarray
    subjects: np.ndarray
    groups: np.ndarray | None = None
    persons: np.ndarray | None = None


@dataclass(frozen=True)
class CandidateSearch:
    """Validated candidate lists aligned with their truth table and gallery.

    ``lists`` rows follow ``truth.probes``. ``gallery_subjects`` is None when only the size is
    known. ``inputs`` are the files read (candidate lists, truth, gallery list), with checksums
    and their number of data records. ``warnings`` are the reader's data-quality findings,
    with counts.
    """

    lists: CandidateLists
    truth: ProbeTruth
    gallery_size: int
    gallery_subjects: np.ndarray | None
    inputs: tuple[InputFile, ...] = ()
    warnings: tuple[str, ...] = ()
