"""Operational impact: what a hit of a 1:N system means in the field, and what field logs show.

* :func:`operational_impact` carries the audit's 1:N rates at one threshold (FPIR(N, T), FNIR(N,
  1, T), wrong person at rank 1) through the encounter model of :mod:`faceaudit.stats.impact`:
  expected correct hits, wrong hits (of enrolled and non-enrolled people) and misses per
  encounter, day and year, and the PPV of a hit, across prevalence (the share of encountered
  people who are enrolled: the audit cannot measure it, so it is a curve) and per group under each
  group's stated prevalence. Intervals: percentile intervals over the caller's **joint**
  subject-bootstrap replicates of the three rates; without replicates none, and it says so.
* :func:`field_log_figures`: a deployment's disclosed counts -> PPV of an alert, false alerts per
  face, implied per-comparison FMR, with exact intervals (:func:`faceaudit.stats.impact.field_log`).

Both return frozen results whose ``to_json`` holds plain JSON types (no NaN: None and a reason).
"""

from __future__ import annotations

import warnings as warnings_
from collections.abc import Mapping, Sequence

import numpy as np

from faceaudit.analyses._impact_inputs import (
    DEFAULT_PREVALENCE_GRID,
    GroupAssumption,
    ImpactRates,
    checked_rates,
    finite_or_none,
    fpir_source,
    positive,
    prevalences,
)
from faceaudit.analyses._impact_types import (
    OUTCOMES,
    FieldLogResult,
    GroupImpact,
    ImpactPoint,
    ImpactResult,
    OutcomeFigures,
)
from faceaudit.params import confidence_level, count, number_array
from faceaudit.stats.bootstrap import percentile_interval
from faceaudit.stats.estimate import rule_of_three
from faceaudit.stats.field_log import field_log
from faceaudit.stats.impact import DAYS_PER_YEAR, Estimate, encounter_outcomes, hit_ppv

__all__ = [
    "DEFAULT_PREVALENCE_GRID",
    "FieldLogResult",
    "GroupAssumption",
    "GroupImpact",
    "ImpactPoint",
    "ImpactRates",
    "ImpactResult",
    "OutcomeFigures",
    "field_log_figures",
    "operational_impact",
]

_NO_REPLICATES = "no bootstrap replicates were given, so no interval"


# --------------------------------------------------------------------------- figures


def _interval_columns(reps: np.ndarray | None, confidence: float):
    """Per-column percentile interval ``(2, P)`` (NaN where undefined) and NaN counts ``(P,)``."""
    if reps is None:
        return None, None
    with warnings_.catch_warnings():
        warnings_.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: handled by the caller
        return percentile_interval(reps, confidence), np.isnan(reps).sum(axis=0)


def _estimate(value, ci, j, *, undefined: str, n_nan=None, n_boot: int = 0) -> Estimate:
    v = float(value[j])
    if not np.isfinite(v):
        return Estimate(None, None, undefined)
    if ci is None:
        return Estimate(v, None, _NO_REPLICATES)
    lo, hi = float(ci[0, j]), float(ci[1, j])
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return Estimate(v, None, "undefined in every replicate, so no interval")
    k = 0 if n_nan is None else int(n_nan[j])
    reason = (
        f"{k} of {n_boot} replicates expect no hit; the interval uses the others" if k else None
    )
    return Estimate(v, (lo, hi), reason)


def _outcome_figures(point, ci_of, j, scale: float) -> OutcomeFigures:
    def figure(name):
        ci = None if ci_of[name] is None else ci_of[name] * scale
        return _estimate(getattr(point, name) * scale, ci, j, undefined="undefined")

    return OutcomeFigures(**{name: figure(name) for name in OUTCOMES})


