"""Capture conditions: what the conditions photos are taken in do to the error rates.

Probes are split by capture condition (recorded in the data, e.g. ``normal``, ``leftlight``,
``glasses``; or rendered synthetically, e.g. ``defocus`` at growing radii) and compared with
references taken in one **reference condition** (the clean photos; or a named recorded
condition, by default the most frequent). As a deployment does, **one threshold** is fixed on the
reference condition and held, unchanged, for every condition (DESIGN: thresholds are chosen on one
data set and applied to others). Per condition:

* **FTA**: probe photos that yield no usable face / probe photos (ISO/IEC 19795-1);
* **1:1** (every probe against every reference): FNMR = mated comparisons with ``score < t`` /
  mated comparisons; FMR = non-mated comparisons with ``score >= t`` / non-mated comparisons;
  the generalised FNMR counts a mated probe without a face as a miss;
* **1:N** (NIST FRTE): the gallery holds the references of the enrolled subjects (``held_out``
  subjects are not enrolled, so their probes are non-mated searches); FNIR(N, R, T) = mated
  searches whose mate is not among the top R (R = min(L, N)) with score ``>= t``; FPIR(N, T) =
  non-mated searches whose top candidate scores ``>= t``; the generalised FNIR counts FTA.

Every rate comes with its count, n and a subject-bootstrap percentile interval (zero errors: the
rule-of-3 bound), and every condition with its ratio to, and difference from, the reference
condition (joint intervals: one draw of subjects serves every condition and rate of a
replicate), and one plain sentence.

Bootstrap (DESIGN "one bootstrap"): subjects are resampled with replacement; a probe, comparison
or search belongs to its probe's subject, and a non-mated 1:1 comparison to both its probe's and
its reference's subjects (two-way: its weight is the product of the two multiplicities). The
threshold is held fixed in the replicates: it is what a deployment sets. All replicate weights
come from :func:`_subject_replicates`, the one place this analysis touches the bootstrap engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from faceaudit import params
from faceaudit.analyses._capture_counts import (
    _count,
    _Counts,
    _fix_threshold,
    _interval,
    _rate_interval,
    _replicate_rates,
    _Scored,
    _subject_replicates,
)
from faceaudit.analyses._capture_sentences import _sentence, _warnings
from faceaudit.analyses._capture_types import (
    DEFAULT_FMR_TARGET,
    RATES,
    CaptureAnalysis,
    CaptureResult,
    Condition,
    ConditionRates,
    Difference,
    ProbeObservations,
    RatioToReference,
    References,
    _rate_json,
)
from faceaudit.errors import InputError
from faceaudit.stats.estimate import Rate, make_rate
from faceaudit.stats.intervals import DEFAULT_METHOD

__all__ = [
    "DEFAULT_FMR_TARGET",
    "CaptureAnalysis",
    "CaptureResult",
    "Condition",
    "ConditionRates",
    "Difference",
    "ProbeObservations",
    "RatioToReference",
    "References",
    "capture_conditions",
]


# ---------------------------------------------------------------------------------------------
# The analysis
# ---------------------------------------------------------------------------------------------


def capture_conditions(
    references: References,
    probes: ProbeObservations,
    conditions: Sequence[Condition],
    *,
    subjects: Sequence[str],
    reference: str,
    fmr_target: float | None = DEFAULT_FMR_TARGET,
    fpir_target: float | None = None,
    threshold: float | None = None,
    list_length: int = 50,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    mode: str = "recorded",
    condition_source: Mapping | None = None,
    reference_rule: str = "",
    split: Mapping | None = None,
    sweeps: Sequence[Mapping] = (),
    quality=None,
) -> CaptureAnalysis:
    """Rates per capture condition at one threshold fixed on the reference condition.

    Parameters
    ----------
    references : References
        Clean references, at most one per subject (``enrolled`` marks the 1:N gallery).
    probes : ProbeObservations
        One row per probe photo and condition.
    conditions : sequence of Condition
        Indexed by ``probes.condition``; results keep this order.
    subjects : sequence of str
        Subject ids (codes index it); bootstrap units.
    reference : str
        The name of the reference condition.
    fmr_target, fpir_target, threshold
        How the one threshold is fixed on the reference condition (exactly one, or
        ``fmr_target`` by default): the lowest FNMR (FNIR) with FMR (FPIR) <= target, or a
        similarity value given.
    list_length : int
        L, candidates per 1:N search (rank criterion R = min(L, N)).
    bootstrap, confidence, seed
        Subject-bootstrap replicates (0: no intervals), level, seed.
    mode, condition_source, reference_rule, split, sweeps
        Descriptions carried into the results.
    quality : faceaudit.analyses._capture_quality.QualityInput, optional
        Quality scores of the photos: adds the EDC and gate analysis.

    Returns
    -------
    CaptureAnalysis
    """
    bootstrap = params.bootstrap_replicates("bootstrap", bootstrap)
    confidence = params.confidence_level("confidence", confidence)
    seed = params.seed_value("seed", seed)
    list_length = params.count("list_length", list_length, minimum=1)
    if fpir_target is not None or threshold is not None:
        if fmr_target == DEFAULT_FMR_TARGET:
            fmr_target = None
    names = [c.name for c in conditions]
    if reference not in names:
        raise InputError(
            f"the reference condition {reference!r} is not among the conditions "
            f"({', '.join(names)})."
        )
    at = _count_at_threshold(
        references,
        probes,
        len(conditions),
        ref_index=names.index(reference),
        n_subjects=len(subjects),
        list_length=list_length,
        rule=(fmr_target, fpir_target, threshold),
        reference=reference,
        confidence=confidence,
    )
    reps = _replicate_values(at, bootstrap, seed)
    rates = [
        {
            name: _rate(c, r[name], name, at.b_ref, confidence, n_subjects=at.n_subjects, seed=seed)
            for name in RATES
        }  # fmt: skip
        for c, r in zip(at.counts, reps, strict=True)
    ]
    results = _condition_results(conditions, at, rates, reps, confidence)
    capture = _capture_result(
        at,
        results,
        threshold=_threshold_json(at, rates[at.ref_index], reference),
        reference=reference,
        mode=mode,
        condition_source=condition_source,
        reference_rule=reference_rule,
        split=split,
        sweeps=sweeps,
        list_length=list_length,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
    )
    qual = None
    if quality is not None:
        from faceaudit.analyses._capture_quality import quality_analysis

        qual = quality_analysis(
            quality,
            references=references,
            probes=probes,
            conditions=conditions,
            scored=at.scored,
            threshold=at.t,
            rank=at.rank,
            n_subjects=len(subjects),
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
            replicates=_subject_replicates,
        )
    return CaptureAnalysis(capture, qual)


# ---------------------------------------------------------------------------------------------
# Its steps
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _AtThreshold:
    """Every condition counted at the one threshold ``t`` (a similarity).

    ``rule`` is ``{"rule": "fmr_target" | "fpir_target" | "value", "target": rate or None}``;
    ``rank`` the 1:N rank criterion R = min(L, N) with N = ``gallery_size``; ``scored`` and
    ``counts`` are per condition (``scored`` without its score matrix, kept for the quality
    part); ``b_ref`` is the number of references of each subject (the reference side of the
    two-way non-mated 1:1 comparisons).
    """

    t: float
    rule: dict
    rank: int
    gallery_size: int
    ref_index: int
    n_subjects: int
    scored: list[_Scored]
    counts: list[_Counts]
    b_ref: np.ndarray


def _count_at_threshold(
    references: References,
    probes: ProbeObservations,
    n_conditions: int,
    *,
    ref_index: int,
    n_subjects: int,
    list_length: int,
    rule: tuple,
    reference: str,
    confidence: float,
) -> _AtThreshold:
    """Fix the threshold on the reference condition (``rule`` = (fmr_target, fpir_target,
    threshold)), then count every condition at it, one score matrix at a time."""
    if references.n == 0:
        raise InputError("no subject has a usable reference photo: nothing to compare with.")
    N = int(references.enrolled.sum())
    rank = max(1, min(list_length, N))
    sel_of = [np.flatnonzero(probes.condition == k) for k in range(n_conditions)]

    def score(k: int) -> _Scored:
        return _Scored(probes, references, sel_of[k][probes.acquired[sel_of[k]]], n_subjects)

    ref_scored = score(ref_index)
    if ref_scored.rows.size == 0:
        raise InputError(
            f"the reference condition {reference!r} has no probe photo with a usable face: "
            "the threshold cannot be fixed on it."
        )
    t, fixed = _fix_threshold(ref_scored, rank, *rule, reference, confidence)
    # one condition's score matrix at a time: counted at t, then only its per-search summary kept
    scored: list[_Scored] = []
    counts: list[_Counts] = []
    for k in range(n_conditions):
        sc = ref_scored if k == ref_index else score(k)
        counts.append(_count(probes, references, sc, sel_of[k], t, rank, n_subjects))
        sc.S = sc.nonmated_mask = None
        scored.append(sc)
    b_ref = np.bincount(references.subject, minlength=n_subjects).astype(np.float64)
    return _AtThreshold(t, fixed, rank, N, ref_index, n_subjects, scored, counts, b_ref)


def _replicate_values(
    at: _AtThreshold, bootstrap: int, seed: int
) -> list[dict[str, np.ndarray | None]]:
    """Per condition, each rate's values over the subject replicates (None: no bootstrap).

    One draw of subjects serves every condition and rate of a replicate (joint intervals).
    """
    reps: list[dict[str, list[np.ndarray]]] = [{k: [] for k in RATES} for _ in at.counts]
    if bootstrap:
        for w in _subject_replicates(at.n_subjects, bootstrap, seed):
            for k, c in enumerate(at.counts):
                for name, v in _replicate_rates(c, w, at.b_ref).items():
                    reps[k][name].append(v)
    return [{k: (np.concatenate(v) if v else None) for k, v in r.items()} for r in reps]


def _rate(
    c: _Counts,
    reps: np.ndarray | None,
    name: str,
    b_ref: np.ndarray,
    confidence: float,
    *,
    n_subjects: int,
    seed: int,
) -> Rate | None:
    """Rate ``name`` of one condition with its interval (None: no comparison to count); the
    interval from :func:`faceaudit.stats.intervals.rate_interval`, its degrees of freedom from
    the replicates' (re-drawn) subject weights."""
    if name == "fmr":  # non-mated pairs: the people on both sides are the units
        count, n = c.fmr_errors, c.fmr_n
        people = int(((c.fmr_a > 0) | (b_ref > 0)).sum())
    else:
        n_, e_ = c.tables[name]
        count, n = int(round(e_.sum())), int(round(n_.sum()))
        people = int((n_ > 0).sum())
    if n == 0:
        return None
    ci = None
    if reps is not None:
        ci = _rate_interval(reps, count, n, confidence, people, n_subjects, seed)
    # a zero-error (all-error) bound rests on the people, not on their photos
    return make_rate(count, n, ci, confidence=confidence, n_units=people, unit="subject")


