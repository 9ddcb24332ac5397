"""The result types of :mod:`faceaudit.analyses.impact` (frozen; ``to_json`` gives plain JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field

from faceaudit.stats.estimate import Rate, empty_rate_json
from faceaudit.stats.field_log import FieldLog
from faceaudit.stats.impact import Estimate

OUTCOMES = (
    "correct_hit",
    "wrong_hit_mated",
    "wrong_hit_nonmated",
    "mated_no_hit",
    "nonmated_no_hit",
    "miss",
    "hit",
    "wrong_hit",
)


@dataclass(frozen=True)
class OutcomeFigures:
    """Expected outcomes (shares per encounter, or counts per day / per year) with intervals."""

    correct_hit: Estimate
    wrong_hit_mated: Estimate
    wrong_hit_nonmated: Estimate
    mated_no_hit: Estimate
    nonmated_no_hit: Estimate
    miss: Estimate
    hit: Estimate
    wrong_hit: Estimate

    def to_json(self) -> dict:
        return {name: getattr(self, name).to_json() for name in OUTCOMES}


@dataclass(frozen=True)
class ImpactPoint:
    """Every figure at one prevalence. ``per_day`` / ``per_year`` are None without encounters.

    ``ppv_over_fpir_band`` is PPV at the two ends of the FPIR band (other rates at their point
    values), low first; None without a band.
    """

    prevalence: float
    user_given: bool
    per_encounter: OutcomeFigures
    per_day: OutcomeFigures | None
    per_year: OutcomeFigures | None
    ppv: Estimate
    false_discovery: Estimate
    wrong_one_in: Estimate
    ppv_over_fpir_band: tuple[float, float] | None = None

    def to_json(self) -> dict:
        band = self.ppv_over_fpir_band
        return {
            "prevalence": self.prevalence,
            "user_given": self.user_given,
            "ppv": self.ppv.to_json(),
            "false_discovery": self.false_discovery.to_json(),
            "wrong_one_in": self.wrong_one_in.to_json(),
            "per_encounter": self.per_encounter.to_json(),
            "per_day": None if self.per_day is None else self.per_day.to_json(),
            "per_year": None if self.per_year is None else self.per_year.to_json(),
            "ppv_over_fpir_band": None if band is None else [band[0], band[1]],
        }


@dataclass(frozen=True)
class GroupImpact:
    """One group's figures at its own stated prevalence."""

    group: str
    prevalence_basis: str | None
    encounters_per_day: float | None
    rates: dict
    point: ImpactPoint

    def to_json(self) -> dict:
        return {
            "group": self.group,
            "prevalence": self.point.prevalence,
            "prevalence_basis": self.prevalence_basis,
            "encounters_per_day": self.encounters_per_day,
            "rates": self.rates,
            **{k: v for k, v in self.point.to_json().items() if k not in ("prevalence",)},
        }


@dataclass(frozen=True)
class ImpactResult:
    """Operational impact at one threshold and gallery size; the report reads only ``to_json``."""

    gallery_size: int
    threshold: float | None
    encounters_per_day: float
    days_per_year: float
    fpir_basis: str
    fpir_band: tuple[float, float] | None
    rates: dict
    bootstrap: dict
    points: tuple[ImpactPoint, ...]
    groups: tuple[GroupImpact, ...]
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        band = self.fpir_band
        return {
            "analysis": "operational_impact",
            "gallery_size": self.gallery_size,
            "threshold": self.threshold,
            "encounters_per_day": self.encounters_per_day,
            "days_per_year": self.days_per_year,
            "fpir_at_gallery": {
                "basis": self.fpir_basis,
                "band": None if band is None else [band[0], band[1]],
            },
            "rates": self.rates,
            "bootstrap": dict(self.bootstrap),
            "points": [p.to_json() for p in self.points],
            "groups": [g.to_json() for g in self.groups],
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }


def _rate_json(rate: Rate | None, reason: str) -> dict:
    if rate is None:
        return {**empty_rate_json(), "reason": reason}
    return {**rate.to_json(), "reason": None}


@dataclass(frozen=True)
class FieldLogResult:
    """A field log's figures (:class:`faceaudit.stats.impact.FieldLog`) with words to read them."""

    log: FieldLog
    source: str | None
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        g = self.log
        no_scan = "needs the number of faces scanned"
        no_unverified = "no alert is unverified"
        return {
            "analysis": "field_log",
            "source": self.source,
            "confidence": g.confidence,
            "interval_method": "Clopper-Pearson exact; one-sided at a count of 0 or n",
            "counts": {
                "alerts": g.alerts,
                "confirmed_wrong": g.confirmed_wrong,
                "confirmed_correct": g.confirmed_correct,
                "unverified": g.unverified,
                "scanned": g.scanned,
                "watchlist": g.watchlist,
            },
            "ppv": _rate_json(g.ppv, "no alert was verified"),
            "false_discovery": _rate_json(g.false_discovery, "no alert was verified"),
            "wrong_one_in": g.wrong_one_in.to_json(),
            "ppv_if_unverified_wrong": _rate_json(g.ppv_if_unverified_wrong, no_unverified),
            "ppv_if_unverified_correct": _rate_json(g.ppv_if_unverified_correct, no_unverified),
            "alerts_per_face": _rate_json(g.alerts_per_face, no_scan),
            "false_alerts_per_face": _rate_json(g.false_alerts_per_face, no_scan),
            "false_alerts_per_face_if_unverified_wrong": _rate_json(
                g.false_alerts_per_face_if_unverified_wrong,
                no_scan if g.scanned is None else no_unverified,
            ),
            "implied_fmr": (
                g.implied_fmr.to_json()
                if g.implied_fmr is not None
                else Estimate(None, None, "needs faces scanned and the watchlist size").to_json()
            ),
            "gallery_extrapolation": [
                {
                    "gallery_size": e.gallery_size,
                    "expected_false_candidates": e.expected_false_candidates.to_json(),
                    "fpir": e.fpir.to_json(),
                }
                for e in g.extrapolations
            ],
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }
