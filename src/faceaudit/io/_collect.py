"""Private: validated chunks of (score, mated, subjects) collected into ComparisonScores.

Every score reader (tables, bob, pyeer, histograms, .npy) ends here, so the checks that need the
whole experiment — at least one mated and one non-mated score, the orientation, the subject
codes' canonical order — and the data-quality warnings are written once.
"""

from __future__ import annotations

import os

import numpy as np

from faceaudit.data.inputs import InputFile
from faceaudit.data.scores import ComparisonScores
from faceaudit.errors import InputError
from faceaudit.io._checks import PendingDigest
from faceaudit.io._tabular import GrowableArray, SubjectCodes

__all__ = ["Accumulator", "check_nonempty", "input_file", "scores_only"]

PathLike = str | os.PathLike[str]


class Accumulator:
    """Collects validated chunks, split into mated and non-mated at once (bounded memory)."""

    def __init__(self, *, probe_subjects: bool, reference_subjects: bool) -> None:
        self.probe_subjects = probe_subjects
        self.reference_subjects = reference_subjects
        self.codes = SubjectCodes()
        self.gen = GrowableArray(np.float64)
        self.imp = GrowableArray(np.float64)
        has_subjects = probe_subjects or reference_subjects
        self.gen_subj = GrowableArray(np.int32) if has_subjects else None
        self.imp_subj = GrowableArray(np.int32) if probe_subjects else None
        self.imp_ref = GrowableArray(np.int32) if reference_subjects else None
        self.mated_fta = 0
        self.nonmated_fta = 0
        self.rows = 0
        self.warnings: list[str] = []

    def add(
        self,
        scores: np.ndarray,
        missing: np.ndarray | None,
        mated: np.ndarray,
        probe_codes: np.ndarray | None,
        reference_codes: np.ndarray | None,
    ) -> None:
        self.rows += scores.shape[0]
        if missing is None:
            g, i = mated, ~mated
        else:
            have = ~missing
            g, i = mated & have, ~mated & have
            n_missing = int(np.count_nonzero(missing))
            gen_missing = int(np.count_nonzero(missing & mated))
            self.mated_fta += gen_missing
            self.nonmated_fta += n_missing - gen_missing
        self.gen.extend_where(scores, g)
        self.imp.extend_where(scores, i)
        if self.gen_subj is not None:
            subj = probe_codes if probe_codes is not None else reference_codes
            self.gen_subj.extend_where(subj, g)
        if self.imp_subj is not None:
            self.imp_subj.extend_where(probe_codes, i)
        if self.imp_ref is not None:
            self.imp_ref.extend_where(reference_codes, i)

    def finish(
        self, *, path: PathLike, orientation: str, inputs: list[InputFile], what: str
    ) -> ComparisonScores:
        mated = self.gen.finish()
        nonmated = self.imp.finish()
        check_nonempty(mated, self.mated_fta, kind="mated", path=path, what=what)
        check_nonempty(nonmated, self.nonmated_fta, kind="nonmated", path=path, what=what)
        if orientation == "distance":
            np.negative(mated, out=mated)
            np.negative(nonmated, out=nonmated)
        subjects, remap = self.codes.canonical()

        def codes(parts: GrowableArray | None) -> np.ndarray | None:
            if parts is None:
                return None
            out = parts.finish()
            return np.take(remap, out, out=out, mode="clip")  # in place: element i -> i

        return ComparisonScores(
            mated=mated,
            nonmated=nonmated,
            mated_subject=codes(self.gen_subj),
            nonmated_subject=codes(self.imp_subj),
            nonmated_reference_subject=codes(self.imp_ref),
            subjects=subjects,
            mated_fta=self.mated_fta,
            nonmated_fta=self.nonmated_fta,
            orientation=orientation,
            inputs=inputs,
            warnings=list(self.warnings),
        )


def scores_only(
    mated: np.ndarray,
    nonmated: np.ndarray,
    *,
    orientation: str,
    inputs: list[InputFile],
    warnings: list[str] | None = None,
) -> ComparisonScores:
    """ComparisonScores without subject ids (pyeer files, histograms, .npy arrays)."""
    return ComparisonScores(
        mated=mated,
        nonmated=nonmated,
        mated_subject=None,
        nonmated_subject=None,
        nonmated_reference_subject=None,
        subjects=[],
        orientation=orientation,
        inputs=inputs,
        warnings=list(warnings or []),
    )


def check_nonempty(values: np.ndarray, fta: int, *, kind: str, path: PathLike, what: str) -> None:
    if values.shape[0]:
        return
    label = "mated" if kind == "mated" else "non-mated"
    if fta:
        raise InputError(
            f"all {fta} {label} comparisons have no score (failures to acquire); at least one "
            f"scored {label} comparison is needed to measure error rates.",
            path=path,
        )
    raise InputError(
        f"no {label} comparisons found {what}; error rates need both mated and non-mated "
        "comparisons, so check the mated flags or the subject ids.",
        path=path,
    )


def input_file(path: PathLike, records: int) -> InputFile:
    """The ``inputs`` entry of a file read: path as given, SHA-256 (in the background), records."""
    return InputFile(path=os.fspath(path), sha256=PendingDigest(path), records=records)