def _compare(
    mine: Rate | None,
    theirs: Rate | None,
    a: np.ndarray | None,
    b: np.ndarray | None,
    confidence: float,
) -> tuple[RatioToReference, Difference]:
    """A condition's rate against the reference condition's: ratio and difference, with the
    percentile intervals of the paired replicates ``a`` (this condition) and ``b``."""
    if mine is None or theirs is None:
        return RatioToReference(None, None, None, False), Difference(None, None)
    ratio = mine.value / theirs.value if theirs.value else None
    diff = mine.value - theirs.value
    if a is None or b is None:
        return RatioToReference(ratio, None, None, False), Difference(diff, None)
    d_ci = _interval(a - b, confidence)
    if ratio is None:  # no error on the reference condition: no ratio to speak of
        return RatioToReference(None, None, None, False), Difference(diff, d_ci)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(b > 0, a / np.where(b > 0, b, 1.0), np.where(a > 0, np.inf, np.nan))
    keep = q[~np.isnan(q)]
    if keep.size == 0:
        return RatioToReference(ratio, None, None, False), Difference(diff, d_ci)
    big = np.finfo(np.float64).max
    al = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(np.minimum(keep, big), [al, 1.0 - al], method="inverted_cdf")
    return (
        RatioToReference(
            ratio, float(lo) if lo < big else None, float(hi) if hi < big else None, True
        ),
        Difference(diff, d_ci),
    )


