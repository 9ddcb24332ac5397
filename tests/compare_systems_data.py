"""Synthetic correlated systems on the same people, for the ``compare`` tests and benchmark.

Each subject has ``samples`` probe images and one reference; mated comparisons: every probe
against its own reference; non-mated comparisons: every probe against ``nonmated`` other
subjects' references. A comparison's score in system ``j`` is

    mated:     mu + shift_j + u_subject + c + e_j
    non-mated:             v_pair     + c + e_j

with ``u`` a per-subject effect (people who are hard to match), ``c`` a per-comparison noise
shared by all systems (the comparison is hard for every system: what pairing exploits) and
``e_j`` the system's own noise. Marginally a mated score is ``N(mu + shift_j, su² + sc² + se²)``.
"""

from __future__ import annotations

import numpy as np

from faceaudit.data.paired_scores import Coverage, PairedScores, SystemCoverage

SU, SC, SE = 0.5, 0.7, 0.35  # subject effect, shared comparison noise, own noise (sd)
MU = 3.0


def comparisons(n_subjects: int, samples: int = 4, nonmated: int = 20, seed: int = 0):
    """``(mated, probe_subject, reference_subject, probe_sample)`` of the design."""
    rng = np.random.default_rng(seed)
    ps, rs, mated, probe = [], [], [], []
    for s in range(n_subjects):
        for k in range(samples):
            others = rng.choice(np.delete(np.arange(n_subjects), s), min(nonmated, n_subjects - 1),
                                replace=False)  # fmt: skip
            ps += [s] * (1 + others.size)
            rs += [s, *others.tolist()]
            mated += [True] + [False] * others.size
            probe += [s * samples + k] * (1 + others.size)
    return (np.array(mated), np.array(ps, np.int32), np.array(rs, np.int32),
            np.array(probe, np.int64))  # fmt: skip


def scores(mated, ps, shifts, seed: int = 0):
    """One score array per system (``shifts``: the mated mean shift of each system)."""
    rng = np.random.default_rng(seed + 1000)
    n_subj = int(ps.max()) + 1
    u = rng.normal(0, SU, n_subj)[ps]
    c = rng.normal(0, SC, mated.size)
    base = np.where(mated, MU + u, rng.normal(0, SU, mated.size)) + c
    return [base + np.where(mated, d, 0.0) + rng.normal(0, SE, mated.size) for d in shifts]


def paired(n_subjects=40, shifts=(0.0, 0.0), seed=0, names=None, **kw) -> PairedScores:
    """A :class:`PairedScores` of ``len(shifts)`` correlated systems."""
    mated, ps, rs, _ = comparisons(n_subjects, seed=seed, **kw)
    arrays = scores(mated, ps, shifts, seed)
    names = tuple(names or (chr(65 + i) for i in range(len(shifts))))
    n = int(mated.size)
    cov = Coverage("row order", n, int(mated.sum()), int((~mated).sum()),
                   tuple(SystemCoverage(x, n, 0) for x in names))  # fmt: skip
    return PairedScores(names, tuple(arrays), mated, ps, rs,
                        [f"s{i:03d}" for i in range(n_subjects)], "similarity", cov)  # fmt: skip


def write_csv(path, data: PairedScores, i: int, *, ids: bool = True, order=None) -> None:
    """System ``i`` of ``data`` as a score table (optionally rows in another order)."""
    import pandas as pd

    n = data.n
    probe = np.repeat(np.arange(n), 1)  # one row per comparison: ids are the row's own
    frame = {
        "score": data.scores[i],
        "mated": data.mated.astype(int),
        "probe_subject": [data.subjects[c] for c in data.probe_subject],
        "reference_subject": [data.subjects[c] for c in data.reference_subject],
    }
    if ids:
        frame = {"probe": [f"p{k}" for k in probe], "reference": [f"r{k % 7}" for k in probe],
                 **frame}  # fmt: skip
    df = pd.DataFrame(frame)
    if order is not None:
        df = df.iloc[order]
    df.to_csv(path, index=False)
