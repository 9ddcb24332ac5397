"""The per-search tail model of the scale analysis: tails fitted per stratum of similar searches.

Non-mated searches differ (some faces resemble many others; a probe's own demographic cluster
fills more of the gallery), and ``1 - (1 - p)^N`` is concave in ``p``: one FMR pooled over all
searches over-states FPIR (Jensen). So FPIR is a mean over searches (NIST IR 8271),

    FPIR(N, T) = mean_i [1 - (1 - p_i(T))^N],

with ``p_i`` search ``i``'s own FMR. No search has enough scores to show its own tail at 1e-8, so
searches are sorted by their *tail propensity* (about their 99th-percentile score,
:func:`faceaudit.analyses._scale_collect.propensity`) into up to six strata, finer toward the
top (:data:`STRATUM_SHARES`), and one GPD tail is fitted per stratum to the largest scores of its
searches (tail threshold by parameter stability, :func:`faceaudit.stats.tail.stability_choice`);
``p_i`` is the fitted FMR of search ``i``'s stratum. A stratum's searches have similar tails, so
the pooling error within a stratum is small; strata with too few searches or kept scores are
merged with a neighbour.

Why finer at the top: FPIR at a large N comes more and more from the searches of highest
propensity, and there the propensity spreads most (lambs, hubs). With five strata of equal size
the top one mixed lambs with ordinary faces: its frailty, measured at the fit's tail threshold
(v = 0.97), had grown to v = 6.8 at the threshold of FPIR 0.1 in a gallery 100x larger, and the
extrapolation came out 1.41x too high (lambs, d = 512); with shares 30/30/20/10/5/5% 1.10x, and
no worse on the other populations (``docs/validation.md``).

Why not standardise each search's scores by its own location and scale and fit one pooled tail
of the standardised scores: tried; when a search's scores mix kinds of gallery entries (its own
demographic cluster against others) the standardised tails differ in *shape*, the pooled tail is
that of the searches with the heaviest tails, and FPIR came out 2.5-27x too high at 100x growth
(``docs/validation.md``); a location and scale from a search's own upper quantiles are too noisy
(with ~3,000 scores) and over-state FPIR by their noise (Jensen again).

The tails are fitted to ``w = sign(s) (-ln(1 - s^2))`` rather than to the cosine score ``s``
itself (:func:`to_w`, monotone on ``-1 < s < 1``). For directions at random on the sphere of
``d`` dimensions ``s^2 ~ Beta(1/2, (d - 1)/2)`` exactly, so ``1 - s^2 ~ Beta((d - 1)/2, 1/2)``
and ``P(W >= w) ~ C exp(-w (d - 1)/2)`` with a relative error of order ``e^-w`` (Cai, Fan & Jiang
2013): in ``w`` the tail is exponential (GPD shape 0) from moderate scores on, and the shape
estimate hardly drifts with the tail threshold. In ``s`` the shape is too negative at every
practical threshold (the penultimate bias that made 100x extrapolations 0.5-0.7x too low); the
earlier ``-ln(1 - s)`` is exponential only where ``(1 + s)^((d-1)/2)`` is nearly constant, which
at d = 512 it is nowhere in the data. Every threshold in and out of this module is in score
units.

Searches of one stratum still differ (a lamb among ordinary faces): each stratum carries a gamma
frailty, the over-dispersion of its searches' exceedance counts beyond Poisson
(:func:`faceaudit.stats.gallery_fpir.overdispersion`), and FPIR averages ``1 - (1 - Z p)^N``
over it (:func:`faceaudit.stats.gallery_fpir.mean_fpir`); without it a stratum's pooled tail
over-states FPIR by the same concavity, only less.

References: S. Coles, *An Introduction to Statistical Modeling of Extreme Values*, Springer 2001,
ch. 4; T. T. Cai, J. Fan, T. Jiang, "Distributions of angles in random packing on spheres", JMLR
14, 2013; J. W. Vaupel, K. G. Manton, E. Stallard, "The impact of heterogeneity in individual
frailty on the dynamics of mortality", Demography 16(3), 1979; P. Grother, M. Ngan, K. Hanaoka,
NIST IR 8271 (FRVT part 2: identification), 2019.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import genpareto

from faceaudit.stats.gallery_fpir import mean_fpir, overdispersion
from faceaudit.stats.tail import (
    Stability,
    TailFit,
    gpd_sf,
    stability_choice,
)

#: FMR(T), or the lower end of its band, more than this factor below the smallest FMR the
#: comparisons can show (1 / n, one comparison in all the data): the figure is flagged
#: "extrapolated beyond the data". 1: an FMR the data could not show even once (see
#: docs/validation.md for the evidence behind it).
BEYOND_FACTOR = 1.0
#: Shares of the searches in the strata, lowest propensity first (strata too small are merged).
STRATUM_SHARES = (0.3, 0.3, 0.2, 0.1, 0.05, 0.05)
#: Strata hold at least this many searches (and at most ``1 / 200`` of the searches make strata:
#: ``n // 200`` strata at most) ...
MIN_STRATUM_SEARCHES = 100
#: ... and this many kept scores.
MIN_STRATUM_POOL = 400


#: Scores are clipped to ``|s| <= 1 - 1e-7`` before the transform (duplicates score 1).
_EPS = 1e-7


def to_w(s) -> np.ndarray:
    """``w = sign(s) (-ln(1 - s^2))`` of cosine scores ``s`` (clipped to ``|s| <= 1 - 1e-7``).

    >>> [round(float(x), 6) for x in to_w([-0.5, 0.0, 0.5])]
    [-0.287682, 0.0, 0.287682]
    """
    s = np.clip(np.asarray(s, dtype=np.float64), -1.0 + _EPS, 1.0 - _EPS)
    return np.sign(s) * -np.log1p(-(s * s))


def from_w(w) -> np.ndarray:
    """The score of ``w``: ``s = sign(w) sqrt(1 - exp(-|w|))``."""
    w = np.asarray(w, dtype=np.float64)
    return np.sign(w) * np.sqrt(-np.expm1(-np.abs(w)))


#: The largest ``w`` (a score of ``1 - 1e-7``): the threshold search stops there.
W_MAX = float(-np.log1p(-((1.0 - _EPS) ** 2)))


@dataclass(frozen=True, eq=False)
class Refit:
    """A bootstrap replicate's tail of a stratum: the refitted GPD, and the replicate's weight of
    each kept score (aligned with :attr:`Stratum.desc`) and of all its comparisons, so that the
    empirical part below the tail threshold is resampled too; and the frailty variance of its
    searches above the refitted threshold."""

    fit: TailFit
    weights: np.ndarray
    n_total: float
    dispersion: float = 0.0


@dataclass(frozen=True, eq=False)
class Stratum:
    """Searches of similar tail propensity and the GPD tail of their pooled scores."""

    stab: Stability
    desc: np.ndarray  # the stratum's largest scores as w = to_w(s), descending
    probe: np.ndarray  # search index of each
    tmpl: np.ndarray  # template index of each
    n_searches: int
    n_total: int  # comparisons of the stratum
    low: float  # propensity range of its searches
    high: float
    members: np.ndarray  # the non-mated searches of the stratum (sorted)
    dispersion: float  # gamma frailty variance of its searches at the chosen tail threshold

    @property
    def fit(self) -> TailFit:
        return self.stab.fit

    def frailty(self, k: int, gallery_w=None, search_w=None) -> float:
        """Frailty variance of the stratum's searches from the counts of their scores among its
        ``k`` largest (:func:`faceaudit.stats.tail.overdispersion`); in a replicate each score
        counts its gallery weight and each search its multiplicity."""
        pos = np.searchsorted(self.members, self.probe[:k])
        g = np.ones(pos.size) if gallery_w is None else np.asarray(gallery_w[:k], dtype=float)
        m = self.members.size
        counts = np.bincount(pos, weights=g, minlength=m)
        noise = np.bincount(pos, weights=g * g, minlength=m)
        sw = None if search_w is None else np.asarray(search_w, dtype=float)[self.members]
        return overdispersion(counts, noise, sw)

    def survival(self, t, fit: TailFit | Refit | None, sample: np.ndarray) -> np.ndarray:
        """FMR at ``t`` (in w units): the fitted tail above its ``u``; below it the exact share
        of the stratum's kept scores where they reach (weighted in a replicate), else the
        uniform sample's survival."""
        refit = fit if isinstance(fit, Refit) else None
        fit = self.fit if fit is None else (refit.fit if refit is not None else fit)
        t = np.asarray(t, dtype=np.float64)
        out = np.empty_like(t)
        tail = t >= fit.threshold
        out[tail] = fit.exceedance_rate * gpd_sf(t[tail] - fit.threshold, fit.shape, fit.scale)
        rest = ~tail
        if rest.any():
            asc = self.desc[::-1]
            tr = t[rest]
            n_ge = asc.size - np.searchsorted(asc, tr, side="left")
            if refit is None:
                from_pool = n_ge / self.n_total
            else:
                cw = np.concatenate([[0.0], np.cumsum(refit.weights)])
                from_pool = cw[n_ge] / refit.n_total
            if sample.size:
                emp = (sample.size - np.searchsorted(sample, tr, side="left")) / sample.size
            else:
                emp = np.ones(tr.size)
            in_pool = tr >= asc[0] if asc.size else np.zeros(tr.size, dtype=bool)
            out[rest] = np.where(in_pool, from_pool, np.maximum(emp, from_pool))
        return out

    def to_json(self) -> dict:
        from faceaudit.analyses._scale_model import tail_choice_json

        return {
            "n_searches": int(self.n_searches),
            "propensity": [float(self.low), float(self.high)],
            **self.fit.to_json(),
            "threshold_u": float(from_w(self.fit.threshold)),
            "overdispersion": float(self.dispersion),
            "choice": tail_choice_json(self.stab),
        }


