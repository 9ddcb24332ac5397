"""Intervals, ratios to the best group and summaries over groups (NIST IR 8280, GARBE)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import gamma, norm

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


def _calibrated(reps: np.ndarray, rates: list[Rate], variances: np.ndarray) -> np.ndarray:
    """The groups' replicates with each group's spread replaced by its rate's own.

    Each group's rate counts as ``x = p^2 / V`` independent errors (as
    :func:`~faceaudit.stats.intervals.ratio_interval`): the replicate of rank ``k`` among ``B``
    becomes the ``(k + 1/2) / B`` quantile of ``Gamma(x + 1/2) / e`` (``e = x / p``; Jeffreys'
    distribution of a Poisson rate). The replicates' order, and so their dependence between
    groups, is kept; their marginal no longer carries the product weights' noise (a 1:N group
    with a few false positives no longer drops to zero in the replicates that miss them).
    Groups without a rate or a variance keep their replicates.
    """
    out = np.array(reps, dtype=np.float64, copy=True)
    for g, r in enumerate(rates):
        p, v = r.value, float(variances[g])
        if not (p is not None and 0 < p < 1 and math.isfinite(v) and v > 0):
            continue
        col = out[:, g]
        ok = ~np.isnan(col)
        k = np.empty(int(ok.sum()))
        k[np.argsort(col[ok], kind="stable")] = np.arange(k.size)
        x = p * p / v
        col[ok] = gamma.ppf((k + 0.5) / max(k.size, 1), x + 0.5) * (p / x)
    return out


def _family_lower(intervals: list[tuple[float, float]]) -> float:
    """The lower end of a maximum over a family of figures with simultaneous intervals: when
    every figure lies in its interval, the maximum is at least the largest lower end (never
    below 1 here: a ratio of the largest to another)."""
    return max(1.0, max(a for a, _ in intervals))


def _family_interval(point: float, reps: np.ndarray, confidence: float) -> tuple[float, float]:
    """Interval of one member of a family at a Bonferroni level: log-normal about ``point``
    with the replicates' spread of the log (stable where a far-out percentile of a thousand
    replicates is not: at 99.2%, 4 equal groups, B = 500, the percentile ratio intervals
    missed 2.4% instead of 0.8%); the percentile interval, ``inf`` as an open upper end, when
    some replicate is 0 or infinite."""
    r = reps[~np.isnan(reps)]
    if r.size >= 2 and point > 0 and np.all(np.isfinite(r) & (r > 0)):
        half = float(norm.ppf(0.5 + confidence / 2.0) * np.std(np.log(r), ddof=1))
        return point * math.exp(-half), point * math.exp(half)
    return _percentile_ends(reps, confidence)


def _percentile_ends(reps: np.ndarray, confidence: float) -> tuple[float, float]:
    """:func:`_interval` as two ends, ``inf`` for an open upper end (and for no replicates)."""
    ci, low = _interval(reps, confidence)
    if ci is not None:
        return ci
    return (math.inf if low is None else low), math.inf


def _as_larger_over_smaller(a: float, b: float) -> tuple[float, float]:
    """From an interval ``[a, b]`` of ``r = p_i / p_j``, the interval of ``max(r, 1 / r)``: from
    1 when it holds 1, else from its end nearer 1."""
    inv_a = 1.0 / a if a > 0 else math.inf
    if a <= 1.0 <= b:
        return 1.0, max(b, inv_a)
    return (a, b) if a > 1.0 else (1.0 / b, inv_a)


def _between(point: float, lo: float, hi: float) -> SummaryValue:
    return SummaryValue(point, (lo, hi)) if math.isfinite(hi) else SummaryValue(point, None, lo)


def _spread_summaries(rates, S, reps, variances, confidence) -> dict[str, SummaryValue]:
    """Max / min and max / geometric mean over the groups ``S`` (NIST IR 8429's summaries).

    Both are maxima over the groups, and the replicates' own maximum re-selects the largest
    group in every replicate, so it is biased up once more than the estimate: with 4 groups of
    equal FNIR the percentile interval of max / min missed the truth in 200 of 200 data sets,
    all from below (docs/validation.md). The **lower end** therefore comes from the family the
    maximum is taken over: the pairwise ``max(p_i / p_j, p_j / p_i)`` for max / min, each
    ``p_i / gm(p)`` for max / geometric mean, each member's interval at the Bonferroni level
    ``1 - (1 - confidence) / K`` (pairs: :func:`~faceaudit.stats.intervals.ratio_interval` with
    ``variances``, else the replicates' joint ratio; shares: the replicates of ``p_i / gm``,
    :func:`_family_interval`), and it reaches 1 when the groups cannot be told apart. The
    **upper end** is the replicates' percentile one (biased up: conservative; a family's upper
    end at the Bonferroni level is needlessly wide where a group has few errors). With two
    groups max / min is the one pair's ratio, both ends, and max / geometric mean its square
    root.
    """
    point = np.array([rates[g].value for g in S], dtype=np.float64)
    mm, mg = float(_max_over_min(point)), float(_max_over_geomean(point))
    out = {
        "max_over_geomean": _summary_value(mg, None, confidence),
        "max_over_min": _summary_value(mm, None, confidence),
    }
    if reps is None or not (math.isfinite(mm) and math.isfinite(mg)):
        return out
    sub = reps[:, S]
    pairs = [(i, j) for i in range(len(S)) for j in range(i + 1, len(S))]
    level = 1.0 - (1.0 - confidence) / len(pairs)
    spans = []
    for i, j in pairs:
        ci = None
        if variances is not None:
            ci = ratio_interval(point[i], variances[S[i]], point[j], variances[S[j]], level)
        if ci is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                ci = _family_interval(point[i] / point[j], sub[:, i] / sub[:, j], level)
        spans.append(_as_larger_over_smaller(*ci))
    if len(S) == 2:
        ((lo, hi),) = spans
        out["max_over_min"] = _between(mm, lo, hi)
        out["max_over_geomean"] = _between(mg, math.sqrt(lo), math.sqrt(hi))
        return out
    level = 1.0 - (1.0 - confidence) / len(S)
    gm_point = float(np.exp(np.log(point).mean()))
    with np.errstate(divide="ignore", invalid="ignore"):
        gm = np.exp(np.log(sub).mean(axis=1))
        shares = [_family_interval(point[i] / gm_point, sub[:, i] / gm, level)
                  for i in range(len(S))]  # fmt: skip
    for key, value, family, fn in (
        ("max_over_min", mm, spans, _max_over_min),
        ("max_over_geomean", mg, shares, _max_over_geomean),
    ):
        upper = _percentile_ends(fn(sub), confidence)[1]
        out[key] = _between(value, min(_family_lower(family), value), max(upper, value))
    return out


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
    fp_variances: np.ndarray | None = None,
) -> dict:
    """Max / geometric mean and max / min (:func:`_spread_summaries`), Gini and GARBE over the
    supported groups. With ``fp_variances`` (1:N, searches two-way, as for the ratios) the
    false-positive replicates are first :func:`_calibrated` to them."""
    if fp_reps is not None and fp_variances is not None:
        fp_reps = _calibrated(fp_reps, fp_rates, fp_variances)
    out: dict[str, Any] = {}
    for key, rates, ok, reps, var in (
        (vocab.fp, fp_rates, fp_ok, fp_reps, fp_variances),
        (vocab.fn, fn_rates, fn_ok, fn_reps, None),
    ):
        S = [g for g in range(len(rates)) if ok[g]]
        for stat in ("max_over_geomean", "max_over_min"):
            out[f"{key}_{stat}"] = SummaryValue(None, None)
        if len(S) >= 2:
            for stat, v in _spread_summaries(rates, S, reps, var, confidence).items():
                out[f"{key}_{stat}"] = v
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
