"""1:1 comparison scores, as the engine takes them (similarity-oriented)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from faceaudit.data.inputs import InputFile

__all__ = ["ComparisonScores"]


@dataclass
class ComparisonScores:
    """Scores of one 1:1 experiment, oriented so that higher = more similar.

    Attributes
    ----------
    mated, non-mated : numpy.ndarray
        1-D, all finite, similarity-oriented (distance scores negated). float64, or the
        ``.npy`` file's own float32/float64 memory map (never copied) for :func:`read_npy`.
    mated_subject : numpy.ndarray or None
        int32 codes into :attr:`subjects`: the subject of each mated comparison. A table
        with only one of the two subject columns fills the arrays it can: ``mated_subject``
        and ``nonmated_subject`` from ``probe_subject``, or ``mated_subject`` and
        ``nonmated_reference_subject`` from ``reference_subject``.
    nonmated_subject : numpy.ndarray or None
        int32 codes: the **probe** subject of each non-mated comparison.
    nonmated_reference_subject : numpy.ndarray or None
        int32 codes: the reference subject of each non-mated comparison.
    subjects : list of str
        Code -> subject id, sorted (so codes do not depend on row order or chunking); every
        listed subject occurs in the file, possibly only in rows without a score. Empty when
        the input has no subject ids.
    mated_fta, nonmated_fta : int
        Mated / non-mated comparisons whose score is missing (failures to acquire).
    orientation : str
        ``"similarity"`` or ``"distance"``: what the *file* used. The arrays are always
        similarity-oriented; negate thresholds to report them in a distance file's units.
    inputs : list of InputFile
        The files read, with checksums.
    warnings : list of str
        Data-quality findings of the reader, with counts (self-comparisons, duplicates, ...):
        they go into results.json ``warnings``.
    """

    mated: np.ndarray
    nonmated: np.ndarray
    mated_subject: np.ndarray | None
    nonmated_subject: np.ndarray | None
    nonmated_reference_subject: np.ndarray | None
    subjects: list[str]
    mated_fta: int = 0
    nonmated_fta: int = 0
    orientation: str = "similarity"
    inputs: list[InputFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