def _points(prevalence, user_given, point_rates, reps, *, encounters, days, band, confidence):
    """An :class:`ImpactPoint` per prevalence (vectorised over prevalence x replicates)."""
    f, fn, w = point_rates
    at = encounter_outcomes(prevalence, fpir=f, fnir=fn, mated_wrong_hit=w)
    boot = None
    if reps is not None:
        boot = encounter_outcomes(
            prevalence[None, :],
            fpir=reps[:, :1],
            fnir=reps[:, 1:2],
            mated_wrong_hit=reps[:, 2:3],
        )
    ci_of = {
        n: _interval_columns(None if boot is None else getattr(boot, n), confidence)[0]
        for n in OUTCOMES
    }
    ppv_ci, ppv_nan = _interval_columns(None if boot is None else boot.ppv, confidence)
    fd_ci, _ = _interval_columns(None if boot is None else boot.false_discovery, confidence)
    band_ppv = None
    if band is not None:
        band_ppv = [hit_ppv(prevalence, fpir=b, fnir=fn, mated_wrong_hit=w) for b in band[::-1]]
    no_hit = "no hit is expected at this prevalence with these rates, so PPV is undefined"
    n_boot = 0 if reps is None else reps.shape[0]
    out = []
    for j, pi in enumerate(prevalence):
        kw = dict(undefined=no_hit, n_nan=ppv_nan, n_boot=n_boot)
        ppv = _estimate(at.ppv, ppv_ci, j, **kw)
        fd = _estimate(at.false_discovery, fd_ci, j, **kw)
        ppb = None
        if band_ppv is not None and all(np.isfinite(b[j]) for b in band_ppv):
            ppb = (float(band_ppv[0][j]), float(band_ppv[1][j]))
        out.append(
            ImpactPoint(
                prevalence=float(pi),
                user_given=bool(user_given[j]),
                per_encounter=_outcome_figures(at, ci_of, j, 1.0),
                per_day=_outcome_figures(at, ci_of, j, encounters) if encounters else None,
                per_year=(
                    _outcome_figures(at, ci_of, j, encounters * days) if encounters else None
                ),
                ppv=ppv,
                false_discovery=fd,
                wrong_one_in=_one_in(fd),
                ppv_over_fpir_band=ppb,
            )
        )
    return out


def _one_in(fd: Estimate) -> Estimate:
    """X of "1 in X hits is the wrong person" from the false discovery share and its interval."""
    if fd.value is None:
        return Estimate(None, None, fd.reason)
    if fd.value == 0:
        return Estimate(None, None, "no wrong hit is expected, so no '1 in X'")
    ci, reason = None, fd.reason
    if fd.ci is not None:
        lo, hi = fd.ci
        if lo > 0:
            ci = (1.0 / hi, 1.0 / lo)
        else:
            reason = "some replicates expect no wrong hit: the interval has no upper end"
    return Estimate(1.0 / fd.value, ci, reason)


def _rates_json(point, reps, rates: ImpactRates, confidence: float) -> dict:
    """The input rates (and FNIR - wrong_top1, mated searches with no hit) with intervals."""
    values = np.append(point, max(point[1] - point[2], 0.0))  # no negative rounding residue
    table = None
    if reps is not None:
        table = np.column_stack([reps, np.maximum(reps[:, 1] - reps[:, 2], 0.0)])
    ci = None if table is None else percentile_interval(table, confidence)
    names = ("fpir", "fnir_rank1", "wrong_top1", "mated_no_hit")
    out = {
        n: _estimate(values, ci, k, undefined="undefined").to_json() for k, n in enumerate(names)
    }
    out["n_mated"] = rates.n_mated
    out["n_nonmated"] = rates.n_nonmated
    return out


# --------------------------------------------------------------------------- the analysis


def _assumptions(gallery_size, threshold, basis, band, encounters, days, n_boot, groups):
    t = "the audit's threshold" if threshold is None else f"threshold {float(threshold)!r}"
    out = [
        f"Each encounter is one search of a gallery of {gallery_size} at {t}; the app shows its "
        "rank-1 candidate when that candidate scores at or above the threshold (a hit).",
        "Prevalence (the share of encountered people who are enrolled) is not measured by the "
        "audit: every figure is given across a range of prevalence.",
        "The rates measured in the audit (FPIR, FNIR at rank 1, wrong person at rank 1) hold for "
        "the photos and the people the app will really see.",
        (
            f"FPIR at a gallery of {gallery_size} is measured at that size."
            if basis == "measured"
            else f"FPIR at a gallery of {gallery_size} is extrapolated (from a smaller gallery, "
            "under a fitted tail or the independence model)"
            + (" and given with a band." if band is not None else "; no band was given.")
        ),
        "Encounters are independent; per-day and per-year figures are expected counts (means), "
        f"from {encounters!r} encounters a day and {days!r} days a year.",
    ]
    out.append(
        f"Intervals are percentile intervals over {n_boot} joint subject-bootstrap replicates of "
        "the three rates: they carry the audit's sampling uncertainty, not uncertainty in "
        "prevalence or in how well the audit data represent the field."
        if n_boot
        else "No bootstrap replicates were given: figures have no interval."
    )
    for name, g in groups:
        basis_text = g.prevalence_basis or "no basis stated"
        pi = float(g.prevalence)
        out.append(
            f"Group {name!r}: prevalence {pi!r} is an assumption ({basis_text}); its rates are its "
            "own, measured at the same threshold."
        )
    return out


