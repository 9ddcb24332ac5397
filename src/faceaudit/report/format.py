"""Plain-text formatting of numbers, rates and intervals for the report (numbers only).

Every function returns plain ``str`` (never markup): the templates escape it. A *rate* is the
``results.json`` form ``{"value", "ci": [lo, hi] | None, "count", "n", "upper_bound"}``; any key may
be missing and the functions say so in words rather than fail.

Conventions
-----------
- Rates at or above 0.001 print as decimals with 3 significant digits (``0.0231``), smaller ones in
  scientific notation with a Unicode exponent (``3.20×10⁻⁶``), so a column reads the same way
  whatever its magnitude and no rate prints as ``0.000``.
- Counts get thousands separators (``1,000,000``).
- Words around numbers ("about 1 in 310,000") are made in :mod:`faceaudit.report.sentences`, the
  one place numbers become words; this module formats numbers only.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def is_number(x: Any) -> bool:
    """True for a finite real number (bools excluded; numpy scalars included)."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def fmt_sci(x: float, digits: int = 3) -> str:
    """``3.20×10⁻⁶`` for ``3.2e-6`` (``digits`` significant digits)."""
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def fmt_num(x: Any, digits: int = 3) -> str:
    """A number with ``digits`` significant digits, scientific below 0.001 or from 10^6 up.

    Integers print exactly with thousands separators; ``None`` prints as an em dash.
    """
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, numbers.Integral):
        return f"{int(x):,}"
    if not isinstance(x, numbers.Real):
        return str(x)
    x = float(x)
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax < 1e-3 or ax >= 1e6:
        return fmt_sci(x, digits)
    text = f"{x:.{digits}g}"
    if "e" in text:  # e.g. 1e+03 from .3g
        text = f"{x:,.0f}"
    return text


def fmt_count(x: Any) -> str:
    """An integer count with thousands separators (``—`` when missing)."""
    if x is None:
        return "—"
    try:
        return f"{int(x):,}"
    except (TypeError, ValueError):
        return str(x)


def fmt_threshold(x: Any) -> str:
    """A threshold in the user's units: up to 6 significant digits, no rounding surprises."""
    if x is None:
        return "—"
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return str(int(x))
    if is_number(x):
        return f"{float(x):.6g}"
    return str(x)


def fmt_confidence(confidence: Any) -> str:
    """``95%`` for 0.95."""
    if not is_number(confidence):
        return "95%"
    return f"{confidence * 100:g}%"


def target_text(target: Any) -> str:
    """An FMR/FPIR target: ``10⁻⁴`` for 1e-4 (a power of ten from 10⁻² down), ``0.003`` else."""
    if not is_number(target) or target <= 0:
        return fmt_num(target)
    e = math.log10(target)
    if abs(e - round(e)) < 1e-9 and round(e) <= -2:
        return fmt_sci(target, 1).replace("1×", "")
    return fmt_num(target)


def fmt_pct(x: Any) -> str:
    """A share as a percentage for readers: ``47%``, ``99.4%``, ``0.066%``."""
    if not is_number(x):
        return "—"
    p = 100 * float(x)
    if p == 0:
        return "0%"
    if abs(p) >= 99.5 and abs(p) < 100:
        return f"{p:.3g}%"
    return f"{p:.2g}%" if abs(p) < 10 else f"{p:.0f}%"


def _ci(rate: Mapping[str, Any]) -> tuple[float, float] | None:
    ci = rate.get("ci")
    if isinstance(ci, list | tuple) and len(ci) == 2 and all(is_number(v) for v in ci):
        return float(ci[0]), float(ci[1])
    return None


def fmt_ci(rate: Mapping[str, Any] | None, confidence: Any = 0.95) -> str:
    """``95% CI 0.0101–0.0149`` or ``no CI`` (no bootstrap asked for / not computable)."""
    if not isinstance(rate, Mapping):
        return "no CI"
    ci = _ci(rate)
    if ci is None:
        return "no CI"
    return f"{fmt_confidence(confidence)} CI {fmt_num(ci[0])}–{fmt_num(ci[1])}"


def fmt_n(rate: Mapping[str, Any] | None) -> str:
    """``123 of 10,000`` (``n = 10,000`` when the count is missing)."""
    if not isinstance(rate, Mapping):
        return ""
    count, n = rate.get("count"), rate.get("n")
    if n is None:
        return ""
    if count is None:
        return f"n = {fmt_count(n)}"
    return f"{fmt_count(count)} of {fmt_count(n)}"


def rate_value(rate: Any) -> float | None:
    """The rate's value as a float, or None."""
    if isinstance(rate, Mapping):
        v = rate.get("value")
        return float(v) if is_number(v) else None
    return float(rate) if is_number(rate) else None


