"""Parameter validation for :mod:`faceaudit.stats.impact`: one sentence naming the parameter."""

from __future__ import annotations

import math
import numbers

import numpy as np

from faceaudit.errors import InputError


def check_array(name: str, value, *, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """``value`` as a float array within [low, high]; InputError naming ``name`` otherwise."""
    what = "a number in [0, 1]" if high == 1.0 else f"a gallery size of at least {low:g}"
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be {what}, got {value!r}.") from None
    bad = ~np.isfinite(a) | (a < low) | (a > high)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = f" (at index {i})" if a.ndim else ""
        raise InputError(f"{name} must be {what}, got {float(a.flat[i])!r}{where}.")
    return a


def rate_array(name: str, value) -> np.ndarray:
    return check_array(name, value)


def gallery_array(name: str, value) -> np.ndarray:
    return check_array(name, value, low=1.0, high=np.inf)


def whole_number(name: str, value, *, minimum: int = 0) -> int:
    """A whole number >= ``minimum`` (ints, or floats with no fractional part)."""
    whole = isinstance(value, float) and math.isfinite(value) and value.is_integer()
    ok = whole or (isinstance(value, numbers.Integral) and not isinstance(value, bool))
    if not ok or int(value) < minimum:
        kind = "a non-negative whole number" if minimum == 0 else f"a whole number >= {minimum}"
        raise InputError(f"{name} must be {kind}, got {value!r}.")
    return int(value)


def confidence_level(confidence) -> float:
    if not isinstance(confidence, numbers.Real) or not 0.0 < float(confidence) < 1.0:
        raise InputError(
            f"confidence must be a number strictly between 0 and 1, got {confidence!r}."
        )
    return float(confidence)


def field_log_counts(alerts, confirmed_wrong, unverified, scanned, watchlist, gallery_sizes):
    """The validated counts of :func:`faceaudit.stats.impact.field_log`, in order."""
    alerts = whole_number("alerts", alerts)
    wrong = whole_number("confirmed_wrong", confirmed_wrong)
    unverified = whole_number("unverified", unverified)
    if wrong > alerts:
        raise InputError(f"confirmed_wrong ({wrong}) cannot exceed alerts ({alerts}).")
    if wrong + unverified > alerts:
        raise InputError(
            f"confirmed_wrong + unverified ({wrong} + {unverified}) cannot exceed alerts "
            f"({alerts}): an alert is verified wrong, verified right, or unverified."
        )
    scanned = None if scanned is None else whole_number("scanned", scanned)
    if scanned is not None and alerts > scanned:
        raise InputError(
            f"alerts ({alerts}) cannot exceed scanned ({scanned}): each face scanned is one search "
            "and raises at most one alert."
        )
    watchlist = None if watchlist is None else whole_number("watchlist", watchlist, minimum=1)
    if watchlist is not None and scanned is None:
        raise InputError(
            f"watchlist ({watchlist}) needs scanned: the implied per-comparison FMR comes from "
            "false alerts per face scanned."
        )
    sizes = tuple(whole_number("gallery_sizes", g, minimum=1) for g in gallery_sizes)
    if sizes and watchlist is None:
        raise InputError(
            "gallery_sizes needs watchlist (and scanned): extrapolation starts from the "
            "per-comparison FMR implied at the watchlist size."
        )
    return alerts, wrong, unverified, scanned, watchlist, sizes
