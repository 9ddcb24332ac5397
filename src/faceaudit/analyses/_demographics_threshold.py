"""How the one global threshold of the demographic analysis is fixed (:class:`ThresholdRule`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from faceaudit.analyses._demographics_vocabulary import _Vocabulary
from faceaudit.data import SubjectGroups
from faceaudit.data.orientation import SIMILARITY, to_file_units, to_similarity
from faceaudit.errors import InputError
from faceaudit.stats.rates import operating_threshold
from faceaudit.stats.scoreset import ScoreSet
from faceaudit.stats.support import support

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
    min_subjects: int = 30,
) -> tuple[float, str, bool]:
    """``(threshold, threshold_source text, supported)``."""
    fp = vocab.fp_upper
    if rule.kind == "value":
        return float(rule.value), f"given: {rule.label or format(rule.value, 'g')}", True
    target = float(rule.target)
    if rule.kind == "all":
        people = _people(negatives, negative_reference_units)
        supported = support(target, negatives.n, people, min_subjects=min_subjects).supported
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
        support(target, neg_g.n, int(groups.n_subjects[g]), min_subjects=min_subjects).supported,
    )


def _people(scores: ScoreSet, reference_units: np.ndarray | None) -> int:
    """Distinct subjects under a score set (both sides of a comparison when known)."""
    seen = set()
    for codes in (scores.units, reference_units):
        if codes is None:
            continue
        for s in range(0, len(codes), 1 << 22):
            seen.update(np.unique(np.asarray(codes[s : s + (1 << 22)])).tolist())
    return len(seen)
