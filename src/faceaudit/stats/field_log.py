"""What a deployment's disclosed counts support: PPV of an alert, false alerts per face, FMR.

Police forces and agencies publish counts (faces scanned, alerts raised, alerts confirmed wrong);
:func:`field_log` turns them into rates with exact (Clopper-Pearson) intervals and, given the
watchlist size, the per-comparison FMR they imply under the independence model
(:mod:`faceaudit.stats.impact`). Derivations: ``docs/impact.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from faceaudit.errors import InputError
from faceaudit.params import confidence_level
from faceaudit.params import count as _whole
from faceaudit.stats.binomial import clopper_pearson
from faceaudit.stats.estimate import Rate
from faceaudit.stats.impact import Estimate, gallery_extrapolation, implied_fmr

__all__ = ["FieldLog", "GalleryExtrapolation", "field_log"]


def _count(name: str, value, *, minimum: int = 0) -> int:
    return _whole(name, value, minimum=minimum)


@dataclass(frozen=True)
class GalleryExtrapolation:
    """A field log's implied FMR carried to another gallery size (independence model)."""

    gallery_size: int
    expected_false_candidates: Estimate
    fpir: Estimate


@dataclass(frozen=True)
class FieldLog:
    """The figures a deployment's disclosed counts support, with exact intervals.

    Rates are :class:`faceaudit.stats.estimate.Rate` with Clopper-Pearson intervals (one-sided
    at 0 or n, ``upper_bound`` set for a zero count). None means the counts cannot give the figure.
    """

    alerts: int
    confirmed_wrong: int
    unverified: int
    scanned: int | None
    watchlist: int | None
    confidence: float
    ppv: Rate | None
    false_discovery: Rate | None
    wrong_one_in: Estimate
    ppv_if_unverified_wrong: Rate | None
    ppv_if_unverified_correct: Rate | None
    alerts_per_face: Rate | None
    false_alerts_per_face: Rate | None
    false_alerts_per_face_if_unverified_wrong: Rate | None
    implied_fmr: Estimate | None
    extrapolations: tuple[GalleryExtrapolation, ...]

    @property
    def confirmed_correct(self) -> int:
        """Alerts verified as the right person: ``alerts - confirmed_wrong - unverified``."""
        return self.alerts - self.confirmed_wrong - self.unverified


def _cp_rate(count: int, n: int, confidence: float) -> Rate | None:
    if n == 0:
        return None
    return Rate(count, n, clopper_pearson(count, n, confidence), upper_bound=count == 0)


def field_log(
    alerts,
    confirmed_wrong,
    scanned=None,
    watchlist=None,
    confidence: float = 0.95,
    *,
    unverified=0,
    gallery_sizes: Sequence[int] = (),
) -> FieldLog:
    """Figures from a deployment's disclosed counts: PPV of an alert, false alerts per face, FMR.

    Parameters
    ----------
    alerts : int
        Alerts raised (hits shown to an operator).
    confirmed_wrong : int
        Alerts confirmed to show the wrong person.
    scanned : int, optional
        Faces searched (each a search of the watchlist); needed for per-face rates.
    watchlist : int, optional
        Watchlist (gallery) size N; with ``scanned``, gives the implied per-comparison FMR.
    confidence : float
        Level of the Clopper-Pearson intervals.
    unverified : int
        Alerts whose outcome was never established (not stopped, lost in the crowd, ...).
    gallery_sizes : sequence of int
        Other gallery sizes to carry the implied FMR to.

    Returns
    -------
    FieldLog

    Notes
    -----
    * ``PPV = (alerts - confirmed_wrong - unverified) / (alerts - unverified)``: the share of
      verified alerts that were right. With unverified alerts, ``ppv_if_unverified_wrong`` =
      correct / alerts and ``ppv_if_unverified_correct`` = (correct + unverified) / alerts bound
      what the unverified could make it.
    * False alerts per face = ``confirmed_wrong / scanned`` estimates FPIR(N, T) per face, treating
      every scanned face as a non-mated search (the enrolled are few) and faces as independent
      trials (a person scanned twice is two trials): that is what the interval assumes.
    * Implied FMR = ``1 - (1 - FPIR)^(1/N)`` (:func:`implied_fmr`); its interval is the
      Clopper-Pearson interval of FPIR mapped through this monotone function, so it inherits the
      exact coverage under the independence model, and none of the model's own error.

    Examples
    --------
    >>> log = field_log(2077, 10, scanned=3_147_436)  # Metropolitan Police, Sep 2024 - Sep 2025
    >>> print(f"PPV {log.ppv.value:.4f}; {log.false_alerts_per_face.value:.2e} per face")
    PPV 0.9952; 3.18e-06 per face
    """
    alerts, wrong, unverified, scanned, watchlist, sizes = field_log_counts(
        alerts, confirmed_wrong, unverified, scanned, watchlist, gallery_sizes
    )
    conf = confidence_level("confidence", confidence)
    correct = alerts - wrong - unverified
    verified = alerts - unverified
    ppv = _cp_rate(correct, verified, conf)
    fdr = _cp_rate(wrong, verified, conf)
    if fdr is None:
        one_in = Estimate(None, None, "no alert was verified")
    elif wrong == 0:
        one_in = Estimate(None, None, "no verified alert was wrong; see false_discovery's bound")
    else:
        lo, hi = fdr.ci
        one_in = Estimate(verified / wrong, (1.0 / hi, 1.0 / lo))
    if_wrong = if_right = None
    if unverified:
        if_wrong = _cp_rate(correct, alerts, conf)
        if_right = _cp_rate(correct + unverified, alerts, conf)
    per_face = false_per_face = false_if_wrong = None
    if scanned is not None:
        per_face = _cp_rate(alerts, scanned, conf)
        false_per_face = _cp_rate(wrong, scanned, conf)
        if unverified:
            false_if_wrong = _cp_rate(wrong + unverified, scanned, conf)
    fmr, extrapolations = _implied(false_per_face, watchlist, sizes)
    return FieldLog(
        alerts=alerts,
        confirmed_wrong=wrong,
        unverified=unverified,
        scanned=scanned,
        watchlist=watchlist,
        confidence=conf,
        ppv=ppv,
        false_discovery=fdr,
        wrong_one_in=one_in,
        ppv_if_unverified_wrong=if_wrong,
        ppv_if_unverified_correct=if_right,
        alerts_per_face=per_face,
        false_alerts_per_face=false_per_face,
        false_alerts_per_face_if_unverified_wrong=false_if_wrong,
        implied_fmr=fmr,
        extrapolations=extrapolations,
    )


