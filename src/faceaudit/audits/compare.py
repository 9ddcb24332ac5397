"""``audit_compare``: is system B really better than A? Paired, on the same people."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from faceaudit import params
from faceaudit.analyses.system_comparison import compare_systems
from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS
from faceaudit.audits.run import SILENT, Progress, Run
from faceaudit.audits.scores import outside_warnings
from faceaudit.data.orientation import to_similarity
from faceaudit.data.paired_scores import PairedScores
from faceaudit.stats.paired import ADJUSTMENTS

__all__ = ["audit_compare"]


def audit_compare(
    data: PairedScores,
    *,
    fmr_targets: Sequence[float] = DEFAULT_FMR_TARGETS,
    thresholds: Sequence[float] = (),
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    adjustment: str = "holm",
    title: str = "Paired comparison of systems",
    progress: Progress = SILENT,
) -> Run:
    """Compare two or more systems on the same comparisons, with paired subject-bootstrap intervals.

    Parameters
    ----------
    data : PairedScores
        From :func:`faceaudit.io.paired_scores.read_paired_scores` (or built in memory).
    fmr_targets : sequence of float
        Each system at its own threshold for each target; differences of FNMR there.
    thresholds : sequence of float
        Thresholds in the files' units, applied to every system (FMR and FNMR differences).
    bootstrap, confidence, seed
        Replicates of the one subject bootstrap shared by all systems (0: none), two-sided
        level, seed.
    adjustment : {"holm", "bh", "bonferroni", "none"}
        Multiple-comparison adjustment across the pairs of systems (more than two systems).
    title : str

    Returns
    -------
    Run
        ``run["compare"]`` (:class:`~faceaudit.analyses.system_comparison.SystemComparison`);
        ``run.write(folder)``.

    Examples
    --------
    >>> from faceaudit.io.paired_scores import read_paired_scores  # doctest: +SKIP
    >>> run = audit_compare(read_paired_scores(["a.csv", "b.csv"]))  # doctest: +SKIP
    >>> run["compare"].differences[0].paired.low  # doctest: +SKIP
    """
    fmr_targets = params.rate_targets("fmr_targets", fmr_targets)
    thresholds = params.thresholds("thresholds", thresholds)
    bootstrap = params.bootstrap_replicates("bootstrap", bootstrap)
    confidence = params.confidence_level("confidence", confidence)
    seed = params.seed_value("seed", seed)
    adjustment = params.choice("adjustment", adjustment, ADJUSTMENTS)
    with progress.bar(
        f"comparing {data.k} systems on {data.n:,} comparisons"
        + (f" ({bootstrap} shared bootstrap replicates)" if bootstrap else ""),
        "systems",
    ) as update:
        result = compare_systems(
            data,
            fmr_targets=fmr_targets,
            thresholds=[to_similarity(t, data.orientation) for t in thresholds],
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
            adjustment=adjustment,
            progress=update,
        )
    warnings = list(data.warnings) + list(result.warnings)
    for i, name in enumerate(data.names):
        s = data.scores[i]
        if np.isnan(s).all():
            continue
        lo, hi = float(np.nanmin(s)), float(np.nanmax(s))
        span = sorted((to_similarity(lo, data.orientation), to_similarity(hi, data.orientation)))
        warnings += [f"{name}: {w}" for w in outside_warnings(thresholds, *span)]
    return Run(
        title=title,
        analyses={"compare": result},
        inputs=tuple(data.inputs),
        settings={
            "orientation": data.orientation,
            "systems": list(data.names),
            "fmr_targets": list(fmr_targets),
            "thresholds": list(thresholds),
            "bootstrap": bootstrap,
            "confidence": confidence,
            "seed": seed,
            "adjustment": adjustment,
            "bootstrap_unit": result.bootstrap["unit"],
            "bootstrap_design": result.bootstrap["design"],
            "n_bootstrap_units": result.bootstrap["n_units"],
        },
        warnings=tuple(dict.fromkeys(warnings)),
    )
