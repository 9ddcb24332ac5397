"""``audit_scores``: the 1:1 audit of comparison scores (and who bears its errors)."""

from __future__ import annotations

from collections.abc import Sequence

from faceaudit import params
from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS, verify
from faceaudit.audits.groups import GroupBy
from faceaudit.audits.run import SILENT, Progress, Run
from faceaudit.data import ComparisonScores
from faceaudit.data.orientation import to_file_units, to_similarity

__all__ = ["audit_scores"]


def audit_scores(
    scores: ComparisonScores,
    *,
    fmr_targets: Sequence[float] = DEFAULT_FMR_TARGETS,
    thresholds: Sequence[float] = (),
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    demographics: GroupBy | None = None,
    title: str = "1:1 verification audit",
    progress: Progress = SILENT,
) -> Run:
    """1:1 audit: FMR, FNMR, DET, EER and FNMR at FMR targets with confidence intervals.

        Parameters
        ----------
        scores : ComparisonScores
            From :func:`faceaudit.io.scores.load_scores` (or built in memory).
        fmr_targets : sequence of float
            For each, the threshold with the lowest FNMR at FMR <= target (ISO/IEC 19795-1).
        thresholds : sequence of float
            Also report FMR and FNMR at these thresholds, in the scores' own units.
        bootstrap, confidence, seed
            Subject-bootstrap replicates (0: none), two-sided level, seed.
        demographics : GroupBy, optional
            Per-group FMR/FNMR at one global threshold (NIST IR 8280).
        title : str

        Returns
        -------
        Run
            ``run["verification"]`` (and ``run["demographics"]``); ``run.write(folder)``.

        Examples
        --------
        >>> import numpy as np
        >>> from faceaudit.data import ComparisonScores
    from faceaudit.data.orientation import to_file_units, to_similarity
        >>> s = ComparisonScores(np.array([0.9, 0.8, 0.7]), np.array([0.1, 0.2, 0.75]), None, None,
        ...                      None, [])
        >>> run = audit_scores(s, fmr_targets=[0.5], bootstrap=0)
        >>> run["verification"].operating_points[0].fnmr.count
        0
    """
    fmr_targets = params.rate_targets("fmr_targets", fmr_targets)
    thresholds = params.thresholds("thresholds", thresholds)
    bootstrap = params.bootstrap_replicates("bootstrap", bootstrap)
    confidence = params.confidence_level("confidence", confidence)
    seed = params.seed_value("seed", seed)
    with progress.stage(
        f"computing rates ({len(scores.mated):,} mated, {len(scores.nonmated):,} non-mated"
        + (f", {bootstrap} bootstrap replicates)" if bootstrap else ")")
    ):
        result = verify(
            scores,
            fmr_targets=fmr_targets,
            thresholds=[to_similarity(t, scores.orientation) for t in thresholds],
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
        )
    run = Run(
        title=title,
        analyses={"verification": result},
        inputs=tuple(scores.inputs),
        settings={
            "orientation": scores.orientation,
            "fmr_targets": list(fmr_targets),
            "bootstrap": bootstrap,
            "confidence": confidence,
            "seed": seed,
            "bootstrap_unit": result.bootstrap.unit,
            "bootstrap_design": result.bootstrap.design,
            "n_bootstrap_units": result.bootstrap.n_units,
        },
        warnings=(
            *scores.warnings,
            *result.warnings,
            *score_warnings(result, thresholds, scores.orientation),
        ),
    )
    if demographics is not None:
        run = verification_groups(run, scores, demographics, progress=progress)
    return run


def verification_groups(
    run: Run, scores: ComparisonScores, spec: GroupBy, *, progress: Progress = SILENT
) -> Run:
    """``run`` with the 1:1 demographic differentials of ``scores`` added (``demographics``)."""
    from faceaudit.analyses.demographics import (
        DEFAULT_FMR_TARGET,
        ThresholdRule,
        verification_differentials,
    )

    s = run.settings
    rule = ThresholdRule.parse(spec.threshold_from, default_target=DEFAULT_FMR_TARGET)
    with progress.stage(f"demographic differentials by {','.join(spec.by)}"):
        groups = spec.metadata.groups(spec.by, scores.subjects)
        demo = verification_differentials(
            scores,
            groups,
            threshold=rule.in_similarity(scores.orientation),
            bootstrap=s["bootstrap"],
            confidence=s["confidence"],
            seed=s["seed"],
            verification=run["verification"],
        )
    return run.with_analysis(
        demo.results_key,
        demo,
        inputs=() if demo.metadata is None else (demo.metadata,),
        settings=spec.settings(demo),
        warnings=demo.warnings,
    )


def score_warnings(result, thresholds, orientation: str) -> list[str]:
    """Warnings about the scores' direction and thresholds no score reaches."""
    out = []
    if result.auc < 0.5:
        other = "similarity" if orientation == "distance" else "distance"
        out.append(
            f"Mated comparisons score LOWER than non-mated ones on the whole (AUC "
            f"{result.auc:.3f} < 0.5): the scores look inverted. If that is how this file's "
            f"scores point, rerun with orientation {other!r} (command line: --{other})."
        )
    lo, hi = float(result.histogram_edges[0]), float(result.histogram_edges[-1])
    span = sorted((to_file_units(lo, orientation), to_file_units(hi, orientation)))
    out += outside_warnings(thresholds, *span)
    return out


def outside_warnings(thresholds, lo: float, hi: float) -> list[str]:
    """A warning for each threshold outside the observed scores ``[lo, hi]`` (same units)."""
    return [
        f"The threshold {t:g} lies outside every observed score ({lo:g} to {hi:g}): at it every "
        "comparison matches or none does. Check its units."
        for t in thresholds
        if not lo <= t <= hi
    ]
