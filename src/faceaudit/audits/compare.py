"""``audit_compare``: is system B really better than A? Paired, on the same people."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from faceaudit import params
from faceaudit.analyses.identification import DEFAULT_FPIR_TARGETS
from faceaudit.analyses.system_comparison import compare_systems
from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS
from faceaudit.audits.groups import GroupBy
from faceaudit.audits.run import SILENT, Progress, Run
from faceaudit.audits.scores import outside_warnings
from faceaudit.data.orientation import to_file_units, to_similarity
from faceaudit.data.paired_scores import PairedScores, PairedSearches
from faceaudit.stats.paired import ADJUSTMENTS

__all__ = ["audit_compare"]


def audit_compare(
    data: PairedScores | PairedSearches,
    *,
    fmr_targets: Sequence[float] = DEFAULT_FMR_TARGETS,
    fpir_targets: Sequence[float] = DEFAULT_FPIR_TARGETS,
    thresholds: Sequence[float] = (),
    rank: int | None = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    adjustment: str = "holm",
    title: str = "Paired comparison of systems",
    demographics: GroupBy | None = None,
    progress: Progress = SILENT,
) -> Run:
    """Compare two or more systems on the same comparisons, with paired subject-bootstrap intervals.

    Parameters
    ----------
    data : PairedScores or PairedSearches
        1:1 scores from :func:`faceaudit.io.paired_scores.read_paired_scores`, or 1:N candidate
        lists of the same probes from :func:`~faceaudit.io.paired_scores.read_paired_candidates`
        (or built in memory).
    fmr_targets : sequence of float
        1:1: each system at its own threshold for each target; differences of FNMR there.
    fpir_targets : sequence of float
        1:N: each system at its own threshold for each target; differences of FNIR there.
    thresholds : sequence of float
        Thresholds in the files' units, applied to every system (differences of FMR and FNMR,
        or of FPIR and FNIR, there).
    rank : int, optional
        1:N: rank criterion R of FNIR(N, R, T) (default: any returned rank).
    bootstrap, confidence, seed
        Replicates of the one subject bootstrap shared by all systems (0: none), two-sided
        level, seed.
    adjustment : {"holm", "bh", "bonferroni", "none"}
        Multiple-comparison adjustment across the pairs of systems (more than two systems).
    title : str
    demographics : GroupBy, optional
        Subject metadata and the attribute(s) to group by: every group's rates in every system
        and their paired changes (``run["compare"].demographics``), at each system's own
        threshold for ``demographics.threshold_from`` and at each of ``thresholds``, from the
        same shared subject bootstrap (subjects drawn within their group).

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
    if isinstance(data, PairedSearches):
        return _audit_searches(data, fpir_targets, thresholds, rank, bootstrap, confidence, seed,
                               adjustment, title, demographics, progress)  # fmt: skip
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
    extra_inputs, extra_settings = (), {}
    if demographics is not None:
        from faceaudit.analyses._system_comparison_groups import score_system_sets

        sim = [to_similarity(t, data.orientation) for t in thresholds]
        result, extra_inputs, extra_settings = _with_groups(
            result, data.names, score_system_sets(data), data.subjects,
                              demographics, sim, data.orientation, bootstrap, confidence, seed,
                              adjustment, progress)  # fmt: skip
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
        inputs=(*data.inputs, *extra_inputs),
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
            **extra_settings,
        },
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _with_groups(result, names, systems, subjects, spec, thresholds, orientation, bootstrap,
                 confidence, seed, adjustment, progress):  # fmt: skip
    """``result`` with its demographic part (``spec``: the GroupBy) and its warnings."""
    from dataclasses import replace

    from faceaudit.analyses._demographics_vocabulary import _IDENTIFY, _VERIFY
    from faceaudit.analyses._system_comparison_groups import compare_groups
    from faceaudit.analyses.demographics import (
        DEFAULT_FMR_TARGET,
        DEFAULT_FPIR_TARGET,
        ThresholdRule,
    )

    ident = result.mode == "identification"
    target = DEFAULT_FPIR_TARGET if ident else DEFAULT_FMR_TARGET
    rule = ThresholdRule.parse(spec.threshold_from, default_target=target)
    rules = [rule.in_similarity(orientation)]
    rules += [ThresholdRule("value", value=t, label=f"{to_file_units(t, orientation):g}")
              for t in thresholds]  # fmt: skip
    with progress.stage(f"paired demographic differences by {','.join(spec.by)}"):
        groups = spec.metadata.groups(spec.by, [str(s) for s in subjects])
        demo = compare_groups(
            names, systems, groups, vocab=_IDENTIFY if ident else _VERIFY, rules=rules,
            bootstrap=bootstrap, confidence=confidence, seed=seed, adjustment=adjustment,
            orientation=orientation,
        )  # fmt: skip
    result = replace(result, demographics=demo,
                     warnings=tuple(dict.fromkeys([*result.warnings, *demo.warnings])))  # fmt: skip
    settings = {"demographics_by": demo.attribute,
                "demographics_threshold_from": rule.to_json(orientation)}  # fmt: skip
    return result, (() if groups.source is None else (groups.source,)), settings


