"""The 1:1 (verification) audit: FMR, FNMR, DET, EER and operating points with confidence intervals.

Follows ISO/IEC 19795-1:2021: FMR/FNMR at a threshold, the threshold for each FMR target chosen on
these data (the lowest FNMR with FMR <= target), the EER, and the *generalised* rates that count
failures to acquire (a genuine comparison without a score is a false non-match; an impostor
comparison without a score cannot be a false match but stays in the denominator).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from faceaudit.data import ComparisonScores
from faceaudit.data.orientation import DISTANCE, SIMILARITY, to_file_units
from faceaudit.stats.bootstrap import (
    Resampler,
    percentile_interval,
    replicate_cell_histograms,
    replicate_rates_ge,
)
from faceaudit.stats.estimate import Rate, make_rate
from faceaudit.stats.rates import (
    DetCurve,
    area_under_roc,
    det_curve,
    eer_cells,
    equal_error_rate,
    histogram,
    operating_threshold,
    prefetch_for_targets,
    target_supported,
)
from faceaudit.stats.scoreset import ScoreSet

DEFAULT_FMR_TARGETS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)


@dataclass(frozen=True)
class OperatingPoint:
    """FMR and FNMR at one threshold (similarity-oriented; ``to_json`` gives the file's units).

    ``fmr_target`` is the target the threshold was chosen for, or ``None`` for a threshold the user
    gave. When ``supported`` is False the data hold fewer than ``3 / fmr_target`` impostor
    comparisons: no threshold or rate is reported.
    """

    fmr_target: float | None
    threshold: float | None
    fmr: Rate | None
    fnmr: Rate | None
    supported: bool
    generalized_fmr: Rate | None = None
    generalized_fnmr: Rate | None = None

    def to_json(self, orientation: str = SIMILARITY) -> dict:
        empty = {"value": None, "ci": None, "count": None, "n": None, "upper_bound": False}
        t = self.threshold
        out = {
            "fmr_target": self.fmr_target,
            "threshold": None if t is None else to_file_units(t, orientation),
            "fmr": self.fmr.to_json() if self.fmr else empty,
            "fnmr": self.fnmr.to_json() if self.fnmr else empty,
            "supported": self.supported,
        }
        if self.generalized_fmr is not None:
            out["generalized_fmr"] = self.generalized_fmr.to_json()
            out["generalized_fnmr"] = self.generalized_fnmr.to_json()
        return out


@dataclass(frozen=True)
class EER:
    """Equal error rate (convention in :class:`faceaudit.stats.rates.EqualErrorRate`)."""

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
    replicates: int
    confidence: float
    unit: str  # "subject" or "comparison"
    seed: int
    n_units: int


@dataclass(frozen=True)
class VerificationResult:
    """Everything the 1:1 audit found; figures and report read only this.

    Thresholds, DET thresholds and histogram edges are similarity-oriented, like every score
    inside faceaudit; ``to_json`` writes them in the units of the scores' file (``orientation``,
    :mod:`faceaudit.data.orientation`).
    """

    n_genuine: int
    n_impostor: int
    genuine_fta: int
    impostor_fta: int
    orientation: str
    eer: EER
    auc: float
    auc_max_error: float
    operating_points: tuple[OperatingPoint, ...]
    det: DetCurve
    histogram_edges: np.ndarray
    histogram_genuine: np.ndarray
    histogram_impostor: np.ndarray
    bootstrap: BootstrapInfo
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        return {
            "n_genuine": self.n_genuine,
            "n_impostor": self.n_impostor,
            "genuine_fta": self.genuine_fta,
            "impostor_fta": self.impostor_fta,
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
            "det": {
                "threshold": _floats(to_file_units(self.det.threshold, self.orientation)),
                "fmr": _floats(self.det.fmr),
                "fnmr": _floats(self.det.fnmr),
            },
            "histogram": self._histogram_json(),
        }

    def _histogram_json(self) -> dict:
        """Bins in increasing file units (a distance file's bins run the other way)."""
        edges, gen, imp = self.histogram_edges, self.histogram_genuine, self.histogram_impostor
        if self.orientation == DISTANCE:
            edges, gen, imp = -edges[::-1], gen[::-1], imp[::-1]
        return {
            "edges": _floats(edges),
            "genuine": [int(v) for v in gen],
            "impostor": [int(v) for v in imp],
        }


def _floats(a: np.ndarray) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=np.float64)]


