"""Validation of every kind of parameter, declared once for the library and the command line.

Each function takes the parameter's *library* name and its value, returns the value normalised
(floats as float, counts as int, targets de-duplicated) and raises :class:`ParameterError` — an
:class:`~faceaudit.errors.InputError`, so the CLI exits with status 2 and one sentence — naming the
parameter and the value. Library messages never name a command-line flag; the CLI adds the flag's
name (:attr:`ParameterError.parameter` is the key it looks up).

>>> rate_targets("fmr_targets", [1e-3, 1e-4, 1e-3])
(0.001, 0.0001)
>>> bootstrap_replicates("bootstrap", 50)
Traceback (most recent call last):
...
faceaudit.params.ParameterError: bootstrap = 50: below 100 replicates the percentile intervals \
are unstable; use 0 (no intervals) or at least 100.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from faceaudit.errors import InputError

__all__ = [
    "MIN_BOOTSTRAP",
    "ParameterError",
    "bootstrap_replicates",
    "choice",
    "confidence_level",
    "count",
    "finite_number",
    "gallery_size",
    "held_out_subjects",
    "number_array",
    "rate_targets",
    "seed_value",
    "shown",
    "thresholds",
]

#: Fewest bootstrap replicates accepted (besides 0: no intervals). Percentile intervals at 95% rest
#: on the 2.5% and 97.5% quantiles of the replicates; below 100 those are a handful of draws.
MIN_BOOTSTRAP = 100
#: Largest gallery size accepted: beyond any population on Earth, so a typo (1e21) is caught.
MAX_GALLERY_SIZE = 10**11


class ParameterError(InputError):
    """A parameter value outside its domain; ``parameter`` is the library name (e.g. ``seed``)."""

    def __init__(self, parameter: str, value: Any, message: str) -> None:
        self.parameter = parameter
        self.value = value
        self.reason = message
        super().__init__(f"{parameter} = {shown(value)}: {message}")


def shown(value: Any) -> str:
    """A parameter value as a message shows it."""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        return ", ".join(shown(v) for v in value)
    return repr(value) if isinstance(value, str) else str(value)


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real | str):
        raise ParameterError(name, value, "must be a number.")
    try:
        return float(value)
    except ValueError:
        raise ParameterError(name, value, "must be a number.") from None


def finite_number(name: str, value: Any) -> float:
    """A finite float (NaN and ±inf are refused)."""
    x = _as_float(name, value)
    if not math.isfinite(x):
        raise ParameterError(name, value, "must be a finite number.")
    return x


def thresholds(name: str, values: Iterable[Any]) -> tuple[float, ...]:
    """Finite thresholds, in the order given, each once."""
    out: list[float] = []
    for v in values:
        x = finite_number(name, v)
        if x not in out:
            out.append(x)
    return tuple(out)


def rate_targets(name: str, values: Iterable[Any]) -> tuple[float, ...]:
    """Target rates in (0, 1] (FMR or FPIR targets), in the order given, each once."""
    out: list[float] = []
    for v in values:
        x = _as_float(name, v)
        if not 0.0 < x <= 1.0:
            raise ParameterError(name, v, "a target rate must lie in (0, 1], e.g. 1e-3.")
        if x not in out:
            out.append(x)
    if not out:
        raise ParameterError(name, [], "give at least one target rate.")
    return tuple(out)


def confidence_level(name: str, value: Any) -> float:
    """A two-sided confidence level in [0.5, 1)."""
    x = _as_float(name, value)
    if not 0.5 <= x < 1.0:
        raise ParameterError(name, value, "a confidence level must lie in [0.5, 1), e.g. 0.95.")
    return x


def count(name: str, value: Any, *, minimum: int = 0, maximum: int | None = None) -> int:
    """An integer in ``[minimum, maximum]`` (floats holding an integer are accepted)."""
    if isinstance(value, bool):
        raise ParameterError(name, value, "must be a whole number.")
    if isinstance(value, numbers.Integral):
        k = int(value)
    else:
        x = _as_float(name, value)
        if not math.isfinite(x) or x != int(x):
            raise ParameterError(name, value, "must be a whole number.")
        k = int(x)
    if k < minimum:
        raise ParameterError(name, value, f"must be at least {minimum}.")
    if maximum is not None and k > maximum:
        raise ParameterError(name, value, f"must be at most {maximum}.")
    return k


def bootstrap_replicates(name: str, value: Any) -> int:
    """0 (no intervals) or at least :data:`MIN_BOOTSTRAP` replicates."""
    k = count(name, value)
    if 0 < k < MIN_BOOTSTRAP:
        raise ParameterError(
            name,
            value,
            f"below {MIN_BOOTSTRAP} replicates the percentile intervals are unstable; use 0 (no "
            f"intervals) or at least {MIN_BOOTSTRAP}.",
        )
    return k


def seed_value(name: str, value: Any) -> int:
    """A seed for numpy's generators: an integer in [0, 2^63)."""
    return count(name, value, minimum=0, maximum=2**63 - 1)


def gallery_size(name: str, value: Any) -> int:
    """A gallery size N: a whole number of enrolled people, 1 to 10^11."""
    return count(name, value, minimum=1, maximum=MAX_GALLERY_SIZE)


def held_out_subjects(name: str, value: Any, n_subjects: int | None = None) -> float | int:
    """A share in (0, 1) of the subjects, or a whole number of them (0 holds none out).

    With ``n_subjects`` the number is checked against it: holding out every subject would leave
    an empty gallery.
    """
    x = _as_float(name, value)
    if not math.isfinite(x) or x < 0:
        raise ParameterError(
            name, value, "give a share of the subjects in (0, 1) or a whole number of them."
        )
    held: float | int = x if 0 < x < 1 else count(name, value)
    if n_subjects is not None:
        k = int(round(held * n_subjects)) if isinstance(held, float) else held
        if k >= n_subjects:
            raise ParameterError(
                name,
                value,
                f"holds out {k} of the {n_subjects} subjects, which leaves no one enrolled; hold "
                "out fewer.",
            )
    return held


def number_array(name: str, value: Any, *, low: float = 0.0, high: float = 1.0):
    """``value`` as a float array (any shape) of finite numbers in ``[low, high]``.

    The default range is that of a rate; the message names the first bad element.
    """
    import numpy as np

    what = "a number in [0, 1]" if (low, high) == (0.0, 1.0) else f"a number >= {low:g}"
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(name, value, f"must be {what}.") from None
    bad = ~np.isfinite(a) | (a < low) | (a > high)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = f" (element {i})" if a.ndim else ""
        raise ParameterError(name, float(a.flat[i]), f"must be {what}{where}.")
    return a


def choice(name: str, value: Any, options: Iterable[str]) -> str:
    """One of ``options``."""
    opts = list(options)
    if value not in opts:
        shown = ", ".join(repr(o) for o in opts)
        raise ParameterError(name, value, f"must be one of {shown}.")
    return str(value)
