"""The counting engine of the capture analysis: per-subject tables of one condition at one
threshold, the subject replicates over them, and the threshold fixed on the reference condition.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from faceaudit import params
from faceaudit.analyses._capture_types import ProbeObservations, References
from faceaudit.errors import InputError
from faceaudit.stats.rates import operating_threshold
from faceaudit.stats.scoreset import ScoreSet
from faceaudit.stats.support import min_comparisons

# ---------------------------------------------------------------------------------------------
# The one bootstrap of this analysis (switch it here)
# ---------------------------------------------------------------------------------------------


def _subject_replicates(n_subjects: int, replicates: int, seed: int) -> Iterator[np.ndarray]:
    """``(b, n_subjects)`` subject multiplicities, ``replicates`` rows in all, seeded.

    The one call of this analysis (and of its quality part) into the bootstrap engine: every
    rate, ratio, EDC and gate interval is a weighted sum over these rows, so a new engine is
    wired in here alone. The same seed gives the same replicates to every caller.
    """
    from faceaudit.stats.bootstrap import Resampler

    return Resampler(n_units=n_subjects, n_boot=replicates, seed=seed).weight_batches()


def _interval(reps: np.ndarray, confidence: float) -> tuple[float, float] | None:
    """Percentile interval of the finite replicates (None if there is none)."""
    v = reps[np.isfinite(reps)]
    if v.size == 0:
        return None
    a = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(v, [a, 1.0 - a])
    return float(lo), float(hi)


def _rate_interval(
    reps: np.ndarray, count: int, n: int, confidence: float, people: int, n_subjects: int,
    seed: int,
) -> tuple[float, float] | None:  # fmt: skip
    """A rate's interval (:func:`faceaudit.stats.intervals.rate_interval`) from the finite
    replicates, the degrees of freedom of their variance from the same (re-drawn) weights."""
    from faceaudit.stats.intervals import influence_df, rate_interval

    v = reps[np.isfinite(reps)]
    if v.size == 0:
        return None
    weights = _subject_replicates(n_subjects, reps.size, seed)
    df = min(float(influence_df(weights, reps, count / n)[0]), max(people - 1, 1))
    lo, hi = rate_interval(v, count, n, confidence, df=df)
    return float(lo), float(hi)


# ---------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------


@dataclass
class _Counts:
    """Per-subject counts of one condition; ``fmr_pairs`` is two-way (pairs of subjects)."""

    tables: dict[str, tuple[np.ndarray, np.ndarray]]  # rate -> (n per subject, errors per subject)
    fmr_a: np.ndarray  # acquired probes per subject
    fmr_pairs: tuple[np.ndarray, np.ndarray, np.ndarray]  # (probe subj, ref subj, false matches)
    fmr_n: int
    fmr_errors: int
    reasons: dict[str, int]
    n_photos: int
    n_subjects: int


class _Scored:
    """The scores of one condition's acquired probes against the references."""

    def __init__(self, probes: ProbeObservations, refs: References, rows: np.ndarray, n_subj):
        self.rows = rows
        emb = probes.embeddings[rows].astype(np.float64)
        self.S = emb @ refs.embeddings.astype(np.float64).T  # (k, n_ref)
        self.subj = probes.subject[rows]
        ref_of = np.full(n_subj, -1, dtype=np.int64)
        ref_of[refs.subject] = np.arange(refs.n)
        self.own = ref_of[self.subj]
        self.has_ref = self.own >= 0
        k = rows.size
        self.mated = self.S[np.flatnonzero(self.has_ref), self.own[self.has_ref]]
        self.mated_rows = np.flatnonzero(self.has_ref)
        self.nonmated_mask = refs.subject[None, :] != self.subj[:, None]
        gallery = np.flatnonzero(refs.enrolled)
        self.gallery = gallery
        in_gallery = np.zeros(refs.n, dtype=bool)
        in_gallery[gallery] = True
        self.enrolled_probe = self.has_ref & in_gallery[np.where(self.has_ref, self.own, 0)]
        Sg = self.S[:, gallery] if gallery.size else np.zeros((k, 0))
        mi = np.flatnonzero(self.enrolled_probe)
        mate = self.S[mi, self.own[mi]]
        self.mate_rank = 1 + (Sg[mi] > mate[:, None]).sum(axis=1) if mi.size else np.zeros(0)
        self.mate_score = mate
        self.mated_search_rows = mi
        ni = np.flatnonzero(~self.enrolled_probe)
        self.nonmated_search_rows = ni
        self.nonmated_top = (
            Sg[ni].max(axis=1) if gallery.size and ni.size else np.full(ni.size, -np.inf)
        )

    def mate_scores_at_rank(self, rank: int) -> np.ndarray:
        return np.where(self.mate_rank <= rank, self.mate_score, -np.inf)


