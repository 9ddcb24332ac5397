"""Intervals, ratios to the best group and summaries over groups (NIST IR 8280, GARBE)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from faceaudit.analyses._demographics_types import Ratio, SummaryValue
from faceaudit.analyses._demographics_vocabulary import _Vocabulary
from faceaudit.stats.bootstrap import percentile_interval
from faceaudit.stats.estimate import Rate, make_rate, zero_error_bound
from faceaudit.stats.groups import gini
from faceaudit.stats.intervals import rate_interval, ratio_interval


def _interval(
    reps: np.ndarray, confidence: float
) -> tuple[tuple[float, float] | None, float | None]:
    """Percentile interval of replicates (NaN ignored): ``(ci, None)``, or ``(None, low)`` when
    its top is infinite (``[low, inf)``), or ``(None, None)`` when there are no replicates."""
    r = reps[~np.isnan(reps)]
    if r.size == 0:
        return None, None
    inf = np.isinf(r)
    if inf.all():
        return None, math.inf
    if inf.any():
        # Interpolating between infinities gives NaN: hold them at the largest finite value and
        # call the interval unbounded when its top reaches them.
        top = float(r[~inf].max())
        r = np.where(inf, top, r)
        lo, hi = (float(v) for v in percentile_interval(r, confidence))
        upper_index = (1.0 - (1.0 - confidence) / 2.0) * (r.size - 1)
        if math.ceil(upper_index) >= r.size - int(inf.sum()):
            lower_index = (1.0 - confidence) / 2.0 * (r.size - 1)
            low = math.inf if math.ceil(lower_index) >= r.size - int(inf.sum()) else lo
            return None, low
        return (lo, hi), None
    lo, hi = (float(v) for v in percentile_interval(r, confidence))
    return (lo, hi), None


def _rate(
    count: int,
    n: int,
    reps: np.ndarray | None,
    confidence: float,
    n_subjects: int | None,
    *,
    df: float | None = None,
    iid_excess: float = 0.0,
) -> Rate:
    """A group's rate; at zero (or all) errors the bound rests on its ``n_subjects``.

    Its interval: :func:`faceaudit.stats.intervals.rate_interval` of the replicates, ``df`` the
    degrees of freedom of their variance, ``iid_excess`` the product weights' own excess."""
    ci = None
    if reps is not None and n > 0:
        r = reps[~np.isnan(reps)]
        if r.size:
            lo, hi = rate_interval(r, count, n, confidence, df=df, iid_excess=iid_excess)
            ci = (float(lo), float(hi))
    return make_rate(
        int(count), int(n), ci, confidence=confidence, n_units=n_subjects, unit="subject"
    )


def _supported(
    n: int, n_subjects: int, overall: float | None, confidence: float, min_subjects: int
) -> bool:
    """A group's rate is supported when (rule of 3, at the intervals' level) a zero count's
    bound on its ``n`` comparisons would reach the overall rate, and (rule of 30 on people) at
    least ``min_subjects`` (:data:`~faceaudit.stats.support.MIN_SUBJECTS`) of its subjects
    contribute."""
    if n <= 0 or overall is None or overall <= 0 or n_subjects < min_subjects:
        return False
    return bool(zero_error_bound(n, confidence) <= float(overall))


