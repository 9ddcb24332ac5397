"""Did the upgrade reduce the demographic differential? Paired changes of every group's rates.

Every system is measured by the demographic engine of :mod:`faceaudit.analyses.demographics`
(one global threshold, per-group rates, ratios, NIST-style summaries, support and zero-error
rules), with **one stratified subject bootstrap shared by all systems**: a single
:class:`~faceaudit.stats.bootstrap.Resampler` (subjects drawn within their group, over the units
active in any system) gives replicate ``r`` the same resampled people in every system, so the
differences of replicates are paired. Without failures to acquire, each system's own rates and
intervals are exactly what ``errors --by`` (or ``identify --by``) gives it with the same seed.

Operating points (thresholds stay fixed in the replicates, as in the one-system analysis):

- the demographic rule (``all@1e-3`` by default): **each system at its own threshold**, fixed on
  the whole data set (or on a named group) at the false-positive target, which is what a buyer
  holding the FMR fixed compares;
- each given threshold, the same for every system (meaningful when scores share a scale).

At each, for every pair of systems ``(a, b)`` and every group: the change ``a - b`` of the
group's false-positive rate (1:1: FMR of the non-mated comparisons *within* the group; 1:N:
FPIR of its non-mated searches) and false-negative rate (FNMR / FNIR), and the change of the
``max / geometric mean`` and ``max / min`` summaries over the groups **supported in every system**
(named in ``groups_compared``: a summary over different sets of groups would not be comparable).
Each change has its paired percentile interval, the unpaired one for contrast, a two-sided
bootstrap p-value and its adjustment across the pairs of systems. Summary replicates that are not
finite (a compared group without an error in that replicate) are dropped and counted; when more
than ``1 - confidence`` of them are, no interval is given and a warning says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from faceaudit.analyses._demographics_groups import _seen
from faceaudit.analyses._demographics_summary import _max_over_geomean, _max_over_min
from faceaudit.analyses._demographics_threshold import ThresholdRule
from faceaudit.analyses._demographics_vocabulary import _Vocabulary
from faceaudit.analyses._system_comparison_common import bootstrap_p
from faceaudit.analyses._system_comparison_types import FigureValue
from faceaudit.data import SubjectGroups
from faceaudit.data.orientation import to_file_units
from faceaudit.stats.bootstrap import Resampler
from faceaudit.stats.identification import search_design
from faceaudit.stats.paired import (
    DifferenceInterval,
    adjust_p_values,
    paired_difference,
    system_pairs,
    unpaired_difference,
)
from faceaudit.stats.scoreset import ScoreSet
from faceaudit.stats.support import MIN_SUBJECTS

__all__ = ["GroupComparison", "GroupDifference", "SystemSets", "compare_groups"]

#: The summaries over groups whose change is given (:mod:`~faceaudit.analyses.demographics`).
SUMMARIES = (("max_over_geomean", _max_over_geomean), ("max_over_min", _max_over_min))
_WORDS = {"max_over_geomean": "max / geometric mean", "max_over_min": "max / min"}


@dataclass(frozen=True, eq=False)
class SystemSets:
    """One system's score sets as the demographic engine takes them (units: shared codes)."""

    negatives: ScoreSet
    positives: ScoreSet
    negative_reference_units: np.ndarray | None = None
    warnings: tuple[str, ...] = ()
    #: 1:N two-way: (gallery unit of each non-mated search's top candidate, the design's strata),
    #: one :func:`~faceaudit.stats.identification.search_design` shared by the systems
    search_references: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True)
