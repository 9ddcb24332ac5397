"""Plain sentences and warnings of the capture analysis: one sentence per condition."""

from __future__ import annotations

from faceaudit.analyses._capture_types import ConditionRates, Difference, RatioToReference
from faceaudit.stats.estimate import Rate

# ---------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------


def _num(x: float) -> str:
    x = 100.0 * x
    if x == 0:
        return "0"
    if x >= 10:
        return f"{x:.0f}"
    if x >= 1:
        return f"{x:.1f}"
    return f"{x:.2g}"


def _clause(r: Rate | None, things: str, verb: str, confidence: float, extra: str = "") -> str:
    """``"9.5% (95% CI 0-21%) of mated comparisons fail to match"`` and its special cases.

    ``things`` is plural ("mated comparisons"), ``verb`` plural ("fail to match"); ``extra``
    goes inside the same parentheses.
    """
    more = f"; {extra}" if extra else ""
    if r is None or r.n == 0:
        return f"no {things} could be made or counted" + (f" ({extra})" if extra else "")
    if r.upper_bound and r.ci is not None:
        return f"none of {r.n:,} {things} {verb} (at most {_num(r.ci[1])}%{more})"
    if r.ci is None:
        return f"{_num(r.value)}% of {things} {verb}" + (f" ({extra})" if extra else "")
    lo, hi = _num(r.ci[0]), _num(r.ci[1])
    return f"{_num(r.value)}% ({confidence:.0%} CI {lo}-{hi}%{more}) of {things} {verb}"


def _short(r: Rate | None, confidence: float) -> str:
    if r is None or r.n == 0:
        return "not measured"
    if r.upper_bound and r.ci is not None:
        return f"none of {r.n:,}"
    return f"{_num(r.value)}%"


def _compare(
    ratio: RatioToReference, diff: Difference, rate: Rate, ref_rate: Rate | None, ref: str
) -> str:
    """How a rate compares with the reference's: ratio when defined, else the difference."""
    if rate.count == 0 and ref_rate is not None and ref_rate.count == 0:
        return f"none on {ref} either"
    if ratio.value is not None and ref_rate is not None and ref_rate.count > 0:
        head = f"{ratio.value:.1f} times the rate on {ref}"
    elif diff.value is not None:
        head = f"{100 * diff.value:+.1f} points from {ref}"
    else:
        return f"not comparable with {ref}"
    if diff.ci is not None and diff.ci[0] > 0:
        return head + ", clearly higher"
    if diff.ci is not None and diff.ci[1] < 0:
        return head + ", clearly lower"
    return head + f"; these data cannot tell it apart from {ref}"


def _sentence(c: ConditionRates, ref: ConditionRates, threshold_text: str, confidence) -> str:
    r = c.rates
    if c.reference:
        fnmr = _clause(r["fnmr"], "mated comparisons", "fail to match", confidence)
        fta = _clause(r["fta"], "photos", "yield no usable face", confidence)
        fpir = _clause(
            r["fpir"],
            "searches for people not enrolled",
            "return someone above the threshold",
            confidence,
        )
        return (
            f"On {c.condition.label} (the reference condition, where the threshold was fixed "
            f"{threshold_text}), {fnmr}, {fta}, and {fpir}."
        )
    refname = ref.condition.label
    fnmr = r["fnmr"]
    if fnmr is None or fnmr.n == 0:
        head = f"{c.condition.label}: no mated comparison could be made"
    else:
        how = _compare(c.ratios["fnmr"], c.differences["fnmr"], fnmr, ref.rates["fnmr"], refname)
        head = (
            f"{c.condition.label}: at the threshold fixed on {refname}, "
            f"{_clause(fnmr, 'mated comparisons', 'fail to match', confidence, how)}"
        )
    fta_ref = f"{refname}: {_short(ref.rates['fta'], confidence)}"
    text = f"{head}, and {_clause(r['fta'], 'photos', 'yield no usable face', confidence, fta_ref)}"
    fpir = r.get("fpir")
    d = c.differences["fpir"].ci if "fpir" in c.differences else None
    if fpir is not None and fpir.n and d is not None:
        if d[0] > 0:
            text += f"; false alarms in 1:N searches rise to {_num(fpir.value)}%"
        elif d[1] < 0:
            text += f"; false alarms in 1:N searches fall to {_num(fpir.value)}%"
    return text + "."


def _warnings(results: list[ConditionRates], ref: ConditionRates, gallery_size: int) -> list[str]:
    out = []
    if gallery_size == 0:
        out.append("No subject is enrolled in the 1:N gallery: FNIR and FPIR are not measured.")
    for c in results:
        fnmr = c.rates.get("fnmr")
        if fnmr is None:
            out.append(
                f"Condition {c.condition.name!r}: no mated comparison (no probe with a face "
                "and a reference): its FNMR is not measured."
            )
        elif fnmr.n < 30:
            out.append(
                f"Condition {c.condition.name!r} rests on {fnmr.n} mated comparisons: its "
                "rates are rough (wide intervals)."
            )
    fpir = ref.rates.get("fpir")
    if fpir is not None and fpir.n < 30:
        out.append(
            f"The reference condition has {fpir.n} non-mated searches: FPIR figures are rough; "
            "hold out more subjects for more."
        )
    return out