def _condition_results(
    conditions: Sequence[Condition],
    at: _AtThreshold,
    rates: list[dict[str, Rate | None]],
    reps: list[dict[str, np.ndarray | None]],
    confidence: float,
) -> list[ConditionRates]:
    """Each condition's rates, its comparison with the reference condition and its sentence."""
    ref = at.ref_index
    rule_text = (
        f"at {at.rule['rule'][:-7].upper()} {at.rule['target']:g}"
        if at.rule["target"] is not None
        else f"as given ({at.t:.4g})"
    )
    results: list[ConditionRates] = []
    for k, cond in enumerate(conditions):
        ratios, diffs = {}, {}
        if k != ref:
            for name in RATES:
                ratios[name], diffs[name] = _compare(
                    rates[k][name], rates[ref][name], reps[k][name], reps[ref][name], confidence
                )
        c = at.counts[k]
        results.append(
            ConditionRates(
                cond, k == ref, c.n_photos, c.n_subjects, rates[k], c.reasons, ratios, diffs, ""
            )
        )
    ref_rates = results[ref]
    return [replace(c, sentence=_sentence(c, ref_rates, rule_text, confidence)) for c in results]


def _threshold_json(at: _AtThreshold, at_ref: Mapping[str, Rate | None], reference: str) -> dict:
    """The threshold's entry of the results: its value, rule, and the rates at the reference."""
    return {
        "value": at.t,
        "units": "similarity (cosine of L2-normalised embeddings; higher = more similar)",
        "rule": at.rule["rule"],
        "target": at.rule["target"],
        "fixed_on": reference,
        "held": "the same threshold is applied, unchanged, to every condition",
        "at_reference": {k: _rate_json(at_ref[k]) for k in ("fmr", "fnmr", "fpir", "fnir")},
    }


