"""Demographic differentials: who bears the errors at one global threshold, with intervals.

A deployed system applies one threshold to everyone. This analysis fixes that threshold once
(on the whole data set at an FMR target, on a named reference group, or as given) and measures,
for every group of subjects (an attribute such as ``sex``, or an intersection such as
``sex × age_band``):

* **1:1** (:func:`verification_differentials`): the group's FNMR (genuine comparisons of its
  subjects), its FMR from impostor comparisons *within* the group (probe and reference both in
  it), and the cross-group FMR matrix (probe group × reference group);
* **1:N** (:func:`identification_differentials`): per probe group, FPIR (non-mated searches of
  its people) and FNIR (mated searches of its people). A non-mated search has no single
  reference, so there is no cross-group matrix.

Summaries (NIST IR 8280; ISO/IEC 19795-10): each group's ratio to the best (lowest-error) group,
``max / min`` and ``max / geometric mean`` over the groups, and the GARBE index of Howard et al.
(2022). Every rate and every ratio carries a confidence interval from a subject bootstrap
stratified by group (:mod:`faceaudit.stats.groups`): the same draw serves every group of a
replicate, so ratios get joint intervals. The threshold stays fixed in the replicates.

Small groups are flagged, never hidden:

* **rule of 3** (ISO/IEC 19795-1): with no error among ``n`` comparisons the rate is reported
  as the bound ``3 / n`` (95%); a group's rate is *supported* only when its ``n`` is large
  enough for that bound to reach the rate of the whole data set at this threshold
  (``3 / n <= overall rate``), otherwise even a zero count could not show the group is as good
  as everyone else;
* **rule of 30** (Doddington et al. 2000): with fewer than 30 observed errors the relative
  uncertainty of a rate is large (the 90% interval spans more than ±30% of it); such rates
  are flagged and their sentences say so.

Summaries are computed over the supported groups only (their names are listed with them).

Plain language: every differential becomes a sentence ("At this threshold, impostors in group
A are falsely matched 8.3× (95% CI 5.1–12.0) as often as those in group B"); when the interval
of a ratio includes 1 the sentence says that the data cannot tell the groups apart.

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
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from faceaudit.data import InputFile, SubjectGroups
from faceaudit.data.orientation import SIMILARITY, to_file_units, to_similarity
from faceaudit.errors import InputError
from faceaudit.stats.bootstrap import percentile_interval
from faceaudit.stats.estimate import Rate, make_rate, rule_of_three
from faceaudit.stats.groups import StratifiedResampler, gini, group_counts
from faceaudit.stats.rates import operating_threshold, target_supported
from faceaudit.stats.scoreset import ScoreSet

if TYPE_CHECKING:  # pragma: no cover
    from faceaudit.analyses.verification import VerificationResult
    from faceaudit.data import ComparisonScores
    from faceaudit.stats.identification import SearchOutcomes

__all__ = [
    "DEFAULT_FMR_TARGET",
    "DEFAULT_FPIR_TARGET",
    "DEFAULT_GARBE_ALPHA",
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

DEFAULT_FMR_TARGET = 1e-3
DEFAULT_FPIR_TARGET = 1e-2
DEFAULT_GARBE_ALPHA = 0.5
#: Doddington's rule of 30: fewer errors than this means a large relative uncertainty.
RULE_OF_30 = 30

RULES = (
    "Rule of 3 (ISO/IEC 19795-1): with no error among n comparisons, the rate is reported as "
    "its upper bound -ln(1 - confidence)/n (3/n at 95%), not as zero. A group's rate is "
    "supported only when 3/n is no higher than the rate of the whole data set at this "
    "threshold: a smaller group could not show that it is as good as everyone else.",
    "Rule of 30 (Doddington et al. 2000): a rate resting on fewer than 30 errors has a large "
    "relative uncertainty (its 90% interval spans more than ±30% of it); such rates are flagged.",
    "Unsupported groups are shown and flagged, never hidden; summaries (max/min, max/geometric "
    "mean, GARBE) use the supported groups only.",
)


# ---------------------------------------------------------------------------------------------
# Result types


@dataclass(frozen=True)
class Ratio:
    """A group's rate divided by the best group's, with a joint bootstrap interval.

    ``upper_bound`` is True when the group had no error: ``value`` is 0 and ``ci`` is
    ``[0, rule-of-3 bound / best rate]``. When the interval has no finite upper end (the best
    group had no error in too many replicates) ``ci`` is None and ``ci_low`` holds its lower end:
    the interval is ``[ci_low, infinity)``.
    """

    value: float | None
    ci: tuple[float, float] | None
    reference_group: str
    upper_bound: bool = False
    ci_low: float | None = None

    @property
    def ci_unbounded(self) -> bool:
        return self.ci is None and self.ci_low is not None

    def covers_one(self) -> bool | None:
        """Whether the interval includes 1 (the data cannot tell the groups apart)."""
        if self.ci is None:
            return None if self.ci_low is None else self.ci_low <= 1.0
        return self.ci[0] <= 1.0 <= self.ci[1]

    def to_json(self) -> dict:
        out = {
            "value": _num(self.value),
            "ci": None if self.ci is None else [_num(self.ci[0]), _num(self.ci[1])],
            "reference_group": self.reference_group,
            "upper_bound": bool(self.upper_bound),
        }
        if self.ci_unbounded:
            out["ci_unbounded"] = True
            out["ci_low"] = _num(self.ci_low)
        return out


@dataclass(frozen=True)
class SummaryValue:
    """A summary statistic over groups, with its bootstrap interval (see :class:`Ratio`)."""

    value: float | None
    ci: tuple[float, float] | None
    ci_low: float | None = None

    @property
    def ci_unbounded(self) -> bool:
        return self.ci is None and self.ci_low is not None

    def to_json(self) -> dict:
        out = {
            "value": _num(self.value),
            "ci": None if self.ci is None else [_num(self.ci[0]), _num(self.ci[1])],
        }
        if self.ci_unbounded:
            out["ci_unbounded"] = True
            out["ci_low"] = _num(self.ci_low)
        return out


@dataclass(frozen=True)
class GroupRates:
    """One group's error rates at the global threshold.

    ``false_positive`` is the FMR (1:1, within-group impostor comparisons) or FPIR (1:N);
    ``false_negative`` the FNMR or FNIR. ``*_supported`` follow the rule of 3 (module docstring).
    """

    group: str
    n_subjects: int
    false_positive: Rate
    false_negative: Rate
    fp_supported: bool
    fn_supported: bool
    fp_ratio: Ratio | None = None
    fn_ratio: Ratio | None = None
    flags: tuple[str, ...] = ()

    @property
    def supported(self) -> bool:
        return self.fp_supported and self.fn_supported

    def to_json(self, fp: str = "fmr", fn: str = "fnmr") -> dict:
        out: dict[str, Any] = {
            "group": self.group,
            "n_subjects": int(self.n_subjects),
            fp: self.false_positive.to_json(),
            fn: self.false_negative.to_json(),
            "supported": self.supported,
            f"{fp}_supported": self.fp_supported,
            f"{fn}_supported": self.fn_supported,
            f"{fp}_few_errors": 0 < self.false_positive.count < RULE_OF_30,
            f"{fn}_few_errors": 0 < self.false_negative.count < RULE_OF_30,
        }
        if self.fp_ratio is not None:
            out[f"{fp}_ratio"] = self.fp_ratio.to_json()
        if self.fn_ratio is not None:
            out[f"{fn}_ratio"] = self.fn_ratio.to_json()
        out["flags"] = list(self.flags)
        return out


@dataclass(frozen=True)
class CrossCell:
    """FMR of impostor comparisons with the probe in one group and the reference in another."""

    probe_group: str
    reference_group: str
    fmr: Rate
    supported: bool

    def to_json(self) -> dict:
        return {
            "probe_group": self.probe_group,
            "reference_group": self.reference_group,
            "fmr": self.fmr.to_json(),
            "supported": self.supported,
        }


@dataclass(frozen=True)
class DemographicsResult:
    """Everything the demographic analysis found; the report reads only ``to_json()``.

    ``mode`` is ``"verification"`` (1:1; rates ``fmr``/``fnmr``) or ``"identification"`` (1:N;
    ``fpir``/``fnir``). ``threshold`` is similarity-oriented; ``to_json`` writes it in the units
    of the scores' file (``orientation``).
    """

    mode: str
    attribute: str
    attributes: tuple[str, ...]
    threshold: float
    threshold_source: str
    threshold_rule: dict
    threshold_supported: bool
    groups: tuple[GroupRates, ...]
    cross: tuple[CrossCell, ...]
    overall_false_positive: Rate
    overall_false_negative: Rate
    best_groups: dict
    summary: dict
    sentences: tuple[str, ...]
    coverage: dict
    bootstrap: dict
    metadata: InputFile | None = None
    warnings: tuple[str, ...] = field(default=())
    orientation: str = SIMILARITY

    @property
    def rate_names(self) -> tuple[str, str]:
        return ("fmr", "fnmr") if self.mode == "verification" else ("fpir", "fnir")

    @property
    def results_key(self) -> str:
        """The results.json key: ``demographics`` (1:1) or ``identification_demographics``."""
        return "demographics" if self.mode == "verification" else "identification_demographics"

    def group(self, name: str) -> GroupRates:
        for g in self.groups:
            if g.group == name:
                return g
        raise KeyError(name)

    def to_json(self) -> dict:
        fp, fn = self.rate_names
        summary = {
            k: (v.to_json() if isinstance(v, SummaryValue) else v) for k, v in self.summary.items()
        }
        return {
            "mode": self.mode,
            "attribute": self.attribute,
            "attributes": list(self.attributes),
            "threshold": _num(to_file_units(self.threshold, self.orientation)),
            "threshold_source": self.threshold_source,
            "threshold_rule": dict(self.threshold_rule),
            "threshold_supported": bool(self.threshold_supported),
            f"overall_{fp}": self.overall_false_positive.to_json(),
            f"overall_{fn}": self.overall_false_negative.to_json(),
            "groups": [g.to_json(fp, fn) for g in self.groups],
            "cross_fmr": [c.to_json() for c in self.cross],
            "best_group": dict(self.best_groups),
            "summary": summary,
            "sentences": list(self.sentences),
            "rules": list(RULES),
            "coverage": dict(self.coverage),
            "metadata": None if self.metadata is None else self.metadata.to_json(),
            "bootstrap": dict(self.bootstrap),
            "warnings": list(self.warnings),
        }


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


# ---------------------------------------------------------------------------------------------
# Which threshold


@dataclass(frozen=True)
class ThresholdRule:
    """How the one global threshold is fixed.

    ``kind`` is ``"all"`` (the whole data set at a false-positive target), ``"group"`` (group
    ``group``'s own comparisons at the target) or ``"value"`` (``value``, in the input's units).

    Text form (:meth:`parse`, the CLI's ``--threshold-from``): ``all``, ``all@1e-4``,
    ``group=NAME``, ``group=NAME@1e-4``, a bare group name (``female``, ``female@1e-4``),
    ``value=0.42`` or a bare number (``0.42``).

    ``value`` is similarity-oriented, like every threshold inside faceaudit: the audit that parses
    a distance file's rule negates it (:func:`faceaudit.data.orientation.to_similarity`);
    ``label`` keeps the value as the user wrote it, in the file's units.
    """

    kind: str = "all"
    target: float | None = None
    group: str | None = None
    value: float | None = None
    label: str | None = None

    def in_similarity(self, orientation: str) -> ThresholdRule:
        """The rule with a given value converted from ``orientation`` units (once, at the edge)."""
        if self.kind != "value":
            return self
        return replace(self, value=to_similarity(self.value, orientation))

    @classmethod
    def parse(cls, text: str | float | ThresholdRule | None, *, default_target: float):
        if isinstance(text, ThresholdRule):
            rule = text
            if rule.kind != "value" and rule.target is None:
                rule = ThresholdRule(rule.kind, default_target, rule.group, None)
            return rule.checked()
        if text is None:
            return cls("all", default_target)
        if isinstance(text, int | float) and not isinstance(text, bool):
            return cls("value", value=float(text), label=f"{float(text):g}").checked()
        s = str(text).strip()
        if not s:
            return cls("all", default_target)
        if s.lower().startswith("value="):
            v = _parse_number(s[6:], s)
            return cls("value", value=v, label=f"{v:g}").checked()
        try:
            return cls("value", value=float(s), label=f"{float(s):g}").checked()
        except ValueError:
            pass
        body, target = s, default_target
        if "@" in s:
            head, tail = s.rsplit("@", 1)
            try:
                target = float(tail)
                body = head
            except ValueError:
                body = s
        if body.lower() == "all":
            return cls("all", target).checked()
        if body.lower().startswith("group="):
            body = body[6:]
        if not body.strip():
            raise InputError(f"--threshold-from {s!r} names no group; write group=NAME.")
        return cls("group", target, body.strip()).checked()

    def checked(self) -> ThresholdRule:
        if self.kind not in ("all", "group", "value"):
            raise InputError(f"threshold rule {self.kind!r} is not known; use all, group or value.")
        if self.kind == "value":
            if self.value is None or not math.isfinite(self.value):
                raise InputError("--threshold-from value= needs a finite number.")
        elif self.target is None or not 0.0 < self.target <= 1.0:
            raise InputError(
                f"the target of --threshold-from ({self.target!r}) is not a rate in (0, 1]."
            )
        return self

    def to_json(self, orientation: str = SIMILARITY) -> dict:
        value = None if self.value is None else to_file_units(self.value, orientation)
        return {"kind": self.kind, "target": self.target, "group": self.group, "value": value}


def _parse_number(text: str, whole: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"--threshold-from {whole!r}: {text!r} is not a number.") from None


# ---------------------------------------------------------------------------------------------
# Shared core


@dataclass(frozen=True)
class _Vocabulary:
    mode: str
    fp: str  # "fmr"
    fn: str  # "fnmr"
    fp_upper: str
    fn_upper: str
    fp_sentence: str  # "impostors in group {g} are falsely matched"
    fp_those: str  # "as often as those in group {b}"
    fn_sentence: str
    fp_what: str  # "impostor comparisons within the group"
    fn_what: str
    fp_pool: str  # "impostor comparisons" (the whole data set's)
    fp_error: str  # "false matches"
    fn_error: str


_VERIFY = _Vocabulary(
    "verification",
    "fmr",
    "fnmr",
    "FMR",
    "FNMR",
    "impostors in group {g} are falsely matched",
    "as often as those in group {b}",
    "genuine users in group {g} are falsely rejected",
    "impostor comparisons within the group",
    "genuine comparisons",
    "impostor comparisons",
    "false matches",
    "false non-matches",
)
_IDENTIFY = _Vocabulary(
    "identification",
    "fpir",
    "fnir",
    "FPIR",
    "FNIR",
    "searches of people in group {g} who are not enrolled return a false candidate",
    "as often as those of group {b}",
    "searches of enrolled people in group {g} miss their mate",
    "non-mated searches",
    "mated searches",
    "non-mated searches",
    "false candidates",
    "missed mates",
)


def _interval(
    reps: np.ndarray, confidence: float
) -> tuple[tuple[float, float] | None, float | None]:
    """Percentile interval of replicates (NaN ignored): ``(ci, None)``, or ``(None, low)`` when
    its top is infinite (``[low, inf)``), or ``(None, None)`` when there are no replicates."""
    r = reps[~np.isnan(reps)]
    if r.size == 0:
        return None, None
    inf = np.isinf(r)
    if inf.all():
        return None, math.inf
    if inf.any():
        # Interpolating between infinities gives NaN: hold them at the largest finite value and
        # call the interval unbounded when its top reaches them.
        top = float(r[~inf].max())
        r = np.where(inf, top, r)
        lo, hi = (float(v) for v in percentile_interval(r, confidence))
        upper_index = (1.0 - (1.0 - confidence) / 2.0) * (r.size - 1)
        if math.ceil(upper_index) >= r.size - int(inf.sum()):
            lower_index = (1.0 - confidence) / 2.0 * (r.size - 1)
            low = math.inf if math.ceil(lower_index) >= r.size - int(inf.sum()) else lo
            return None, low
        return (lo, hi), None
    lo, hi = (float(v) for v in percentile_interval(r, confidence))
    return (lo, hi), None


def _rate(count: int, n: int, reps: np.ndarray | None, confidence: float) -> Rate:
    ci = None
    if reps is not None and n > 0:
        ci, _ = _interval(reps, confidence)
    return make_rate(int(count), int(n), ci, confidence=confidence)


def _supported(n: int, overall: float | None, confidence: float) -> bool:
    """Rule of 3: a group's rate is supported when its bound 3/n reaches the overall rate."""
    if n <= 0 or overall is None or overall <= 0:
        return False
    return bool(rule_of_three(n, confidence) <= float(overall))


def _max_over_geomean(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(x)
        gm = np.exp(logs.mean(axis=-1))
        return x.max(axis=-1) / gm


def _max_over_min(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return x.max(axis=-1) / x.min(axis=-1)


def _summary_value(point: float, reps: np.ndarray | None, confidence: float) -> SummaryValue:
    if not math.isfinite(point):
        return SummaryValue(None, None)
    if reps is None:
        return SummaryValue(point, None)
    ci, low = _interval(reps, confidence)
    return SummaryValue(point, ci, low)


def _fx(r: float) -> str:
    """A ratio for a sentence: ``0.27``, ``8.3``, ``12.0``, ``140``."""
    if r < 1:
        return f"{r:.2g}"
    return f"{r:.1f}" if r < 100 else f"{r:.0f}"


def _fr(x: float) -> str:
    """A rate for a sentence: 3 significant digits."""
    return f"{x:.3g}"


def _run(
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
    extra_warnings: Sequence[str] = (),
) -> DemographicsResult:
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    if not 0.0 <= garbe_alpha <= 1.0:
        raise ValueError("garbe_alpha must be in [0, 1]")
    if bootstrap < 0:
        raise ValueError("bootstrap must be >= 0")
    G = groups.n_groups
    names = groups.names
    group_of_unit = np.asarray(group_of_unit, dtype=np.int64)
    warnings = list(groups.warnings()) + list(extra_warnings)

    # -- the one global threshold ----------------------------------------------------------------
    t, source, thr_supported = _choose_threshold(
        vocab,
        rule,
        negatives,
        positives,
        negative_reference_units,
        groups,
        group_of_unit,
        reused_threshold,
    )
    if not thr_supported:
        warnings.append(
            f"The threshold ({source}) is not supported by the data: fewer than 3/target "
            f"{vocab.fp_pool} to observe the target rate. The differentials "
            "below are measured at it all the same."
        )

    # -- one pass: per-subject counts, split by group ------------------------------------------
    counts = group_counts(
        negatives,
        positives,
        t,
        group_of_unit,
        G,
        negative_reference_units=negative_reference_units,
    )
    neg_tot, pos_tot = counts.totals()
    by_ref = counts.by_reference
    diag = np.arange(G)
    within = neg_tot[diag, diag] if by_ref else neg_tot[:, 0]  # (G, 2)
    total_neg = neg_tot.sum(axis=(0, 1))
    total_pos = pos_tot.sum(axis=0)
    overall_fp = float(total_neg[1] / total_neg[0]) if total_neg[0] else None
    overall_fn = float(total_pos[1] / total_pos[0]) if total_pos[0] else None

    # -- bootstrap replicates (stratified by group, shared by all groups) ---------------------
    fp_reps = fn_reps = cross_reps = None
    if bootstrap > 0:
        res = StratifiedResampler(counts.strata(), bootstrap, seed)
        fps, fns, crs = [], [], []
        for w in res.weight_batches():
            nb, pb = counts.replicate_totals(w)
            with np.errstate(invalid="ignore", divide="ignore"):
                wb = nb[:, diag, diag] if by_ref else nb[:, :, 0]
                fps.append(wb[..., 1] / wb[..., 0])
                fns.append(pb[..., 1] / pb[..., 0])
                if by_ref:
                    crs.append(nb[..., 1] / nb[..., 0])
        fp_reps, fn_reps = np.concatenate(fps), np.concatenate(fns)
        cross_reps = np.concatenate(crs) if by_ref else None

    # -- per-group rates ----------------------------------------------------------------------
    fp_rates = [
        _rate(within[g, 1], within[g, 0], None if fp_reps is None else fp_reps[:, g], confidence)
        for g in range(G)
    ]
    fn_rates = [
        _rate(pos_tot[g, 1], pos_tot[g, 0], None if fn_reps is None else fn_reps[:, g], confidence)
        for g in range(G)
    ]
    fp_ok = [_supported(int(within[g, 0]), overall_fp, confidence) for g in range(G)]
    fn_ok = [_supported(int(pos_tot[g, 0]), overall_fn, confidence) for g in range(G)]

    fp_best, fp_ratios = _ratios(fp_rates, fp_ok, fp_reps, names, confidence)
    fn_best, fn_ratios = _ratios(fn_rates, fn_ok, fn_reps, names, confidence)

    n_without = len(groups.subjects_without_metadata)
    group_rows = []
    for g in range(G):
        flags = []
        if n_without and _all_unknown(names[g]):
            flags.append(f"includes {n_without} subjects without metadata")
        if fp_best == g:
            flags.append(f"lowest {vocab.fp_upper}: reference of the {vocab.fp_upper} ratios")
        if fn_best == g:
            flags.append(f"lowest {vocab.fn_upper}: reference of the {vocab.fn_upper} ratios")
        group_rows.append(
            GroupRates(
                group=names[g],
                n_subjects=int(n_subjects[g]),
                false_positive=fp_rates[g],
                false_negative=fn_rates[g],
                fp_supported=fp_ok[g],
                fn_supported=fn_ok[g],
                fp_ratio=fp_ratios[g],
                fn_ratio=fn_ratios[g],
                flags=tuple(flags),
            )
        )

    # -- cross-group matrix -------------------------------------------------------------------
    cross = []
    if by_ref:
        for p in range(G):
            for r in range(G):
                reps = None if cross_reps is None else cross_reps[:, p, r]
                cross.append(
                    CrossCell(
                        names[p],
                        names[r],
                        _rate(neg_tot[p, r, 1], neg_tot[p, r, 0], reps, confidence),
                        _supported(int(neg_tot[p, r, 0]), overall_fp, confidence),
                    )
                )

    # -- summaries over the supported groups ---------------------------------------------------
    summary = _summaries(
        vocab, fp_rates, fn_rates, fp_ok, fn_ok, fp_reps, fn_reps, names, confidence, garbe_alpha
    )

    overall_fp_rate = make_rate(int(total_neg[1]), int(total_neg[0]), None, confidence=confidence)
    overall_fn_rate = make_rate(int(total_pos[1]), int(total_pos[0]), None, confidence=confidence)
    sentences = _sentences(
        vocab,
        group_rows,
        cross,
        fp_best,
        fn_best,
        overall_fp,
        overall_fn,
        confidence,
        groups,
    )
    return DemographicsResult(
        mode=vocab.mode,
        attribute=groups.attribute,
        attributes=groups.attributes,
        threshold=t,
        threshold_source=source,
        threshold_rule=rule.to_json(orientation),
        orientation=orientation,
        threshold_supported=thr_supported,
        groups=tuple(group_rows),
        cross=tuple(cross),
        overall_false_positive=overall_fp_rate,
        overall_false_negative=overall_fn_rate,
        best_groups={
            vocab.fp: None if fp_best is None else names[fp_best],
            vocab.fn: None if fn_best is None else names[fn_best],
        },
        summary=summary,
        sentences=tuple(sentences),
        coverage=groups.coverage_json(),
        bootstrap={
            "replicates": int(bootstrap),
            "confidence": float(confidence),
            "unit": "subject",
            "stratified_by_group": True,
            "n_units": int(counts.active_units().sum()),
            "seed": int(seed),
            "threshold_fixed": True,
        },
        metadata=groups.source,
        warnings=tuple(warnings),
    )


def _all_unknown(name: str) -> bool:
    from faceaudit.data.metadata import GROUP_SEPARATOR, UNKNOWN

    return all(p == UNKNOWN for p in name.split(GROUP_SEPARATOR))


def _subset(scores: ScoreSet, mask_fn) -> ScoreSet:
    """The scores (and units) selected by ``mask_fn(start, stop)``, as a new in-memory set."""
    vals, units = [], []
    for start, x in scores.chunks():
        m = mask_fn(start, start + x.size)
        vals.append(x[m])
        if scores.units is not None:
            units.append(np.asarray(scores.units[start : start + x.size])[m])
    v = np.concatenate(vals) if vals else np.empty(0)
    u = np.concatenate(units) if units else None
    return ScoreSet(v, units=u)


def _choose_threshold(
    vocab: _Vocabulary,
    rule: ThresholdRule,
    negatives: ScoreSet,
    positives: ScoreSet,
    negative_reference_units: np.ndarray | None,
    groups: SubjectGroups,
    group_of_unit: np.ndarray,
    reused: float | None,
) -> tuple[float, str, bool]:
    """``(threshold, threshold_source text, supported)``."""
    fp = vocab.fp_upper
    if rule.kind == "value":
        return float(rule.value), f"given: {rule.label or format(rule.value, 'g')}", True
    target = float(rule.target)
    if rule.kind == "all":
        supported = target_supported(target, negatives.n)
        if reused is not None:
            t = reused
        else:
            if negatives.n == 0:
                raise InputError(f"there are no {vocab.fp_pool} to fix a threshold on.")
            t = operating_threshold(negatives, positives, target).threshold
        return t, f"whole data set, {fp} target {target:g}", supported
    g = groups.code(rule.group)
    gu = group_of_unit
    nu = np.asarray(negatives.units)
    if negative_reference_units is not None:
        ref = np.asarray(negative_reference_units)

        def neg_mask(a, b):
            return (gu[nu[a:b]] == g) & (gu[ref[a:b]] == g)
    else:

        def neg_mask(a, b):
            return gu[nu[a:b]] == g

    pu = np.asarray(positives.units)
    neg_g = _subset(negatives, neg_mask)
    pos_g = _subset(positives, lambda a, b: gu[pu[a:b]] == g)
    if neg_g.n == 0:
        raise InputError(
            f"group {rule.group!r} has no {vocab.fp_what}, so no threshold can be fixed on it; "
            "use --threshold-from all or another group."
        )
    t = operating_threshold(neg_g, pos_g, target).threshold
    return (
        t,
        f"reference group {rule.group}, {fp} target {target:g}",
        target_supported(target, neg_g.n),
    )


def _ratios(
    rates: list[Rate],
    ok: list[bool],
    reps: np.ndarray | None,
    names: Sequence[str],
    confidence: float,
) -> tuple[int | None, list[Ratio | None]]:
    """Best group (lowest rate among supported groups with an error) and every group's ratio."""
    cand = [g for g, r in enumerate(rates) if ok[g] and r.count > 0 and r.n > 0]
    if not cand:
        return None, [None] * len(rates)
    best = min(cand, key=lambda g: (rates[g].value, g))
    b = rates[best].value
    out: list[Ratio | None] = []
    for g, r in enumerate(rates):
        if r.n == 0:
            out.append(None)
            continue
        if g == best:
            out.append(Ratio(1.0, (1.0, 1.0) if reps is not None else None, names[best]))
            continue
        if r.count == 0:
            bound = rule_of_three(r.n, confidence) / b
            out.append(Ratio(0.0, (0.0, bound), names[best], upper_bound=True))
            continue
        value = r.value / b
        if reps is None:
            out.append(Ratio(value, None, names[best]))
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            rr = reps[:, g] / reps[:, best]
        ci, low = _interval(rr, confidence)
        out.append(Ratio(value, ci, names[best], ci_low=low))
    return best, out


def _summaries(
    vocab: _Vocabulary,
    fp_rates: list[Rate],
    fn_rates: list[Rate],
    fp_ok: list[bool],
    fn_ok: list[bool],
    fp_reps: np.ndarray | None,
    fn_reps: np.ndarray | None,
    names: Sequence[str],
    confidence: float,
    alpha: float,
) -> dict:
    out: dict[str, Any] = {}
    for key, rates, ok, reps in (
        (vocab.fp, fp_rates, fp_ok, fp_reps),
        (vocab.fn, fn_rates, fn_ok, fn_reps),
    ):
        S = [g for g in range(len(rates)) if ok[g]]
        point = np.array([rates[g].value for g in S], dtype=np.float64)
        sub = None if reps is None else reps[:, S]
        for stat, fn in (("max_over_geomean", _max_over_geomean), ("max_over_min", _max_over_min)):
            if len(S) < 2:
                out[f"{key}_{stat}"] = SummaryValue(None, None)
                continue
            out[f"{key}_{stat}"] = _summary_value(
                float(fn(point)), None if sub is None else fn(sub), confidence
            )
        out[f"{key}_groups_compared"] = [names[g] for g in S]
    # GARBE over the groups supported for both rates
    S = [g for g in range(len(fp_rates)) if fp_ok[g] and fn_ok[g]]
    if len(S) >= 2:
        a = np.array([fp_rates[g].value for g in S])
        b = np.array([fn_rates[g].value for g in S])
        ga, gb = float(gini(a)), float(gini(b))
        point = alpha * ga + (1 - alpha) * gb
        reps_g = None
        if fp_reps is not None and fn_reps is not None:
            reps_g = alpha * gini(fp_reps[:, S]) + (1 - alpha) * gini(fn_reps[:, S])
        out["garbe"] = _summary_value(point, reps_g, confidence)
        out[f"{vocab.fp}_gini"] = _summary_value(
            ga, None if fp_reps is None else gini(fp_reps[:, S]), confidence
        )
        out[f"{vocab.fn}_gini"] = _summary_value(
            gb, None if fn_reps is None else gini(fn_reps[:, S]), confidence
        )
    else:
        out["garbe"] = SummaryValue(None, None)
    out["garbe_alpha"] = float(alpha)
    out["garbe_groups_compared"] = [names[g] for g in S]
    return out


# ---------------------------------------------------------------------------------------------
# Sentences


def _pct(confidence: float) -> str:
    return f"{confidence * 100:g}%"


def _sentences(
    vocab: _Vocabulary,
    rows: list[GroupRates],
    cross: list[CrossCell],
    fp_best: int | None,
    fn_best: int | None,
    overall_fp: float | None,
    overall_fn: float | None,
    confidence: float,
    groups: SubjectGroups,
) -> list[str]:
    out: list[tuple[float, str]] = []  # (priority, sentence): higher first
    for kind, best, overall in (("fp", fp_best, overall_fp), ("fn", fn_best, overall_fn)):
        out.extend(_rate_sentences(vocab, kind, rows, best, overall, confidence))
    out.sort(key=lambda p: -p[0])
    sentences = [s for _, s in out]
    if cross and len(rows) > 1:
        ok = [c for c in cross if c.supported and c.fmr.count > 0]
        if ok:
            top = max(ok, key=lambda c: c.fmr.value)
            where = (
                f"impostors of group {top.probe_group} compared with people of group "
                f"{top.reference_group}"
                if top.probe_group != top.reference_group
                else f"impostors of group {top.probe_group} compared with others of that group"
            )
            ci = top.fmr.ci
            ci_txt = f" ({_pct(confidence)} CI {_fr(ci[0])}–{_fr(ci[1])})" if ci else ""
            sentences.append(
                f"Across groups, the highest false match rate at this threshold is for {where}: "
                f"{_fr(top.fmr.value)}{ci_txt}."
            )
    n_without = len(groups.subjects_without_metadata)
    if n_without:
        sentences.append(
            f"{n_without} subjects of the data have no metadata; they are counted in an "
            "'unknown' group, shown with the others."
        )
    return sentences


def _rate_sentences(
    vocab: _Vocabulary,
    kind: str,
    rows: list[GroupRates],
    best: int | None,
    overall: float | None,
    confidence: float,
) -> list[tuple[float, str]]:
    upper = vocab.fp_upper if kind == "fp" else vocab.fn_upper
    what = vocab.fp_what if kind == "fp" else vocab.fn_what
    errors = vocab.fp_error if kind == "fp" else vocab.fn_error
    lead = vocab.fp_sentence if kind == "fp" else vocab.fn_sentence
    those = vocab.fp_those if kind == "fp" else "as often as those in group {b}"
    out: list[tuple[float, str]] = []
    if overall is None:
        return out
    if overall == 0:
        return [
            (
                0.5,
                f"No {errors} at all at this threshold, so {upper} differentials between groups "
                "cannot be measured (every group's figure is a rule-of-3 bound).",
            )
        ]
    if best is None:
        return [
            (
                0.5,
                f"No group has both enough {what} (rule of 3) and at least one of the {errors} "
                f"to serve as the reference, so {upper} ratios between groups cannot be measured.",
            )
        ]
    bname = rows[best].group
    pct = _pct(confidence)
    for g, row in enumerate(rows):
        rate = row.false_positive if kind == "fp" else row.false_negative
        ok = row.fp_supported if kind == "fp" else row.fn_supported
        ratio = row.fp_ratio if kind == "fp" else row.fn_ratio
        if g == best or ratio is None:
            if g != best and rate.n == 0:
                out.append(
                    (0.1, f"Group {row.group} has no {what}, so its {upper} cannot be measured.")
                )
            continue
        if not ok:
            out.append(
                (
                    0.2,
                    f"Group {row.group} has too few {what} ({rate.n:,}) to support an {upper} "
                    "figure at this threshold: even with no error its rule-of-3 bound would "
                    f"exceed the {upper} over everyone ({_fr(overall)}). Its figure is shown but "
                    "flagged.",
                )
            )
            continue
        if ratio.upper_bound:
            out.append(
                (
                    1.5,
                    f"No {errors} were observed in group {row.group} (0 of {rate.n:,}): its "
                    f"{upper} is at most {_fr(rate.ci[1])} (rule of 3), less than "
                    f"1/{_fx(1 / ratio.ci[1])} of group {bname}'s "
                    f"({_fr(_rate_of(rows[best], kind).value)}).",
                )
            )
            continue
        head = f"At this threshold, {lead.format(g=row.group)} {_fx(ratio.value)}×"
        tail = f" {those.format(b=bname)}"
        if ratio.ci is not None:
            ci = f" ({pct} CI {_fx(ratio.ci[0])}–{_fx(ratio.ci[1])})"
        elif ratio.ci_unbounded:
            low = "" if not math.isfinite(ratio.ci_low) else f"from {_fx(ratio.ci_low)}, "
            ci = f" ({pct} CI {low}with no finite upper limit)"
        else:
            ci = " (no confidence interval: bootstrap off)"
        covers = ratio.covers_one()
        if covers:
            text = (
                f"{head}{ci}{tail}; the interval includes 1, so the data cannot tell groups "
                f"{row.group} and {bname} apart on {upper}."
            )
            priority = 1.0 + min(ratio.value, 1e6) / 1e7
        else:
            text = f"{head}{ci}{tail}."
            priority = 2.0 + min(ratio.value, 1e6) / 1e7
            if kind == "fp":
                priority += 0.5
        few = [
            (name, c)
            for name, c in ((row.group, rate.count), (bname, _count(rows[best], kind)))
            if c < RULE_OF_30
        ]
        if few:
            parts = " and ".join(f"{c} in group {name}" for name, c in few)
            text += (
                f" These figures rest on few {errors} ({parts}; fewer than 30), so their relative "
                "uncertainty is large (Doddington's rule of 30)."
            )
        out.append((priority, text))
    return out


def _rate_of(row: GroupRates, kind: str) -> Rate:
    return row.false_positive if kind == "fp" else row.false_negative


def _count(row: GroupRates, kind: str) -> int:
    return _rate_of(row, kind).count


# ---------------------------------------------------------------------------------------------
# Public entries


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
) -> DemographicsResult:
    """1:1 demographic differentials at one global threshold.

    Parameters
    ----------
    scores : ComparisonScores
        With subject ids on both sides (``impostor_subject`` and
        ``impostor_reference_subject``): the within-group FMR needs the reference's group.
    groups : SubjectGroups
        ``metadata.groups(by, scores.subjects)`` (:mod:`faceaudit.io.metadata`).
    threshold : ThresholdRule, str or float
        How the threshold is fixed (:class:`ThresholdRule`; text as ``--threshold-from``); a
        given value is similarity-oriented (see :meth:`ThresholdRule.in_similarity`).
    fmr_target : float
        The FMR target of ``"all"`` / group rules that do not name one.
    bootstrap : int
        Replicates of the stratified subject bootstrap (0: only rule-of-3 bounds).
    confidence : float
    seed : int
    garbe_alpha : float
        Weight of the FMR Gini in GARBE (``alpha G_FMR + (1 - alpha) G_FNMR``).
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
    if (
        scores.impostor_subject is None
        or scores.impostor_reference_subject is None
        or (scores.genuine_subject is None)
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
    genuine = ScoreSet(scores.genuine, units=scores.genuine_subject)
    impostor = ScoreSet(scores.impostor, units=scores.impostor_subject)
    extra = []
    if scores.genuine_fta or scores.impostor_fta:
        extra.append(
            f"{scores.genuine_fta + scores.impostor_fta} comparisons without a score (failures to "
            "acquire) are not part of the per-group rates."
        )
    return _run(
        vocab=_VERIFY,
        negatives=impostor,
        positives=genuine,
        negative_reference_units=scores.impostor_reference_subject,
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
    There is no cross-group matrix: a non-mated search has no single reference, and the
    outcomes do not keep the group of the wrongly returned candidate.
    """
    if groups.group_of_subject.size != outcomes.n_units:
        raise ValueError("groups were not built for these outcomes' units")
    rule = ThresholdRule.parse(threshold, default_target=fpir_target)
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
    )