def _warnings(point, rates: ImpactRates, basis, band, n_boot, label="") -> list[str]:
    out = []
    if point[0] == 0 and band is None:
        n = rates.n_nonmated
        bound = f" (at most about {rule_of_three(n):.3g} on {n} non-mated searches)" if n else ""
        out.append(
            f"{label}FPIR is 0 in the audit{bound}: PPV computed with FPIR = 0 ignores hits of "
            "non-enrolled people that the data cannot rule out; pass fpir_band=(0, bound)."
        )
    if basis == "extrapolated" and band is None:
        out.append(
            f"{label}FPIR is extrapolated but no band was given: its uncertainty, usually the "
            "largest in the figures, is not shown."
        )
    if 0 < n_boot < 200:
        out.append(f"{label}only {n_boot} bootstrap replicates: the intervals' ends are rough.")
    return out


def _group_impact(name: str, g: GroupAssumption, whole_has_reps: bool, basis: str, kw: dict):
    """One group's figures at its own prevalence, and the warnings they need."""
    label = f"groups[{name!r}]."
    point, reps = checked_rates(g.rates, label + "rates.")
    prev = number_array(label + "prevalence", g.prevalence).reshape(1)
    enc = positive(label + "encounters_per_day", g.encounters_per_day, optional=True)
    at = _points(prev, np.array([True]), point, reps, encounters=enc, band=None, **kw)[0]
    n_boot = 0 if reps is None else reps.shape[0]
    warnings = _warnings(point, g.rates, basis, None, n_boot, label=f"Group {name!r}: ")
    if not g.prevalence_basis:
        warnings.append(
            f"Group {name!r}: no basis was stated for its prevalence; the group's PPV is only "
            "as good as that assumption."
        )
    if (reps is None) == whole_has_reps:
        warnings.append(
            f"Group {name!r}: bootstrap replicates were given for the group or for the whole "
            "but not for both, so only one of them has intervals."
        )
    rates = _rates_json(point, reps, g.rates, kw["confidence"])
    return GroupImpact(name, g.prevalence_basis, enc, rates, at), warnings