def _capture_result(
    at: _AtThreshold,
    results: list[ConditionRates],
    *,
    threshold: Mapping,
    reference: str,
    mode: str,
    condition_source: Mapping | None,
    reference_rule: str,
    split: Mapping | None,
    sweeps: Sequence[Mapping],
    list_length: int,
    bootstrap: int,
    confidence: float,
    seed: int,
) -> CaptureResult:
    """The :class:`CaptureResult`: the conditions' results, the descriptions carried through,
    the bootstrap's settings and the warnings."""
    return CaptureResult(
        mode=mode,
        condition_source=dict(condition_source or {}),
        reference_condition=reference,
        reference_rule=reference_rule,
        threshold=threshold,
        split=dict(split or {}),
        gallery_size=at.gallery_size,
        rank=at.rank,
        list_length=list_length,
        bootstrap={
            "replicates": bootstrap,
            "confidence": confidence,
            "seed": seed,
            "unit": "subject (1:1 non-mated comparisons: probe and reference subjects)",
            "interval": DEFAULT_METHOD,
            "n_units": at.n_subjects,
            "threshold_fixed": True,
        },
        conditions=tuple(results),
        sweeps=tuple(sweeps),
        sentences=tuple(c.sentence for c in results),
        warnings=tuple(_warnings(results, results[at.ref_index], at.gallery_size)),
    )