@dataclass(frozen=True, eq=False)
class StratifiedTail:
    """The strata, each search's stratum, the cut points, and the all-search pooled tail."""

    strata: tuple[Stratum, ...]
    cuts: np.ndarray  # propensity cut points between strata
    bins: np.ndarray  # stratum of each non-mated search
    pooled: Stratum  # every search in one (the tail diagnostic)
    sample: np.ndarray  # in w units, sorted

    @property
    def fit(self) -> TailFit:
        return self.pooled.fit

    @property
    def stab(self) -> Stability:
        return self.pooled.stab

    @property
    def desc(self) -> np.ndarray:
        return self.pooled.desc

    @property
    def n_total(self) -> int:
        return self.pooled.n_total

    def stratum_of(self, propensity) -> np.ndarray:
        return np.searchsorted(self.cuts, np.asarray(propensity, dtype=np.float64), side="right")

    def by_stratum(self, t, fits=None, *, w_units: bool = False) -> np.ndarray:
        """FMR of every stratum at thresholds ``t`` (scores; w with ``w_units``): shape
        ``t.shape + (n_strata,)``."""
        t = np.asarray(t, dtype=np.float64)
        flat = t.reshape(-1) if w_units else to_w(t.reshape(-1))
        cols = [
            s.survival(flat, None if fits is None else fits[b], self.sample)
            for b, s in enumerate(self.strata)
        ]
        return np.stack(cols, axis=-1).reshape(t.shape + (len(self.strata),))

    def p(self, t, fits=None, bins=None) -> np.ndarray:
        """Each search's FMR at thresholds ``t``: shape ``t.shape + (n_searches,)``."""
        bins = self.bins if bins is None else bins
        return self.by_stratum(t, fits)[..., bins]

    def dispersions(self, fits=None) -> np.ndarray:
        """Frailty variance of every stratum (of a replicate's refits with ``fits``)."""
        if fits is None:
            return np.array([s.dispersion for s in self.strata])
        return np.array(
            [f.dispersion if isinstance(f, Refit) else s.dispersion
             for f, s in zip(fits, self.strata, strict=True)]
        )  # fmt: skip

    def fpir(self, t: float, sizes, fits=None, w=None) -> np.ndarray:
        """``mean_i [1 - (1 - Z p_i(t))^N]`` at each N of ``sizes`` (``Z``: the frailty of the
        search's stratum, :func:`faceaudit.stats.tail.mean_fpir`)."""
        v = self.dispersions(fits)[self.bins]
        sizes = np.asarray(sizes, dtype=np.float64)
        return mean_fpir(self.p(float(t), fits), sizes, w, dispersion=v)

    def _stratum_weights(self, w) -> np.ndarray:
        w = np.ones(self.bins.size) if w is None else np.asarray(w, dtype=np.float64)
        return np.bincount(self.bins, weights=w, minlength=len(self.strata))

    def threshold_for(self, targets, n: int, fits=None, w=None) -> np.ndarray:
        """The threshold ``T`` with ``FPIR(n, T) = target`` for each target (bisection on the
        mean equation, 60 halvings of the bracket, at most a score of 1); NaN for a target of 0
        or 1."""
        targets = np.asarray(targets, dtype=np.float64)
        sw = self._stratum_weights(w)
        lo_v, hi_v = [], []
        for b, s in enumerate(self.strata):
            f = s.fit if fits is None else fits[b]
            f = f.fit if isinstance(f, Refit) else f
            low = [float(s.desc[-1])] + ([float(self.sample[0])] if self.sample.size else [])
            lo_v.append(min(low))
            if f.shape < 0:
                hi_v.append(f.endpoint)
            else:
                q = min(1e-300 / max(f.exceedance_rate, 1e-300), 1.0)
                hi_v.append(f.threshold + float(genpareto.isf(q, f.shape, scale=f.scale)))
        v = self.dispersions(fits)
        lo = np.full(targets.size, min(lo_v))
        hi = np.full(targets.size, min(max(hi_v), W_MAX))
        for _ in range(60):  # in w units
            mid = 0.5 * (lo + hi)
            f = mean_fpir(self.by_stratum(mid, fits, w_units=True), float(n), sw, dispersion=v)
            above = f > targets  # FPIR falls as T rises
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
        out = from_w(0.5 * (lo + hi))
        return np.where((targets > 0) & (targets < 1), out, np.nan)

    def source(self, t: float) -> str:
        """``gpd`` when T lies in every stratum's fitted tail, ``empirical`` in none, else
        ``mixed``."""
        w = float(to_w(t))
        inside = np.array([w >= s.fit.threshold for s in self.strata])
        return "gpd" if inside.all() else ("empirical" if not inside.any() else "mixed")


