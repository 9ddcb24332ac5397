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
    genuine, impostor : numpy.ndarray
        1-D, all finite, similarity-oriented (distance scores negated). float64, or the
        ``.npy`` file's own float32/float64 memory map (never copied) for :func:`read_npy`.
    genuine_subject : numpy.ndarray or None
        int32 codes into :attr:`subjects`: the subject of each genuine comparison. A table
        with only one of the two subject columns fills the arrays it can: ``genuine_subject``
        and ``impostor_subject`` from ``probe_subject``, or ``genuine_subject`` and
        ``impostor_reference_subject`` from ``reference_subject``.
    impostor_subject : numpy.ndarray or None
        int32 codes: the **probe** subject of each impostor comparison.
    impostor_reference_subject : numpy.ndarray or None
        int32 codes: the reference subject of each impostor comparison.
    subjects : list of str
        Code -> subject id, sorted (so codes do not depend on row order or chunking); every
        listed subject occurs in the file, possibly only in rows without a score. Empty when
        the input has no subject ids.
    genuine_fta, impostor_fta : int
        Genuine / impostor comparisons whose score is missing (failures to acquire).
    orientation : str
        ``"similarity"`` or ``"distance"``: what the *file* used. The arrays are always
        similarity-oriented; negate thresholds to report them in a distance file's units.
    inputs : list of InputFile
        The files read, with checksums.
    warnings : list of str
        Data-quality findings of the reader, with counts (self-comparisons, duplicates, ...):
        they go into results.json ``warnings``.
    """

    genuine: np.ndarray
    impostor: np.ndarray
    genuine_subject: np.ndarray | None
    impostor_subject: np.ndarray | None
    impostor_reference_subject: np.ndarray | None
    subjects: list[str]
    genuine_fta: int = 0
    impostor_fta: int = 0
    orientation: str = "similarity"
    inputs: list[InputFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
