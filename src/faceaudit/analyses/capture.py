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

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from faceaudit import params
from faceaudit.errors import InputError
from faceaudit.stats.estimate import Rate, make_rate
from faceaudit.stats.rates import operating_threshold
from faceaudit.stats.scoreset import ScoreSet
from faceaudit.stats.support import min_comparisons

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
#: The rates of each condition, in results order.
RATES = ("fta", "fnmr", "generalized_fnmr", "fmr", "fnir", "generalized_fnir", "fpir")
_NAMES = {
    "fta": "FTA",
    "fnmr": "FNMR",
    "generalized_fnmr": "generalised FNMR",
    "fmr": "FMR",
    "fnir": "FNIR",
    "generalized_fnir": "generalised FNIR",
    "fpir": "FPIR",
}


# ---------------------------------------------------------------------------------------------
# The one bootstrap of this analysis (switch it here)
# ---------------------------------------------------------------------------------------------


def _subject_replicates(n_subjects: int, replicates: int, seed: int) -> Iterator[np.ndarray]:
    """``(b, n_subjects)`` subject multiplicities, ``replicates`` rows in all, seeded.

    The one call of this analysis (and of its quality part) into the bootstrap engine: every
    rate, ratio, EDC and gate interval is a weighted sum over these rows, so a new engine is
    wired in here alone. The same seed gives the same replicates to every caller.
    """
    from faceaudit.stats.bootstrap import Resampler

    return Resampler(n_units=n_subjects, n_boot=replicates, seed=seed).weight_batches()


def _interval(reps: np.ndarray, confidence: float) -> tuple[float, float] | None:
    """Percentile interval of the finite replicates (None if there is none)."""
    v = reps[np.isfinite(reps)]
    if v.size == 0:
        return None
    a = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(v, [a, 1.0 - a])
    return float(lo), float(hi)


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """One capture condition: its name (the key in results), a label for people, what it is.

    ``kind`` is ``"clean"`` (the photos as taken), ``"degradation"`` or ``"profile"`` (a
    synthetic sweep level) or ``"recorded"`` (a condition recorded with the photos). ``chain``
    holds the degradation specs' JSON of a synthetic level (a profile's as declared, for the
    reference face; ``scaled_to_face`` then says the lengths were scaled to each face).
    """

    name: str
    label: str
    kind: str = "recorded"
    sweep: str | None = None
    severity: int | None = None
    value: float | None = None
    meaning: str = ""
    chain: tuple[Mapping, ...] = ()
    scaled_to_face: bool = False

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "sweep": self.sweep,
            "severity": self.severity,
            "value": self.value,
            "meaning": self.meaning,
            "chain": [dict(c) for c in self.chain],
            "scaled_to_face": self.scaled_to_face,
        }


@dataclass(frozen=True, eq=False)
class References:
    """The clean references, at most one per subject.

    Attributes
    ----------
    embeddings : ndarray, float32, shape (n_ref, dim)
        L2-normalised.
    subject : ndarray of int, shape (n_ref,)
        Subject code (into the analysis's ``subjects``); each subject at most once.
    enrolled : ndarray of bool, shape (n_ref,)
        In the 1:N gallery (False for held-out subjects).
    sample : ndarray of str
        The reference image of each row.
    quality : ndarray of float, optional
        Each reference photo's quality (NaN: not assessed).
    """

    embeddings: np.ndarray
    subject: np.ndarray
    enrolled: np.ndarray
    sample: np.ndarray
    quality: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.subject.size)


