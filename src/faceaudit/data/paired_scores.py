"""Several systems' scores on the same comparisons, or searches of the same probes (``compare``).

:class:`PairedScores` holds one score column per system over one shared list of comparisons:
row ``i`` is the same (probe, reference) comparison of the same people for every system. The
comparisons' mated flags and subject codes are shared; a missing score (``NaN``) is that
system's failure to acquire on that comparison. Scores are similarity-oriented (higher = more
similar, a match when ``score >= threshold``), like :class:`~faceaudit.data.ComparisonScores`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from faceaudit.data.candidates import CandidateSearch
from faceaudit.data.inputs import InputFile
from faceaudit.data.scores import ComparisonScores

__all__ = ["Coverage", "PairedScores", "PairedSearches", "SystemCoverage"]


@dataclass(frozen=True)
class SystemCoverage:
    """One system's comparisons as read: ``rows`` in its file, ``only_here`` not in the
    others' (left out of the comparison when ``restricted``)."""

    name: str
    rows: int
    only_here: int

    def to_json(self) -> dict:
        return {"name": self.name, "rows": self.rows, "only_this_system": self.only_here}


@dataclass(frozen=True)
class Coverage:
    """Which comparisons the systems share.

    ``join``: ``"probe and reference ids"`` (rows matched on the (probe, reference) pair) or
    ``"row order"`` (row ``i`` of every file is the same comparison; mated flags and subjects
    checked equal). ``common``: comparisons present for every system (the compared set).
    ``restricted``: some system had comparisons the others lack, and they were left out.
    """

    join: str
    common: int
    common_mated: int
    common_nonmated: int
    systems: tuple[SystemCoverage, ...]

    @property
    def restricted(self) -> bool:
        return any(s.only_here for s in self.systems)

    def to_json(self) -> dict:
        return {
            "join": self.join,
            "common": self.common,
            "common_mated": self.common_mated,
            "common_nonmated": self.common_nonmated,
            "restricted_to_common": self.restricted,
            "systems": [s.to_json() for s in self.systems],
        }


@dataclass(frozen=True, eq=False)
class PairedScores:
    """Scores of ``k >= 2`` systems on the same comparisons.

    Attributes
    ----------
    names : tuple of str
        One distinct name per system.
    scores : tuple of ndarray
        Per system, float64 of shape ``(n,)``, similarity-oriented; ``NaN`` = no score (failure
        to acquire).
    mated : ndarray of bool, shape (n,)
    probe_subject, reference_subject : int32 ndarray or None
        Codes into ``subjects`` (shared by all systems, so one subject bootstrap serves all).
    subjects : list of str
        Code -> subject id, sorted.
    orientation : str
        What the files used (``"similarity"`` or ``"distance"``).
    coverage : Coverage
    inputs : list of InputFile
    warnings : list of str
    folds : int ndarray or None
        A standard protocol's fold of each comparison (LFW View 2: 1..10), for the benchmark's
        own convention (cross-validated accuracy) beside the paired intervals.
    protocol : str
        The protocol's name ("" for score tables).
    """

    names: tuple[str, ...]
    scores: tuple[np.ndarray, ...]
    mated: np.ndarray
    probe_subject: np.ndarray | None
    reference_subject: np.ndarray | None
    subjects: list[str]
    orientation: str
    coverage: Coverage
    inputs: list[InputFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    folds: np.ndarray | None = None
    protocol: str = ""

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def n(self) -> int:
        return int(self.mated.shape[0])

    def system(self, i: int) -> ComparisonScores:
        """System ``i`` as the 1:1 engine takes it (scored comparisons; FTA counted apart).

        Subject codes are the shared ones, so a :class:`~faceaudit.stats.bootstrap.Resampler`
        over ``len(subjects)`` units draws the same people for every system.
        """
        s = self.scores[i]
        ok = ~np.isnan(s)
        g, im = self.mated & ok, ~self.mated & ok
        ps, rs = self.probe_subject, self.reference_subject

        def take(codes, mask):
            return None if codes is None else codes[mask]

        gen_subj = take(ps if ps is not None else rs, g)
        return ComparisonScores(
            mated=s[g],
            nonmated=s[im],
            mated_subject=gen_subj,
            nonmated_subject=take(ps, im),
            nonmated_reference_subject=take(rs, im),
            subjects=list(self.subjects),
            mated_fta=int(np.count_nonzero(self.mated & ~ok)),
            nonmated_fta=int(np.count_nonzero(~self.mated & ~ok)),
            orientation=self.orientation,
        )


@dataclass(frozen=True, eq=False)
class PairedSearches:
    """Several systems' 1:N candidate lists for the same probes (one truth table, one gallery).

    ``searches[i]`` is system ``i``'s :class:`~faceaudit.data.CandidateSearch`, its lists aligned
    with the shared truth's probes (so search ``j`` is the same probe for every system).
    """

    names: tuple[str, ...]
    searches: tuple[CandidateSearch, ...]
    inputs: list[InputFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def n(self) -> int:
        return int(self.searches[0].truth.probes.size)