def _audit_searches(data, fpir_targets, thresholds, rank, bootstrap, confidence, seed, adjustment,
                    title, demographics, progress) -> Run:  # fmt: skip
    """The 1:N branch of :func:`audit_compare`."""
    from faceaudit.analyses.system_comparison import compare_searches
    from faceaudit.stats.identification import search_outcomes

    fpir_targets = params.rate_targets("fpir_targets", fpir_targets)
    thresholds = params.thresholds("thresholds", thresholds)
    rank = None if rank is None else params.count("rank", rank, minimum=1)
    bootstrap = params.bootstrap_replicates("bootstrap", bootstrap)
    confidence = params.confidence_level("confidence", confidence)
    seed = params.seed_value("seed", seed)
    adjustment = params.choice("adjustment", adjustment, ADJUSTMENTS)
    outcomes = [
        search_outcomes(
            s.lists, s.truth, gallery_size=s.gallery_size, gallery_subjects=s.gallery_subjects
        )  # fmt: skip
        for s in data.searches
    ]
    n = data.n
    with progress.bar(
        f"comparing {data.k} systems on {n:,} searches"
        + (f" ({bootstrap} shared bootstrap replicates)" if bootstrap else ""),
        "systems",
    ) as update:
        result = compare_searches(
            outcomes, data.names, fpir_targets=fpir_targets, thresholds=thresholds, rank=rank,
            bootstrap=bootstrap, confidence=confidence, seed=seed, adjustment=adjustment,
            coverage=_search_coverage(data), progress=update,
        )  # fmt: skip
    extra_inputs, extra_settings = (), {}
    if demographics is not None:
        from faceaudit.analyses._system_comparison_groups import search_system_sets

        result, extra_inputs, extra_settings = _with_groups(
            result, data.names, search_system_sets(outcomes, rank),
                              outcomes[0].units, demographics, thresholds, "similarity", bootstrap,
                              confidence, seed, adjustment, progress)  # fmt: skip
    return Run(
        title=title,
        analyses={"compare": result},
        inputs=(*data.inputs, *extra_inputs),
        settings={
            "orientation": "similarity",
            "systems": list(data.names),
            "fpir_targets": list(fpir_targets),
            "thresholds": list(thresholds),
            "rank": rank,
            "gallery_size": int(data.searches[0].gallery_size),
            "bootstrap": bootstrap,
            "confidence": confidence,
            "seed": seed,
            "adjustment": adjustment,
            "bootstrap_unit": "subject",
            "n_bootstrap_units": result.bootstrap["n_units"],
            **extra_settings,
        },
        warnings=tuple(dict.fromkeys([*data.warnings, *result.warnings])),
    )


def _search_coverage(data) -> dict:
    """The searches are the truth's probes for every system; ``rows``: probes with a candidate."""
    t = data.searches[0].truth
    mated = np.char.str_len(np.asarray(t.subjects).astype(str)) > 0
    g = data.searches[0].gallery_subjects
    if g is not None:
        mated &= np.isin(np.asarray(t.subjects).astype(str), np.asarray(g).astype(str))
    return {
        "join": "truth probes",
        "common": data.n,
        "common_mated": int(mated.sum()),
        "common_nonmated": int((~mated).sum()),
        "restricted_to_common": False,
        "systems": [
            {"name": name, "rows": int(np.count_nonzero(s.lists.candidates[:, 0] >= 0))
             if s.lists.list_length else 0, "only_this_system": 0}
            for name, s in zip(data.names, data.searches, strict=True)
        ],
    }  # fmt: skip