def fmt_rate_value(rate: Any) -> str:
    """Just the figure: ``0.0123``; ``≤ 3.69×10⁻⁴`` when no error was observed (an upper bound),
    ``≥ 0.692`` when every trial erred (a lower bound); ``no data`` for n = 0."""
    if not isinstance(rate, Mapping):
        return fmt_num(rate) if is_number(rate) else "—"
    if rate.get("upper_bound"):
        ci = _ci(rate)
        return f"≤ {fmt_num(ci[1])}" if ci else "0"
    if rate.get("lower_bound"):
        ci = _ci(rate)
        return f"≥ {fmt_num(ci[0])}" if ci else "1"
    v = rate_value(rate)
    if v is None:
        return "no data" if rate.get("n") == 0 else "—"
    return fmt_num(v)


def bound_words(rate: Mapping[str, Any]) -> str:
    """What a bound says and rests on: ``no errors observed; one-sided 97.5% bound on 150
    subjects`` (``every trial an error; ...`` for a lower bound)."""
    seen = "every trial an error" if rate.get("lower_bound") else "no errors observed"
    b = rate.get("bound")
    if not isinstance(b, Mapping):
        return seen
    unit = str(b.get("unit") or "unit")
    n = b.get("n_units")
    on = f" on {fmt_count(n)} {unit}{'' if n == 1 else 's'}" if is_number(n) else ""
    return f"{seen}; one-sided {fmt_confidence(b.get('confidence'))} bound{on}"


def fmt_rate(rate: Any, confidence: Any = 0.95) -> str:
    """A rate in full: value, interval and sample, in one line of plain text.

    - ``0.0123 (95% CI 0.0101–0.0149; 123 of 10,000)``
    - ``≤ 2.46×10⁻⁵ (no errors observed; one-sided 97.5% bound on 150 subjects; 0 of 10,000)``
      when ``upper_bound`` (exact binomial on the independent units:
      :mod:`faceaudit.stats.estimate`), ``≥ ...`` likewise when ``lower_bound`` (every trial erred)
    - ``no data (n = 0)`` when there is nothing to count.
    """
    if not isinstance(rate, Mapping):
        return fmt_num(rate) if is_number(rate) else "—"
    n = rate.get("n")
    if rate.get("upper_bound") or rate.get("lower_bound"):
        return f"{fmt_rate_value(rate)} ({bound_words(rate)}; {fmt_n(rate)})"
    v = rate_value(rate)
    if v is None:
        return "no data (n = 0)" if n == 0 else "—"
    parts = [fmt_ci(rate, confidence)]
    sample = fmt_n(rate)
    if sample:
        parts.append(sample)
    return f"{fmt_num(v)} ({'; '.join(parts)})"


def fmt_value(x: Any, confidence: Any = 0.95) -> str:
    """Any summary value: a rate-like mapping, a number, a string, a list or a nested mapping."""
    if isinstance(x, Mapping):
        if "value" in x:
            if "n" in x or "upper_bound" in x:
                return fmt_rate(x, confidence)
            v = fmt_num(x.get("value"))
            ci = _ci(x)
            if ci is None and x.get("ci_unbounded") and is_number(x.get("ci_low")):
                return (
                    f"{v} ({fmt_confidence(confidence)} CI from {fmt_num(x['ci_low'])}, "
                    "no upper limit)"
                )
            if ci is None:
                return v
            return f"{v} ({fmt_confidence(confidence)} CI {fmt_num(ci[0])}–{fmt_num(ci[1])})"
        return "; ".join(f"{k}: {fmt_value(v, confidence)}" for k, v in x.items())
    if isinstance(x, list | tuple):
        return ", ".join(fmt_value(v, confidence) for v in x)
    if isinstance(x, str):
        return x
    return fmt_num(x)


def humanize_key(key: Any) -> str:
    """``fmr_max_over_geomean`` -> ``FMR max over geomean``."""
    acronyms = {
        "fmr",
        "fnmr",
        "fpir",
        "fnir",
        "fta",
        "eer",
        "ppv",
        "ci",
        "gpd",
        "auc",
        "id",
        "cmc",
        "garbe",
    }
    words = str(key).replace("_", " ").split()
    out = [w.upper() if w.lower() in acronyms else w for w in words]
    if out and out[0] == words[0]:
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


def fmt_band(band: Mapping[str, Any], confidence: Any = 0.95, *, threshold: bool = False) -> str:
    """A modelled figure ``{value, ci}``: ``0.66 (95% CI 0.64–0.71)``, or just ``0.66``.

    ``threshold=True`` prints thresholds (6 significant digits) instead of rates.
    """
    f = fmt_threshold if threshold else fmt_num
    ci = _ci(band)
    if ci is None:
        return f(band.get("value"))
    return f"{f(band.get('value'))} ({fmt_confidence(confidence)} CI {f(ci[0])}–{f(ci[1])})"
