"""Demographic differentials: who bears the errors at one global threshold, with intervals.

A deployed system applies one threshold to everyone. This analysis fixes that threshold once
(on the whole data set at an FMR target, on a named reference group, or as given) and measures,
for every group of subjects (an attribute such as ``sex``, or an intersection such as
``sex × age_band``):

* **1:1** (:func:`verification_differentials`): the group's FNMR (mated comparisons of its
  subjects), its FMR from non-mated comparisons *within* the group (probe and reference both in
  it), and the cross-group FMR matrix (probe group × reference group);
* **1:N** (:func:`identification_differentials`): per probe group, FPIR (non-mated searches of
  its people) and FNIR (mated searches of its people). A non-mated search has no single
  reference, so there is no cross-group matrix.

Summaries (NIST IR 8280; ISO/IEC 19795-10): each group's ratio to the best (lowest-error) group,
``max / min`` and ``max / geometric mean`` over the groups, and the GARBE index of Howard et al.
(2022). Every rate and every ratio carries a confidence interval from a subject bootstrap
stratified by group (:mod:`faceaudit.stats.groups`): the same draw serves every group of a
replicate, so ratios get joint intervals. In 1:1 the non-mated comparisons are resampled
**two-way** (each weighs the product of its probe's and its reference's multiplicities,
:mod:`faceaudit.stats.pairs`), so within-group and cross-group FMR intervals resample both people
of a comparison. The threshold stays fixed in the replicates.

Small groups are flagged, never hidden:

* **zero errors** (ISO/IEC 19795-1): with no error the rate is reported as a bound: the exact
  one-sided bound at the intervals' level on the group's **subjects** (about ``3.69 / k`` for
  ``k`` subjects at 95%, :func:`faceaudit.stats.estimate.zero_error_bound`);
* **support**: a group's rate is *supported* only when its ``n`` comparisons are enough for a
  zero count's bound (rule of 3 at the intervals' level, ``-ln((1 - c)/2) / n``) to reach the
  rate of the whole data set at this threshold, otherwise even a zero count could not show the
  group is as good as everyone else, **and** at least 30 of its subjects contribute
  (Doddington's rule of 30 applied to people, :mod:`faceaudit.stats.support`); cross-group
  cells need 30 subjects in each of their two groups;
* **rule of 30** (Doddington et al. 2000): with fewer than 30 observed errors the relative
  uncertainty of a rate is large (the 90% interval spans more than ±30% of it); such rates
  are flagged (the report's sentences say so).

Summaries are computed over the supported groups only (their names are listed with them).

Plain language: the report makes one sentence per differential from these figures
(:func:`faceaudit.report.sentences.demographic_sentences`: "At this threshold, people in group
A are falsely matched 8.3× (95% CI 5.1–12.0) as often as those in group B"; when the interval
of a ratio includes 1 it says that the data cannot tell the groups apart).

References
----------
P. Grother, M. Ngan, K. Hanaoka, *Face Recognition Vendor Test Part 3: Demographic Effects*,
NIST IR 8280 (2019).
J. J. Howard, E. J. Laird, Y. B. Sirotin, R. E. Rubin, J. L. Tipton, A. R. Vemury, *Evaluating
Proposed Fairness Models for Face Recognition Algorithms*, arXiv:2203.05051 (2022): GARBE.
G. Doddington, M. Przybocki, A. Martin, D. Reynolds, *The NIST speaker recognition evaluation*,
Speech Communication 31 (2000): the rule of 30.
ISO/IEC 19795-1:2021 (rule of 3, subject bootstrap); ISO/IEC 19795-10:2024 (demographic
differentials).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from faceaudit.analyses._demographics_groups import (
    _count_and_resample,
    _Counted,
    _cross_cells,
    _group_rows,
)
from faceaudit.analyses._demographics_summary import _summaries
from faceaudit.analyses._demographics_threshold import ThresholdRule, _choose_threshold
from faceaudit.analyses._demographics_types import (
    DEFAULT_FMR_TARGET,
    DEFAULT_FPIR_TARGET,
    DEFAULT_GARBE_ALPHA,
    RULE_OF_30,
    RULES,
    CrossCell,
    DemographicsResult,
    GroupRates,
    Ratio,
    SummaryValue,
)
from faceaudit.analyses._demographics_vocabulary import _IDENTIFY, _VERIFY, _Vocabulary
from faceaudit.data import SubjectGroups
from faceaudit.data.orientation import SIMILARITY
from faceaudit.errors import InputError
from faceaudit.stats.bootstrap import Resampler
from faceaudit.stats.estimate import make_rate
from faceaudit.stats.identification import search_design
from faceaudit.stats.intervals import DEFAULT_METHOD
from faceaudit.stats.scoreset import ScoreSet
from faceaudit.stats.support import MIN_SUBJECTS

if TYPE_CHECKING:  # pragma: no cover
    from faceaudit.analyses.verification import VerificationResult
    from faceaudit.data import ComparisonScores
    from faceaudit.stats.identification import SearchOutcomes

__all__ = [
    "DEFAULT_FMR_TARGET",
    "DEFAULT_FPIR_TARGET",
    "DEFAULT_GARBE_ALPHA",
    "RULES",
    "RULE_OF_30",
    "CrossCell",
    "DemographicsResult",
    "GroupRates",
    "Ratio",
    "SummaryValue",
    "ThresholdRule",
    "identification_differentials",
    "verification_differentials",
]


def _run(**kw) -> DemographicsResult:
    """The analysis shared by 1:1 and 1:N (:func:`_run_counted` without its counts)."""
    return _run_counted(**kw)[0]


def _run_counted(
    *,
    vocab: _Vocabulary,
    negatives: ScoreSet,
    positives: ScoreSet,
    negative_reference_units: np.ndarray | None,
    groups: SubjectGroups,
    group_of_unit: np.ndarray,
    n_subjects: np.ndarray,
    rule: ThresholdRule,
    reused_threshold: float | None,
    orientation: str = SIMILARITY,
    bootstrap: int,
    confidence: float,
    seed: int,
    garbe_alpha: float,
    min_subjects: int = MIN_SUBJECTS,
    extra_warnings: Sequence[str] = (),
    resampler: Resampler | None = None,
    search_references: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[DemographicsResult, _Counted]:
    """Threshold, one counting pass, rates, summaries; and the counts with their replicates.

    ``resampler``: a bootstrap design shared with other systems (the paired comparison of
    systems, :mod:`faceaudit.analyses._system_comparison_groups`); by default the counts' own
    stratified design. ``search_references``: 1:N non-mated searches two-way
    (:func:`faceaudit.analyses._demographics_groups._count_and_resample`).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    if not 0.0 <= garbe_alpha <= 1.0:
        raise ValueError("garbe_alpha must be in [0, 1]")
    if bootstrap < 0:
        raise ValueError("bootstrap must be >= 0")
    if min_subjects < 1:
        raise ValueError("min_subjects must be >= 1")
    names = groups.names
    group_of_unit = np.asarray(group_of_unit, dtype=np.int64)
    warnings = list(groups.warnings()) + list(extra_warnings)
    t, source, thr_supported = _choose_threshold(
        vocab, rule, negatives, positives, negative_reference_units, groups, group_of_unit,
        reused_threshold, min_subjects,
    )  # fmt: skip
    if not thr_supported:
        warnings.append(
            f"The threshold ({source}) is not supported by the data: too few "
            f"{vocab.fp_pool} (rule of 3 at the intervals' level) or fewer than {min_subjects} "
            "subjects behind them to observe the target rate. The differentials below are "
            "measured at it all the same."
        )
    c = _count_and_resample(
        negatives, positives, t, group_of_unit, groups.n_groups, negative_reference_units,
        bootstrap, seed, resampler, search_references,
    )  # fmt: skip
    rows, by_kind = _group_rows(vocab, c, groups, n_subjects, confidence, min_subjects)
    cross = _cross_cells(c, names, confidence, min_subjects)
    (fp_rates, fp_ok, fp_best), (fn_rates, fn_ok, fn_best) = by_kind["fp"], by_kind["fn"]
    summary = _summaries(
        vocab, fp_rates, fn_rates, fp_ok, fn_ok, c.fp_reps, c.fn_reps, names, confidence,
        garbe_alpha, fp_variances=by_kind["fp_variances"],
    )  # fmt: skip
    total_neg, total_pos = c.overall[:2]
    result = DemographicsResult(
        mode=vocab.mode,
        attribute=groups.attribute,
        attributes=groups.attributes,
        threshold=t,
        threshold_source=source,
        threshold_rule=rule.to_json(orientation),
        orientation=orientation,
        threshold_supported=thr_supported,
        groups=tuple(rows),
        cross=tuple(cross),
        overall_false_positive=make_rate(
            int(total_neg[1]),
            int(total_neg[0]),
            None,
            confidence=confidence,
            n_units=int(c.fp_subjects.sum()),
            unit="subject",
        ),  # fmt: skip
        overall_false_negative=make_rate(
            int(total_pos[1]),
            int(total_pos[0]),
            None,
            confidence=confidence,
            n_units=int(c.fn_subjects.sum()),
            unit="subject",
        ),  # fmt: skip
        best_groups={
            vocab.fp: None if fp_best is None else names[fp_best],
            vocab.fn: None if fn_best is None else names[fn_best],
        },
        summary=summary,
        coverage=groups.coverage_json(),
        support={"min_subjects": int(min_subjects)},
        bootstrap=_bootstrap_json(c, bootstrap, confidence, seed),
        metadata=groups.source,
        warnings=tuple(warnings),
    )
    return result, c


