"""The built-in, clearly synthetic data set behind ``faceaudit demo``.

:func:`synthetic_comparisons` draws comparison scores for ``n_subjects`` people with a subject
structure, so that the subject bootstrap has something to do:

- each subject ``s`` has a genuine mean ``mu_s ~ N(genuine_mean, genuine_subject_sd)`` (some people
  are harder to verify than others, Doddington's "goats"), and ``genuine_per_subject`` genuine
  scores ``~ N(mu_s, genuine_sd)``;
- each subject ``s`` as a probe has an impostor offset ``d_s ~ N(0, impostor_subject_sd)`` ("wolves"
  and "lambs"), and ``impostor_per_subject`` impostor scores against other subjects
  ``~ N(impostor_mean + d_s, impostor_sd)``.

Scores are cosine-like similarities, rounded to 4 decimals as many vendor exports are (so ties
occur). Defaults give ~10^4 genuine and ~10^6 impostor comparisons, an EER near 0.5% and FNMR near
3% at FMR 1e-3. Seeded: the same seed gives the same data.
"""

from __future__ import annotations

import numpy as np

from faceaudit.io.scores import ComparisonScores, InputFile


def synthetic_comparisons(
    *,
    seed: int = 20261129,
    n_subjects: int = 1000,
    genuine_per_subject: int = 10,
    impostor_per_subject: int = 1000,
    genuine_mean: float = 0.62,
    genuine_subject_sd: float = 0.06,
    genuine_sd: float = 0.08,
    impostor_mean: float = 0.10,
    impostor_subject_sd: float = 0.03,
    impostor_sd: float = 0.085,
    decimals: int = 4,
) -> ComparisonScores:
    """Seeded synthetic 1:1 comparison scores with subject ids (see module docstring)."""
    rng = np.random.default_rng(seed)
    s = n_subjects
    mu = rng.normal(genuine_mean, genuine_subject_sd, s)
    g_subj = np.repeat(np.arange(s, dtype=np.int32), genuine_per_subject)
    genuine = rng.normal(mu[g_subj], genuine_sd)
    d = rng.normal(0.0, impostor_subject_sd, s)
    i_subj = np.repeat(np.arange(s, dtype=np.int32), impostor_per_subject)
    ref = rng.integers(0, s - 1, size=i_subj.size).astype(np.int32)
    ref = ref + (ref >= i_subj)  # any subject but the probe's own
    impostor = rng.normal(impostor_mean + d[i_subj], impostor_sd)
    genuine = np.clip(np.round(genuine, decimals), -1.0, 1.0)
    impostor = np.clip(np.round(impostor, decimals), -1.0, 1.0)
    return ComparisonScores(
        genuine=genuine,
        impostor=impostor,
        genuine_subject=g_subj,
        impostor_subject=i_subj,
        impostor_reference_subject=ref.astype(np.int32),
        subjects=[f"synthetic-{k:04d}" for k in range(s)],
        orientation="similarity",
        inputs=[
            InputFile(
                path=f"<synthetic, seed {seed}>", sha256="", records=genuine.size + impostor.size
            )
        ],
    )
