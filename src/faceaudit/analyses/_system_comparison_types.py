"""Result types of the paired comparison of systems (:mod:`faceaudit.analyses.system_comparison`).

Rates are fractions in [0, 1]; differences are ``a - b`` in the same units (a negative FNMR
difference: ``a`` misses fewer mated comparisons than ``b``). Thresholds are similarity-
oriented inside and written in the files' units by ``to_json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from faceaudit.data.orientation import to_file_units
from faceaudit.stats.estimate import Rate
from faceaudit.stats.paired import DifferenceInterval, PairwiseTest

__all__ = [
    "FIGURES",
    "Difference",
    "FigureValue",
    "SearchPoint",
    "SearchSystemFigures",
    "SystemComparison",
    "SystemFigures",
    "SystemPoint",
]

#: The figures compared: 1:1 (``target`` an FMR target, or None), then 1:N (an FPIR target).
FIGURES = ("fnmr_at_fmr", "fmr_at_threshold", "fnmr_at_threshold", "eer", "fnir_at_fpir",
           "fpir_at_threshold", "fnir_at_threshold", "fnir_rank1")  # fmt: skip


def _num(x) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _ci(ci) -> list | None:
    return None if ci is None else [float(ci[0]), float(ci[1])]


@dataclass(frozen=True)
class FigureValue:
    """One system's figure: value, its own subject-bootstrap interval, count and n (None for the
    EER, a crossing of two rates with two denominators)."""

    value: float | None
    ci: tuple[float, float] | None
    count: int | None
    n: int | None

    @classmethod
    def of_rate(cls, rate: Rate) -> FigureValue:
        return cls(rate.value, rate.ci, rate.count, rate.n)

    def to_json(self) -> dict:
        return {"value": _num(self.value), "ci": _ci(self.ci), "count": self.count, "n": self.n}


@dataclass(frozen=True)
class SystemPoint:
    """One system at one FMR target (its own threshold) or at a given threshold."""

    fmr_target: float | None
    threshold: float | None
    supported: bool
    fmr: Rate | None
    fnmr: Rate | None

    def to_json(self, orientation: str) -> dict:
        empty = {"value": None, "ci": None, "count": None, "n": None, "upper_bound": False,
                 "lower_bound": False, "bound": None}  # fmt: skip
        t = self.threshold
        return {
            "fmr_target": self.fmr_target,
            "threshold": None if t is None else to_file_units(t, orientation),
            "supported": self.supported,
            "fmr": self.fmr.to_json() if self.fmr else dict(empty),
            "fnmr": self.fnmr.to_json() if self.fnmr else dict(empty),
        }


@dataclass(frozen=True)
class SearchPoint:
    """One system's 1:N operating point: at its own threshold for an FPIR target, or given."""

    fpir_target: float | None
    threshold: float | None
    supported: bool
    fpir: Rate | None
    fnir: Rate | None

    def to_json(self, orientation: str) -> dict:
        p = SystemPoint(self.fpir_target, self.threshold, self.supported, self.fpir, self.fnir)
        j = p.to_json(orientation)
        return {"fpir_target": j["fmr_target"], "threshold": j["threshold"],
                "supported": j["supported"], "fpir": j["fmr"], "fnir": j["fnmr"]}  # fmt: skip


@dataclass(frozen=True)
class SearchSystemFigures:
    """Everything measured on one system's 1:N searches (NIST FRTE: FPIR, FNIR)."""

    name: str
    n_mated: int
    n_nonmated: int
    gallery_size: int
    rank: int
    fnir_rank1: FigureValue
    points: tuple[SearchPoint, ...]
    det_fpir: np.ndarray
    det_fnir: np.ndarray
    det_threshold: np.ndarray = field(default_factory=lambda: np.empty(0))
    cmc: tuple = ()  # (rank, identification rate, its interval or None), ranks 1, 2, ...

    def to_json(self, orientation: str) -> dict:
        return {
            "name": self.name,
            "n_mated": self.n_mated,
            "n_nonmated": self.n_nonmated,
            "gallery_size": self.gallery_size,
            "rank": self.rank,
            "fnir_rank1": self.fnir_rank1.to_json(),
            "operating_points": [p.to_json(orientation) for p in self.points],
            "det": {
                "fpir": [_num(v) for v in self.det_fpir],
                "fnir": [_num(v) for v in self.det_fnir],
                "threshold": [_num(to_file_units(v, orientation)) for v in self.det_threshold],
            },  # fmt: skip
            "cmc": [{"rank": r, "identification_rate": v, "ci": _ci(ci)} for r, v, ci in self.cmc],
        }


