"""Non-mated score tails by extreme-value theory: the GPD fit and the choice of its threshold.

Peaks over threshold (Pickands-Balkema-de Haan): above a high threshold ``u`` the excesses
``y = s - u`` of non-mated scores follow approximately a generalised Pareto distribution (GPD)
with shape ``xi`` and scale ``sigma``; so for ``t >= u``

    FMR(t) = zeta_u * GPD.sf(t - u; xi, sigma),   zeta_u = #{s > u} / n

(``scipy.stats.genpareto`` with ``c = xi``). Cosine scores are bounded above, so ``xi < 0`` is
typical: the fitted tail has a finite end ``u - sigma / xi``.

What a tail means for a gallery of ``N`` (the independence model, per-search FPIR, the
frailty): :mod:`faceaudit.stats.gallery_fpir`.

Tail threshold choice (:func:`stability_choice`): the shape estimate of a GPD fit is the same at
every threshold above which the GPD holds (threshold stability, Coles 2001, section 4.3.4); below
that range it drifts (for Gaussian- or Beta-like tails it is too negative: the penultimate bias).
The fit is repeated at candidate exceedance counts ``k_1 < k_2 < ...``; count ``k_j`` is *stable*
when its shape agrees with every fit at a higher threshold within ``z`` standard errors of their
difference (nested fits: ``var(xi_a - xi_b) ~ se_a^2 - se_b^2`` for ``k_a < k_b``,
``se = (1 + xi) / sqrt(k)``, the MLE's asymptotic standard error; Bonferroni over the
comparisons); the chosen count is the largest stable ``k``.

The GPD is fitted by maximum likelihood with optional weights (for the bootstrap), via the
profile likelihood in ``theta = xi / sigma`` (Grimshaw 1993): for fixed ``theta`` the MLE is
``xi = mean(log(1 + theta y))``, ``sigma = xi / theta``, leaving a one-dimensional search. ``xi`` is
kept >= -1 (beyond it the likelihood is unbounded).

References
----------
S. Coles, *An Introduction to Statistical Modeling of Extreme Values*, Springer 2001, ch. 4
(threshold choice: mean-excess plot, parameter stability).
S. D. Grimshaw, "Computing maximum likelihood estimates for the generalized Pareto distribution",
Technometrics 35(2), 1993.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.stats import genpareto, norm

__all__ = [
    "TailFit",
    "fit_gpd",
    "fit_tail",
    "default_tail_count",
    "mean_excess",
    "qq_points",
    "gpd_sf",
    "Stability",
    "stability_choice",
    "tail_candidates",
]


def default_tail_count(n_total: int) -> int:
    """Exceedances used by default: 0.1% of the comparisons, within [500, 20000] and <= 5%."""
    return int(max(1, min(max(round(1e-3 * n_total), 500), 20_000, n_total // 20)))


def _profile_loglik(theta: float, y: np.ndarray, w: np.ndarray, W: float) -> tuple[float, float]:
    """Profile log-likelihood and xi at ``theta`` (y scaled to mean 1)."""
    if abs(theta) < 1e-12:
        sigma = float(np.dot(w, y) / W)
        return -W * (math.log(sigma) + 1.0), 0.0
    z = 1.0 + theta * y
    if z.min() <= 0:
        return -np.inf, np.nan
    xi = float(np.dot(w, np.log(z)) / W)
    sigma = xi / theta
    if sigma <= 0:
        return -np.inf, xi
    return -W * (math.log(sigma) + xi + 1.0), xi


def fit_gpd(
    y: np.ndarray, weights: np.ndarray | None = None, *, start: tuple[float, float] | None = None
) -> tuple[float, float, float]:
    """Maximum-likelihood GPD fit to excesses ``y > 0`` (location 0), optionally weighted.

    Parameters
    ----------
    y : ndarray
        Excesses over the tail threshold.
    weights : ndarray, optional
        Non-negative weights (bootstrap multiplicities).
    start : (xi, sigma), optional
        A nearby solution (e.g. the unweighted fit when fitting a bootstrap replicate): the search
        starts in its neighbourhood and widens to the full range only if the optimum is not there.

    Returns
    -------
    xi, sigma, loglik : float
        Shape, scale and the maximised (weighted) log-likelihood.
    """
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = w > 0
    y, w = y[keep], w[keep]
    if y.size < 2:
        raise ValueError("a GPD fit needs at least two excesses")
    if (y < 0).any():
        raise ValueError("excesses must be >= 0")
    W = float(w.sum())
    scale = float(np.dot(w, y) / W)
    if scale <= 0:
        raise ValueError("all excesses are zero")
    ys = y / scale
    ymax = float(ys.max())

    def neg(theta):
        return -_profile_loglik(theta, ys, w, W)[0]

    def xi_at(theta):
        return _profile_loglik(theta, ys, w, W)[1]

    # lower end of theta: where xi reaches -1 (xi increases with theta)
    a = -1.0 / ymax * (1 - 1e-12)

    def lower_end() -> float:
        if xi_at(a) < -1.0:
            return optimize.brentq(lambda t: xi_at(t) + 1.0, a, -1e-12, xtol=1e-9 / ymax)
        return a

    def search(grid: np.ndarray) -> tuple[float, float, int]:
        vals = np.array([neg(t) for t in grid])
        j = int(np.nanargmin(vals))
        lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
        best_t, best_v = float(grid[j]), float(vals[j])
        if hi > lo:
            r = optimize.minimize_scalar(
                neg,
                bounds=(lo, hi),
                method="bounded",
                options={"xatol": 1e-9 * max(1.0, abs(best_t))},
            )
            if r.success and r.fun <= best_v:
                best_t, best_v = float(r.x), float(r.fun)
        return best_t, best_v, j

    found = None
    if start is not None and start[1] > 0:
        t0 = start[0] / (start[1] / scale)  # theta of the start, in scaled units
        width = 0.5 * abs(t0) + 0.05
        lo, hi = max(a, t0 - width), t0 + width
        grid = np.linspace(lo, hi, 9)
        best_t, best_v, j = search(grid)
        if 0 < j < grid.size - 1 and xi_at(best_t) >= -1.0:
            found = best_t, best_v
    if found is None:
        theta_min = lower_end()
        grid = np.concatenate(
            [
                theta_min * (1.0 - np.linspace(0.0, 1.0, 24, endpoint=False)),
                [0.0],
                np.geomspace(1e-3, 1e3, 18),
            ]
        )
        best_t, best_v, _ = search(grid)
        found = best_t, best_v
    best_t, best_v = found
    if abs(best_t) < 1e-12:
        xi, sigma = 0.0, scale  # exponential: sigma = weighted mean excess
    else:
        xi = xi_at(best_t)
        sigma = xi / best_t * scale
    # log-likelihood in the original units
    loglik = -best_v - W * math.log(scale)
    return float(xi), float(sigma), float(loglik)


@dataclass(frozen=True)
class TailFit:
    """A GPD tail above ``threshold`` fitted to ``n_exceedances`` of ``n_total`` scores.

    ``n_exceedances`` and ``n_total`` may be weighted (bootstrap replicates).
    """

    threshold: float
    shape: float
    scale: float
    n_exceedances: float
    n_total: float

    @property
    def exceedance_rate(self) -> float:
        """``zeta_u``: share of all scores above the tail threshold."""
        return self.n_exceedances / self.n_total

    @property
    def endpoint(self) -> float:
        """Upper end of the fitted score distribution (``inf`` when ``shape >= 0``)."""
        return self.threshold - self.scale / self.shape if self.shape < 0 else math.inf

    def fmr(self, t) -> np.ndarray:
        """Fitted P(score >= t) for ``t >= threshold``; NaN below the tail threshold."""
        t = np.asarray(t, dtype=np.float64)
        out = self.exceedance_rate * genpareto.sf(t - self.threshold, self.shape, scale=self.scale)
        return np.where(t >= self.threshold, out, np.nan)

    def threshold_for_fmr(self, fmr) -> np.ndarray:
        """Smallest t with fitted FMR(t) <= ``fmr``; NaN when ``fmr`` exceeds ``zeta_u``."""
        p = np.asarray(fmr, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.clip(p / self.exceedance_rate, 0.0, 1.0)
            out = self.threshold + genpareto.isf(q, self.shape, scale=self.scale)
        return np.where(p <= self.exceedance_rate, out, np.nan)

    def to_json(self) -> dict:
        return {
            "threshold": self.threshold,
            "shape": self.shape,
            "scale": self.scale,
            "n_exceedances": self.n_exceedances,
            "n_total": self.n_total,
            "exceedance_rate": self.exceedance_rate,
            "endpoint": None if math.isinf(self.endpoint) else self.endpoint,
        }


def fit_tail(values: np.ndarray, n_total: int, n_exceedances: int) -> TailFit:
    """Fit a GPD over the ``n_exceedances`` largest of ``n_total`` scores.

    Parameters
    ----------
    values : ndarray
        At least the ``n_exceedances + 1`` largest scores (any order; more is fine).
    n_total : int
        How many scores ``values`` were taken from.
    n_exceedances : int
        k; the tail threshold ``u`` is the (k+1)-th largest score and the excesses are the scores
        strictly above it (ties at ``u`` are not excesses).
    """
    v = np.asarray(values, dtype=np.float64)
    k = int(n_exceedances)
    if not 2 <= k < v.size:
        raise ValueError(f"need 2 <= n_exceedances < len(values), got {k} and {v.size}")
    top = np.partition(v, v.size - k - 1)[v.size - k - 1 :]
    u = float(top.min())
    exc = top[top > u] - u
    xi, sigma, _ = fit_gpd(exc)
    return TailFit(u, xi, sigma, float(exc.size), float(n_total))


def mean_excess(
    values: np.ndarray, n_points: int = 50
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean-excess function e(u) = mean(s - u | s > u) at ``n_points`` thresholds over ``values``.

    Thresholds run over the order statistics of ``values`` from the lowest up to the 10th
    largest, evenly in rank. Returns ``(u, e(u), n_above)``. For a GPD tail e(u) is linear in u
    with slope ``xi / (1 - xi)``: look for the threshold above which the plot is straight.
    """
    v = np.sort(np.asarray(values, dtype=np.float64))[::-1]
    m = v.size
    if m < 12:
        e = np.empty(0)
        return e, e, e
    ranks = np.unique(np.geomspace(10, m - 1, n_points).astype(int))
    csum = np.cumsum(v)
    u = v[ranks]
    above = np.array([np.searchsorted(-v, -x, side="left") for x in u])  # strictly greater
    e = np.where(above > 0, (csum[np.maximum(above - 1, 0)] / np.maximum(above, 1)) - u, np.nan)
    return u, e, above.astype(float)


