"""The per-search tail model of the scale analysis: one pooled fit of standardised scores.

Search ``i`` (non-mated) has its own impostor distribution; its scores are standardised by its
own location and scale, ``z = (s - m_i) / d_i`` (:mod:`faceaudit.analyses._scale_collect`), and
one GPD is fitted to the largest standardised scores of all searches, above a tail threshold
chosen by parameter stability (:func:`faceaudit.stats.tail.stability_choice`). Search ``i``'s FMR
at a threshold ``T`` (cosine-score units) is then

    p_i(T) = FMR_z((T - m_i) / d_i),

``FMR_z`` the fitted standardised survival above the tail threshold ``u`` and the exact pooled
share of standardised scores below it (from the kept largest scores, else a uniform sample), and

    FPIR(N, T) = mean_i [1 - (1 - p_i(T))^N]                    (NIST IR 8271: FPIR per search).

References: S. Coles, *An Introduction to Statistical Modeling of Extreme Values*, Springer 2001,
ch. 4; P. Grother, M. Ngan, K. Hanaoka, NIST IR 8271 (FRVT part 2: identification), 2019.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import genpareto

from faceaudit.stats.tail import Stability, TailFit, gpd_sf, mean_fpir

#: FMR(T) more than this factor below the smallest FMR the comparisons can show (1 / n, one
#: comparison in all the data): the figure is flagged "extrapolated beyond the data". 1: an FMR
#: the data could not show even once. The validation study (docs/validation.md) found 100x
#: extrapolations only 3x below 1 / n already off by 0.1-0.5x (light Beta-like tails, d = 32)
#: or 2-6x (lamb probes): a factor of 100 would leave such figures unflagged.
BEYOND_FACTOR = 1.0


@dataclass(frozen=True, eq=False)
class ProbeTail:
    """The standardised tail: stability choice, kept scores, and each search's loc / scale."""

    stab: Stability
    desc: np.ndarray  # largest standardised scores, descending
    n_total: int  # comparisons they were taken from
    sample: np.ndarray  # sorted uniform sample of standardised scores
    loc: np.ndarray  # (n_searches,)
    scale: np.ndarray  # (n_searches,)

    @property
    def fit(self) -> TailFit:
        return self.stab.fit

    def survival(self, z, fit: TailFit | None = None) -> np.ndarray:
        """``FMR_z(z)``: share of standardised scores ``>= z`` (fitted tail above its ``u``)."""
        fit = self.fit if fit is None else fit
        z = np.asarray(z, dtype=np.float64)
        out = np.empty_like(z)
        tail = z >= fit.threshold
        out[tail] = fit.exceedance_rate * gpd_sf(z[tail] - fit.threshold, fit.shape, fit.scale)
        rest = ~tail
        if rest.any():
            asc = self.desc[::-1]
            zr = z[rest]
            from_pool = (asc.size - np.searchsorted(asc, zr, side="left")) / self.n_total
            if self.sample.size:
                n = self.sample.size
                emp = (n - np.searchsorted(self.sample, zr, side="left")) / n
            else:
                emp = np.ones(zr.size)
            in_pool = zr >= asc[0] if asc.size else np.zeros(zr.size, dtype=bool)
            out[rest] = np.where(in_pool, from_pool, np.maximum(emp, from_pool))
        return out

    def p(self, t, fit: TailFit | None = None, loc=None, scale=None) -> np.ndarray:
        """Each search's FMR at thresholds ``t``: shape ``t.shape + (n_searches,)``."""
        loc = self.loc if loc is None else loc
        scale = self.scale if scale is None else scale
        t = np.asarray(t, dtype=np.float64)
        z = (t[..., None] - loc) / scale
        return self.survival(z.reshape(-1), fit).reshape(z.shape)

    def fpir(self, t: float, sizes, fit: TailFit | None = None, w=None) -> np.ndarray:
        """``mean_i [1 - (1 - p_i(t))^N]`` at each N of ``sizes``."""
        return mean_fpir(self.p(float(t), fit), np.asarray(sizes, dtype=np.float64), w)

    def threshold_for(self, targets, n: int, fit: TailFit | None = None, w=None) -> np.ndarray:
        """The threshold ``T`` with ``FPIR(n, T) = target`` for each target (bisection on the
        mean equation, 60 halvings of the bracket); NaN for a target of 0 or 1."""
        fit = self.fit if fit is None else fit
        targets = np.asarray(targets, dtype=np.float64)
        z_lo = float(self.sample[0]) if self.sample.size else float(self.desc[-1])
        z_lo = min(z_lo, float(self.desc[-1]) if self.desc.size else z_lo)
        if fit.shape < 0:
            z_hi = fit.endpoint
        else:
            q = min(1e-300 / max(fit.exceedance_rate, 1e-300), 1.0)
            z_hi = fit.threshold + float(genpareto.isf(q, fit.shape, scale=fit.scale))
        lo = np.full(targets.size, float(np.min(self.loc + self.scale * z_lo)))
        hi = np.full(targets.size, float(np.max(self.loc + self.scale * z_hi)))
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            f = mean_fpir(self.p(mid, fit), float(n), w)
            above = f > targets  # FPIR falls as T rises
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
        out = 0.5 * (lo + hi)
        return np.where((targets > 0) & (targets < 1), out, np.nan)

    def source(self, t: float) -> str:
        """``gpd`` when every search's standardised ``T`` lies in the fitted tail, ``empirical``
        when none does, else ``mixed``."""
        z = (float(t) - self.loc) / self.scale
        inside = z >= self.fit.threshold
        return "gpd" if inside.all() else ("empirical" if not inside.any() else "mixed")


def beyond(fmr: float, n_total: int) -> dict:
    """The beyond-the-data check of one FMR: flagged when it is more than :data:`BEYOND_FACTOR`
    times smaller than ``1 / n_total``, the smallest FMR ``n_total`` comparisons can show."""
    smallest = 1.0 / n_total
    below = math.inf if fmr <= 0 else smallest / fmr
    return {
        "fmr": float(fmr),
        "smallest_fmr_shown": smallest,
        "times_below": None if math.isinf(below) else float(below),
        "factor": BEYOND_FACTOR,
        "flagged": bool(below > BEYOND_FACTOR),
    }
