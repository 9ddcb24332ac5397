"""Quick coverage and extrapolation checks on the validation generators (a few seconds in all).

The full studies are in ``validation/`` (run by hand; see ``docs/validation.md``). These checks
are small versions that CI can afford, with bounds chosen from the binomial spread of the number
of covering repetitions, so that they separate a working interval from the broken one reliably.

Why 42 of 50. With ``reps = 50`` repetitions and a true coverage ``p``, the number of intervals
that contain the truth is ``X ~ Binomial(50, p)``. The test asks ``X >= 42`` (84%):

* a correct 95% interval (``p = 0.95``) fails it with probability ``P(X <= 41) = 0.0008``; one
  at the low end of the accepted band (``p = 0.92``) with probability 0.017;
* the current one-way bootstrap (measured ``p ~= 0.60`` on this design, 0.64-0.69 on larger
  ones) passes it with probability ``P(X >= 42 | 0.69) = 0.013`` (0.0002 at ``p = 0.60``).

The repetitions are seeded, so the outcome is deterministic; the probabilities say how unlikely
it is that a seed choice makes a right engine fail or a wrong one pass. 50 repetitions cannot
detect over-coverage (``P(X = 50 | 0.95) = 0.08``): the full study reports it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from validation import adapter  # noqa: E402
from validation.generators import (  # noqa: E402
    CrossedScoreModel,
    GroupSpec,
    embedding_preset,
    gallery_prefix_max,
)

REPS = 50
BOOT = 200
NEEDED = 42  # of 50; see the module docstring

# 120 subjects x 2 probes: 240 mated and 28,560 non-mated comparisons per repetition
CROSSED = CrossedScoreModel(n_subjects=120)
INDEPENDENT = CROSSED.with_(
    sd_wolf=0.0,
    sd_lamb=0.0,
    wolf_share=0.0,
    sd_pair=0.0,
    lookalike_share=0.0,
    sd_probe_sample=0.0,
    sd_nonmated_noise=1.0,
)


def test_generator_truth_matches_its_own_samples():
    """The analytic population rates (normal mixtures) agree with the sampler: the mean of the
    sample rates over 40 independent draws is within 4 standard errors of the truth."""
    model = CROSSED.with_(
        groups=(GroupSpec("A", 0.6), GroupSpec("B", 0.4, within_shift=0.5, mated_shift=-0.6)),
        cross_group_shift=-0.4,
    )
    t = model.threshold_for_fmr(1e-2)
    rates = {"fmr": [], "fnmr": [], "fmr_B": [], "fnmr_B": []}
    for r in range(40):
        s = model.sample(np.random.default_rng([11, r]))
        gp, gr = (
            s.subject_group[s.nonmated_probe_subject],
            s.subject_group[s.nonmated_reference_subject],
        )
        within_b = (gp == 1) & (gr == 1)
        rates["fmr"].append(np.mean(s.nonmated >= t))
        rates["fnmr"].append(np.mean(s.mated < t))
        rates["fmr_B"].append(np.mean(s.nonmated[within_b] >= t))
        rates["fnmr_B"].append(np.mean(s.mated[s.subject_group[s.mated_subject] == 1] < t))
    # the overall FMR of a finite sample weights group pairs by n_g (n_g - 1), not share^2
    counts = model.group_counts()
    S = counts.sum()
    w = {
        (g, h): counts[g] * (counts[h] - (g == h)) / (S * (S - 1))
        for g in range(2)
        for h in range(2)
    }
    eta = model._eta()
    fmr_sample = sum(w[g, h] * model.with_(groups=(), nonmated_mean=eta[g, h]).fmr(t) for g, h in w)
    truth = {
        "fmr": fmr_sample,
        "fnmr": sum(counts[g] / S * model.fnmr(t, g) for g in range(2)),
        "fmr_B": model.fmr(t, 1),
        "fnmr_B": model.fnmr(t, 1),
    }
    for k, v in rates.items():
        v = np.array(v)
        se = v.std(ddof=1) / np.sqrt(v.size)
        assert abs(v.mean() - truth[k]) < 4 * se, (k, v.mean(), truth[k], se)


def _fmr_coverage(model: CrossedScoreModel, fmr: float = 1e-2) -> tuple[int, float]:
    t = model.threshold_for_fmr(fmr)
    truth = model.fmr(t)
    covered = 0
    for r in range(REPS):
        s = model.sample(np.random.default_rng([7, r]))
        iv = adapter.run_verify(s, thresholds=[t], fmr_targets=[], bootstrap=BOOT, seed=r)["fmr@T0"]
        covered += bool(iv.low <= truth <= iv.high)
    return covered, truth


def test_fmr_interval_covers_when_comparisons_are_independent():
    """Control: without subject effects any subject bootstrap covers; checks the harness."""
    covered, _ = _fmr_coverage(INDEPENDENT)
    assert covered >= NEEDED, f"{covered}/{REPS} FMR intervals covered the true FMR"


@pytest.mark.xfail(
    strict=True,
    reason="the two-way bootstrap covers 165 of 200 (82.5%) here, up from ~60% one-way, but "
    "below 92% at 120 subjects: its spread is 11% narrow and 18 of 19 misses are on the high "
    "side, where a few wolf/lamb subjects carry the FMR (issue 10, open)",
)
def test_fmr_interval_covers_under_crossed_subject_effects():
    """Each non-mated comparison depends on its probe AND its reference subject (wolves, lambs,
    look-alike pairs): a 95% FMR interval must still cover the population FMR ~95% of the time.
    """
    covered, _ = _fmr_coverage(CROSSED)
    assert covered >= NEEDED, f"{covered}/{REPS} FMR intervals covered the true FMR"


def _extrapolation_ratios(generator: str, seeds=range(4), level: float = 0.5) -> np.ndarray:
    """Fit on 300 distractors (d=32, 1000 non-mated probes), extrapolate to 30,000 at the
    threshold where the FPIR measured there is ``level``; extrapolated / measured per seed."""
    out = []
    for seed in seeds:
        probes, fit, top, _ = gallery_prefix_max(
            embedding_preset(generator, 32), seed, n_probes=1000, fit_size=300, large_size=30_000
        )
        t = float(np.sort(top)[::-1][int(level * top.size) - 1])
        r = adapter.run_scale(
            fit, probes, threshold=t, target_gallery_size=30_000, bootstrap=100, seed=seed
        )
        out.append(r["extrapolated"].estimate / float(np.mean(top >= t)))
    return np.array(out)


def test_extrapolation_is_roughly_unbiased_for_homogeneous_probes():
    """100x growth at FPIR 0.5, identities uniform on the sphere: geometric-mean ratio within
    0.67-1.5 (4 seeds; the ratio's seed-to-seed spread is ~20%)."""
    ratios = _extrapolation_ratios("homogeneous")
    gm = float(np.exp(np.mean(np.log(ratios))))
    assert 0.67 <= gm <= 1.5, ratios


def test_extrapolation_is_roughly_unbiased_when_probes_differ():
    """10% lamb probes: the pooled independence model overstated FPIR at 100x (1.39x here,
    1.6-1.7x in the full study); the per-search model (FPIR the mean over searches, tails per
    stratum of similar searches) brings it within 0.8-1.25."""
    ratios = _extrapolation_ratios("lambs")
    gm = float(np.exp(np.mean(np.log(ratios))))
    assert 0.8 <= gm <= 1.25, ratios