@dataclass(frozen=True)
class SystemFigures:
    """Everything measured on one system (the compared comparisons only)."""

    name: str
    n_mated: int
    n_nonmated: int
    mated_fta: int
    nonmated_fta: int
    eer: FigureValue
    eer_threshold: float
    points: tuple[SystemPoint, ...]
    det_fmr: np.ndarray
    det_fnmr: np.ndarray

    def to_json(self, orientation: str) -> dict:
        return {
            "name": self.name,
            "n_mated": self.n_mated,
            "n_nonmated": self.n_nonmated,
            "mated_fta": self.mated_fta,
            "nonmated_fta": self.nonmated_fta,
            "eer": {
                **self.eer.to_json(),
                "threshold": to_file_units(self.eer_threshold, orientation),
            },  # fmt: skip
            "operating_points": [p.to_json(orientation) for p in self.points],
            "det": {
                "fmr": [_num(v) for v in self.det_fmr],
                "fnmr": [_num(v) for v in self.det_fnmr],
            },  # fmt: skip
        }


@dataclass(frozen=True)
class Difference:
    """``a - b`` of one figure, with its paired interval (same resampled people for both).

    ``unpaired`` is the interval the same replicates give with the pairing broken (for contrast:
    what comparing two separate intervals amounts to). ``p_value``: two-sided bootstrap p-value
    of "no difference", ``2 min(P*(d <= 0), P*(d >= 0))`` over the paired replicate differences
    (capped at 1); ``adjusted_p``: after the adjustment for the number of pairs of systems.
    """

    figure: str
    target: float | None
    threshold_a: float | None
    threshold_b: float | None
    a: str
    b: str
    value_a: FigureValue
    value_b: FigureValue
    paired: DifferenceInterval
    unpaired: DifferenceInterval
    p_value: float
    adjusted_p: float
    alpha: float

    @property
    def indistinguishable(self) -> bool:
        """The paired interval contains 0 (or, with an adjustment, the adjusted p > alpha)."""
        return bool(self.paired.indistinguishable) or self.adjusted_p > self.alpha

    def to_json(self, orientation: str) -> dict:
        def thr(t):
            return None if t is None else to_file_units(t, orientation)

        return {
            "figure": self.figure,
            "target": self.target,
            "threshold_a": thr(self.threshold_a),
            "threshold_b": thr(self.threshold_b),
            "a": self.a,
            "b": self.b,
            "value_a": self.value_a.to_json(),
            "value_b": self.value_b.to_json(),
            "difference": _num(self.paired.estimate),
            "ci": [float(self.paired.low), float(self.paired.high)],
            "unpaired_ci": [float(self.unpaired.low), float(self.unpaired.high)],
            "replicates": self.paired.n_replicates,
            "p_value": self.p_value,
            "adjusted_p": self.adjusted_p,
            "indistinguishable": self.indistinguishable,
        }


@dataclass(frozen=True)
class McNemarAt:
    """McNemar's test of one pair of systems at one operating point (each at its threshold)."""

    target: float | None
    threshold_a: float
    threshold_b: float
    test: PairwiseTest

    def to_json(self, orientation: str) -> dict:
        return {
            "target": self.target,
            "threshold_a": to_file_units(self.threshold_a, orientation),
            "threshold_b": to_file_units(self.threshold_b, orientation),
            **self.test.to_json(),
        }


@dataclass(frozen=True)
class SystemComparison:
    """The paired comparison of ``k >= 2`` systems on the same people.

    ``mode``: ``"verification"`` (1:1 comparisons, :class:`SystemFigures`) or
    ``"identification"`` (1:N searches of the same probes, :class:`SearchSystemFigures`).
    """

    systems: tuple  # SystemFigures (1:1) or SearchSystemFigures (1:N)
    differences: tuple[Difference, ...]
    mcnemar: tuple[McNemarAt, ...]
    coverage: dict
    orientation: str
    bootstrap: dict
    adjustment: str
    alpha: float
    warnings: tuple[str, ...] = field(default=())
    mode: str = "verification"
    protocol: dict | None = None
    demographics: object | None = None  # GroupComparison (--metadata/--by), or None

    results_key = "compare"

    def to_json(self) -> dict:
        k = len(self.systems)
        return {
            "mode": self.mode,
            "systems": [s.to_json(self.orientation) for s in self.systems],
            "threshold_units": self.orientation,
            "coverage": dict(self.coverage),
            "bootstrap": dict(self.bootstrap),
            "adjustment": {
                "method": self.adjustment,
                "alpha": self.alpha,
                "pairs": k * (k - 1) // 2,
                "family": "the pairs of systems, separately for each figure",
            },
            "differences": [d.to_json(self.orientation) for d in self.differences],
            "mcnemar": [m.to_json(self.orientation) for m in self.mcnemar],
            "warnings": list(self.warnings),
            **({} if self.protocol is None else {"protocol": dict(self.protocol)}),
            **({} if self.demographics is None else {"demographics": self.demographics.to_json()}),
        }