def clopper_pearson(count: int, n: int, confidence: float) -> tuple[float, float] | None:
    """Exact binomial (Clopper-Pearson) interval for ``count / n``."""
    from scipy.stats import beta

    if n == 0:
        return None
    a = (1 - confidence) / 2
    lo = 0.0 if count == 0 else float(beta.ppf(a, count, n - count + 1))
    hi = 1.0 if count == n else float(beta.ppf(1 - a, count + 1, n - count))
    return lo, hi


def score_sets(scores: ComparisonScores) -> tuple[ScoreSet, ScoreSet, int]:
    """Genuine and impostor :class:`ScoreSet` with subject units, and the number of subjects.

    Units are given only when both sets carry subject ids (else the bootstrap unit is the
    comparison).
    """
    by_subject = scores.genuine_subject is not None and scores.impostor_subject is not None
    n_units = len(scores.subjects) if by_subject else 0
    genuine = ScoreSet(scores.genuine, units=scores.genuine_subject if by_subject else None)
    impostor = ScoreSet(scores.impostor, units=scores.impostor_subject if by_subject else None)
    return genuine, impostor, n_units


def _replicate_eers(resampler: Resampler, genuine: ScoreSet, impostor: ScoreSet) -> np.ndarray:
    """EER of each bootstrap replicate, from the replicate grid histograms (cell resolution)."""
    cells = np.union1d(genuine.distribution.cells, impostor.distribution.cells)
    out = []
    for g, i in zip(
        replicate_cell_histograms(resampler, genuine, cells),
        replicate_cell_histograms(resampler, impostor, cells),
        strict=True,
    ):
        ng = g.sum(axis=1, keepdims=True)
        ni = i.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            fmr = np.cumsum(i[:, ::-1], axis=1)[:, ::-1] / ni
            fnmr = (np.cumsum(g, axis=1) - g) / ng
            j = np.argmin(np.abs(fmr - fnmr), axis=1)
            rows = np.arange(g.shape[0])
            eer = (fmr[rows, j] + fnmr[rows, j]) / 2
        eer[(ng[:, 0] == 0) | (ni[:, 0] == 0)] = np.nan
        out.append(eer)
    return np.concatenate(out)


