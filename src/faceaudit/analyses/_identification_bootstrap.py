"""The 1:N audit's bootstrap: every rate's replicates from one set of draws.

The score sets every 1:N rate is counted on (:class:`_Sets`), their replicate counts over the
search design (:func:`faceaudit.stats.identification.search_design`: searchers, and, two-way,
the gallery subjects of the wrongly returned candidates), the re-chosen operating points of the
FPIR targets, and each rate's interval (:func:`faceaudit.stats.intervals.rate_interval`, degrees
of freedom from the same draws, :func:`faceaudit.stats.intervals.subject_dfs`).
"""

from __future__ import annotations

import numpy as np

from faceaudit.stats.identification import SearchOutcomes
from faceaudit.stats.intervals import rate_interval, subject_dfs
from faceaudit.stats.operating import rechosen_points
from faceaudit.stats.replicates import ReplicateCounts

#: "Any returned candidate": the threshold below every score.
ANY = -float(np.finfo(np.float64).max)


def _distinct(units: np.ndarray, n: int) -> int:
    return int(np.count_nonzero(np.bincount(units, minlength=n))) if units.size else 0


#: Which people a set's rates rest on (the caps of their degrees of freedom): 0 the non-mated
#: searches and their top candidates, 1 the mated searches, 2 those and their wrong rank-1s.
_PEOPLE_OF = {"nonmated": 0, "mates": 1, "mates1": 1, "ranks": 1, "wrong": 2}


def _people(design, outcomes) -> tuple[int, int, int]:
    return (
        design.people(outcomes.nonmated_unit, side="nonmated"),
        _distinct(outcomes.mated_unit, outcomes.n_units),
        design.people(outcomes.mated_unit, side="wrong"),
    )


class _Sets:
    """The outcomes as the score sets every 1:N rate is counted on."""

    def __init__(self, outcomes: SearchOutcomes, R: int) -> None:
        self.nonmated = outcomes.nonmated_scores()
        self.mates = outcomes.mate_scores(R)
        self.mates1 = outcomes.mate_scores(1)
        self.wrong = outcomes.wrong_top1_scores()
        self.ranks = outcomes.neg_mate_ranks()


def _bootstrap(sets, design, people, ts, targets, cmc_max, inv_ranks, bootstrap, confidence,
               seed):  # fmt: skip
    """``(fixed-threshold intervals by key, [(re-chosen point, its FNIR interval)])`` from one
    set of replicates (non-mated searches two-way when ``design`` is,
    :func:`~faceaudit.stats.identification.search_design`)."""
    res = design.resampler(bootstrap, seed)
    cap = [max(p - 1, 1) for p in people]
    refs = design.references[0]
    counters = {
        name: ReplicateCounts(getattr(sets, name), res, reference_units=refs.get(name))
        for name in ("nonmated", "mates", "mates1", "wrong", "ranks")
        if getattr(sets, name).n
    }

    def replicates(name, cuts, lt=False):
        """``(replicate rates, full-data counts, n)`` at ``cuts``; None without that set."""
        if name not in counters or len(cuts) == 0:
            return None
        c, s = counters[name], getattr(sets, name)
        counts = c.lt(cuts) if lt else c.ge(cuts)
        full = np.array([s.count_lt(t) if lt else s.count_ge(t) for t in cuts], dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return counts / c.total[:, None], full, s.n, cap[_PEOPLE_OF[name]]

    cuts = {
        "fpir": ("nonmated", ts + [ANY], False),
        "fnir": ("mates", ts, True),
        "fnir1": ("mates1", ts, True),
        "wrong": ("wrong", ts, False),
        "cmc": ("ranks", [-float(r) for r in range(1, cmc_max + 1)], False),
        "inv": ("ranks", [-float(r) for r in inv_ranks], True),
    }
    reps = {k: replicates(*v) for k, v in cuts.items()}
    rechosen, fn_counts = [], []
    if targets and "nonmated" in counters and "mates" in counters:
        rechosen = rechosen_points(
            counters["nonmated"], counters["mates"], sets.nonmated, sets.mates, targets
        )
        fn_counts = [sets.mates.count_lt(th) for _, th in targets]
    present = [k for k, v in reps.items() if v is not None]
    dfs = subject_dfs(res, [(reps[k][0], reps[k][1] / reps[k][2], reps[k][3]) for k in present]
                      + [(r.fn, c / sets.mates.n, cap[1])
                         for r, c in zip(rechosen, fn_counts, strict=True)])  # fmt: skip
    df_of = dict(zip(present, dfs, strict=False))
    ci = {
        k: np.full((len(cuts[k][1]), 2), np.nan)
        if v is None
        else rate_interval(
            v[0], v[1], v[2], confidence, df=df_of[k], iid_excess=design.iid_excess(0, cuts[k][0])
        ).T  # fmt: skip
        for k, v in reps.items()
    }
    with_ci = []
    for r, c, df in zip(rechosen, fn_counts, dfs[len(present) :], strict=True):  # re-chosen FNIR
        lo, hi = rate_interval(r.fn, c, sets.mates.n, confidence, df=df)
        with_ci.append((r, (float(lo), float(hi))))
    return ci, with_ci
