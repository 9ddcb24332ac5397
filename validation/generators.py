"""Data generators with a known population truth, for the coverage and extrapolation studies.

Written apart from :mod:`faceaudit.synth` on purpose: a validation that draws its data from the
generator of the code under test can share its blind spots. Nothing here imports faceaudit.

Two families of generators:

1:1 scores with crossed subject effects (:class:`CrossedScoreModel`)
    Subjects ``i = 1..S`` are drawn i.i.d. from a population; each has one reference sample and
    ``m`` probe samples. A mated comparison (probe ``k`` of ``i`` vs the reference of ``i``) and
    a non-mated comparison (probe ``k`` of ``i`` vs the reference of ``j != i``) score::

        mated   s = mu_G + gamma_g(i) + g_i + D_goat * goat_i + v_ik + e
        non-mated  s = mu_I + eta(g(i), g(j)) + a_i + b_j + D_p * w_i + D_r * w_j + c_ij + u_ik + e

    ``g_i ~ N(0, sd_mated_subject^2)`` (goat-ness) plus a discrete goat flag
    ``goat_i ~ Bernoulli(goat_share)``; ``(a_i, b_i)`` are the subject's non-mated effects as a
    probe (wolf) and as a reference (lamb), bivariate normal with correlation ``rho_wolf_lamb``,
    plus a discrete "wolf-lamb" flag ``w_i ~ Bernoulli(wolf_share)`` that raises both sides;
    ``c_ij = c_ji`` is a symmetric pair effect: with probability ``lookalike_share`` the pair are
    look-alikes, ``c_ij ~ N(lookalike_shift, sd_lookalike^2)``, otherwise
    ``c_ij ~ N(0, sd_pair^2)``; ``u_ik`` and ``v_ik`` are probe-sample effects (shared by all of a
    probe sample's non-mated / mated comparisons); ``e`` is independent noise. ``eta`` and
    ``gamma`` are optional demographic-group shifts (within-group / cross-group non-mated means,
    group mated means).

    Each comparison therefore depends on BOTH of its subjects (and, through ``c``, on the pair),
    which is what a bootstrap that hands a non-mated comparison to its probe subject only misses.

    **Truth, analytically.** Over the subject population every comparison has the same marginal
    law, a finite mixture of normals (the discrete flags pick the component, the normal effects
    add their variances; for ``i != j`` all effects of ``i`` and ``j`` are independent):
    ``FMR(t) = sum_k w_k * Phi_bar((t - m_k) / s_k)`` and ``FNMR(t) = sum_k w_k * Phi((t - m_k) /
    s_k)``. So the population FMR(t), FNMR(t), the threshold ``t*`` with ``FMR(t*) = alpha``
    (``FNMR at FMR alpha = FNMR(t*)``) and the EER (``FMR(t) = FNMR(t)``) are exact (root
    finding to 1e-12), with no Monte-Carlo error. The sample's own rates are unbiased for these
    population rates (each comparison's marginal is the same), but vary around them with the
    crossed subject effects: that variation is what an interval must cover.

Embeddings on the hypersphere (:class:`EmbeddingPopulation`)
    A subject's identity direction is ``mu_i = normalise(r_i + h_i e_0 + kappa C_k(i) + phi
    F_f(i))`` with ``r_i ~ N(0, I_d / d)``; a sample is ``x = normalise(mu_i + tau q z / sqrt(d))``
    with ``z ~ N(0, I_d)`` and a per-sample quality factor ``q = exp(sq N(0,1) - sq^2 / 2)``. The
    score is the cosine ``x . x'``. Non-mated scores then have mean ~0 and standard deviation
    ~``1 / sqrt(d)``; the heterogeneity knobs are set in those standard-deviation units:

    * **hubness / lambs** (``e_0``): subject ``i`` has ``h_i = c_i sqrt((1 + tau^2) / sqrt(d))``
      with ``c_i = lamb_strength`` for a share ``lamb_share`` of subjects (lambs) and
      ``hub_strength`` for the others, which shifts the mean non-mated score of the pair ``(i, j)``
      by about ``c_i c_j`` standard deviations: a lamb's non-mated scores run high against
      everyone, and more so against other lambs;
    * **demographic clusters** (``C_k``, orthonormal): a subject belongs to cluster ``k`` with
      probability ``cluster_weights[k]``; two subjects of one cluster have their mean non-mated
      score raised by ``cluster_shift`` standard deviations (probes of a large cluster face many
      similar distractors; of a small one, few);
    * **look-alike families** (``F_f``, a random unit vector per family): every subject belongs to
      one of ``n_families`` families chosen uniformly; two members of one family have identity
      cosine ~``family_cosine``. In a gallery of ``N`` subjects a probe has about
      ``N / n_families`` look-alikes: invisible in a small gallery, decisive in a large one.

    **Truth by Monte-Carlo.** No closed form: the population FPIR(N, T) and FNIR(N, R, T) are
    estimated by a large draw of independent galleries and searches from the same population
    (:func:`monte_carlo_searches`), with independent seeds, and reported with their Monte-Carlo
    standard error. The gallery is random in the truth (a new gallery of N subjects from the
    population every time): the truth is the population rate, not one gallery's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import optimize
from scipy.special import logsumexp
from scipy.stats import norm

__all__ = [
    "CrossedScoreModel",
    "EmbeddingPopulation",
    "GroupSpec",
    "NormalMixture",
    "ScoreSample",
    "SearchDesign",
    "SearchSample",
    "embedding_preset",
    "gallery_prefix_max",
    "monte_carlo_searches",
    "EMBEDDING_PRESETS",
]


# ---------------------------------------------------------------------------------------------
# Exact laws: finite mixtures of normals


@dataclass(frozen=True)
class NormalMixture:
    """``sum_k w_k N(m_k, s_k^2)``, with survival and quantile functions exact to ~1e-12."""

    weights: np.ndarray
    means: np.ndarray
    sds: np.ndarray

    @classmethod
    def of(cls, comps: Sequence[tuple[float, float, float]]) -> NormalMixture:
        w, m, s = (np.array(x, dtype=np.float64) for x in zip(*comps, strict=True))
        keep = w > 0
        w = w[keep] / w[keep].sum()
        return cls(w, m[keep], s[keep])

    def logsf(self, t: float) -> float:
        return float(logsumexp(np.log(self.weights) + norm.logsf((t - self.means) / self.sds)))

    def sf(self, t: float) -> float:
        """P(X >= t)."""
        return float(math.exp(self.logsf(t)))

    def cdf(self, t: float) -> float:
        """P(X < t)."""
        return float(np.dot(self.weights, norm.cdf((t - self.means) / self.sds)))

    def quantile(self, p: float) -> float:
        """The t with P(X < t) = p (0 < p < 1)."""
        lo = float(np.min(self.means - 40 * self.sds))
        hi = float(np.max(self.means + 40 * self.sds))
        return float(optimize.brentq(lambda t: self.cdf(t) - p, lo, hi, xtol=1e-13))

    def isf(self, p: float) -> float:
        """The t with P(X >= t) = p (0 < p < 1), by root finding on log P (accurate at 1e-9)."""
        lo = float(np.min(self.means - 40 * self.sds))
        hi = float(np.max(self.means + 40 * self.sds))
        lp = math.log(p)
        return float(optimize.brentq(lambda t: self.logsf(t) - lp, lo, hi, xtol=1e-13))


# ---------------------------------------------------------------------------------------------
# 1:1 scores with crossed subject effects


@dataclass(frozen=True)
class GroupSpec:
    """A demographic group of the 1:1 model: its share of subjects and its shifts."""

    name: str
    share: float
    within_shift: float = 0.0  # added to non-mated scores of two subjects of this group
    mated_shift: float = 0.0  # added to the group's mated scores


@dataclass(frozen=True)
class ScoreSample:
    """One draw of a 1:1 experiment (plain arrays; :mod:`validation.adapter` wraps them)."""

    mated: np.ndarray
    mated_subject: np.ndarray
    nonmated: np.ndarray
    nonmated_probe_subject: np.ndarray
    nonmated_reference_subject: np.ndarray
    n_subjects: int
    subject_group: np.ndarray  # group code of each subject
    group_names: tuple[str, ...]

    @property
    def subject_names(self) -> list[str]:
        return [f"s{i:06d}" for i in range(self.n_subjects)]


@dataclass(frozen=True)
class CrossedScoreModel:
    """1:1 scores with crossed (probe-side and reference-side) subject effects; see module doc.

    Units: standardised so that the non-mated scores of an ordinary pair have a standard
    deviation near 1.
    """

    n_subjects: int = 300
    probes_per_subject: int = 2
    # non-mated side
    nonmated_mean: float = 0.0
    sd_wolf: float = 0.35  # a_i, subject as probe
    sd_lamb: float = 0.35  # b_j, subject as reference
    rho_wolf_lamb: float = 0.5
    wolf_share: float = 0.02  # discrete wolf-lamb subjects
    wolf_shift_probe: float = 1.5
    wolf_shift_reference: float = 1.5
    sd_pair: float = 0.3
    lookalike_share: float = 0.0005
    lookalike_shift: float = 3.5
    sd_lookalike: float = 1.0
    sd_probe_sample: float = 0.3  # u_ik
    sd_nonmated_noise: float = 0.75
    # mated side
    mated_mean: float = 4.6
    sd_mated_subject: float = 0.6
    goat_share: float = 0.05
    goat_shift: float = -2.0
    sd_mated_sample: float = 0.4  # v_ik
    sd_mated_noise: float = 0.5
    # optional demographic groups
    groups: tuple[GroupSpec, ...] = ()
    cross_group_shift: float = 0.0

    def with_(self, **kw) -> CrossedScoreModel:
        return replace(self, **kw)

    # --- sizes ---------------------------------------------------------------------------
    @property
    def n_mated(self) -> int:
        return self.n_subjects * self.probes_per_subject

    @property
    def n_nonmated(self) -> int:
        return self.n_subjects * self.probes_per_subject * (self.n_subjects - 1)

    def group_counts(self) -> np.ndarray:
        if not self.groups:
            return np.array([self.n_subjects])
        share = np.array([g.share for g in self.groups], dtype=float)
        share = share / share.sum()
        counts = np.floor(share * self.n_subjects).astype(int)
        counts[0] += self.n_subjects - counts.sum()
        return counts

    def _eta(self) -> np.ndarray:
        G = max(len(self.groups), 1)
        eta = np.full((G, G), self.cross_group_shift if self.groups else 0.0)
        for k, g in enumerate(self.groups):
            eta[k, k] = g.within_shift
        return eta

    # --- one draw ------------------------------------------------------------------------
    def sample(self, seed: int | np.random.Generator) -> ScoreSample:
        rng = np.random.default_rng(seed)
        S, m = self.n_subjects, self.probes_per_subject
        counts = self.group_counts()
        grp = np.repeat(np.arange(counts.size), counts)
        gamma = np.array([g.mated_shift for g in self.groups] or [0.0])
        eta = self._eta()
        # subject effects
        cov = np.array(
            [
                [self.sd_wolf**2, self.rho_wolf_lamb * self.sd_wolf * self.sd_lamb],
                [self.rho_wolf_lamb * self.sd_wolf * self.sd_lamb, self.sd_lamb**2],
            ]
        )
        ab = rng.multivariate_normal([0.0, 0.0], cov, size=S)
        wolf = rng.random(S) < self.wolf_share
        a = ab[:, 0] + wolf * self.wolf_shift_probe
        b = ab[:, 1] + wolf * self.wolf_shift_reference
        goat = rng.random(S) < self.goat_share
        gsub = rng.normal(0.0, self.sd_mated_subject, S) + goat * self.goat_shift
        # symmetric pair effects
        look = rng.random((S, S)) < self.lookalike_share
        c = np.where(
            look,
            rng.normal(self.lookalike_shift, self.sd_lookalike, (S, S)),
            rng.normal(0.0, self.sd_pair, (S, S)),
        )
        c = np.triu(c, 1)
        c = c + c.T
        # probe samples
        ps = np.repeat(np.arange(S), m)
        P = ps.size
        u = rng.normal(0.0, self.sd_probe_sample, P)
        v = rng.normal(0.0, self.sd_mated_sample, P)
        mated = (
            self.mated_mean
            + gamma[grp[ps]]
            + gsub[ps]
            + v
            + rng.normal(0.0, self.sd_mated_noise, P)
        )
        imp = (
            self.nonmated_mean
            + eta[grp[ps]][:, grp]
            + a[ps][:, None]
            + b[None, :]
            + c[ps, :]
            + u[:, None]
            + rng.normal(0.0, self.sd_nonmated_noise, (P, S))
        )
        keep = ps[:, None] != np.arange(S)[None, :]
        probe_of = np.broadcast_to(ps[:, None], (P, S))[keep]
        ref_of = np.broadcast_to(np.arange(S)[None, :], (P, S))[keep]
        return ScoreSample(
            mated=mated,
            mated_subject=ps.astype(np.int32),
            nonmated=imp[keep],
            nonmated_probe_subject=probe_of.astype(np.int32),
            nonmated_reference_subject=ref_of.astype(np.int32),
            n_subjects=S,
            subject_group=grp.astype(np.int32),
            group_names=tuple(g.name for g in self.groups) or ("all",),
        )

    # --- the population truth ------------------------------------------------------------
    def _group_shares(self) -> np.ndarray:
        if not self.groups:
            return np.array([1.0])
        s = np.array([g.share for g in self.groups], dtype=float)
        return s / s.sum()

    def nonmated_law(self, group: int | None = None) -> NormalMixture:
        """Population law of a non-mated score: of a within-group pair of ``group``, or of any
        pair (groups drawn independently with their shares) when ``group`` is None."""
        shares = self._group_shares()
        eta = self._eta()
        G = shares.size
        pairs = (
            [(group, group, 1.0)]
            if group is not None
            else [(g, h, shares[g] * shares[h]) for g in range(G) for h in range(G)]
        )
        base_var = self.sd_wolf**2 + self.sd_lamb**2 + self.sd_probe_sample**2
        base_var += self.sd_nonmated_noise**2
        comps = []
        pw = self.wolf_share
        pl = self.lookalike_share
        for g, h, wgh in pairs:
            for fi in (0, 1):
                for fj in (0, 1):
                    for lk in (0, 1):
                        w = wgh * (pw if fi else 1 - pw) * (pw if fj else 1 - pw)
                        w *= pl if lk else 1 - pl
                        mean = self.nonmated_mean + eta[g, h]
                        mean += fi * self.wolf_shift_probe + fj * self.wolf_shift_reference
                        mean += lk * self.lookalike_shift
                        var = base_var + (self.sd_lookalike**2 if lk else self.sd_pair**2)
                        comps.append((w, mean, math.sqrt(var)))
        return NormalMixture.of(comps)

    def mated_law(self, group: int | None = None) -> NormalMixture:
        shares = self._group_shares()
        gamma = [g.mated_shift for g in self.groups] or [0.0]
        sd = math.sqrt(self.sd_mated_subject**2 + self.sd_mated_sample**2 + self.sd_mated_noise**2)
        comps = []
        groups = [group] if group is not None else range(shares.size)
        for g in groups:
            wg = 1.0 if group is not None else shares[g]
            for goat in (0, 1):
                w = wg * (self.goat_share if goat else 1 - self.goat_share)
                comps.append((w, self.mated_mean + gamma[g] + goat * self.goat_shift, sd))
        return NormalMixture.of(comps)

    def fmr(self, t: float, group: int | None = None) -> float:
        return self.nonmated_law(group).sf(t)

    def fnmr(self, t: float, group: int | None = None) -> float:
        return self.mated_law(group).cdf(t)

    def threshold_for_fmr(self, fmr: float) -> float:
        return self.nonmated_law().isf(fmr)

    def fnmr_at_fmr(self, fmr: float) -> float:
        return self.fnmr(self.threshold_for_fmr(fmr))

    def eer(self) -> tuple[float, float]:
        """``(EER, threshold)``: the population crossing FMR(t) = FNMR(t)."""
        imp, gen = self.nonmated_law(), self.mated_law()
        lo = float(imp.means.min())
        hi = float(gen.means.max())
        t = optimize.brentq(lambda x: imp.sf(x) - gen.cdf(x), lo, hi, xtol=1e-13)
        return float(imp.sf(t)), float(t)


# ---------------------------------------------------------------------------------------------
# Embeddings on the hypersphere


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@dataclass
class _FamilyBook:
    """Family centres already drawn in one data set (so that probes and gallery share them)."""

    dim: int
    ids: dict[int, int] = field(default_factory=dict)
    centres: list[np.ndarray] = field(default_factory=list)

    def centres_for(self, fam: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        new = [f for f in np.unique(fam).tolist() if f not in self.ids]
        if new:
            c = rng.standard_normal((len(new), self.dim))
            c /= np.linalg.norm(c, axis=1, keepdims=True)
            base = sum(len(x) for x in self.centres)
            for k, f in enumerate(new):
                self.ids[f] = base + k
            self.centres.append(c)
        allc = np.concatenate(self.centres) if self.centres else np.empty((0, self.dim))
        return allc[np.array([self.ids[f] for f in fam.tolist()], dtype=np.int64)]


@dataclass(frozen=True)
class Identities:
    mu: np.ndarray  # (n, d) float32 unit rows
    cluster: np.ndarray  # (n,) int
    lamb: np.ndarray  # (n,) bool
    family: np.ndarray  # (n,) int64 (-1: none / fresh)


@dataclass(frozen=True)
class EmbeddingPopulation:
    """A population of subjects with unit-norm embeddings; see the module docstring."""

    dim: int
    name: str = "homogeneous"
    noise: float = 0.8  # tau: mated cosine ~ 1 / (1 + tau^2)
    quality_spread: float = 0.25
    lamb_share: float = 0.0
    lamb_strength: float = 0.0
    hub_strength: float = 0.0
    cluster_weights: tuple[float, ...] = ()
    cluster_shift: float = 0.0
    n_families: int = 0
    family_cosine: float = 0.0

    @property
    def _unit(self) -> float:
        """Inner product of identities that shifts the mean score by one non-mated s.d."""
        return (1.0 + self.noise**2) / math.sqrt(self.dim)

    def identities(
        self, rng: np.random.Generator, n: int, book: _FamilyBook | None = None, *, fresh=False
    ) -> Identities:
        """``n`` subjects drawn i.i.d. from the population.

        ``book`` holds the family centres already used in this data set. With ``fresh=True``
        a subject's family is looked up in ``book`` only if it is already there (a family met
        for the first time is drawn but not stored): exact for the scores of the book's
        subjects against these, and memory-light for huge galleries.
        """
        d = self.dim
        v = rng.standard_normal((n, d)) / math.sqrt(d)
        lamb = np.zeros(n, dtype=bool)
        if self.lamb_share > 0 or self.hub_strength > 0:
            lamb = rng.random(n) < self.lamb_share
            c = np.where(lamb, self.lamb_strength, self.hub_strength)
            v[:, 0] += c * math.sqrt(self._unit)
        cluster = np.zeros(n, dtype=np.int64)
        if self.cluster_weights:
            w = np.asarray(self.cluster_weights, dtype=float)
            cluster = rng.choice(w.size, size=n, p=w / w.sum())
            kappa = math.sqrt(self.cluster_shift * self._unit)
            v[np.arange(n), 1 + cluster] += kappa
        family = np.full(n, -1, dtype=np.int64)
        if self.n_families:
            phi = math.sqrt(self.family_cosine / (1.0 - self.family_cosine))
            family = rng.integers(0, self.n_families, size=n)
            if book is None:
                book = _FamilyBook(d)
            if fresh:
                known = np.array([f in book.ids for f in family.tolist()], dtype=bool)
                cent = rng.standard_normal((n, d))
                cent /= np.linalg.norm(cent, axis=1, keepdims=True)
                if known.any():
                    cent[known] = book.centres_for(family[known], rng)
                family = np.where(known, family, -1)
            else:
                cent = book.centres_for(family, rng)
            v += phi * cent
        return Identities(_normalise(v), cluster, lamb, family)

    def samples(self, rng: np.random.Generator, mu: np.ndarray) -> np.ndarray:
        """One noisy sample of each identity row."""
        n, d = mu.shape
        q = np.exp(self.quality_spread * rng.standard_normal(n) - self.quality_spread**2 / 2)
        z = rng.standard_normal((n, d)).astype(np.float32)
        return _normalise(mu + (self.noise * q / math.sqrt(d))[:, None].astype(np.float32) * z)

    def with_(self, **kw) -> EmbeddingPopulation:
        return replace(self, **kw)


def embedding_preset(name: str, dim: int) -> EmbeddingPopulation:
    """The named heterogeneity settings (``EMBEDDING_PRESETS``) at dimension ``dim``.

    * ``homogeneous``: identities uniform on the sphere (the GPD fit's easy case);
    * ``lambs``: 10% of subjects are lambs (hub strength 1.3 s.d. against 0.5 for the rest):
      their non-mated scores run high against everyone;
    * ``clusters``: four demographic clusters of shares 55/25/12/8%, within-cluster non-mated
      scores 1.2 s.d. higher;
    * ``lookalikes``: 3x10^6 look-alike families, identity cosine 0.35 within a family: a gallery
      of 3x10^5 holds a look-alike for ~10% of probes, one of 3x10^3 for ~0.1%.
    """
    base = EmbeddingPopulation(dim=dim, name=name)
    if name == "homogeneous":
        return base
    if name == "lambs":
        return base.with_(lamb_share=0.10, lamb_strength=1.3, hub_strength=0.5)
    if name == "clusters":
        return base.with_(cluster_weights=(0.55, 0.25, 0.12, 0.08), cluster_shift=1.2)
    if name == "lookalikes":
        return base.with_(n_families=3_000_000, family_cosine=0.35)
    raise ValueError(f"unknown embedding preset {name!r}; known: {EMBEDDING_PRESETS}")


EMBEDDING_PRESETS = ("homogeneous", "lambs", "clusters", "lookalikes")


# ---------------------------------------------------------------------------------------------
# 1:N search designs


@dataclass(frozen=True)
class SearchSample:
    """One 1:N data set: an enrolled gallery (one sample per subject) and probes."""

    gallery: np.ndarray  # (N, d) float32
    gallery_subjects: np.ndarray  # str
    probes: np.ndarray  # (P, d) float32
    probe_subjects: np.ndarray  # str; mated probes carry an enrolled subject's id
    probe_groups: np.ndarray  # str: cluster of the probe's subject
    gallery_groups: np.ndarray  # str
    gallery_identities: Identities | None = None  # for gallery-conditional truths
    family_book: _FamilyBook | None = None


@dataclass(frozen=True)
class SearchDesign:
    """Gallery of ``gallery_size`` subjects; ``n_mated`` of them and ``n_nonmated`` others
    (not enrolled) each give ``probes_per_subject`` probe samples."""

    population: EmbeddingPopulation
    gallery_size: int = 1000
    n_mated: int = 500
    n_nonmated: int = 1000
    probes_per_subject: int = 2

    def sample(self, seed: int | np.random.Generator) -> SearchSample:
        rng = np.random.default_rng(seed)
        pop = self.population
        book = _FamilyBook(pop.dim)
        gal_id = pop.identities(rng, self.gallery_size, book)
        out_id = pop.identities(rng, self.n_nonmated, book)
        gallery = pop.samples(rng, gal_id.mu)
        k = self.probes_per_subject
        mated_rows = np.repeat(np.arange(self.n_mated), k)
        out_rows = np.repeat(np.arange(self.n_nonmated), k)
        probes = np.concatenate(
            [pop.samples(rng, gal_id.mu[mated_rows]), pop.samples(rng, out_id.mu[out_rows])]
        )
        gnames = np.array([f"g{i:07d}" for i in range(self.gallery_size)])
        onames = np.array([f"n{i:07d}" for i in range(self.n_nonmated)])
        subj = np.concatenate([gnames[mated_rows], onames[out_rows]])
        cl = np.concatenate([gal_id.cluster[mated_rows], out_id.cluster[out_rows]])
        return SearchSample(
            gallery=gallery,
            gallery_subjects=gnames,
            probes=probes,
            probe_subjects=subj,
            probe_groups=np.array([f"c{c}" for c in cl]),
            gallery_groups=np.array([f"c{c}" for c in gal_id.cluster]),
            gallery_identities=gal_id,
            family_book=book,
        )

    def gallery_conditional(
        self,
        s: SearchSample,
        seed: int | np.random.Generator,
        *,
        n_nonmated: int = 20_000,
        samples_per_subject: int = 5,
        list_length: int = 50,
    ) -> dict[str, np.ndarray]:
        """Fresh searches against the FIXED gallery of ``s``, for the gallery-conditional truth
        (the rate for this gallery over the population of probes).

        ``nonmated_top``: top score of ``n_nonmated`` fresh non-enrolled subjects (one probe
        each), sorted, and ``nonmated_group``: their clusters, in that order;
        ``mate_effective``: for ``samples_per_subject`` fresh samples of every enrolled subject,
        the mate's score if within the top ``list_length``, else -inf.
        """
        rng = np.random.default_rng(seed)
        pop = self.population
        book = s.family_book if s.family_book is not None else _FamilyBook(pop.dim)
        tops, groups = [], []
        for a, b in iter_chunks(n_nonmated, 5000):
            ids = pop.identities(rng, b - a, book, fresh=True)
            tops.append((pop.samples(rng, ids.mu) @ s.gallery.T).max(axis=1))
            groups.append(ids.cluster)
        mates = []
        mu = s.gallery_identities.mu
        n = mu.shape[0]
        for _ in range(samples_per_subject):
            S = pop.samples(rng, mu) @ s.gallery.T
            mate = S[np.arange(n), np.arange(n)].astype(np.float64)
            S[np.arange(n), np.arange(n)] = -np.inf
            above = (S > mate[:, None]).sum(axis=1)
            mates.append(np.where(above < list_length, mate, -np.inf))
        top = np.concatenate(tops).astype(np.float64)
        order = np.argsort(top, kind="stable")
        return {
            "nonmated_top": top[order],
            "nonmated_group": np.array([f"c{c}" for c in np.concatenate(groups)[order]]),
            "mate_effective": np.sort(np.concatenate(mates)),
        }


def monte_carlo_searches(
    design: SearchDesign, seed: int, n_galleries: int, *, list_length: int = 50
) -> dict[str, np.ndarray]:
    """Independent galleries and searches from the population, for the 1:N truth.

    Returns per-search arrays pooled over ``n_galleries`` fresh data sets of ``design``:
    ``nonmated_top`` (top score of each non-mated search), ``mate_effective`` (the mate's score
    when the mate is within the top ``list_length``, else -inf: FNIR(N, L, T) = P(< T)), and the
    cluster of each probe (``nonmated_group``, ``mated_group``) and its gallery index
    (``nonmated_gallery``, ``mated_gallery``) for the Monte-Carlo standard errors.
    """
    tops, mates, ng, mg, gi_n, gi_m = [], [], [], [], [], []
    L = list_length
    for gidx in range(n_galleries):
        s = design.sample(np.random.default_rng([seed, gidx]))
        S = s.probes @ s.gallery.T
        mated = np.char.startswith(s.probe_subjects.astype(str), "g")
        gpos = {n: i for i, n in enumerate(s.gallery_subjects.tolist())}
        nm = ~mated
        tops.append(S[nm].max(axis=1))
        Sm = S[mated]
        col = np.array([gpos[x] for x in s.probe_subjects[mated].tolist()], dtype=np.int64)
        rows = np.arange(Sm.shape[0])
        mate = Sm[rows, col].astype(np.float64)
        Sm[rows, col] = -np.inf
        # the mate is within the top L when fewer than L non-mates score above it
        above = (Sm > mate[:, None]).sum(axis=1)
        mates.append(np.where(above < L, mate, -np.inf))
        ng.append(s.probe_groups[nm])
        mg.append(s.probe_groups[mated])
        gi_n.append(np.full(int(nm.sum()), gidx))
        gi_m.append(np.full(int(mated.sum()), gidx))
    return {
        "nonmated_top": np.concatenate(tops).astype(np.float64),
        "mate_effective": np.concatenate(mates),
        "nonmated_group": np.concatenate(ng),
        "mated_group": np.concatenate(mg),
        "nonmated_gallery": np.concatenate(gi_n),
        "mated_gallery": np.concatenate(gi_m),
    }


# ---------------------------------------------------------------------------------------------
# Large galleries for the extrapolation study


def gallery_prefix_max(
    population: EmbeddingPopulation,
    seed: int,
    *,
    n_probes: int,
    fit_size: int,
    large_size: int,
    chunk: int = 10_000,
    keep: int = 256,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Non-mated probes, the first ``fit_size`` gallery templates, and each probe's top score in
    the whole ``large_size`` gallery (of which the fit gallery is the first part: nested).

    The large gallery is generated and searched in chunks (never held in memory). Returns
    ``(probes (n_probes, d), fit_gallery (fit_size, d), top_large (n_probes,), highest
    (n_probes, keep))``: ``highest`` holds each probe's ``keep`` highest scores in the large
    gallery, descending (so the number of its comparisons >= T is exact while below ``keep``).
    Everything is measured here with numpy, independently of faceaudit.
    """
    rng = np.random.default_rng([seed, 17])
    book = _FamilyBook(population.dim)
    pid = population.identities(rng, n_probes, book)
    probes = population.samples(rng, pid.mu)
    best = np.full((n_probes, keep), -np.inf, dtype=np.float32)
    fit = None
    done = 0
    while done < large_size:
        n = min(chunk, large_size - done)
        if done < fit_size:
            n = min(n, fit_size - done)  # the fit gallery is exactly the first chunk(s)
        gid = population.identities(rng, n, book, fresh=True)
        g = population.samples(rng, gid.mu)
        if done < fit_size:
            fit = g if fit is None else np.concatenate([fit, g])
        both = np.concatenate([best, probes @ g.T], axis=1)
        best = -np.partition(-both, keep - 1, axis=1)[:, :keep]
        done += n
    best = -np.sort(-best, axis=1)
    return probes, fit, best[:, 0].astype(np.float64), best.astype(np.float64)


def iter_chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for s in range(0, n, size):
        yield s, min(n, s + size)