def _implied(false_per_face: Rate | None, watchlist: int | None, sizes: tuple[int, ...]):
    """Implied FMR (interval mapped from FPIR's) and its extrapolations; None, () without N."""
    if watchlist is None or false_per_face is None:
        return None, ()
    lo, hi = false_per_face.ci
    f_val, f_lo, f_hi = (float(implied_fmr(x, watchlist)) for x in (false_per_face.value, lo, hi))
    return Estimate(f_val, (f_lo, f_hi)), tuple(_extrapolate(g, f_val, f_lo, f_hi) for g in sizes)


def _extrapolate(size: int, fmr: float, lo: float, hi: float) -> GalleryExtrapolation:
    (c, c_lo, c_hi), (p, p_lo, p_hi) = (
        tuple(float(v) for v in arr) for arr in gallery_extrapolation([fmr, lo, hi], size)
    )
    return GalleryExtrapolation(size, Estimate(c, (c_lo, c_hi)), Estimate(p, (p_lo, p_hi)))


def field_log_counts(alerts, confirmed_wrong, unverified, scanned, watchlist, gallery_sizes):
    """The validated counts of :func:`faceaudit.stats.impact.field_log`, in order."""
    alerts = _count("alerts", alerts)
    wrong = _count("confirmed_wrong", confirmed_wrong)
    unverified = _count("unverified", unverified)
    if wrong > alerts:
        raise InputError(f"confirmed_wrong ({wrong}) cannot exceed alerts ({alerts}).")
    if wrong + unverified > alerts:
        raise InputError(
            f"confirmed_wrong + unverified ({wrong} + {unverified}) cannot exceed alerts "
            f"({alerts}): an alert is verified wrong, verified right, or unverified."
        )
    scanned = None if scanned is None else _count("scanned", scanned)
    if scanned is not None and alerts > scanned:
        raise InputError(
            f"alerts ({alerts}) cannot exceed scanned ({scanned}): each face scanned is one search "
            "and raises at most one alert."
        )
    watchlist = None if watchlist is None else _count("watchlist", watchlist, minimum=1)
    if watchlist is not None and scanned is None:
        raise InputError(
            f"watchlist ({watchlist}) needs scanned: the implied per-comparison FMR comes from "
            "false alerts per face scanned."
        )
    sizes = tuple(_count("gallery_sizes", g, minimum=1) for g in gallery_sizes)
    if sizes and watchlist is None:
        raise InputError(
            "gallery_sizes needs watchlist (and scanned): extrapolation starts from the "
            "per-comparison FMR implied at the watchlist size."
        )
    return alerts, wrong, unverified, scanned, watchlist, sizes
