"""The inputs and results of the capture analysis (:mod:`faceaudit.analyses.capture`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from faceaudit.stats.estimate import Rate, empty_rate_json

__all__ = [
    "RATES",
    "CaptureAnalysis",
    "CaptureResult",
    "Condition",
    "ConditionRates",
    "Difference",
    "ProbeObservations",
    "RatioToReference",
    "References",
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
        return empty_rate_json(0)
    return r.to_json()