def _max_over_geomean(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(x)
        gm = np.exp(logs.mean(axis=-1))
        return x.max(axis=-1) / gm


def _max_over_min(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return x.max(axis=-1) / x.min(axis=-1)


def _summary_value(point: float, reps: np.ndarray | None, confidence: float) -> SummaryValue:
    if not math.isfinite(point):
        return SummaryValue(None, None)
    if reps is None:
        return SummaryValue(point, None)
    ci, low = _interval(reps, confidence)
    return SummaryValue(point, ci, low)


def _ratios(
    rates: list[Rate],
    ok: list[bool],
    reps: np.ndarray | None,
    names: Sequence[str],
    confidence: float,
    variances: np.ndarray | None = None,
) -> tuple[int | None, list[Ratio | None]]:
    """Best group (lowest rate among supported groups with an error) and every group's ratio.

    A ratio's interval is the percentile interval of its replicates corrected for choosing the
    best group on the data (:func:`_selection_corrected`), or, with ``variances`` (each group's
    :func:`~faceaudit.stats.intervals.design_variance`), the
    :func:`~faceaudit.stats.intervals.ratio_interval` of the two rates, shifted by the same
    correction. The callers give ``variances`` where the replicates carry noise the rates'
    intervals take out: 1:N searches weighted two-way, whose product weights make a group with a
    few false positives lose all of them in many replicates (measured: unbounded ratio intervals
    in 69% of data sets, docs/validation.md)."""
    cand = [g for g, r in enumerate(rates) if ok[g] and r.count > 0 and r.n > 0]
    if not cand:
        return None, [None] * len(rates)
    best = min(cand, key=lambda g: (rates[g].value, g))
    b = rates[best].value
    out: list[Ratio | None] = []
    for g, r in enumerate(rates):
        if r.n == 0:
            out.append(None)
            continue
        if g == best:
            out.append(Ratio(1.0, (1.0, 1.0) if reps is not None else None, names[best]))
            continue
        if r.count == 0:
            bound = r.ci[1] / b  # the group's own bound (on its subjects)
            out.append(Ratio(0.0, (0.0, bound), names[best], upper_bound=True))
            continue
        value = r.value / b
        if reps is None:
            out.append(Ratio(value, None, names[best]))
            continue
        if variances is not None:
            ci = ratio_interval(r.value, variances[g], b, variances[best], confidence)
            if ci is not None:
                f = math.exp(-_selection_bias(reps, rates, cand, best, g, value))
                out.append(Ratio(value, (float(ci[0] * f), float(ci[1] * f)), names[best]))
                continue
        ci, low = _interval(_selection_corrected(reps, rates, cand, best, g, value), confidence)
        out.append(Ratio(value, ci, names[best], ci_low=low))
    return best, out


def _selection_corrected(
    reps: np.ndarray, rates: list[Rate], cand: list[int], best: int, g: int, value: float
) -> np.ndarray:
    """Replicates of group ``g``'s ratio to the best group, corrected for choosing the best
    group on the data.

    The reference is the group with the lowest *estimated* rate, so its estimate is biased low
    and every ratio to it biased high (the winner's curse; measured: ratios +40-60%, intervals
    covering 86-90%, docs/validation.md). The bootstrap measures that bias: in every replicate
    the best group is re-chosen, and ``D = log(ratio*) - log(full-data ratio of g to the
    replicate's own best group)`` is how far the replicate's ratio lies from the bootstrap
    world's truth; with the reference held fixed the same distance is
    ``log(ratio*_fixed) - log(value)``. The excess of the first over the second (medians, so
    that replicates without a finite ratio count only by their side; never below 0) is the
    selection bias, and the fixed-reference replicates are divided by ``exp`` of it (a
    bootstrap bias correction, Davison & Hinkley 1997, 2.2; for a selected subgroup, Simon &
    Simon 2013). When the best group is clear it is chosen in every replicate and nothing
    changes.
    """
    bias = _selection_bias(reps, rates, cand, best, g, value)
    with np.errstate(divide="ignore", invalid="ignore"):
        fixed = reps[:, g] / reps[:, best]
    return fixed if bias == 0.0 else fixed * math.exp(-bias)


def _selection_bias(
    reps: np.ndarray, rates: list[Rate], cand: list[int], best: int, g: int, value: float
) -> float:
    """The log selection bias of :func:`_selection_corrected` (0 when none is measurable)."""
    point = np.array([x.value for x in rates], dtype=np.float64)
    sub = reps[:, cand]
    filled = np.where(np.isnan(sub), np.inf, sub)
    star = np.asarray(cand)[np.argmin(filled, axis=1)]
    rows = np.arange(reps.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        fixed = reps[:, g] / reps[:, best]
        d_sel = (np.log(reps[:, g]) - math.log(point[g])) - (
            np.log(reps[rows, star]) - np.log(point[star])
        )
        d_fix = np.log(fixed) - math.log(value)
    ok = ~np.isinf(filled.min(axis=1)) & ~np.isnan(d_sel) & ~np.isnan(d_fix)
    if not ok.any():
        return 0.0
    with np.errstate(invalid="ignore"):
        bias = float(np.median(d_sel[ok]) - np.median(d_fix[ok]))
    if not math.isfinite(bias) or bias <= 0:
        return 0.0  # no measurable selection bias (or the middle replicates are unbounded)
    return bias


def _summaries(
    vocab: _Vocabulary,
    fp_rates: list[Rate],
    fn_rates: list[Rate],
    fp_ok: list[bool],
    fn_ok: list[bool],
    fp_reps: np.ndarray | None,
    fn_reps: np.ndarray | None,
    names: Sequence[str],
    confidence: float,
    alpha: float,
) -> dict:
    out: dict[str, Any] = {}
    for key, rates, ok, reps in (
        (vocab.fp, fp_rates, fp_ok, fp_reps),
        (vocab.fn, fn_rates, fn_ok, fn_reps),
    ):
        S = [g for g in range(len(rates)) if ok[g]]
        point = np.array([rates[g].value for g in S], dtype=np.float64)
        sub = None if reps is None else reps[:, S]
        for stat, fn in (("max_over_geomean", _max_over_geomean), ("max_over_min", _max_over_min)):
            if len(S) < 2:
                out[f"{key}_{stat}"] = SummaryValue(None, None)
                continue
            out[f"{key}_{stat}"] = _summary_value(
                float(fn(point)), None if sub is None else fn(sub), confidence
            )
        out[f"{key}_groups_compared"] = [names[g] for g in S]
    # GARBE over the groups supported for both rates
    S = [g for g in range(len(fp_rates)) if fp_ok[g] and fn_ok[g]]
    if len(S) >= 2:
        a = np.array([fp_rates[g].value for g in S])
        b = np.array([fn_rates[g].value for g in S])
        ga, gb = float(gini(a)), float(gini(b))
        point = alpha * ga + (1 - alpha) * gb
        reps_g = None
        if fp_reps is not None and fn_reps is not None:
            reps_g = alpha * gini(fp_reps[:, S]) + (1 - alpha) * gini(fn_reps[:, S])
        out["garbe"] = _summary_value(point, reps_g, confidence)
        out[f"{vocab.fp}_gini"] = _summary_value(
            ga, None if fp_reps is None else gini(fp_reps[:, S]), confidence
        )
        out[f"{vocab.fn}_gini"] = _summary_value(
            gb, None if fn_reps is None else gini(fn_reps[:, S]), confidence
        )
    else:
        out["garbe"] = SummaryValue(None, None)
    out["garbe_alpha"] = float(alpha)
    out["garbe_groups_compared"] = [names[g] for g in S]
    return out
