"""Result types of the demographic analysis (:mod:`faceaudit.analyses.demographics`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from faceaudit.data import InputFile
from faceaudit.data.orientation import SIMILARITY, to_file_units
from faceaudit.stats.estimate import Rate

DEFAULT_FMR_TARGET = 1e-3
DEFAULT_FPIR_TARGET = 1e-2
DEFAULT_GARBE_ALPHA = 0.5
#: Doddington's rule of 30: fewer errors than this means a large relative uncertainty.
RULE_OF_30 = 30

RULES = (
    "Zero errors (ISO/IEC 19795-1): with no error observed, a group's rate is reported as an "
    "upper bound, not as zero: the exact one-sided bound at the intervals' level "
    "((1 + confidence)/2, 97.5% for 95% intervals) on the group's subjects (the independent "
    "units), 1 - ((1 - confidence)/2)^(1/k) for k subjects (about 3.69/k).",
    "Support: a group's rate is supported only when (rule of 3 at the intervals' level) a zero "
    "count's bound on its n comparisons, -ln((1 - confidence)/2)/n, is no higher than the rate "
    "of the whole data set at this threshold (a smaller group could not show that it is as good "
    "as everyone else), and at least 30 of its subjects contribute (Doddington's rule of 30 "
    "applied to people).",
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
    ``[0, the group's zero-error bound / best rate]``. When the interval has no finite upper end
    (the best group had no error in too many replicates) ``ci`` is None and ``ci_low`` holds its
    lower end:
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

    ``false_positive`` is the FMR (1:1, within-group non-mated comparisons) or FPIR (1:N);
    ``false_negative`` the FNMR or FNIR. ``*_supported`` follow the support rule (comparisons
    and subjects, module docstring).
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
    """FMR of non-mated comparisons with the probe in one group and the reference in another."""

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
    coverage: dict
    bootstrap: dict
    metadata: InputFile | None = None
    warnings: tuple[str, ...] = field(default=())
    orientation: str = SIMILARITY
    support: dict = field(default_factory=dict)

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
            "rules": list(RULES),
            "coverage": dict(self.coverage),
            "min_subjects": self.support.get("min_subjects"),
            "metadata": None if self.metadata is None else self.metadata.to_json(),
            "bootstrap": dict(self.bootstrap),
            "warnings": list(self.warnings),
        }


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None
