"""1:1 demographic differentials on streamed comparisons (see :mod:`faceaudit.scaleout`).

:func:`faceaudit.analyses.demographics.verification_differentials` with the score sets of
:class:`~faceaudit.compare.stream.StreamedComparisons`: the per-group counting pass streams the
non-mated comparisons through the score set's view (blocks recomputed in order), so nothing is
materialised. ``StreamedComparisons.group_tables`` makes the same tables in one accumulator
pass; the analysis takes them once it accepts a comparisons source (``docs/scale-out.md``).
"""

from __future__ import annotations

import math

from faceaudit.analyses import demographics as _d
from faceaudit.analyses.verification import VerificationResult
from faceaudit.compare.stream import StreamedComparisons
from faceaudit.data import SubjectGroups
from faceaudit.errors import InputError

__all__ = ["verification_differentials_streamed"]


def verification_differentials_streamed(
    comps: StreamedComparisons,
    groups: SubjectGroups,
    *,
    threshold="all",
    fmr_target: float = _d.DEFAULT_FMR_TARGET,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    garbe_alpha: float = _d.DEFAULT_GARBE_ALPHA,
    verification: VerificationResult | None = None,
) -> _d.DemographicsResult:
    """Parameters and result as for ``verification_differentials`` (``groups`` built for
    ``comps.subjects``)."""
    if groups.group_of_subject.size != comps.n_units:
        raise ValueError("groups were not built for these comparisons' subjects")
    rule = _d.ThresholdRule.parse(threshold, default_target=fmr_target)
    if rule.kind == "group":
        raise InputError(
            "on streamed comparisons the demographic threshold is fixed on the whole data set "
            "(--threshold-from all or all@TARGET) or given (value=T); a group's own threshold "
            "needs the group's comparisons apart, which this audit does not keep."
        )
    reused = None
    if verification is not None and rule.kind == "all":
        for op in verification.operating_points:
            if (
                op.fmr_target is not None
                and op.supported
                and op.threshold is not None
                and math.isclose(op.fmr_target, rule.target, rel_tol=1e-12)
            ):
                reused = op.threshold
                break
    genuine, impostor, _ = comps.score_sets()
    extra = []
    if comps.genuine_fta or comps.impostor_fta:
        extra.append(
            f"{comps.genuine_fta + comps.impostor_fta} comparisons without a score (failures to "
            "acquire) are not part of the per-group rates."
        )
    return _d._run(
        vocab=_d._VERIFY,
        negatives=impostor,
        positives=genuine,
        negative_reference_units=comps.view("impostor", 2),
        groups=groups,
        group_of_unit=groups.group_of_subject,
        n_subjects=groups.n_subjects,
        rule=rule,
        orientation="similarity",
        reused_threshold=reused,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        garbe_alpha=garbe_alpha,
        extra_warnings=extra,
    )
