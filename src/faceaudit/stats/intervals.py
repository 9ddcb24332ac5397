"""Confidence intervals of rates from subject-bootstrap replicates.

A rate ``count / n`` measured on comparisons that share people has far fewer independent units
than comparisons: with crossed subject effects (wolves, lambs, look-alike pairs) an FMR near 1e-3
on 180,000 comparisons can rest on the equivalent of five or six independent errors. Its sampling
distribution is then strongly right-skewed, and the **percentile** interval of the replicates
(which, like the bootstrap itself, is centred on the sample) misses high: a sample that happens to
hold fewer of the few subjects that carry the errors gives a low estimate whose replicates cannot
reach the truth (measured: 80-88% coverage for nominal 95%, ``docs/validation.md``).

:func:`rate_interval` (the default, ``method = "korn-graubard"``) is the interval NCHS uses for
small proportions from complex samples (Korn & Graubard 1998):

- the bootstrap variance ``V`` of the replicate rates gives the **effective sample size**
  ``n_eff = p (1 - p) / V``, capped at ``n`` (a design never makes a rate more precise than
  independent comparisons), and the effective count ``x_eff = p n_eff``;
- the variance's excess over the binomial one (the design effect) is estimated from the few
  subjects that carry it: it is multiplied by ``(t_df / z)^2``, Korn & Graubard's
  degrees-of-freedom factor, with ``df`` the effective number of subjects behind the variance
  (:func:`influence_df`); the binomial part is known, so independent errors keep the exact
  Clopper-Pearson interval;
- the interval is the Clopper-Pearson interval at those fractional counts, ``[B(alpha/2; x_eff,
  n_eff - x_eff + 1), B(1 - alpha/2; x_eff + 1, n_eff - x_eff)]`` with ``B`` the beta quantile.

It has the skew of an exact binomial interval on the units the rate really rests on.

**Two-way designs** (non-mated comparisons weighted by both subjects' multiplicities, the
pigeonhole bootstrap) over-estimate the variance: the product weights add the comparison-level
noise about twice over (Owen 2007; for independent comparisons the replicates' variance is
``~3 p (1 - p) / n``). ``iid_excess = 2`` would subtract that (``V - 2 p (1 - p) / n``, never
below the independent-comparison variance); measured, it costs the crossed designs more coverage
than it gains the control (``docs/validation.md``), so the callers leave it at 0.

At ``count == 0`` or ``count == n`` no interval is formed here: the callers give the exact
one-sided bound on the subjects (:func:`faceaudit.stats.estimate.make_rate`).

References
----------
E. L. Korn, B. I. Graubard, "Confidence intervals for proportions with small expected number of
positive counts estimated from survey data", Survey Methodology 24(2), 1998, 193-201.
A. B. Owen, "The pigeonhole bootstrap", Annals of Applied Statistics 1(2), 2007, 386-411.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
from scipy.stats import beta, norm
from scipy.stats import t as student_t

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "design_variance",
    "influence_df",
    "ratio_interval",
    "subject_dfs",
    "korn_graubard",
    "percentile",
    "rate_interval",
    "subject_df",
]

#: The interval of every bootstrapped rate (recorded in results.json as ``bootstrap.interval``).
DEFAULT_METHOD = "korn-graubard"
METHODS = ("korn-graubard", "percentile")


def percentile(replicates: np.ndarray, confidence: float) -> np.ndarray:
    """``(2, ...)`` percentile interval of replicates along axis 0, ignoring NaN replicates."""
    alpha = (1.0 - confidence) / 2.0
    return np.nanquantile(replicates, [alpha, 1.0 - alpha], axis=0)


def korn_graubard(
    p: np.ndarray,
    variance: np.ndarray,
    n: np.ndarray,
    confidence: float,
    *,
    df: int | np.ndarray | None = None,
) -> np.ndarray:
    """``(2, k)`` Korn-Graubard interval: Clopper-Pearson at the effective counts.

    Parameters
    ----------
    p : array
        Estimated rates (``0 < p < 1``; other entries give NaN).
    variance : array
        Their variance (bootstrap); 0 or NaN means "as if independent" (``n_eff = n``).
    n : array
        Trials (comparisons): the cap of the effective sample size.
    confidence : float
        Two-sided level.
    df : int or array, optional
        Degrees of freedom of the variance (e.g. resampled units - 1, or
        :func:`influence_df`): the variance's excess over the binomial ``p (1 - p) / n`` (the
        design effect, estimated from about ``df`` units) is multiplied by
        ``(t_{df, alpha/2} / z_{alpha/2})^2`` before ``n_eff`` is formed (Korn & Graubard's
        degrees-of-freedom factor applied to the estimated part); the binomial part is known, so
        independent errors keep their Clopper-Pearson interval. Entries below 1 or not finite
        change nothing.

    Examples
    --------
    With the variance of independent trials it is the Clopper-Pearson interval:

    >>> lo, hi = korn_graubard(np.array([8 / 42]), np.array([8 / 42 * 34 / 42 / 42]),
    ...                        np.array([42]), 0.95)
    >>> print(f"{lo[0]:.4f} {hi[0]:.4f}")
    0.0860 0.3412
    """
    p = np.asarray(p, dtype=np.float64)
    n = np.broadcast_to(np.asarray(n, dtype=np.float64), p.shape)
    alpha = (1.0 - float(confidence)) / 2.0
    v = _df_widened(p, variance, n, confidence, df)
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = np.where(v > 0, p * (1.0 - p) / v, n)
        n_eff = np.minimum(n_eff, n)
        x = p * n_eff
        ok = (p > 0) & (p < 1) & (n_eff > 0)
        lo = np.where(ok, beta.ppf(alpha, np.where(ok, x, 1.0), np.where(ok, n_eff - x + 1, 1.0)),
                      np.nan)  # fmt: skip
        hi = np.where(ok, beta.ppf(1 - alpha, np.where(ok, x + 1, 1.0),
                                   np.where(ok, n_eff - x, 1.0)), np.nan)  # fmt: skip
    return np.stack([lo, hi])


def _df_widened(p, variance, n, confidence, df) -> np.ndarray:
    """The variance with its design part (the excess over ``p (1 - p) / n``, estimated from
    ``df`` units) multiplied by ``(t_df / z)^2``; the binomial part is known, not estimated.
    0 where the variance is 0 or not finite ("as if independent")."""
    p = np.asarray(p, dtype=np.float64)
    v = np.asarray(variance, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(np.isfinite(v) & (v > 0), v, 0.0)
        if df is None:
            return v
        n = np.broadcast_to(np.asarray(n, dtype=np.float64), p.shape)
        alpha = (1.0 - float(confidence)) / 2.0
        d = np.broadcast_to(np.asarray(df, dtype=np.float64), p.shape)
        d = np.where(np.isfinite(d) & (d >= 1), d, np.inf)
        iid = p * (1.0 - p) / n
        tau = (student_t.ppf(1.0 - alpha, d) / norm.ppf(1.0 - alpha)) ** 2
        return np.where(v > iid, iid + (v - iid) * tau, v)


def design_variance(
    replicates: np.ndarray,
    count: np.ndarray,
    n: np.ndarray,
    confidence: float,
    *,
    iid_excess: float = 0.0,
    df: int | np.ndarray | None = None,
) -> np.ndarray:
    """``(k,)`` the variance :func:`rate_interval`'s Korn-Graubard interval rests on.

    The replicates' variance less ``iid_excess`` times ``p (1 - p) / n`` (never below it), its
    design part widened for its ``df`` (:func:`korn_graubard`): what a rate's interval says of
    its precision, for intervals built from several rates (:func:`ratio_interval`).
    """
    reps = np.asarray(replicates, dtype=np.float64)
    if reps.ndim == 1:
        reps = reps[:, None]
    count = np.broadcast_to(np.asarray(count, dtype=np.float64), reps.shape[1:])
    n = np.broadcast_to(np.asarray(n, dtype=np.float64), reps.shape[1:])
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        p = count / n
        iid = p * (1.0 - p) / n
        var = np.maximum(np.nanvar(reps, axis=0, ddof=1) - iid_excess * iid, iid)
    return _df_widened(p, var, n, confidence, df)


def ratio_interval(
    p_a: float, var_a: float, p_b: float, var_b: float, confidence: float
) -> tuple[float, float] | None:
    """Interval of the ratio ``p_a / p_b`` of two independent rates from their variances.

    Each rate counts as a Poisson count with its own relative variance, ``x = p^2 / var`` (the
    effective number of independent errors behind it; ``x`` errors when they are independent
    and rare), and the interval is the exact conditional one for a ratio of two Poisson rates:
    given ``x_a + x_b`` errors, ``x_a`` is binomial with share ``pi = r e_a / (r e_a + e_b)``
    (``e = x / p`` the exposures, ``r`` the ratio), Clopper-Pearson at fractional counts. It is
    skewed as a ratio with few errors in the reference is, and bounded whenever the reference
    has an error. None when a rate or its variance is not positive and finite.

    Examples
    --------
    10 against 5 independent errors in equal exposures (the binomial split 10 of 15, as R's
    ``poisson.test(c(10, 5))`` forms it):

    >>> lo, hi = ratio_interval(10 / 1e4, 10 / 1e8, 5 / 1e4, 5 / 1e8, 0.95)
    >>> print(f"{lo:.3f} {hi:.3f}")
    0.623 7.457
    """
    vals = np.array([p_a, var_a, p_b, var_b], dtype=np.float64)
    if not (np.isfinite(vals).all() and (vals > 0).all()):
        return None
    x_a, x_b = p_a * p_a / var_a, p_b * p_b / var_b
    alpha = (1.0 - float(confidence)) / 2.0
    lo_pi = float(beta.ppf(alpha, x_a, x_b + 1.0))
    hi_pi = float(beta.ppf(1.0 - alpha, x_a + 1.0, x_b))
    scale = (x_b / p_b) / (x_a / p_a)  # e_b / e_a
    return lo_pi / (1.0 - lo_pi) * scale, hi_pi / (1.0 - hi_pi) * scale


def rate_interval(
    replicates: np.ndarray,
    count: np.ndarray,
    n: np.ndarray,
    confidence: float,
    *,
    iid_excess: float = 0.0,
    df: int | np.ndarray | None = None,
    method: str = DEFAULT_METHOD,
) -> np.ndarray:
    """``(2, k)`` interval of rates ``count / n`` from ``(n_boot, k)`` replicate rates.

    Parameters
    ----------
    replicates : array
        Replicate rates (NaN replicates, e.g. with an empty denominator, are ignored).
    count, n : arrays (or scalars)
        The full-data counts (length ``k``).
    confidence : float
    iid_excess : float
        Multiples of the independent-comparison variance ``p (1 - p) / n`` the bootstrap adds on
        its own and that are subtracted (2 for the two-way, product-weight bootstrap; 0 for
        one-way). Never below ``p (1 - p) / n`` after the subtraction.
    df : int, optional
        Degrees of freedom (resampled subjects - 1), see :func:`korn_graubard`.
    method : ``"korn-graubard"`` or ``"percentile"``

    Entries with ``count`` 0 or ``n`` get the percentile interval (the caller replaces them by a
    bound); so do replicates without a finite variance.
    """
    with warnings.catch_warnings():  # all-NaN columns (no replicate defined) give NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return _rate_interval(replicates, count, n, confidence, iid_excess, df, method)


def _rate_interval(replicates, count, n, confidence, iid_excess, df, method) -> np.ndarray:
    reps = np.asarray(replicates, dtype=np.float64)
    squeeze = reps.ndim == 1
    if squeeze:
        reps = reps[:, None]
    pct = percentile(reps, confidence)
    if method == "percentile" or reps.shape[0] < 2:
        return pct[:, 0] if squeeze else pct
    if method != "korn-graubard":
        raise ValueError(f"unknown interval method {method!r}; known: {', '.join(METHODS)}")
    count = np.broadcast_to(np.asarray(count, dtype=np.float64), reps.shape[1:])
    n = np.broadcast_to(np.asarray(n, dtype=np.float64), reps.shape[1:])
    with np.errstate(invalid="ignore", divide="ignore"):
        p = count / n
    var = design_variance(reps, count, n, confidence, iid_excess=iid_excess, df=df)
    kg = korn_graubard(p, var, n, confidence)  # the df widening is in ``var``
    out = np.where(np.isfinite(kg), kg, pct)
    return out[:, 0] if squeeze else out


def influence_df(
    weight_batches: Iterable[np.ndarray], replicates: np.ndarray, center: np.ndarray
) -> np.ndarray:
    """``(k,)`` degrees of freedom of the bootstrap variance from the units' influences.

    A replicate rate is, to first order, ``p + sum_u (w_u - 1) s_u`` (``w_u`` the multiplicity of
    unit ``u``, mean 1 and variance ~1), so ``s_u ~ Cov_b(w_u, rate*)``: estimated as
    ``sum_b (w_bu - 1)(rate*_b - center) / (B - 1)`` over the same ``weight_batches`` that made
    the ``(B, k)`` replicates (re-drawn from the seeded stream). The variance rests on the
    units like a sum of ``s_u^2``; its Satterthwaite degrees of freedom, the effective number of
    units, are ``(sum s_u^2)^2 / sum s_u^4`` (at least 1): the number of units when all weigh
    alike, about 1 when one subject carries the rate (a wolf or lamb, a look-alike pair); the
    callers cap it at the subjects under the rate - 1. Units never drawn (weight 0 in every
    replicate) do not count. NaN replicates count as ``center``; NaN without any weight.
    """
    reps = np.asarray(replicates, dtype=np.float64)
    if reps.ndim == 1:
        reps = reps[:, None]
    dev = np.nan_to_num(reps - np.asarray(center, dtype=np.float64), nan=0.0)
    s = None
    drawn = None
    start = 0
    for w in weight_batches:
        b = w.shape[0]
        part = (w - 1.0).T @ dev[start : start + b]
        s = part if s is None else s + part
        seen = (w > 0).any(axis=0)
        drawn = seen if drawn is None else drawn | seen
        start += b
    if s is None or start < 2:
        return np.full(reps.shape[1], np.nan)
    s = s[drawn] / (start - 1)
    s2, s4 = np.sum(s**2, axis=0), np.sum(s**4, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s4 > 0, np.maximum(s2**2 / s4, 1.0), np.nan)


def subject_df(resampler, replicates: np.ndarray, center, cap: int | None = None):
    """:func:`influence_df` of replicates made by ``resampler`` (its weights re-drawn from its
    seeded stream), at most ``cap`` (the subjects under the rate - 1); None without subjects
    (comparison bootstrap: comparisons are the independent units)."""
    return subject_dfs(resampler, [(replicates, center, cap)])[0]


def subject_dfs(resampler, parts) -> list:
    """:func:`subject_df` of several ``(replicates, center, cap)`` at one re-draw of the weights
    (a re-draw costs ``B x units`` multinomial draws; each column's value is as if alone)."""
    if not parts or not getattr(resampler, "by_subject", False):
        return [None] * len(parts)
    reps = [np.asarray(r, dtype=np.float64).reshape(len(r), -1) for r, _, _ in parts]
    centers = [np.broadcast_to(np.asarray(c, dtype=np.float64), (r.shape[1],))
               for r, (_, c, _) in zip(reps, parts, strict=True)]  # fmt: skip
    df = influence_df(resampler.weight_batches(), np.hstack(reps), np.concatenate(centers))
    out, start = [], 0
    for r, (_, _, cap) in zip(reps, parts, strict=True):
        d = df[start : start + r.shape[1]]
        start += r.shape[1]
        out.append(d if cap is None else np.minimum(d, max(int(cap), 1)))
    return out
