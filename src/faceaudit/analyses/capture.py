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
from dataclasses import replace

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

DEFAULT_FMR_TARGET = 1e-3

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
    ref_index = names.index(reference)
    n_subj = len(subjects)
    if references.n == 0:
        raise InputError("no subject has a usable reference photo: nothing to compare with.")
    N = int(references.enrolled.sum())
    rank = max(1, min(list_length, N))
    sel_of = [np.flatnonzero(probes.condition == k) for k in range(len(conditions))]

    def score(k: int) -> _Scored:
        return _Scored(probes, references, sel_of[k][probes.acquired[sel_of[k]]], n_subj)

    ref_scored = score(ref_index)
    if ref_scored.rows.size == 0:
        raise InputError(
            f"the reference condition {reference!r} has no probe photo with a usable face: "
            "the threshold cannot be fixed on it."
        )
    t, rule = _fix_threshold(
        ref_scored, rank, fmr_target, fpir_target, threshold, reference, confidence
    )
    # one condition's score matrix at a time: counted at t, then only its per-search summary kept
    scored: list[_Scored] = []
    counts: list[_Counts] = []
    for k in range(len(conditions)):
        sc = ref_scored if k == ref_index else score(k)
        counts.append(_count(probes, references, sc, sel_of[k], t, rank, n_subj))
        sc.S = sc.nonmated_mask = None
        scored.append(sc)
    b_ref = np.bincount(references.subject, minlength=n_subj).astype(np.float64)

    reps: list[dict[str, list[np.ndarray]]] = [{k: [] for k in RATES} for _ in conditions]
    if bootstrap:
        for w in _subject_replicates(n_subj, bootstrap, seed):
            for k, c in enumerate(counts):
                for name, v in _replicate_rates(c, w, b_ref).items():
                    reps[k][name].append(v)
    R = [{k: (np.concatenate(v) if v else None) for k, v in r.items()} for r in reps]

    def rate_of(k: int, name: str) -> Rate | None:
        c = counts[k]
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
        if R[k][name] is not None:
            ci = _rate_interval(R[k][name], count, n, confidence, people, n_subj, seed)
        # a zero-error (all-error) bound rests on the people, not on their photos
        return make_rate(count, n, ci, confidence=confidence, n_units=people, unit="subject")

    rates = [{name: rate_of(k, name) for name in RATES} for k in range(len(conditions))]

    def compare(k: int, name: str) -> tuple[RatioToReference, Difference]:
        mine, theirs = rates[k][name], rates[ref_index][name]
        if mine is None or theirs is None:
            return RatioToReference(None, None, None, False), Difference(None, None)
        ratio = mine.value / theirs.value if theirs.value else None
        diff = mine.value - theirs.value
        a, b = R[k][name], R[ref_index][name]
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

    rule_text = (
        f"at {rule['rule'][:-7].upper()} {rule['target']:g}"
        if rule["target"] is not None
        else f"as given ({t:.4g})"
    )
    results: list[ConditionRates] = []
    for k, cond in enumerate(conditions):
        ratios, diffs = {}, {}
        if k != ref_index:
            for name in RATES:
                ratios[name], diffs[name] = compare(k, name)
        results.append(
            ConditionRates(
                cond,
                k == ref_index,
                counts[k].n_photos,
                counts[k].n_subjects,
                rates[k],
                counts[k].reasons,
                ratios,
                diffs,
                "",
            )
        )
    ref_rates = results[ref_index]
    results = [replace(c, sentence=_sentence(c, ref_rates, rule_text, confidence)) for c in results]
    warnings = _warnings(results, ref_rates, N)
    at_ref = rates[ref_index]
    thr = {
        "value": t,
        "units": "similarity (cosine of L2-normalised embeddings; higher = more similar)",
        "rule": rule["rule"],
        "target": rule["target"],
        "fixed_on": reference,
        "held": "the same threshold is applied, unchanged, to every condition",
        "at_reference": {k: _rate_json(at_ref[k]) for k in ("fmr", "fnmr", "fpir", "fnir")},
    }
    capture = CaptureResult(
        mode=mode,
        condition_source=dict(condition_source or {}),
        reference_condition=reference,
        reference_rule=reference_rule,
        threshold=thr,
        split=dict(split or {}),
        gallery_size=N,
        rank=rank,
        list_length=list_length,
        bootstrap={
            "replicates": bootstrap,
            "confidence": confidence,
            "seed": seed,
            "unit": "subject (1:1 non-mated comparisons: probe and reference subjects)",
            "interval": DEFAULT_METHOD,
            "n_units": n_subj,
            "threshold_fixed": True,
        },
        conditions=tuple(results),
        sweeps=tuple(sweeps),
        sentences=tuple(c.sentence for c in results),
        warnings=tuple(warnings),
    )
    qual = None
    if quality is not None:
        from faceaudit.analyses._capture_quality import quality_analysis

        qual = quality_analysis(
            quality,
            references=references,
            probes=probes,
            conditions=conditions,
            scored=scored,
            threshold=t,
            rank=rank,
            n_subjects=n_subj,
            bootstrap=bootstrap,
            confidence=confidence,
            seed=seed,
            replicates=_subject_replicates,
        )
    return CaptureAnalysis(capture, qual)