def _bootstrap_json(c, bootstrap: int, confidence: float, seed: int) -> dict:
    return {
        "replicates": int(bootstrap),
        "confidence": float(confidence),
        "unit": "subject",
        "interval": DEFAULT_METHOD,
        "design": "two-way (probe and reference subjects)"
        if c.by_reference
        else "two-way (searcher and the top candidate's gallery subject)"
        if c.fp_two_way_searches
        else "one-way (probe subject)",
        "stratified_by_group": True,
        "n_units": c.active_units,
        "seed": int(seed),
        "threshold_fixed": True,
    }


def verification_differentials(
    scores: ComparisonScores,
    groups: SubjectGroups,
    *,
    threshold: ThresholdRule | str | float | None = "all",
    fmr_target: float = DEFAULT_FMR_TARGET,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    garbe_alpha: float = DEFAULT_GARBE_ALPHA,
    verification: VerificationResult | None = None,
    min_subjects: int = MIN_SUBJECTS,
) -> DemographicsResult:
    """1:1 demographic differentials at one global threshold.

    Parameters
    ----------
    scores : ComparisonScores
        With subject ids on both sides (``nonmated_subject`` and
        ``nonmated_reference_subject``): the within-group FMR needs the reference's group.
    groups : SubjectGroups
        ``metadata.groups(by, scores.subjects)`` (:mod:`faceaudit.io.metadata`).
    threshold : ThresholdRule, str or float
        How the threshold is fixed (:class:`ThresholdRule`; text as ``--threshold-from``); a
        given value is similarity-oriented (see :meth:`ThresholdRule.in_similarity`).
    fmr_target : float
        The FMR target of ``"all"`` / group rules that do not name one.
    bootstrap : int
        Replicates of the stratified subject bootstrap (0: only zero-error bounds).
    confidence : float
    seed : int
    garbe_alpha : float
        Weight of the FMR Gini in GARBE (``alpha G_FMR + (1 - alpha) G_FNMR``).
    min_subjects : int
        Fewest contributing subjects of a supported group rate (default 30: Doddington's rule
        of 30 applied to people; :mod:`faceaudit.stats.support`).
    verification : VerificationResult, optional
        The 1:1 result on the same scores: its threshold at ``fmr_target`` is reused (the same
        exact choice) instead of being recomputed, which saves a pass over the scores.

    Returns
    -------
    DemographicsResult
        ``to_json()`` is the ``demographics`` key of results.json.

    Raises
    ------
    InputError
        Without subject ids on both sides, or a group rule naming no group.

    Notes
    -----
    Comparisons without a score (failures to acquire) carry no subject in
    :class:`~faceaudit.data.ComparisonScores` and are not part of the group rates.
    """
    streamed = hasattr(scores, "streamed_design")
    if not streamed and (
        scores.nonmated_subject is None
        or scores.nonmated_reference_subject is None
        or (scores.mated_subject is None)
    ):
        raise InputError(
            "demographic differentials need the subject of both sides of every comparison; give "
            "probe_subject and reference_subject columns (or a bob score file)."
        )
    if groups.group_of_subject.size != len(scores.subjects):
        raise ValueError("groups were not built for these scores' subjects")
    rule = ThresholdRule.parse(threshold, default_target=fmr_target)
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
    if streamed:
        if rule.kind == "group":
            raise InputError(
                "on comparisons streamed block by block the demographic threshold is fixed on "
                "the whole data set (all, all@TARGET) or given (value=T); a group's own "
                "threshold needs the group's comparisons apart, which are not kept."
            )
        mated, nonmated, references, *_ = scores.streamed_design()
    else:
        mated = ScoreSet(scores.mated, units=scores.mated_subject)
        nonmated = ScoreSet(scores.nonmated, units=scores.nonmated_subject)
        references = scores.nonmated_reference_subject
    extra = []
    if scores.mated_fta or scores.nonmated_fta:
        extra.append(
            f"{scores.mated_fta + scores.nonmated_fta} comparisons without a score (failures to "
            "acquire) are not part of the per-group rates."
        )
    return _run(
        vocab=_VERIFY,
        negatives=nonmated,
        positives=mated,
        negative_reference_units=references,
        groups=groups,
        group_of_unit=groups.group_of_subject,
        n_subjects=groups.n_subjects,
        rule=rule,
        orientation=scores.orientation,
        reused_threshold=reused,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        garbe_alpha=garbe_alpha,
        min_subjects=min_subjects,
        extra_warnings=extra,
    )