@dataclass(frozen=True, eq=False)
class ProbeObservations:
    """Probe photos, one row per (photo, condition).

    Attributes
    ----------
    condition, subject : ndarray of int, shape (n,)
        Condition index and subject code.
    photo : ndarray of str
        A unique id of each row (the stored image and, for a synthetic condition, its name).
    sample : ndarray of str
        The stored image each row comes from.
    acquired : ndarray of bool
        A usable face was found (else a failure to acquire, with ``reason``).
    embeddings : ndarray, float32, shape (n, dim)
        L2-normalised for acquired rows (other rows are ignored).
    reason : ndarray of str
        The failure-to-acquire reason ("" when acquired).
    quality : ndarray of float, optional
        The photo's quality score (NaN: not assessed).
    measures : dict of str -> ndarray, optional
        Quality measures by name (for the per-condition summaries).
    """

    condition: np.ndarray
    subject: np.ndarray
    photo: np.ndarray
    sample: np.ndarray
    acquired: np.ndarray
    embeddings: np.ndarray
    reason: np.ndarray
    quality: np.ndarray | None = None
    measures: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.condition.size)


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatioToReference:
    """A condition's rate divided by the reference condition's, with its interval.

    ``value`` is None when the reference rate is 0; ``high`` is None when the interval has no
    finite upper end (the reference condition had no error in too many replicates).
    """

    value: float | None
    low: float | None
    high: float | None
    has_ci: bool

    def to_json(self) -> dict:
        """``{value, ci}``; an interval with no finite upper end is ``ci: null`` with
        ``ci_unbounded: true`` and ``ci_low`` (as the demographic ratios have it)."""
        if self.has_ci and self.high is None:
            return {
                "value": _f(self.value),
                "ci": None,
                "ci_unbounded": True,
                "ci_low": _f(self.low),
            }
        return {
            "value": _f(self.value),
            "ci": [_f(self.low), _f(self.high)] if self.has_ci else None,
        }


@dataclass(frozen=True)
class Difference:
    """A condition's rate minus the reference condition's, with its interval."""

    value: float | None
    ci: tuple[float, float] | None

    def to_json(self) -> dict:
        return {
            "value": _f(self.value),
            "ci": None if self.ci is None else [_f(self.ci[0]), _f(self.ci[1])],
        }


@dataclass(frozen=True)
class ConditionRates:
    """The rates of one condition at the fixed threshold, and how they compare."""

    condition: Condition
    reference: bool
    n_photos: int
    n_subjects: int
    rates: Mapping[str, Rate | None]
    fta_by_reason: Mapping[str, int]
    ratios: Mapping[str, RatioToReference]
    differences: Mapping[str, Difference]
    sentence: str

    def to_json(self) -> dict:
        out = self.condition.to_json()
        out.update(
            {
                "reference": self.reference,
                "n_photos": self.n_photos,
                "n_subjects": self.n_subjects,
            }
        )
        for k in RATES:
            r = self.rates.get(k)
            out[k] = _rate_json(r)
        out["fta_by_reason"] = dict(self.fta_by_reason)
        out["vs_reference"] = (
            None
            if self.reference
            else {
                k: {"ratio": self.ratios[k].to_json(), "difference": self.differences[k].to_json()}
                for k in RATES
                if k in self.ratios
            }
        )
        out["sentence"] = self.sentence
        return out


@dataclass(frozen=True)
class CaptureResult:
    """Everything the capture analysis found (``results.json`` key ``capture``)."""

    mode: str
    condition_source: Mapping
    reference_condition: str
    reference_rule: str
    threshold: Mapping
    split: Mapping
    gallery_size: int
    rank: int
    list_length: int
    bootstrap: Mapping
    conditions: tuple[ConditionRates, ...]
    sweeps: tuple[Mapping, ...]
    sentences: tuple[str, ...]
    warnings: tuple[str, ...]

    def __getitem__(self, name: str) -> ConditionRates:
        for c in self.conditions:
            if c.condition.name == name:
                return c
        raise KeyError(name)

    def to_json(self) -> dict:
        return _clean(
            {
                "mode": self.mode,
                "condition_source": dict(self.condition_source),
                "reference_condition": self.reference_condition,
                "reference_rule": self.reference_rule,
                "threshold": dict(self.threshold),
                "split": dict(self.split),
                "gallery_size": self.gallery_size,
                "rank": self.rank,
                "list_length": self.list_length,
                "bootstrap": dict(self.bootstrap),
                "conditions": [c.to_json() for c in self.conditions],
                "sweeps": [dict(s) for s in self.sweeps],
                "sentences": list(self.sentences),
                "warnings": list(self.warnings),
            }
        )


@dataclass(frozen=True)
class CaptureAnalysis:
    """The capture result and, when photos carry quality scores, the quality result."""

    capture: CaptureResult
    quality: object | None = None

    def analyses(self) -> dict:
        out = {"capture": self.capture}
        if self.quality is not None:
            out["quality"] = self.quality
        return out

    @property
    def warnings(self) -> tuple[str, ...]:
        more = () if self.quality is None else tuple(self.quality.warnings)
        return tuple(self.capture.warnings) + more