def operational_impact(
    rates: ImpactRates,
    *,
    gallery_size: int,
    encounters_per_day: float,
    fpir_basis: str = "measured",
    fpir_band: tuple[float, float] | None = None,
    threshold: float | None = None,
    prevalence_grid: Sequence[float] | None = None,
    prevalence_points: Sequence[float] = (),
    groups: Mapping[str, GroupAssumption] | None = None,
    confidence: float = 0.95,
    days_per_year: float = DAYS_PER_YEAR,
) -> ImpactResult:
    """Expected hits, wrong hits, misses and the PPV of a hit across prevalence (and per group).

    Parameters
    ----------
    rates : ImpactRates
        FPIR(N, T), FNIR(N, 1, T) and wrong_top1(T) at one threshold, with optional joint
        bootstrap replicates.
    gallery_size : int
        N, the gallery the field app searches (FPIR must be for this N).
    encounters_per_day : float
        Searches a day (people photographed).
    fpir_basis : {"measured", "extrapolated"}
        How FPIR at N was obtained; carried into the output.
    fpir_band : (float, float), optional
        A band on FPIR at N (e.g. an extrapolation's); PPV is also given at its two ends.
    threshold : float, optional
        The threshold T, for the record.
    prevalence_grid : sequence of float, optional
        Prevalences for the curve; default :data:`DEFAULT_PREVALENCE_GRID` (0.1% to 90%, log).
    prevalence_points : sequence of float
        Prevalences the user cares about (added to the grid and flagged ``user_given``).
    groups : mapping of str to GroupAssumption, optional
        Per-group rates and each group's own stated prevalence.
    confidence : float
        Level of the percentile intervals.
    days_per_year : float
        Days a year the app is used (default 365).

    Returns
    -------
    ImpactResult

    Notes
    -----
    Formulas: :mod:`faceaudit.stats.impact`. Each figure is computed on the point rates and on
    every replicate; the interval is the replicates' percentile interval (an exact transform of
    the rates' joint bootstrap distribution, so no linearisation). Where a replicate expects no
    hit its PPV is undefined and is left out (the figure says how many).

    Examples
    --------
    >>> r = operational_impact(ImpactRates(fpir=1e-3, fnir_rank1=0.1, wrong_top1=0.01),
    ...                        gallery_size=10_000, encounters_per_day=1000,
    ...                        prevalence_grid=[0.01])
    >>> p = r.points[0]
    >>> print(f"PPV {p.ppv.value:.3f}; {p.per_day.wrong_hit.value:.2f} wrong hits a day")
    PPV 0.892; 1.09 wrong hits a day
    """
    label = "rates."
    point, reps = checked_rates(rates, label)
    n = count("gallery_size", gallery_size, minimum=1)
    enc = positive("encounters_per_day", encounters_per_day)
    days = positive("days_per_year", days_per_year)
    conf = confidence_level("confidence", confidence)
    band = fpir_source(fpir_basis, fpir_band)
    thr = finite_or_none("threshold", threshold)
    prev, user = prevalences(prevalence_grid, prevalence_points)
    kw = dict(days=days, confidence=conf)
    points = _points(prev, user, point, reps, encounters=enc, band=band, **kw)
    n_boot = 0 if reps is None else reps.shape[0]
    warnings = _warnings(point, rates, fpir_basis, band, n_boot)
    group_out = []
    for name, g in (groups or {}).items():
        impact, more = _group_impact(str(name), g, reps is not None, fpir_basis, kw)
        group_out.append(impact)
        warnings += more
    assumptions = _assumptions(
        n, thr, fpir_basis, band, enc, days, n_boot, list((groups or {}).items())
    )
    return ImpactResult(
        gallery_size=n,
        threshold=thr,
        encounters_per_day=enc,
        days_per_year=days,
        fpir_basis=fpir_basis,
        fpir_band=band,
        rates=_rates_json(point, reps, rates, conf),
        bootstrap={
            "replicates": n_boot,
            "confidence": conf,
            "interval": "percentile" if n_boot else None,
            "joint": bool(n_boot),
            "reason": None if n_boot else _NO_REPLICATES,
        },
        points=tuple(points),
        groups=tuple(group_out),
        assumptions=tuple(assumptions),
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- field logs


def field_log_figures(
    alerts,
    confirmed_wrong,
    *,
    scanned=None,
    watchlist=None,
    unverified=0,
    gallery_sizes: Sequence[int] = (),
    confidence: float = 0.95,
    source: str | None = None,
) -> FieldLogResult:
    """A deployment's disclosed counts as figures with exact intervals and their assumptions.

    Arguments as in :func:`faceaudit.stats.impact.field_log`; ``source`` names the deployment
    (e.g. "Metropolitan Police, Sep 2024 - Sep 2025") and is carried into the output.

    Examples
    --------
    >>> r = field_log_figures(2470, 2297, source="South Wales Police, 2017 UEFA final")
    >>> print(f"PPV {r.log.ppv.value:.3f}")
    PPV 0.070
    """
    log = field_log(
        alerts,
        confirmed_wrong,
        scanned,
        watchlist,
        confidence,
        unverified=unverified,
        gallery_sizes=gallery_sizes,
    )
    assumptions = [
        "An alert is one search whose rank-1 candidate scored at or above the deployment's "
        "threshold; 'confirmed wrong' means an operator or officer established it showed "
        "someone else.",
        "The PPV of an alert depends on who passed the camera (how many were enrolled) and on "
        "the watchlist: it describes this deployment and does not transfer to another.",
    ]
    if log.scanned is not None:
        assumptions.append(
            "False alerts per face treat every face scanned as an independent non-mated search "
            "(the enrolled are few; a person scanned twice counts twice)."
        )
    if log.watchlist is not None:
        assumptions.append(
            "The implied per-comparison FMR uses the independence model, FPIR(N) = 1 - (1 - "
            "FMR)^N; real FPIR tends to grow more slowly with N, so extrapolations to larger "
            "galleries tend to overstate it: they are the model's figures, not measurements."
        )
    warnings = []
    if log.unverified:
        warnings.append(
            f"{log.unverified} of {log.alerts} alerts were never verified: PPV uses the verified "
            "alerts; ppv_if_unverified_wrong and ppv_if_unverified_correct bound it."
        )
    if log.confirmed_wrong == 0 and log.alerts:
        warnings.append(
            "No alert was confirmed wrong: the false-alert figures are upper bounds, not estimates."
        )
    if log.scanned is None:
        warnings.append("Faces scanned were not given: no per-face rate or implied FMR.")
    return FieldLogResult(log, source, tuple(assumptions), tuple(warnings))