class GroupDifference:
    """``a - b`` of one group's rate, or of one summary over groups, at one operating point.

    ``figure``: ``"group_<rate>"`` (``group`` names the group) or ``"<rate>_max_over_geomean"``
    / ``"<rate>_max_over_min"`` (``groups_compared``: the groups supported in every system).
    Rates are fractions (differences in points x 100); summaries are ratios (>= 1).
    """

    figure: str
    rate: str
    point: int
    group: str | None
    a: str
    b: str
    value_a: FigureValue
    value_b: FigureValue
    supported_a: bool
    supported_b: bool
    paired: DifferenceInterval
    unpaired: DifferenceInterval
    p_value: float
    adjusted_p: float
    alpha: float
    dropped_replicates: int = 0
    groups_compared: tuple[str, ...] = ()

    @property
    def indistinguishable(self) -> bool:
        return bool(self.paired.indistinguishable) or self.adjusted_p > self.alpha

    def to_json(self) -> dict:
        def num(x):
            return None if x is None or not np.isfinite(x) else float(x)

        return {
            "figure": self.figure,
            "rate": self.rate,
            "operating_point": self.point,
            "group": self.group,
            "groups_compared": list(self.groups_compared),
            "a": self.a,
            "b": self.b,
            "value_a": self.value_a.to_json(),
            "value_b": self.value_b.to_json(),
            "supported_a": self.supported_a,
            "supported_b": self.supported_b,
            "difference": num(self.paired.estimate),
            "ci": [float(self.paired.low), float(self.paired.high)],
            "unpaired_ci": [float(self.unpaired.low), float(self.unpaired.high)],
            "replicates": self.paired.n_replicates,
            "dropped_replicates": self.dropped_replicates,
            "p_value": self.p_value,
            "adjusted_p": self.adjusted_p,
            "indistinguishable": self.indistinguishable,
        }


@dataclass(frozen=True)
class GroupComparison:
    """The demographic part of a comparison of systems (results ``compare.demographics``)."""

    mode: str
    attribute: str
    attributes: tuple[str, ...]
    rates: tuple[str, str]
    points: tuple[dict, ...]  # per operating point: label, rule, every system's group table
    differences: tuple[GroupDifference, ...]
    coverage: dict
    min_subjects: int
    bootstrap: dict
    metadata: dict | None = None
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        return {
            "mode": self.mode,
            "attribute": self.attribute,
            "attributes": list(self.attributes),
            "rates": list(self.rates),
            "operating_points": [dict(p) for p in self.points],
            "differences": [d.to_json() for d in self.differences],
            "coverage": dict(self.coverage),
            "min_subjects": self.min_subjects,
            "bootstrap": dict(self.bootstrap),
            "metadata": self.metadata,
            "warnings": list(self.warnings),
        }


def shared_resampler(systems: Sequence[SystemSets], groups: SubjectGroups, bootstrap: int,
                     seed: int) -> Resampler:  # fmt: skip
    """Subjects within their group, over the units active in any system (one design for all).

    A unit is active when it is the (probe) unit of a scored comparison or search of some system:
    with the same active units, this is each system's own design of the one-system analysis.
    """
    n = int(groups.group_of_subject.size)
    active = np.zeros(n, dtype=bool)
    for s in systems:
        for units in (s.negatives.units, s.positives.units):
            if units is not None and len(units):
                active |= _seen(units, n)
    strata = np.where(active, np.asarray(groups.group_of_subject, dtype=np.int64), -1)
    refs = systems[0].search_references
    if refs is not None:  # gallery-only subjects in a stratum of their own, the fixed unit alone
        G = int(groups.n_groups)
        strata = np.concatenate([strata, np.where(np.asarray(refs[1][n:]) == 1, G, G + 1)])
    return Resampler.stratified(strata, bootstrap, seed)


def _point_label(rule: ThresholdRule, vocab: _Vocabulary, orientation: str) -> str:
    if rule.kind == "value":
        return f"threshold {rule.label or format(to_file_units(rule.value, orientation), 'g')}"
    where = "the whole data set" if rule.kind == "all" else f"group {rule.group}"
    return f"each system's own threshold for {vocab.fp_upper} {rule.target:g} on {where}"