def _stratum(desc, probe, tmpl, members, n_cols, low, high, tail_count, candidates) -> Stratum:
    n_searches = members.size
    n_total = int(n_searches) * int(n_cols)
    if tail_count:
        cands = [min(int(tail_count), desc.size - 1)]
    else:
        cands = candidates(n_total, desc.size)
    stab = stability_choice(desc, n_total, cands)
    out = Stratum(stab, desc, probe, tmpl, int(n_searches), n_total, float(low), float(high),
                  members, 0.0)  # fmt: skip
    k = int(stab.candidates[stab.chosen])
    return dataclasses.replace(out, dispersion=out.frailty(k))


def build_strata(
    desc: np.ndarray,
    probe: np.ndarray,
    tmpl: np.ndarray,
    n_cols: int,
    propensity: np.ndarray,
    sample: np.ndarray,
    tail_count: int | None,
    candidates,
) -> StratifiedTail:
    """Strata by propensity in :data:`STRATUM_SHARES` (merged while one is too small), each fitted.

    ``desc`` (descending) and ``sample`` are scores; the strata keep them as w."""
    n = propensity.size
    desc, sample = to_w(desc), to_w(sample)
    pooled = _stratum(desc, probe, tmpl, np.arange(n), n_cols, propensity.min(),
                      propensity.max(), tail_count, candidates)  # fmt: skip
    most = max(1, n // (2 * MIN_STRATUM_SEARCHES))
    cuts = np.quantile(propensity, np.cumsum(STRATUM_SHARES)[:-1]) if most > 1 else []
    cuts = np.unique(np.asarray(cuts, dtype=np.float64))
    while True:
        bins = np.searchsorted(cuts, propensity, side="right")
        kept = np.bincount(bins[probe], minlength=cuts.size + 1)
        size = np.bincount(bins, minlength=cuts.size + 1)
        bad = np.nonzero((kept < MIN_STRATUM_POOL) | (size < MIN_STRATUM_SEARCHES))[0]
        key = kept
        if cuts.size + 1 > most:  # too many strata for the searches: the smallest goes
            bad, key = np.arange(cuts.size + 1), size
        if cuts.size == 0 or bad.size == 0:
            break
        b = int(bad[np.argmin(key[bad])])
        cuts = np.delete(cuts, min(b, cuts.size - 1))  # merge with the next (last: previous)
    if cuts.size == 0:
        return StratifiedTail((pooled,), cuts, np.zeros(n, dtype=np.int64), pooled, sample)
    strata = []
    for b in range(cuts.size + 1):
        sel = bins[probe] == b
        members = bins == b
        strata.append(
            _stratum(
                desc[sel],
                probe[sel],
                tmpl[sel],
                np.flatnonzero(members),
                n_cols,
                propensity[members].min(),
                propensity[members].max(),
                tail_count,
                candidates,
            )  # fmt: skip
        )
    return StratifiedTail(tuple(strata), cuts, bins, pooled, sample)


def beyond(fmr: float, n_total: int, band_lower: float | None = None) -> dict:
    """The beyond-the-data check of one FMR: flagged when it, or the lower end of its bootstrap
    band (``band_lower``; None: no band), is more than :data:`BEYOND_FACTOR` times smaller than
    ``1 / n_total``, the smallest FMR ``n_total`` comparisons can show.

    The band's end matters because an estimate just above ``1 / n`` is often an overestimate of
    a truth below it (the validation suite found runs 3-4x too high with the estimate at
    ``1 / n`` and the truth near ``0.3 / n``): unless the data rule out an FMR they cannot show,
    the figure rests on the extrapolation. ``basis`` says which fired: ``"estimate"`` (the
    estimate itself lies beyond), ``"band"`` (only the band reaches beyond), or None.

    >>> beyond(2e-6, 10**6)["flagged"], beyond(2e-6, 10**6, band_lower=4e-7)["basis"]
    (False, 'band')
    """
    smallest = 1.0 / n_total
    below = math.inf if fmr <= 0 else smallest / fmr
    est = below > BEYOND_FACTOR
    band = band_lower is not None and band_lower * BEYOND_FACTOR < smallest
    return {
        "fmr": float(fmr),
        "fmr_band_lower": None if band_lower is None else float(band_lower),
        "smallest_fmr_shown": smallest,
        "times_below": None if math.isinf(below) else float(below),
        "factor": BEYOND_FACTOR,
        "flagged": bool(est or band),
        "basis": "estimate" if est else "band" if band else None,
    }