def qq_points(
    fit: TailFit, values: np.ndarray, n_points: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """GPD quantile-quantile data: (fitted quantiles, empirical quantiles), in score units.

    Empirical quantiles are the sorted scores above ``fit.threshold``; fitted quantiles are the
    GPD quantiles at plotting positions ``(i - 0.5) / k``. Points on the diagonal = a good fit.
    """
    v = np.asarray(values, dtype=np.float64)
    exc = np.sort(v[v > fit.threshold])
    k = exc.size
    if k == 0:
        e = np.empty(0)
        return e, e
    idx = np.unique(np.linspace(0, k - 1, min(n_points, k)).round().astype(int))
    p = (idx + 0.5) / k
    model = fit.threshold + genpareto.ppf(p, fit.shape, scale=fit.scale)
    return model, exc[idx]


def gpd_sf(y, shape: float, scale: float) -> np.ndarray:
    """GPD survival ``P(Y >= y)`` for excesses ``y`` (1 for ``y <= 0``; 0 past a finite end).

    Equal to ``scipy.stats.genpareto.sf(y, shape, scale=scale)``, without its per-call overhead.
    """
    y = np.maximum(np.asarray(y, dtype=np.float64), 0.0) / scale
    if abs(shape) < 1e-12:
        return np.exp(-y)
    z = 1.0 + shape * y
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(z > 0, np.exp(-np.log(np.maximum(z, 1e-300)) / shape), 0.0)
    return out


def tail_candidates(n_total: int, pool_size: int, *, lowest: int = 200) -> list[int]:
    """Candidate exceedance counts of the stability choice: 9 counts, evenly spaced in log,
    from ``lowest`` (fewer when the data are small) to 0.05% of the comparisons, within
    [4 x ``lowest``, 40,000] and below 5% of ``n_total`` and the pool.

    Why no more than 0.05%: the shape of light (Gaussian- or Beta-like) tails drifts slowly with
    the threshold, too slowly for the stability test to see at practical counts, and lower
    thresholds make far extrapolations too low (docs/validation.md: 0.23x / 0.48x at FPIR 0.01 /
    0.1 with 0.2%, 0.40x / 0.60x with 0.05%, d = 32)."""
    top = int(min(max(round(5e-4 * n_total), 4 * lowest), 40_000, n_total // 20, pool_size - 1))
    low = int(min(lowest, max(top // 8, 20)))
    if top <= low:
        return [max(top, 2)]
    return sorted({int(round(x)) for x in np.geomspace(low, top, 9)})


@dataclass(frozen=True)
class Stability:
    """The parameter-stability choice of the tail threshold (see the module docstring).

    ``fits[j]`` is the GPD over the ``candidates[j]`` largest scores, ``se[j]`` its shape's
    standard error; ``stable[j]`` whether count ``j`` passed; ``chosen`` the index of the chosen
    count; ``band`` the indices of the counts the band mixes over (model uncertainty).
    """

    candidates: tuple[int, ...]
    fits: tuple[TailFit, ...]
    se: tuple[float, ...]
    stable: tuple[bool, ...]
    chosen: int
    band: tuple[int, ...]
    z: float

    @property
    def fit(self) -> TailFit:
        return self.fits[self.chosen]


def stability_choice(
    desc: np.ndarray, n_total: int, candidates, *, z: float = 1.96, band_span: float = 4.0
) -> Stability:
    """Choose the tail's exceedance count by parameter stability (Coles 2001, section 4.3.4).

    Parameters
    ----------
    desc : ndarray
        The largest scores, in descending order (at least ``max(candidates) + 1``).
    n_total : int
        How many scores they were taken from.
    candidates : sequence of int
        Exceedance counts to try (ascending).
    z : float
        Agreement required, in standard errors of the difference of two nested shapes.
    band_span : float
        The band mixes the stable counts within ``[chosen / band_span, chosen]``: thresholds at
        and above the chosen one, all defensible by the same diagnostic.

    Notes
    -----
    Count ``k_j`` is stable when ``|xi_i - xi_j| <= z_j sqrt(se_i^2 - se_j^2)`` for every
    ``i < j`` (the smaller counts are higher thresholds, less biased and noisier), ``z_j`` the
    Bonferroni-adjusted level of ``z`` over those ``j`` comparisons; the chosen count is the
    largest stable one.
    """
    desc = np.asarray(desc, dtype=np.float64)
    fits, se, ks = [], [], []
    for k in sorted(set(int(c) for c in candidates)):
        k = min(k, desc.size - 1)
        if k < 2 or (ks and k == ks[-1]):
            continue
        u = float(desc[k])
        exc = desc[desc > u] - u
        if exc.size < 2:
            continue
        try:
            xi, sigma, _ = fit_gpd(exc)
        except ValueError:
            continue
        fits.append(TailFit(u, xi, sigma, float(exc.size), float(n_total)))
        se.append(max(1.0 + xi, 0.1) / math.sqrt(exc.size))
        ks.append(k)
    if not fits:
        raise ValueError("no candidate tail count could be fitted")
    stable = [True]
    alpha = 2.0 * float(norm.sf(z))
    for j in range(1, len(fits)):
        zj = float(norm.isf(alpha / (2 * j)))  # Bonferroni over the j comparisons
        ok = all(
            abs(fits[i].shape - fits[j].shape)
            <= zj * math.sqrt(max(se[i] ** 2 - se[j] ** 2, 1e-12))
            for i in range(j)
        )
        stable.append(ok)
    chosen = max(j for j in range(len(fits)) if stable[j])
    lowest = fits[chosen].n_exceedances / band_span
    band = tuple(
        j for j in range(chosen + 1) if stable[j] and fits[j].n_exceedances >= lowest - 1e-9
    )
    return Stability(tuple(ks), tuple(fits), tuple(se), tuple(stable), chosen, band, float(z))