def _count(
    probes: ProbeObservations,
    refs: References,
    scored: _Scored,
    sel: np.ndarray,
    t: float,
    rank: int,
    n_subj: int,
) -> _Counts:
    def per(subj, err=None):
        n = np.bincount(subj, minlength=n_subj).astype(np.float64)
        e = (
            np.zeros(n_subj)
            if err is None
            else np.bincount(subj, weights=err.astype(np.float64), minlength=n_subj)
        )
        return n, e

    acquired = probes.acquired[sel]
    subj_all = probes.subject[sel]
    failed_subj = subj_all[~acquired]
    tables: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    tables["fta"] = per(subj_all, ~acquired)
    ms = scored.subj[scored.mated_rows]
    tables["fnmr"] = per(ms, scored.mated < t)
    ref_subjects = np.zeros(n_subj, dtype=bool)
    ref_subjects[refs.subject] = True
    enrolled_subjects = np.zeros(n_subj, dtype=bool)
    enrolled_subjects[refs.subject[refs.enrolled]] = True
    fm = failed_subj[ref_subjects[failed_subj]]
    n, e = tables["fnmr"]
    fn_f = np.bincount(fm, minlength=n_subj).astype(np.float64)
    tables["generalized_fnmr"] = (n + fn_f, e + fn_f)
    mi = scored.mated_search_rows
    ss = scored.subj[mi]
    tables["fnir"] = per(ss, scored.mate_scores_at_rank(rank) < t)
    fe = failed_subj[enrolled_subjects[failed_subj]]
    n, e = tables["fnir"]
    fn_e = np.bincount(fe, minlength=n_subj).astype(np.float64)
    tables["generalized_fnir"] = (n + fn_e, e + fn_e)
    ni = scored.nonmated_search_rows
    tables["fpir"] = per(scored.subj[ni], scored.nonmated_top >= t)
    # 1:1 non-mated, two-way: n_pr = a_p * b_r (p != r); false matches as sparse pairs
    a = np.bincount(scored.subj, minlength=n_subj).astype(np.float64)
    b = np.bincount(refs.subject, minlength=n_subj).astype(np.float64)
    hit = (scored.S >= t) & scored.nonmated_mask
    kk, jj = np.nonzero(hit)
    pair = scored.subj[kk].astype(np.int64) * n_subj + refs.subject[jj].astype(np.int64)
    uniq, cnt = np.unique(pair, return_counts=True)
    fmr_n = int(a.sum() * b.sum() - (a * b).sum())
    reasons: dict[str, int] = {}
    for r in probes.reason[sel][~acquired]:
        reasons[str(r)] = reasons.get(str(r), 0) + 1
    reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    return _Counts(
        tables,
        a,
        (uniq // n_subj, uniq % n_subj, cnt.astype(np.float64)),
        fmr_n,
        int(kk.size),
        reasons,
        int(sel.size),
        int(np.unique(subj_all).size),
    )


def _replicate_rates(counts: _Counts, w: np.ndarray, b_ref: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, (n, e) in counts.tables.items():
            out[k] = (w @ e) / (w @ n)
        p, r, c = counts.fmr_pairs
        num = (w[:, p] * w[:, r]) @ c if c.size else np.zeros(w.shape[0])
        a = counts.fmr_a
        den = (w @ a) * (w @ b_ref) - (w * w) @ (a * b_ref)
        out["fmr"] = num / den
    return out


# ---------------------------------------------------------------------------------------------
# Threshold
# ---------------------------------------------------------------------------------------------


def _fix_threshold(
    scored: _Scored, rank: int, fmr_target, fpir_target, threshold, ref_name, confidence
):
    given = [x is not None for x in (fmr_target, fpir_target, threshold)]
    if sum(given) != 1:
        raise InputError(
            "fix the threshold one way: an FMR target, an FPIR target or a threshold value "
            f"(got {sum(given)})."
        )
    if threshold is not None:
        t = params.finite_number("threshold", threshold)
        return t, {"rule": "value", "target": None}
    if fmr_target is not None:
        target = params.rate_targets("fmr_targets", [fmr_target])[0]
        neg = scored.S[scored.nonmated_mask]
        pos = scored.mated
        name, what, param = "FMR", "non-mated comparisons", "fmr_targets"
    else:
        target = params.rate_targets("fpir_targets", [fpir_target])[0]
        neg = scored.nonmated_top
        pos = scored.mate_scores_at_rank(rank)
        name, what, param = "FPIR", "non-mated searches", "fpir_targets"
    need = min_comparisons(target, confidence)
    if neg.size < need:
        raise params.ParameterError(
            param,
            target,
            f"the reference condition {ref_name!r} has {neg.size:,} {what}, too few to fix a "
            f"threshold at {name} {target:g} (a zero count's bound reaches it from {need:,}); "
            "use a larger target or give the threshold.",
        )
    op = operating_threshold(ScoreSet(neg), ScoreSet(pos), target)
    return float(op.threshold), {"rule": f"{name.lower()}_target", "target": target}