def verify(
    scores: ComparisonScores,
    *,
    fmr_targets: Sequence[float] = DEFAULT_FMR_TARGETS,
    thresholds: Sequence[float] = (),
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    histogram_bins: int = 60,
) -> VerificationResult:
    """Run the 1:1 audit on one set of comparison scores.

    Parameters
    ----------
    scores : ComparisonScores
        Similarity-oriented genuine and impostor scores (see :mod:`faceaudit.io.scores`).
    fmr_targets : sequence of float
        FMR targets; for each, the threshold with the lowest FNMR at FMR <= target.
    thresholds : sequence of float
        Extra thresholds (similarity-oriented, like the scores) at which to report FMR and FNMR.
    bootstrap : int
        Bootstrap replicates for the intervals (0: no intervals).
    confidence : float
        Two-sided confidence level of the intervals.
    seed : int
        Seed of the resampling.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    genuine, impostor, n_units = score_sets(scores)
    ng, ni = genuine.n, impostor.n
    warnings: list[str] = []

    chosen = [target_supported(t, ni) for t in fmr_targets]
    prefetch_for_targets(
        impostor,
        genuine,
        [t for t, c in zip(fmr_targets, chosen, strict=True) if c],
        also=eer_cells(genuine, impostor),
    )
    ops_thr = []
    for target, ok in zip(fmr_targets, chosen, strict=True):
        ops_thr.append((target, operating_threshold(impostor, genuine, target) if ok else None))
    eer = equal_error_rate(genuine, impostor)
    auc, auc_err = area_under_roc(genuine, impostor)

    internal = [op.threshold for _, op in ops_thr if op is not None]
    internal += [float(t) for t in thresholds]
    cis_fmr = cis_fnmr = None
    eer_ci = None
    unit = "subject" if n_units else "comparison"
    if bootstrap > 0:
        if not n_units:
            warnings.append(
                "No subject ids in the input: confidence intervals resample comparisons as if "
                "independent, which understates uncertainty when comparisons share people. "
                "Provide probe_subject and reference_subject columns for a subject bootstrap."
            )
        resampler = Resampler(n_units=n_units, n_boot=bootstrap, seed=seed)
        if internal:
            rf = replicate_rates_ge(resampler, impostor, internal)
            rn = replicate_rates_ge(resampler, genuine, internal, lt=True)
            cis_fmr = percentile_interval(rf, confidence).T
            cis_fnmr = percentile_interval(rn, confidence).T
        eer_ci = tuple(
            float(v)
            for v in percentile_interval(_replicate_eers(resampler, genuine, impostor), confidence)
        )

    def rates_at(t: float, k: int) -> tuple[Rate, Rate, Rate | None, Rate | None]:
        fm, fnm = impostor.count_ge(t), genuine.count_lt(t)
        fmr = make_rate(
            fm, ni, None if cis_fmr is None else tuple(cis_fmr[k]), confidence=confidence
        )
        fnmr = make_rate(
            fnm, ng, None if cis_fnmr is None else tuple(cis_fnmr[k]), confidence=confidence
        )
        gfmr = gfnmr = None
        if scores.genuine_fta or scores.impostor_fta:
            n_gi, n_gg = ni + scores.impostor_fta, ng + scores.genuine_fta
            gfmr = make_rate(fm, n_gi, clopper_pearson(fm, n_gi, confidence), confidence=confidence)
            c = fnm + scores.genuine_fta
            gfnmr = make_rate(c, n_gg, clopper_pearson(c, n_gg, confidence), confidence=confidence)
        return fmr, fnmr, gfmr, gfnmr

    points: list[OperatingPoint] = []
    k = 0
    for target, op in ops_thr:
        if op is None:
            points.append(OperatingPoint(target, None, None, None, False))
            continue
        fmr, fnmr, gfmr, gfnmr = rates_at(op.threshold, k)
        points.append(OperatingPoint(target, op.threshold, fmr, fnmr, True, gfmr, gfnmr))
        k += 1
    for t in thresholds:
        fmr, fnmr, gfmr, gfnmr = rates_at(float(t), k)
        points.append(OperatingPoint(None, float(t), fmr, fnmr, True, gfmr, gfnmr))
        k += 1

    det = det_curve(genuine, impostor, extra_thresholds=internal + [eer.threshold]).thinned(
        keep=internal + [eer.threshold]
    )
    lo = float(min(genuine.distribution.low[0], impostor.distribution.low[0]))
    hi = float(max(genuine.distribution.high[-1], impostor.distribution.high[-1]))
    finite_lo = lo if np.isfinite(lo) else -1.0
    finite_hi = hi if np.isfinite(hi) else 1.0
    if finite_hi <= finite_lo:
        finite_hi = finite_lo + 1.0
    edges = np.linspace(finite_lo, finite_hi, histogram_bins + 1)
    hist_g, hist_i = histogram(genuine, edges), histogram(impostor, edges)

    return VerificationResult(
        n_genuine=ng,
        n_impostor=ni,
        genuine_fta=int(scores.genuine_fta),
        impostor_fta=int(scores.impostor_fta),
        orientation=scores.orientation,
        eer=EER(eer.value, eer_ci, eer.threshold, eer.fmr, eer.fnmr),
        auc=auc,
        auc_max_error=auc_err,
        operating_points=tuple(points),
        det=det,
        histogram_edges=edges,
        histogram_genuine=hist_g,
        histogram_impostor=hist_i,
        bootstrap=BootstrapInfo(bootstrap, confidence, unit, seed, n_units),
        warnings=tuple(warnings),
    )