def identification_differentials(
    outcomes: SearchOutcomes,
    groups: SubjectGroups,
    *,
    threshold: ThresholdRule | str | float | None = "all",
    fpir_target: float = DEFAULT_FPIR_TARGET,
    rank: int | None = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    garbe_alpha: float = DEFAULT_GARBE_ALPHA,
    min_subjects: int = MIN_SUBJECTS,
) -> DemographicsResult:
    """1:N demographic differentials per probe group: FPIR and FNIR(N, R, T) at one threshold.

    Parameters
    ----------
    outcomes : SearchOutcomes
        Per-search outcomes (:mod:`faceaudit.stats.identification`).
    groups : SubjectGroups
        ``metadata.groups(by, outcomes.units)``: a search belongs to its probe's subject (a
        non-mated search of unknown subject is its own unit and falls in ``unknown``).
    threshold, bootstrap, confidence, seed, garbe_alpha
        As for :func:`verification_differentials`; targets are FPIR targets.
    fpir_target : float
        The FPIR target of rules that do not name one (default 0.01).
    rank : int, optional
        Rank criterion R of FNIR (default: the candidate-list length L).

    Notes
    -----
    There is no cross-group matrix: a non-mated search has no single reference. When the
    outcomes know the gallery subject of each non-mated search's top candidate, the bootstrap
    is two-way for FPIR (each search weighs its probe's times that gallery subject's
    multiplicity, :func:`faceaudit.stats.identification.search_design`), as the overall 1:N
    intervals are; FNIR stays with the searcher.
    """
    if groups.group_of_subject.size != outcomes.n_units:
        raise ValueError("groups were not built for these outcomes' units")
    rule = ThresholdRule.parse(threshold, default_target=fpir_target)
    design = search_design([outcomes])
    refs = (design.references[0]["nonmated"], design.strata) if design.two_way else None
    return _run(
        vocab=_IDENTIFY,
        negatives=outcomes.nonmated_scores(),
        positives=outcomes.mate_scores(rank),
        negative_reference_units=None,
        groups=groups,
        group_of_unit=groups.group_of_subject,
        n_subjects=groups.n_subjects,
        rule=rule,
        reused_threshold=None,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        garbe_alpha=garbe_alpha,
        min_subjects=min_subjects,
        search_references=refs,
    )