def compare_groups(
    names: Sequence[str],
    systems: Sequence[SystemSets],
    groups: SubjectGroups,
    *,
    vocab: _Vocabulary,
    rules: Sequence[ThresholdRule],
    bootstrap: int,
    confidence: float,
    seed: int,
    adjustment: str,
    orientation: str,
    min_subjects: int = MIN_SUBJECTS,
) -> GroupComparison:
    """Each system's demographic differentials at each rule, and their paired changes.

    Parameters
    ----------
    names : sequence of str
    systems : sequence of SystemSets
        One per system, units coded as ``groups`` (the same subjects for every system).
    groups : SubjectGroups
    vocab : the demographic engine's 1:1 or 1:N vocabulary
    rules : sequence of ThresholdRule
        Similarity-oriented; one operating point each (``all`` / group rules: every system at
        its own threshold; ``value``: the same threshold for all).
    bootstrap, confidence, seed, adjustment, orientation, min_subjects
        As :func:`faceaudit.analyses.demographics.verification_differentials` and
        :func:`faceaudit.analyses.system_comparison.compare_systems`.
    """
    from faceaudit.analyses.demographics import _run_counted

    alpha = round(1.0 - confidence, 12)
    res = shared_resampler(systems, groups, bootstrap, seed) if bootstrap else None
    points, diffs, warnings = [], [], []
    for p, rule in enumerate(rules):
        measured = []
        for s in systems:
            result, counted = _run_counted(
                vocab=vocab, negatives=s.negatives, positives=s.positives,
                negative_reference_units=s.negative_reference_units, groups=groups,
                group_of_unit=groups.group_of_subject, n_subjects=groups.n_subjects, rule=rule,
                reused_threshold=None, orientation=orientation, bootstrap=bootstrap,
                confidence=confidence, seed=seed, garbe_alpha=0.5, min_subjects=min_subjects,
                extra_warnings=s.warnings, resampler=res, search_references=s.search_references,
            )  # fmt: skip
            measured.append((result, counted))
        label = _point_label(rule, vocab, orientation)
        everyone = set.intersection(*(set(r.warnings) for r, _ in measured))
        for name, (r, _) in zip(names, measured, strict=True):
            warnings += [w if w in everyone else f"{name} ({label}): {w}" for w in r.warnings]
        points.append(_point_json(p, label, rule, names, measured, orientation))
        if bootstrap:
            d, w = _differences(p, label, names, measured, vocab, confidence, adjustment, alpha,
                                seed)  # fmt: skip
            diffs += d
            warnings += w
    r0 = measured[0][0]
    boot = dict(r0.bootstrap)
    boot["paired"] = ("every replicate resamples the same people (within their group) for every "
                      "system; thresholds fixed")  # fmt: skip
    return GroupComparison(
        mode=vocab.mode, attribute=r0.attribute, attributes=r0.attributes,
        rates=(vocab.fp, vocab.fn), points=tuple(points), differences=tuple(diffs),
        coverage=r0.coverage, min_subjects=int(min_subjects), bootstrap=boot,
        metadata=None if r0.metadata is None else r0.metadata.to_json(),
        warnings=tuple(dict.fromkeys(warnings)),
    )  # fmt: skip


def _point_json(p, label, rule, names, measured, orientation) -> dict:
    fp, fn = measured[0][0].rate_names
    systems = []
    for name, (r, _) in zip(names, measured, strict=True):
        j = r.to_json()
        summary = {k: v for k, v in j["summary"].items()
                   if any(k == f"{x}_{s}" for x in (fp, fn) for s, _ in SUMMARIES)
                   or k in (f"{fp}_groups_compared", f"{fn}_groups_compared")}  # fmt: skip
        systems.append({
            "name": name, "threshold": j["threshold"], "threshold_source": j["threshold_source"],
            "threshold_supported": j["threshold_supported"], f"overall_{fp}": j[f"overall_{fp}"],
            f"overall_{fn}": j[f"overall_{fn}"], "groups": j["groups"], "summary": summary,
        })  # fmt: skip
    return {"index": p, "label": label, "rule": rule.to_json(orientation), "systems": systems}


def _series(measured, vocab):
    """Per figure: ``(figure, rate, group, [(FigureValue, supported, reps | None)] per system,
    groups_compared)``."""
    out = []
    G = len(measured[0][0].groups)
    for kind, rate in (("fp", vocab.fp), ("fn", vocab.fn)):
        for g in range(G):
            per = []
            for r, c in measured:
                row = r.groups[g]
                value = row.false_positive if kind == "fp" else row.false_negative
                reps = c.fp_reps if kind == "fp" else c.fn_reps
                ok = row.fp_supported if kind == "fp" else row.fn_supported
                per.append((FigureValue.of_rate(value), ok, None if reps is None else reps[:, g],
                            value.n))  # fmt: skip
            if all(n for *_, n in per):
                out.append((f"group_{rate}", rate, r.groups[g].group, per, ()))
        both = [g for g in range(G) if all(
            (r.groups[g].fp_supported if kind == "fp" else r.groups[g].fn_supported)
            for r, _ in measured)]  # fmt: skip
        if len(both) < 2:
            continue
        names = tuple(measured[0][0].groups[g].group for g in both)
        for stat, fn in SUMMARIES:
            per = []
            for r, c in measured:
                rates = [(r.groups[g].false_positive if kind == "fp"
                          else r.groups[g].false_negative).value for g in both]  # fmt: skip
                reps = c.fp_reps if kind == "fp" else c.fn_reps
                with np.errstate(all="ignore"):
                    point = float(fn(np.asarray(rates, dtype=np.float64)))
                    rr = None if reps is None else fn(reps[:, both])
                if rr is not None:
                    rr = np.where(np.isfinite(rr), rr, np.nan)
                value = FigureValue(point if np.isfinite(point) else None, None, None, None)
                per.append((value, True, rr, 1))
            out.append((f"{rate}_{stat}", rate, None, per, names))
    return out


