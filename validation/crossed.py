"""A crossed-effects model of 1:1 scores: people (and images) matter on both sides of a comparison.

Independent of :mod:`faceaudit.synth`. ``P`` subjects with ``m`` images each; every unordered pair
of images is compared once (the earlier image is the probe):

    non-mated (subjects i != j):  mu_i + c_i + c_j + q_k + q_l + e
    mated (subject i):         mu_g + g_i + q_k + q_l + e

``c`` is a subject's non-mated effect (on both sides: a "lamb" draws high non-mated scores whether
probe or reference), ``g`` its mated effect, ``q`` an image's quality effect (shared by its
mated and non-mated comparisons), ``e`` ~ N(0, 1). The population rates are closed-form normal
tails, so an interval's coverage of the truth can be counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from faceaudit.data import ComparisonScores


@dataclass(frozen=True)
class Crossed:
    subjects: int = 80
    images: int = 3
    mu_nonmated: float = 0.0
    mu_mated: float = 4.0
    sd_subject: float = 0.45  # c
    sd_mated: float = 0.5  # g
    sd_image: float = 0.3  # q

    @property
    def sd_imp(self) -> float:
        return float(np.sqrt(2 * self.sd_subject**2 + 2 * self.sd_image**2 + 1))

    @property
    def sd_gen(self) -> float:
        return float(np.sqrt(self.sd_mated**2 + 2 * self.sd_image**2 + 1))

    def fmr(self, t: float) -> float:
        return float(norm.sf((t - self.mu_nonmated) / self.sd_imp))

    def fnmr(self, t: float) -> float:
        return float(norm.cdf((t - self.mu_mated) / self.sd_gen))

    def threshold_for_fmr(self, target: float) -> float:
        return float(self.mu_nonmated + self.sd_imp * norm.isf(target))

    def eer(self) -> float:
        si, sg = self.sd_imp, self.sd_gen
        t = (self.mu_nonmated * sg + self.mu_mated * si) / (si + sg)
        return self.fmr(t)

    def sample(self, rng: np.random.Generator, *, probe_only: bool = False) -> ComparisonScores:
        P, m = self.subjects, self.images
        c = rng.normal(0, self.sd_subject, P)
        g = rng.normal(0, self.sd_mated, P)
        q = rng.normal(0, self.sd_image, P * m)
        subj = np.repeat(np.arange(P), m)
        k, l_ = np.triu_indices(P * m, 1)
        same = subj[k] == subj[l_]
        e = rng.normal(0, 1, k.size)
        s = q[k] + q[l_] + e
        s = np.where(same, self.mu_mated + g[subj[k]] + s,
                     self.mu_nonmated + c[subj[k]] + c[subj[l_]] + s)  # fmt: skip
        gi, ii = np.flatnonzero(same), np.flatnonzero(~same)
        return ComparisonScores(
            mated=s[gi],
            nonmated=s[ii],
            mated_subject=subj[k[gi]].astype(np.int32),
            nonmated_subject=subj[k[ii]].astype(np.int32),
            nonmated_reference_subject=None if probe_only else subj[l_[ii]].astype(np.int32),
            subjects=[f"s{i:04d}" for i in range(P)],
        )
