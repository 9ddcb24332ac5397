"""Result types of the 1:1 audit (:mod:`faceaudit.analyses.verification`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from faceaudit.data.orientation import DISTANCE, SIMILARITY, to_file_units
from faceaudit.stats.estimate import Rate, empty_rate_json
from faceaudit.stats.operating import Optimism
from faceaudit.stats.rates import DetCurve
from faceaudit.stats.support import SUPPORT_RULE, Support


def _num(x) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


@dataclass(frozen=True)
class OperatingPoint:
    """FMR and FNMR at one threshold (similarity-oriented; ``to_json`` gives the file's units).

    ``fmr_target`` is the target the threshold was chosen for, or ``None`` for a threshold the user
    gave. ``supported`` (:mod:`faceaudit.stats.support`) needs both enough non-mated comparisons
    and enough people; when it is False no threshold or rate is reported.

    For a target, ``fnmr.ci`` is the interval for the system's FNMR at that FMR: every bootstrap
    replicate re-chooses its own threshold (:mod:`faceaudit.stats.operating`). ``fnmr_fixed`` is
    the same count with the interval at this fixed threshold; ``threshold_ci`` the interval of the
    replicates' thresholds; ``optimism`` what choosing the threshold on the data costs.
    ``fmr.ci`` is always at this fixed threshold.
    """

    fmr_target: float | None
    threshold: float | None
    fmr: Rate | None
    fnmr: Rate | None
    supported: bool
    generalized_fmr: Rate | None = None
    generalized_fnmr: Rate | None = None
    support: Support | None = None
    fnmr_fixed: Rate | None = None
    threshold_ci: tuple[float, float] | None = None
    optimism: Optimism | None = None
    rechosen_exact: bool | None = None

    def to_json(self, orientation: str = SIMILARITY) -> dict:
        t = self.threshold
        out = {
            "fmr_target": self.fmr_target,
            "threshold": None if t is None else to_file_units(t, orientation),
            "fmr": self.fmr.to_json() if self.fmr else empty_rate_json(),
            "fnmr": self.fnmr.to_json() if self.fnmr else empty_rate_json(),
            "supported": self.supported,
        }
        if self.generalized_fmr is not None:
            out["generalized_fmr"] = self.generalized_fmr.to_json()
            out["generalized_fnmr"] = self.generalized_fnmr.to_json()
        if self.support is not None:
            out["support"] = self.support.to_json()
        if self.fmr_target is not None:
            out["fnmr_interval"] = (
                "threshold re-chosen in every replicate" if self.fnmr_fixed else "none"
            )
            out["fnmr_fixed_threshold"] = (
                self.fnmr_fixed.to_json() if self.fnmr_fixed else empty_rate_json()
            )
            ci = None
            if self.threshold_ci is not None:
                ends = sorted(to_file_units(v, orientation) for v in self.threshold_ci)
                ci = [_num(v) for v in ends]
            out["threshold_ci"] = ci
            out["rechosen_threshold_exact"] = self.rechosen_exact
            out["optimism"] = None if self.optimism is None else self.optimism.to_json()
        return out


@dataclass(frozen=True)
class EER:
    """Equal error rate (convention in :class:`faceaudit.stats.rates.EqualErrorRate`).

    ``ci``: each replicate's own EER (its own crossing), percentile interval.
    """

    value: float
    ci: tuple[float, float] | None
    threshold: float
    fmr: float
    fnmr: float

    def to_json(self, orientation: str = SIMILARITY) -> dict:
        return {
            "value": self.value,
            "ci": None if self.ci is None else [float(self.ci[0]), float(self.ci[1])],
            "threshold": to_file_units(self.threshold, orientation),
            "fmr": self.fmr,
            "fnmr": self.fnmr,
        }


@dataclass(frozen=True)
class BootstrapInfo:
    """How the intervals were made.

    ``unit``: ``"subject"`` or ``"comparison"``. ``design``: ``"two-way"`` (both subjects of an
    non-mated comparison resampled, weight = product of their multiplicities), ``"probe
    subject"`` / ``"reference subject"`` (one-way fallback: the only subject column given) or
    ``"comparison"`` (no subject ids). ``n_nonmated_subjects`` / ``n_mated_subjects``: distinct
    subjects under each rate (what zero-error bounds and support rest on).
    """

    replicates: int
    confidence: float
    unit: str
    seed: int
    n_units: int
    design: str = "comparison"
    n_nonmated_subjects: int | None = None
    n_mated_subjects: int | None = None

    def to_json(self) -> dict:
        return {
            "replicates": self.replicates,
            "confidence": self.confidence,
            "unit": self.unit,
            "design": self.design,
            "n_units": self.n_units,
            "n_nonmated_subjects": self.n_nonmated_subjects,
            "n_mated_subjects": self.n_mated_subjects,
            "seed": self.seed,
            "operating_points": "FMR-target thresholds re-chosen in every replicate "
            "(fixed-threshold intervals given beside them)",
        }


@dataclass(frozen=True)
class VerificationResult:
    """Everything the 1:1 audit found; figures and report read only this.

    Thresholds, DET thresholds and histogram edges are similarity-oriented, like every score
    inside faceaudit; ``to_json`` writes them in the units of the scores' file (``orientation``,
    :mod:`faceaudit.data.orientation`).
    """

    n_mated: int
    n_nonmated: int
    mated_fta: int
    nonmated_fta: int
    orientation: str
    eer: EER
    auc: float
    auc_max_error: float
    operating_points: tuple[OperatingPoint, ...]
    det: DetCurve
    histogram_edges: np.ndarray
    histogram_mated: np.ndarray
    histogram_nonmated: np.ndarray
    bootstrap: BootstrapInfo
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        return {
            "n_mated": self.n_mated,
            "n_nonmated": self.n_nonmated,
            "mated_fta": self.mated_fta,
            "nonmated_fta": self.nonmated_fta,
            "threshold_units": self.orientation,
            "eer": self.eer.to_json(self.orientation),
            "auc": self.auc,
            "auc_max_error": self.auc_max_error,
            "operating_points": [op.to_json(self.orientation) for op in self.operating_points],
            # the report's summary leads with FMR 1e-3 (a common operating point) when supported
            "headline_fmr_target": next(
                (
                    op.fmr_target
                    for op in self.operating_points
                    if op.supported
                    and op.fmr_target is not None
                    and abs(op.fmr_target - 1e-3) < 1e-12
                ),
                None,
            ),
            "support_rule": SUPPORT_RULE,
            "bootstrap": self.bootstrap.to_json(),
            "det": {
                "threshold": _floats(to_file_units(self.det.threshold, self.orientation)),
                "fmr": _floats(self.det.fmr),
                "fnmr": _floats(self.det.fnmr),
            },
            "histogram": self._histogram_json(),
        }

    def _histogram_json(self) -> dict:
        """Bins in increasing file units (a distance file's bins run the other way)."""
        edges, gen, imp = self.histogram_edges, self.histogram_mated, self.histogram_nonmated
        if self.orientation == DISTANCE:
            edges, gen, imp = -edges[::-1], gen[::-1], imp[::-1]
        return {
            "edges": _floats(edges),
            "mated": [int(v) for v in gen],
            "nonmated": [int(v) for v in imp],
        }


def _floats(a: np.ndarray) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=np.float64)]