def _f(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _clean(obj):
    """Plain JSON: NaN and infinities become null."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return _f(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _rate_json(r: Rate | None) -> dict:
    if r is None:
        return {
            "value": None,
            "ci": None,
            "count": None,
            "n": 0,
            "upper_bound": False,
            "lower_bound": False,
            "bound": None,
        }
    return r.to_json()


# ---------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------


@dataclass
class _Counts:
    """Per-subject counts of one condition; ``fmr_pairs`` is two-way (pairs of subjects)."""

    tables: dict[str, tuple[np.ndarray, np.ndarray]]  # rate -> (n per subject, errors per subject)
    fmr_a: np.ndarray  # acquired probes per subject
    fmr_pairs: tuple[np.ndarray, np.ndarray, np.ndarray]  # (probe subj, ref subj, false matches)
    fmr_n: int
    fmr_errors: int
    reasons: dict[str, int]
    n_photos: int
    n_subjects: int


class _Scored:
    """The scores of one condition's acquired probes against the references."""

    def __init__(self, probes: ProbeObservations, refs: References, rows: np.ndarray, n_subj):
        self.rows = rows
        emb = probes.embeddings[rows].astype(np.float64)
        self.S = emb @ refs.embeddings.astype(np.float64).T  # (k, n_ref)
        self.subj = probes.subject[rows]
        ref_of = np.full(n_subj, -1, dtype=np.int64)
        ref_of[refs.subject] = np.arange(refs.n)
        self.own = ref_of[self.subj]
        self.has_ref = self.own >= 0
        k = rows.size
        self.mated = self.S[np.flatnonzero(self.has_ref), self.own[self.has_ref]]
        self.mated_rows = np.flatnonzero(self.has_ref)
        self.nonmated_mask = refs.subject[None, :] != self.subj[:, None]
        gallery = np.flatnonzero(refs.enrolled)
        self.gallery = gallery
        in_gallery = np.zeros(refs.n, dtype=bool)
        in_gallery[gallery] = True
        self.enrolled_probe = self.has_ref & in_gallery[np.where(self.has_ref, self.own, 0)]
        Sg = self.S[:, gallery] if gallery.size else np.zeros((k, 0))
        mi = np.flatnonzero(self.enrolled_probe)
        mate = self.S[mi, self.own[mi]]
        self.mate_rank = 1 + (Sg[mi] > mate[:, None]).sum(axis=1) if mi.size else np.zeros(0)
        self.mate_score = mate
        self.mated_search_rows = mi
        ni = np.flatnonzero(~self.enrolled_probe)
        self.nonmated_search_rows = ni
        self.nonmated_top = (
            Sg[ni].max(axis=1) if gallery.size and ni.size else np.full(ni.size, -np.inf)
        )

    def mate_scores_at_rank(self, rank: int) -> np.ndarray:
        return np.where(self.mate_rank <= rank, self.mate_score, -np.inf)


def _count(
    probes: ProbeObservations,
    refs: References,
    scored: _Scored,
    sel: np.ndarray,
    t: float,
    rank: int,
    n_subj: int,
) -> _Counts:
    def per(subj, err=None):
        n = np.bincount(subj, minlength=n_subj).astype(np.float64)
        e = (
            np.zeros(n_subj)
            if err is None
            else np.bincount(subj, weights=err.astype(np.float64), minlength=n_subj)
        )
        return n, e

    acquired = probes.acquired[sel]
    subj_all = probes.subject[sel]
    failed_subj = subj_all[~acquired]
    tables: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    tables["fta"] = per(subj_all, ~acquired)
    ms = scored.subj[scored.mated_rows]
    tables["fnmr"] = per(ms, scored.mated < t)
    ref_subjects = np.zeros(n_subj, dtype=bool)
    ref_subjects[refs.subject] = True
    enrolled_subjects = np.zeros(n_subj, dtype=bool)
    enrolled_subjects[refs.subject[refs.enrolled]] = True
    fm = failed_subj[ref_subjects[failed_subj]]
    n, e = tables["fnmr"]
    fn_f = np.bincount(fm, minlength=n_subj).astype(np.float64)
    tables["generalized_fnmr"] = (n + fn_f, e + fn_f)
    mi = scored.mated_search_rows
    ss = scored.subj[mi]
    tables["fnir"] = per(ss, scored.mate_scores_at_rank(rank) < t)
    fe = failed_subj[enrolled_subjects[failed_subj]]
    n, e = tables["fnir"]
    fn_e = np.bincount(fe, minlength=n_subj).astype(np.float64)
    tables["generalized_fnir"] = (n + fn_e, e + fn_e)
    ni = scored.nonmated_search_rows
    tables["fpir"] = per(scored.subj[ni], scored.nonmated_top >= t)
    # 1:1 non-mated, two-way: n_pr = a_p * b_r (p != r); false matches as sparse pairs
    a = np.bincount(scored.subj, minlength=n_subj).astype(np.float64)
    b = np.bincount(refs.subject, minlength=n_subj).astype(np.float64)
    hit = (scored.S >= t) & scored.nonmated_mask
    kk, jj = np.nonzero(hit)
    pair = scored.subj[kk].astype(np.int64) * n_subj + refs.subject[jj].astype(np.int64)
    uniq, cnt = np.unique(pair, return_counts=True)
    fmr_n = int(a.sum() * b.sum() - (a * b).sum())
    reasons: dict[str, int] = {}
    for r in probes.reason[sel][~acquired]:
        reasons[str(r)] = reasons.get(str(r), 0) + 1
    reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    return _Counts(
        tables,
        a,
        (uniq // n_subj, uniq % n_subj, cnt.astype(np.float64)),
        fmr_n,
        int(kk.size),
        reasons,
        int(sel.size),
        int(np.unique(subj_all).size),
    )


def _replicate_rates(counts: _Counts, w: np.ndarray, b_ref: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, (n, e) in counts.tables.items():
            out[k] = (w @ e) / (w @ n)
        p, r, c = counts.fmr_pairs
        num = (w[:, p] * w[:, r]) @ c if c.size else np.zeros(w.shape[0])
        a = counts.fmr_a
        den = (w @ a) * (w @ b_ref) - (w * w) @ (a * b_ref)
        out["fmr"] = num / den
    return out


# ---------------------------------------------------------------------------------------------
# Threshold
# ---------------------------------------------------------------------------------------------


def _fix_threshold(
    scored: _Scored, rank: int, fmr_target, fpir_target, threshold, ref_name, confidence
):
    given = [x is not None for x in (fmr_target, fpir_target, threshold)]
    if sum(given) != 1:
        raise InputError(
            "fix the threshold one way: an FMR target, an FPIR target or a threshold value "
            f"(got {sum(given)})."
        )
    if threshold is not None:
        t = params.finite_number("threshold", threshold)
        return t, {"rule": "value", "target": None}
    if fmr_target is not None:
        target = params.rate_targets("fmr_targets", [fmr_target])[0]
        neg = scored.S[scored.nonmated_mask]
        pos = scored.mated
        name, what, param = "FMR", "non-mated comparisons", "fmr_targets"
    else:
        target = params.rate_targets("fpir_targets", [fpir_target])[0]
        neg = scored.nonmated_top
        pos = scored.mate_scores_at_rank(rank)
        name, what, param = "FPIR", "non-mated searches", "fpir_targets"
    need = min_comparisons(target, confidence)
    if neg.size < need:
        raise params.ParameterError(
            param,
            target,
            f"the reference condition {ref_name!r} has {neg.size:,} {what}, too few to fix a "
            f"threshold at {name} {target:g} (a zero count's bound reaches it from {need:,}); "
            "use a larger target or give the threshold.",
        )
    op = operating_threshold(ScoreSet(neg), ScoreSet(pos), target)
    return float(op.threshold), {"rule": f"{name.lower()}_target", "target": target}


# ---------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------


def _num(x: float) -> str:
    x = 100.0 * x
    if x == 0:
        return "0"
    if x >= 10:
        return f"{x:.0f}"
    if x >= 1:
        return f"{x:.1f}"
    return f"{x:.2g}"


def _clause(r: Rate | None, things: str, verb: str, confidence: float, extra: str = "") -> str:
    """``"9.5% (95% CI 0-21%) of genuine comparisons fail to match"`` and its special cases.

    ``things`` is plural ("genuine comparisons"), ``verb`` plural ("fail to match"); ``extra``
    goes inside the same parentheses.
    """
    more = f"; {extra}" if extra else ""
    if r is None or r.n == 0:
        return f"no {things} could be made or counted" + (f" ({extra})" if extra else "")
    if r.upper_bound and r.ci is not None:
        return f"none of {r.n:,} {things} {verb} (at most {_num(r.ci[1])}%{more})"
    if r.ci is None:
        return f"{_num(r.value)}% of {things} {verb}" + (f" ({extra})" if extra else "")
    lo, hi = _num(r.ci[0]), _num(r.ci[1])
    return f"{_num(r.value)}% ({confidence:.0%} CI {lo}-{hi}%{more}) of {things} {verb}"


def _short(r: Rate | None, confidence: float) -> str:
    if r is None or r.n == 0:
        return "not measured"
    if r.upper_bound and r.ci is not None:
        return f"none of {r.n:,}"
    return f"{_num(r.value)}%"


def _compare(
    ratio: RatioToReference, diff: Difference, rate: Rate, ref_rate: Rate | None, ref: str
) -> str:
    """How a rate compares with the reference's: ratio when defined, else the difference."""
    if rate.count == 0 and ref_rate is not None and ref_rate.count == 0:
        return f"none on {ref} either"
    if ratio.value is not None and ref_rate is not None and ref_rate.count > 0:
        head = f"{ratio.value:.1f} times the rate on {ref}"
    elif diff.value is not None:
        head = f"{100 * diff.value:+.1f} points from {ref}"
    else:
        return f"not comparable with {ref}"
    if diff.ci is not None and diff.ci[0] > 0:
        return head + ", clearly higher"
    if diff.ci is not None and diff.ci[1] < 0:
        return head + ", clearly lower"
    return head + f"; these data cannot tell it apart from {ref}"


def _sentence(c: ConditionRates, ref: ConditionRates, threshold_text: str, confidence) -> str:
    r = c.rates
    if c.reference:
        fnmr = _clause(r["fnmr"], "genuine comparisons", "fail to match", confidence)
        fta = _clause(r["fta"], "photos", "yield no usable face", confidence)
        fpir = _clause(
            r["fpir"],
            "searches for people not enrolled",
            "return someone above the threshold",
            confidence,
        )
        return (
            f"On {c.condition.label} (the reference condition, where the threshold was fixed "
            f"{threshold_text}), {fnmr}, {fta}, and {fpir}."
        )
    refname = ref.condition.label
    fnmr = r["fnmr"]
    if fnmr is None or fnmr.n == 0:
        head = f"{c.condition.label}: no genuine comparison could be made"
    else:
        how = _compare(c.ratios["fnmr"], c.differences["fnmr"], fnmr, ref.rates["fnmr"], refname)
        head = (
            f"{c.condition.label}: at the threshold fixed on {refname}, "
            f"{_clause(fnmr, 'genuine comparisons', 'fail to match', confidence, how)}"
        )
    fta_ref = f"{refname}: {_short(ref.rates['fta'], confidence)}"
    text = f"{head}, and {_clause(r['fta'], 'photos', 'yield no usable face', confidence, fta_ref)}"
    fpir = r.get("fpir")
    d = c.differences["fpir"].ci if "fpir" in c.differences else None
    if fpir is not None and fpir.n and d is not None:
        if d[0] > 0:
            text += f"; false alarms in 1:N searches rise to {_num(fpir.value)}%"
        elif d[1] < 0:
            text += f"; false alarms in 1:N searches fall to {_num(fpir.value)}%"
    return text + "."


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
        ci = _interval(R[k][name], confidence) if R[k][name] is not None else None
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


def _warnings(results: list[ConditionRates], ref: ConditionRates, gallery_size: int) -> list[str]:
    out = []
    if gallery_size == 0:
        out.append("No subject is enrolled in the 1:N gallery: FNIR and FPIR are not measured.")
    for c in results:
        fnmr = c.rates.get("fnmr")
        if fnmr is None:
            out.append(
                f"Condition {c.condition.name!r}: no genuine comparison (no probe with a face "
                "and a reference): its FNMR is not measured."
            )
        elif fnmr.n < 30:
            out.append(
                f"Condition {c.condition.name!r} rests on {fnmr.n} genuine comparisons: its "
                "rates are rough (wide intervals)."
            )
    fpir = ref.rates.get("fpir")
    if fpir is not None and fpir.n < 30:
        out.append(
            f"The reference condition has {fpir.n} non-mated searches: FPIR figures are rough; "
            "hold out more subjects for more."
        )
    return out