def _differences(p, label, names, measured, vocab, confidence, adjustment, alpha, seed):
    out, warnings = [], []
    pairs = system_pairs(len(names))
    for figure, rate, group, per, compared in _series(measured, vocab):
        rows = []
        for i, j in pairs:
            (va, oka, ra, _), (vb, okb, rb, _) = per[i], per[j]
            if ra is None or rb is None or va.value is None or vb.value is None:
                continue
            both = ~np.isnan(ra) & ~np.isnan(rb)
            dropped = int(ra.size - both.sum())
            if compared and dropped > (1.0 - confidence) * ra.size:
                warnings.append(
                    f"The change in {rate.upper()} {_WORDS[figure.split('_', 1)[1]]} "
                    f"between {names[i]} and {names[j]} at {label} has no interval: in "
                    f"{dropped} of {ra.size} replicates a compared group had no error, so the "
                    "summary was not finite."
                )
                continue
            try:
                paired = paired_difference(ra, rb, estimate_a=va.value, estimate_b=vb.value,
                                           confidence=confidence)  # fmt: skip
                unpaired = unpaired_difference(ra, rb, estimate_a=va.value, estimate_b=vb.value,
                                               confidence=confidence, seed=seed)  # fmt: skip
            except ValueError:
                continue
            rows.append((i, j, va, vb, oka, okb, paired, unpaired, bootstrap_p(ra - rb), dropped))
        if not rows:
            continue
        adj = adjust_p_values([r[8] for r in rows], method=adjustment)
        for (i, j, va, vb, oka, okb, paired, unpaired, pv, dropped), q in zip(
            rows, adj, strict=True
        ):
            out.append(GroupDifference(
                figure, rate, p, group, names[i], names[j], va, vb, bool(oka), bool(okb), paired,
                unpaired, pv, float(q), alpha, dropped, compared,
            ))  # fmt: skip
    return out, warnings


def score_system_sets(data) -> list[SystemSets]:
    """Each system of a :class:`~faceaudit.data.paired_scores.PairedScores` as the demographic
    engine takes it: scored comparisons, units the shared subject codes, references known."""
    from faceaudit.errors import InputError

    if data.probe_subject is None or data.reference_subject is None:
        raise InputError(
            "demographic differences between systems need the subject of both sides of every "
            "comparison; give probe_subject and reference_subject columns."
        )
    out = []
    for i in range(data.k):
        s = data.system(i)
        fta = s.mated_fta + s.nonmated_fta
        out.append(SystemSets(
            ScoreSet(s.nonmated, units=s.nonmated_subject),
            ScoreSet(s.mated, units=s.mated_subject),
            s.nonmated_reference_subject,
            (f"{data.names[i]}: {fta} comparisons without a score (failures to acquire) are not "
             "part of its per-group rates.",) if fta else (),
        ))  # fmt: skip
    return out


def search_system_sets(outcomes, rank: int | None) -> list[SystemSets]:
    """Each system's 1:N searches: non-mated top scores and mate scores within ``rank``; with
    the candidates' gallery subjects, the non-mated searches two-way over one design shared by
    the systems (the same gallery draws in every system's replicate)."""
    R = max(o.rank_limit(rank) for o in outcomes)
    design = search_design(list(outcomes))
    refs = [
        (design.references[k]["nonmated"], design.strata) if design.two_way else None
        for k in range(len(outcomes))
    ]
    return [SystemSets(o.nonmated_scores(), o.mate_scores(R), search_references=r)
            for o, r in zip(outcomes, refs, strict=True)]  # fmt: skip
