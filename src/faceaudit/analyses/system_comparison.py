"""Is system B really better than A? The paired comparison of systems on the same people.

Every system is measured on the **same comparisons** (:class:`~faceaudit.data.paired_scores.
PairedScores`), and every interval of a difference comes from **one subject bootstrap shared by
all systems**: replicate ``r`` resamples the same people for every system (one
:class:`~faceaudit.stats.bootstrap.Resampler` over the shared subject codes; its seeded stream
gives every system the same multiplicities), and inside each replicate every figure is
re-computed the way the 1:1 audit computes it (:mod:`faceaudit.analyses.verification`, the one
bootstrap of :mod:`faceaudit.stats.bootstrap` / :mod:`faceaudit.stats.replicates`):

- **FNMR at each FMR target**, each system at *its own* threshold, re-chosen in every replicate
  (:func:`faceaudit.stats.operating.rechosen_points`): the difference of the systems' FNMR at
  the same FMR, which is what a buyer holding the FMR fixed compares;
- **FMR and FNMR at given thresholds** (the same threshold for every system, in the files'
  units: meaningful when the systems' scores share a scale);
- the **EER**, each replicate's own crossing per system.

The difference ``a - b`` gets the percentile interval of the paired replicate differences
(:func:`faceaudit.stats.paired.paired_difference`); the unpaired interval of the same replicates
(:func:`~faceaudit.stats.paired.unpaired_difference`) is given beside it, to show what the
pairing buys. A two-sided bootstrap p-value ``2 min(P*(d <= 0), P*(d >= 0))`` is adjusted across
the ``k (k - 1) / 2`` pairs of systems, per figure (Holm by default,
:func:`~faceaudit.stats.paired.adjust_p_values`); with two systems the adjustment is the identity.

**McNemar's exact test** (:func:`~faceaudit.stats.paired.pairwise_mcnemar`) is run on the
matched decisions at fixed thresholds (each system's full-data threshold for each FMR target,
and the given thresholds), over every compared comparison; a comparison without a score is a
non-match. It treats comparisons as independent, which those sharing a person are not: its
p-value is a check, the subject-bootstrap interval is the figure to quote.

The same for 1:N candidate lists of the same probes (FNIR at FPIR targets, FPIR and FNIR at
given thresholds, rank-1 misses): :func:`compare_searches`
(:mod:`faceaudit.analyses._system_comparison_1n`).

Without subject ids the resampling unit is the comparison (the same comparisons drawn for every
system, so still paired), with a warning: comparisons that share people are not independent.

References
----------
ISO/IEC 19795-1:2021 (FMR, FNMR, EER). R. M. Bolle, N. K. Ratha, S. Pankanti, Error analysis of
pattern recognition systems - the subsets bootstrap, *CVIU* 93 (2004). Q. McNemar (1947);
S. Holm (1979): see :mod:`faceaudit.stats.paired`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from faceaudit.analyses._system_comparison_1n import compare_searches
from faceaudit.analyses._system_comparison_common import Measured, differences, mcnemar_tests
from faceaudit.analyses._system_comparison_types import (
    FigureValue,
    SystemComparison,
    SystemFigures,
    SystemPoint,
)
from faceaudit.analyses.verification import DEFAULT_FMR_TARGETS, _Design, _warnings, score_sets
from faceaudit.data import ComparisonScores
from faceaudit.data.paired_scores import PairedScores
from faceaudit.stats.bootstrap import (
    COMPARISON_CELLS_STREAM,
    COMPARISON_RATES_STREAM,
    Resampler,
    percentile_interval,
)
from faceaudit.stats.estimate import make_rate
from faceaudit.stats.intervals import rate_interval, subject_df
from faceaudit.stats.operating import rechosen_points, replicate_eer
from faceaudit.stats.paired import (
    ADJUSTMENTS,
)
from faceaudit.stats.rates import (
    det_curve,
    eer_cells,
    equal_error_rate,
    operating_threshold,
    prefetch_for_targets,
)
from faceaudit.stats.replicates import ReplicateCounts
from faceaudit.stats.scoreset import ScoreSet
from faceaudit.stats.support import support

__all__ = ["SystemComparison", "compare_searches", "compare_systems", "paired_design"]

#: Cells (replicates x units) a batch of multiplicities may hold when comparisons are the units.
_BATCH_CELLS = 1 << 23


def paired_design(data: PairedScores, i: int, scores: ComparisonScores | None = None) -> _Design:
    """System ``i``'s score sets over the shared units.

    With subject ids: the 1:1 audit's design (:func:`~faceaudit.analyses.verification.
    score_sets`: two-way when both subjects are known), on subject codes shared by all systems.
    Without: every comparison is its own unit, numbered by its row in ``data`` (the same
    comparison, the same unit, for every system). ``scores``: ``data.system(i)`` if already made.
    """
    scores = data.system(i) if scores is None else scores
    if scores.subjects:
        return score_sets(scores)
    s = data.scores[i]
    ok = ~np.isnan(s)
    rows = np.arange(data.n, dtype=np.int64)
    g, im = data.mated & ok, ~data.mated & ok
    return _Design(
        ScoreSet(s[g], units=rows[g]),
        ScoreSet(s[im], units=rows[im]),
        None,
        data.n,
        "comparison (paired)",
        int(im.sum()),
        int(g.sum()),
    )


def _resampler(n_units: int, bootstrap: int, seed: int) -> Resampler:
    batch = max(1, min(50, _BATCH_CELLS // max(n_units, 1)))
    return Resampler(n_units, bootstrap, seed, batch=batch)


def _measure(
    name: str,
    scores,
    d: _Design,
    fmr_targets: Sequence[float],
    thresholds: Sequence[float],
    bootstrap: int,
    confidence: float,
    seed: int,
) -> Measured:
    """One system's figures and replicates (the same Resampler for every system)."""
    gen, imp = d.mated, d.nonmated
    sup = {t: support(t, imp.n, d.n_nonmated_subjects, confidence) for t in fmr_targets}
    prefetch_for_targets(imp, gen, [t for t in fmr_targets if sup[t].comparisons_ok],
                         also=eer_cells(gen, imp))  # fmt: skip
    chosen = [
        (t, operating_threshold(imp, gen, t).threshold if sup[t].supported else None)
        for t in fmr_targets
    ]
    eer = equal_error_rate(gen, imp)
    units_g = {} if d.n_mated_subjects is None else {"n_units": d.n_mated_subjects,
                                                         "unit": "subject"}  # fmt: skip
    units_i = {} if d.n_nonmated_subjects is None else {"n_units": d.n_nonmated_subjects,
                                                          "unit": "subject"}  # fmt: skip
    if d.design == "comparison (paired)":
        units_g, units_i = {}, {}
    reps: dict = {}
    fixed_reps: dict = {}
    res = None
    if bootstrap:
        res = _resampler(d.n_units, bootstrap, seed)
        neg = ReplicateCounts(imp, res, reference_units=d.reference_units,
                              stream=COMPARISON_RATES_STREAM)  # fmt: skip
        pos = ReplicateCounts(gen, res, stream=COMPARISON_CELLS_STREAM)
        cuts = np.asarray(list(thresholds) + [eer.threshold], dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            fmr_b = neg.ge(cuts) / neg.total[:, None]
            fnmr_b = pos.lt(cuts) / pos.total[:, None]
        for j, t in enumerate(thresholds):
            reps[("fmr_at_threshold", t)] = fmr_b[:, j]
            reps[("fnmr_at_threshold", t)] = fnmr_b[:, j]
        targets = [(t, th) for t, th in chosen if th is not None]
        for r in rechosen_points(neg, pos, imp, gen, targets):
            reps[("fnmr_at_fmr", r.target)] = r.fn
        eers, _ = replicate_eer(neg, pos, imp, gen, eer.threshold)
        reps[("eer", None)] = eers
        if targets:  # FMR at each chosen threshold: fixed-threshold interval
            with np.errstate(invalid="ignore", divide="ignore"):
                at = neg.ge([th for _, th in targets]) / neg.total[:, None]
            for j, (t, _) in enumerate(targets):
                fixed_reps[t] = at[:, j]

    def ci(key):  # the EER: percentile
        if key not in reps:
            return None
        return tuple(float(v) for v in percentile_interval(reps[key], confidence))

    def rate_ci(arr, count, n, subjects):
        return _rate_ci(res, arr, count, n, subjects, confidence)

    values, thr, points = {}, {}, []
    for t, th in chosen:
        if th is None:
            points.append(SystemPoint(t, None, False, None, None))
            continue
        c_i, c_g = imp.count_ge(th), gen.count_lt(th)
        fmr = make_rate(c_i, imp.n, rate_ci(fixed_reps.get(t), c_i, imp.n, d.n_nonmated_subjects),
                        confidence=confidence, **units_i)  # fmt: skip
        fnmr = make_rate(c_g, gen.n, rate_ci(reps.get(("fnmr_at_fmr", t)), c_g, gen.n,
                                             d.n_mated_subjects),
                         confidence=confidence, **units_g)  # fmt: skip
        points.append(SystemPoint(t, th, True, fmr, fnmr))
        values[("fnmr_at_fmr", t)] = FigureValue.of_rate(fnmr)
        thr[("fnmr_at_fmr", t)] = th
    for t in thresholds:
        c_i, c_g = imp.count_ge(t), gen.count_lt(t)
        fmr = make_rate(c_i, imp.n, rate_ci(reps.get(("fmr_at_threshold", t)), c_i, imp.n,
                                            d.n_nonmated_subjects),
                        confidence=confidence, **units_i)  # fmt: skip
        fnmr = make_rate(c_g, gen.n, rate_ci(reps.get(("fnmr_at_threshold", t)), c_g, gen.n,
                                             d.n_mated_subjects),
                         confidence=confidence, **units_g)  # fmt: skip
        points.append(SystemPoint(None, t, True, fmr, fnmr))
        values[("fmr_at_threshold", t)] = FigureValue.of_rate(fmr)
        values[("fnmr_at_threshold", t)] = FigureValue.of_rate(fnmr)
        thr[("fmr_at_threshold", t)] = thr[("fnmr_at_threshold", t)] = t
    values[("eer", None)] = FigureValue(eer.value, ci(("eer", None)), None, None)
    thr[("eer", None)] = eer.threshold
    keep = [th for _, th in chosen if th is not None] + list(thresholds) + [eer.threshold]
    det = det_curve(gen, imp, extra_thresholds=keep).thinned(500, keep=keep)
    figures = SystemFigures(
        name, gen.n, imp.n, int(scores.mated_fta), int(scores.nonmated_fta),
        values[("eer", None)], eer.threshold, tuple(points), det.fmr, det.fnmr,
    )  # fmt: skip
    return Measured(figures, values, thr, reps)


def _rate_ci(res, arr, count: int, n: int, subjects: int | None, confidence: float):
    """A rate's interval (:func:`faceaudit.stats.intervals.rate_interval`, degrees of freedom
    from the replicates' subject weights); None without replicates."""
    if arr is None or not n:
        return None
    df = subject_df(res, arr, count / n, None if subjects is None else max(subjects - 1, 1))
    return tuple(float(v) for v in rate_interval(arr, count, n, confidence, df=df))


def _mcnemar(data: PairedScores, measured, fmr_targets, thresholds, adjustment, alpha):
    """McNemar at each FMR target (each system at its own threshold) and each given threshold."""
    plans = [(("fnmr_at_fmr", t), t) for t in fmr_targets]
    plans += [(("fmr_at_threshold", t), None) for t in thresholds]
    return mcnemar_tests(data.names, data.scores, data.mated, plans, measured, adjustment, alpha)


def _protocol_accuracy(data: PairedScores) -> dict | None:
    """The benchmark's own figure per system: K-fold cross-validated accuracy (LFW convention)."""
    if data.folds is None:
        return None
    from faceaudit.stats.folds import cross_validated_accuracy

    systems = []
    for name, s in zip(data.names, data.scores, strict=True):
        acc = cross_validated_accuracy(s, data.mated, data.folds).to_json()
        acc.pop("folds")
        systems.append({"name": name, **acc})
    return {
        "name": data.protocol,
        "note": "the benchmark's convention: mean accuracy over held-out folds (threshold of "
        "maximum accuracy on the other folds) and its spread over folds; not a confidence "
        "interval for a population of people",
        "systems": systems,
    }


def compare_systems(
    data: PairedScores,
    *,
    fmr_targets: Sequence[float] = DEFAULT_FMR_TARGETS,
    thresholds: Sequence[float] = (),
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    adjustment: str = "holm",
    progress: Callable[[int, int], None] | None = None,
) -> SystemComparison:
    """Compare ``k >= 2`` systems measured on the same comparisons of the same people.

    Parameters
    ----------
    data : PairedScores
        The systems' scores, aligned (:func:`faceaudit.io.paired_scores.read_paired_scores`).
    fmr_targets : sequence of float
        For each, every system's own threshold (lowest FNMR at FMR <= target) and FNMR there.
    thresholds : sequence of float
        Similarity-oriented thresholds applied to every system (FMR and FNMR there).
    bootstrap : int
        Replicates of the shared subject bootstrap (0: no intervals and no differences, only
        McNemar).
    confidence : float
        Two-sided level of every interval; the tests' level is ``1 - confidence``.
    seed : int
    adjustment : {"holm", "bh", "bonferroni", "none"}
        Multiple-comparison adjustment across the pairs of systems, per figure.
    progress : callable, optional
        ``progress(systems_done, k)`` after each system's replicates.

    Returns
    -------
    SystemComparison
    """
    if data.k < 2:
        raise ValueError("comparing systems needs at least two systems")
    if adjustment not in ADJUSTMENTS:
        raise ValueError(f"adjustment must be one of {ADJUSTMENTS}")
    alpha = round(1.0 - confidence, 12)
    measured, designs = [], []
    for i, name in enumerate(data.names):
        scores = data.system(i)
        d = paired_design(data, i, scores)
        designs.append(d)
        measured.append(_measure(name, scores, d, fmr_targets, thresholds, bootstrap,
                                 confidence, seed))  # fmt: skip
        if progress is not None:
            progress(i + 1, data.k)
    diffs = differences(measured, data.names, confidence, adjustment, alpha, seed)
    tests = _mcnemar(data, measured, fmr_targets, thresholds, adjustment, alpha)
    d0 = designs[0]
    unit = "comparison" if d0.design.startswith("comparison") else "subject"
    boot = {
        "replicates": bootstrap,
        "confidence": confidence,
        "seed": seed,
        "unit": unit,
        "design": d0.design,
        "n_units": d0.n_units,
        "paired": "every replicate resamples the same "
        + ("people" if unit == "subject" else "comparisons")
        + " for every system; operating points re-chosen per system in every replicate",
    }
    warnings = list(
        dict.fromkeys(
            w for d in designs if d.design != "comparison (paired)" for w in _warnings(d, bootstrap)
        )
    )
    fta = [int(np.isnan(s).sum()) for s in data.scores]
    if len(set(fta)) > 1:
        counts = ", ".join(f"{n} {c:,}" for n, c in zip(data.names, fta, strict=True))
        warnings.append(
            f"The systems failed to score different numbers of the compared comparisons ({counts} "
            "without a score): each system's FMR, FNMR and EER are on its own scored comparisons, "
            "so they rest on slightly different sets; McNemar counts a missing score as a "
            "non-match."
        )
    if unit == "comparison" and bootstrap:
        warnings.append(
            "No subject ids in the inputs: the paired intervals resample comparisons as if "
            "independent, which understates uncertainty when comparisons share people. Provide "
            "probe_subject and reference_subject columns for a subject bootstrap."
        )
    return SystemComparison(
        protocol=_protocol_accuracy(data),
        systems=tuple(m.figures for m in measured),
        differences=tuple(diffs),
        mcnemar=tuple(tests),
        coverage=data.coverage.to_json(),
        orientation=data.orientation,
        bootstrap=boot,
        adjustment=adjustment,
        alpha=alpha,
        warnings=tuple(warnings),
    )
