"""Open-set 1:N identification rates (NIST FRTE) on the 1:1 engine.

Each search is reduced once to a few numbers (:class:`SearchOutcomes`): for a **mated** search
(its subject is enrolled) the mate's rank and score and the rank-1 score when rank 1 is someone
else; for a **non-mated** search (subject not enrolled) its top score. These per-search arrays merge
by concatenation. Every rate is then a count on a :class:`~faceaudit.stats.ScoreSet`, so the exact
threshold engine of the 1:1 audit serves 1:N unchanged:

* ``FPIR(N, T)`` = non-mated searches whose top candidate scores ``>= T`` / non-mated searches
  = the "FMR" of the non-mated top scores;
* ``FNIR(N, R, T)`` = mated searches whose mate is not among the top ``R`` with score ``>= T`` /
  mated searches = the "FNMR" of the mate scores, a mate outside the top ``R`` (or absent) scoring
  ``-inf``;
* wrong-person-at-rank-1 rate ``(T)`` = mated searches whose rank-1 candidate is not the mate and
  scores ``>= T`` / mated searches (what a field app that shows its top candidate gets wrong);
* ``CMC(r)`` = mated searches with the mate at rank ``<= r`` / mated searches
  (``= 1 - FNIR(N, r, T = -inf)``: investigation mode, rank-based).

``N`` is the gallery size (enrolled subjects) of the searched gallery. Thresholds are in the
system's own score units (higher = more similar; a candidate counts when ``score >= T``). NIST's
"investigation mode" (T = 0) means "every returned candidate counts"; as scores here may be
negative, it is ``T = -inf``.

References
----------
P. Grother, M. Ngan, K. Hanaoka, *Face Recognition Vendor Test (FRVT) Part 2: Identification*,
NIST IR 8271 (2019-), section 3 (FPIR, FNIR, investigation and identification modes).
ISO/IEC 19795-1:2021, 3.21-3.22 (FPIR(N, R, T), FNIR(N, R, T)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from faceaudit.data import CandidateLists, ProbeTruth
from faceaudit.stats.bootstrap import Resampler
from faceaudit.stats.scoreset import ScoreSet

__all__ = [
    "PRODUCT_WEIGHT_EXCESS",
    "SearchDesign",
    "SearchOutcomes",
    "search_design",
    "search_outcomes",
    "fpir_count",
    "fnir_count",
    "wrong_top1_count",
    "cmc_counts",
    "ThresholdCurves",
    "threshold_curves",
]


@dataclass(frozen=True, eq=False)
class SearchOutcomes:
    """Per-search summary of a set of 1:N searches (all a metric needs).

    Attributes
    ----------
    gallery_size : int
        N, enrolled subjects.
    list_length : int
        L, the longest candidate list (ranks ``1..L`` are observable).
    mate_rank : ndarray of int64, shape (n_mated,)
        Rank of the mate in the list, 0 when absent.
    mate_score : ndarray of float64, shape (n_mated,)
        The mate's score, ``-inf`` when absent.
    wrong_top1_score : ndarray of float64, shape (n_mated,)
        The rank-1 score when rank 1 is not the mate, else ``-inf`` (also ``-inf`` for an
        empty list).
    nonmated_top : ndarray of float64, shape (n_nonmated,)
        Top (rank-1) score of each non-mated search, ``-inf`` for an empty list.
    mated_unit, nonmated_unit : ndarray of int64
        Bootstrap unit (subject code into ``units``) of each search.
    units : ndarray of str
        Unit names: the probe's subject, or the probe id for a non-mated search without one.
    mated_probes, nonmated_probes : ndarray of str
        Probe ids, for traceability.
    nonmated_top_subject : ndarray of str, optional
        The gallery subject of each non-mated search's top candidate (``""`` for an empty
        list): the second person of a false positive, resampled by :func:`search_design`.
    wrong_top1_subject : ndarray of str, optional
        The same for each mated search whose rank 1 is someone else (``""`` otherwise).
    """

    gallery_size: int
    list_length: int
    mate_rank: np.ndarray
    mate_score: np.ndarray
    wrong_top1_score: np.ndarray
    nonmated_top: np.ndarray
    mated_unit: np.ndarray
    nonmated_unit: np.ndarray
    units: np.ndarray
    mated_probes: np.ndarray
    nonmated_probes: np.ndarray
    nonmated_top_subject: np.ndarray | None = None
    wrong_top1_subject: np.ndarray | None = None

    @property
    def n_mated(self) -> int:
        return int(self.mate_rank.size)

    @property
    def n_nonmated(self) -> int:
        return int(self.nonmated_top.size)

    @property
    def n_units(self) -> int:
        return int(self.units.size)

    def rank_limit(self, rank: int | None) -> int:
        """The rank criterion R: ``rank`` clipped to ``[1, L]``; None means L."""
        L = max(self.list_length, 1)
        return L if rank is None else int(min(max(1, rank), L))

    # --- the score sets the engine works on -------------------------------------------------
    def nonmated_scores(self) -> ScoreSet:
        """Top score per non-mated search: FPIR(T) = count_ge(T) / n."""
        return ScoreSet(self.nonmated_top, units=self.nonmated_unit)

    def mate_scores(self, rank: int | None = None) -> ScoreSet:
        """Mate score per mated search, ``-inf`` if the mate is not within the top ``rank``:
        FNIR(R, T) = count_lt(T) / n."""
        R = self.rank_limit(rank)
        s = np.where((self.mate_rank >= 1) & (self.mate_rank <= R), self.mate_score, -np.inf)
        return ScoreSet(s, units=self.mated_unit)

    def wrong_top1_scores(self) -> ScoreSet:
        """Rank-1 non-mate score per mated search: wrong-top1 rate(T) = count_ge(T) / n."""
        return ScoreSet(self.wrong_top1_score, units=self.mated_unit)

    def neg_mate_ranks(self) -> ScoreSet:
        """``-rank`` of the mate (``-inf`` if absent): CMC(r) = count_ge(-r) / n."""
        r = np.where(self.mate_rank >= 1, -self.mate_rank.astype(np.float64), -np.inf)
        return ScoreSet(r, units=self.mated_unit)

    def merge(self, other: SearchOutcomes) -> SearchOutcomes:
        """Outcomes of two disjoint sets of searches of one gallery (concatenation)."""
        if other.gallery_size != self.gallery_size:
            raise ValueError("outcomes of different gallery sizes do not merge")
        units, inv = np.unique(np.concatenate([self.units, other.units]), return_inverse=True)
        a, b = inv[: self.units.size], inv[self.units.size :]

        def cat(name):
            x, y = getattr(self, name), getattr(other, name)
            return None if x is None or y is None else np.concatenate([x, y])

        return SearchOutcomes(
            self.gallery_size,
            max(self.list_length, other.list_length),
            np.concatenate([self.mate_rank, other.mate_rank]),
            np.concatenate([self.mate_score, other.mate_score]),
            np.concatenate([self.wrong_top1_score, other.wrong_top1_score]),
            np.concatenate([self.nonmated_top, other.nonmated_top]),
            np.concatenate([a[self.mated_unit], b[other.mated_unit]]),
            np.concatenate([a[self.nonmated_unit], b[other.nonmated_unit]]),
            units,
            np.concatenate([self.mated_probes, other.mated_probes]),
            np.concatenate([self.nonmated_probes, other.nonmated_probes]),
            cat("nonmated_top_subject"),
            cat("wrong_top1_subject"),
        )


def search_outcomes(
    lists: CandidateLists,
    truth: ProbeTruth,
    *,
    gallery_size: int,
    gallery_subjects: np.ndarray | None = None,
) -> SearchOutcomes:
    """Reduce candidate lists (rows aligned with ``truth.probes``) to :class:`SearchOutcomes`.

    A search is mated when its truth subject is non-empty and, if ``gallery_subjects`` is given,
    enrolled; otherwise it is non-mated.
    """
    if lists.n != truth.probes.size:
        raise ValueError("lists and truth must have one row per probe, in the same order")
    subj = np.asarray(truth.subjects).astype(str)
    has_subject = np.char.str_len(subj) > 0
    if gallery_subjects is not None:
        mated = has_subject & np.isin(subj, np.asarray(gallery_subjects).astype(str))
    else:
        mated = has_subject
    # bootstrap units: the person if named, else the subject, else the probe itself
    who = subj
    if truth.persons is not None:
        persons = np.asarray(truth.persons).astype(str)
        who = np.where(np.char.str_len(persons) > 0, persons, subj)
    named = np.char.str_len(who) > 0
    unit_name = np.where(named, np.char.add("s:", who), np.char.add("p:", truth.probes))
    units, unit_code = np.unique(unit_name, return_inverse=True)
    units = np.array([u[2:] for u in units.tolist()], dtype=str)

    cand = lists.candidates
    scores = lists.scores
    L = lists.list_length
    # the probe subject's code in the candidate table (-2: never a candidate), compared as ints
    mi = np.nonzero(mated)[0]
    table = lists.subjects.astype(str, copy=False)
    mate_code = np.full(mi.size, -2, dtype=np.int64)
    if table.size:
        if table.size == 1 or bool(np.all(table[1:] > table[:-1])):
            order, ordered = None, table  # already sorted (a searched gallery's subjects are)
        else:
            order = np.argsort(table, kind="stable")
            ordered = table[order]
        pos = np.clip(np.searchsorted(ordered, subj[mi]), 0, table.size - 1)
        hit = ordered[pos] == subj[mi]
        mate_code[hit] = pos[hit] if order is None else order[pos[hit]]
    is_mate = cand[mi] == mate_code[:, None] if L else np.zeros((mi.size, 0), dtype=bool)
    found = is_mate.any(axis=1)
    pos = np.argmax(is_mate, axis=1) if L else np.zeros(mi.size, dtype=np.int64)
    mate_rank = np.where(found, pos + 1, 0).astype(np.int64)
    mate_score = np.where(found, scores[mi, pos] if L else -np.inf, -np.inf).astype(np.float64)
    no_subject = np.full(mi.size, "", dtype=table.dtype if table.size else str)
    wrong_subject = no_subject.copy()
    if L:
        top = scores[mi, 0].astype(np.float64)
        top_is_mate = is_mate[:, 0]
        is_wrong = ~top_is_mate & (cand[mi, 0] >= 0)
        wrong = np.where(is_wrong, top, -np.inf)
        if table.size:
            wrong_subject[is_wrong] = table[cand[mi, 0][is_wrong]]
    else:
        wrong = np.full(mi.size, -np.inf)
    ni = np.nonzero(~mated)[0]
    nonmated_top = (
        np.where(cand[ni, 0] >= 0, scores[ni, 0], -np.inf).astype(np.float64)
        if L
        else np.full(ni.size, -np.inf)
    )
    top_subject = np.full(ni.size, "", dtype=table.dtype if table.size else str)
    if L and table.size:
        has = cand[ni, 0] >= 0
        top_subject[has] = table[cand[ni, 0][has]]
    return SearchOutcomes(
        gallery_size=int(gallery_size),
        list_length=int(L),
        mate_rank=mate_rank,
        mate_score=mate_score,
        wrong_top1_score=wrong.astype(np.float64),
        nonmated_top=nonmated_top,
        mated_unit=unit_code[mi].astype(np.int64),
        nonmated_unit=unit_code[ni].astype(np.int64),
        units=units,
        mated_probes=np.asarray(truth.probes)[mi].astype(str),
        nonmated_probes=np.asarray(truth.probes)[ni].astype(str),
        nonmated_top_subject=top_subject,
        wrong_top1_subject=wrong_subject,
    )


#: The product weights' own excess variance, in multiples of ``p (1 - p) / n``, when each search
#: is one (searcher, gallery subject) cell: a product of two independent Poisson(1)-like
#: multiplicities has variance 3, the binomial noise counted three times instead of once (Owen
#: 2007); :func:`faceaudit.stats.intervals.rate_interval` subtracts it (``iid_excess``).
PRODUCT_WEIGHT_EXCESS = 2.0


@dataclass(frozen=True, eq=False)
class SearchDesign:
    """The 1:N bootstrap's resampling units (:func:`search_design`).

    Units ``0 .. n_search_units - 1`` are the searches' units (``SearchOutcomes.units``); then
    come the gallery subjects who are some search's wrong top candidate and never searched
    (stratum 1), and, when some such search has no candidate, one unit of multiplicity 1 in
    every replicate (stratum 2: a search without a candidate has no gallery subject to resample).

    Attributes
    ----------
    n_units : int
    n_search_units : int
    strata : int array or None
        None: one-way (the searches' units only, no gallery subjects known).
    references : tuple of dict
        Per outcomes, ``{"nonmated": ..., "wrong": ...}``: the unit of the top candidate's gallery
        subject of each non-mated search, and of each mated search's wrong rank-1 candidate.
    """

    n_units: int
    n_search_units: int
    strata: np.ndarray | None
    references: tuple

    @property
    def two_way(self) -> bool:
        return self.strata is not None

    @property
    def n_gallery_units(self) -> int:
        """Gallery subjects resampled who never searched."""
        return 0 if self.strata is None else int(np.count_nonzero(self.strata == 1))

    def iid_excess(self, k: int = 0, side: str = "nonmated") -> float:
        """:data:`PRODUCT_WEIGHT_EXCESS` for a two-way side (``"nonmated"``, ``"wrong"``) of
        outcomes ``k``, else 0 (one-way: nothing to subtract)."""
        two_way = self.strata is not None and self.references[k].get(side) is not None
        return PRODUCT_WEIGHT_EXCESS if two_way else 0.0

    def resampler(self, n_boot: int, seed: int) -> Resampler:
        """Search units and gallery subjects drawn separately (each population keeps its size)."""
        if self.strata is None:
            return Resampler(self.n_units, n_boot, seed)
        return Resampler.stratified(self.strata, n_boot, seed)

    def people(self, units: np.ndarray, k: int = 0, side: str = "nonmated") -> int:
        """Distinct people under a rate: the searches' ``units`` and their candidates'."""
        refs = self.references[k].get(side) if self.strata is not None else None
        parts = [np.asarray(units, dtype=np.int64)]
        if refs is not None:
            parts.append(refs[self.strata[refs] < 2])
        return int(np.unique(np.concatenate(parts)).size)


def search_design(outcomes: Sequence[SearchOutcomes]) -> SearchDesign:
    """Resampling units for one or several systems' searches of the same probes.

    A false positive involves two people: the searched one and the gallery subject the top
    candidate belongs to. A replicate weights each non-mated search (and each mated search's
    rank-1 candidate when it is someone else) by the product of both people's multiplicities
    (two-way, as the 1:1 non-mated comparisons, :mod:`faceaudit.stats.pairs`), so a gallery
    subject who attracts many searches (a "wolf", a look-alike of many) moves FPIR between
    replicates as it moves between galleries. An enrolled subject who also searched is one unit
    in both roles. Mate scores (FNIR, CMC) stay one-way. Without the candidates' subjects the
    design is one-way. Several outcomes (systems) share one table of gallery units, so their
    replicates stay paired.
    """
    o0 = outcomes[0]
    U = int(o0.n_units)
    sides = [(o.nonmated_top_subject, o.wrong_top1_subject) for o in outcomes]
    known = [x for pair in sides for x in pair]
    if U == 0 or any(x is None for x in known) or not any(x.size for x in known):
        return SearchDesign(U, U, None, tuple({} for _ in outcomes))
    names = np.unique(np.concatenate(known).astype(str))
    enrolled = np.unique(o0.mated_unit)
    e_names = o0.units[enrolled]  # sorted: units are, and so are their codes
    pos = np.clip(np.searchsorted(e_names, names), 0, max(e_names.size - 1, 0))
    hit = (e_names[pos] == names) if e_names.size else np.zeros(names.size, dtype=bool)
    hit &= names != ""
    new = ~hit & (names != "")
    codes = np.empty(names.size, dtype=np.int64)
    codes[hit] = enrolled[pos[hit]]
    codes[new] = U + np.arange(int(new.sum()))
    n = U + int(new.sum())
    fixed = int((names == "").any())
    codes[names == ""] = n
    strata = np.concatenate([np.zeros(U), np.ones(n - U), np.full(fixed, 2)]).astype(np.int64)

    def code(x):
        return codes[np.searchsorted(names, x.astype(str))]

    refs = tuple({"nonmated": code(a), "wrong": code(b)} for a, b in sides)
    return SearchDesign(n + fixed, U, strata, refs)


def fpir_count(outcomes: SearchOutcomes, threshold: float) -> int:
    """Non-mated searches with a candidate scoring ``>= threshold`` (FPIR numerator)."""
    return int(np.count_nonzero(outcomes.nonmated_top >= threshold))


def fnir_count(outcomes: SearchOutcomes, threshold: float, rank: int | None = None) -> int:
    """Mated searches whose mate is not within the top ``rank`` at ``>= threshold``."""
    R = outcomes.rank_limit(rank)
    hit = (outcomes.mate_rank >= 1) & (outcomes.mate_rank <= R)
    hit &= outcomes.mate_score >= threshold
    return int(outcomes.n_mated - np.count_nonzero(hit))


def wrong_top1_count(outcomes: SearchOutcomes, threshold: float) -> int:
    """Mated searches whose rank-1 candidate is someone else, scoring ``>= threshold``."""
    return int(np.count_nonzero(outcomes.wrong_top1_score >= threshold))


def cmc_counts(outcomes: SearchOutcomes, max_rank: int | None = None) -> np.ndarray:
    """Mated searches with the mate at rank ``<= r`` for ``r = 1..max_rank`` (default L)."""
    R = outcomes.rank_limit(max_rank)
    hist = np.bincount(outcomes.mate_rank[outcomes.mate_rank >= 1], minlength=R + 1)[1 : R + 1]
    return np.cumsum(hist)


@dataclass(frozen=True)
class ThresholdCurves:
    """FPIR, FNIR(R) and wrong-top1 rate at increasing thresholds (exact point estimates)."""

    threshold: np.ndarray
    fpir: np.ndarray
    fnir: np.ndarray
    wrong_top1: np.ndarray
    rank: int

    def to_json(self) -> dict:
        def fl(a):
            return [float(v) for v in a]

        return {
            "rank": self.rank,
            "threshold": fl(self.threshold),
            "fpir": fl(self.fpir),
            "fnir": fl(self.fnir),
            "wrong_top1": fl(self.wrong_top1),
        }


def threshold_curves(
    outcomes: SearchOutcomes, *, rank: int | None = None, max_points: int = 1000
) -> ThresholdCurves:
    """Rates at every distinct finite observed score, thinned to ``max_points`` (ends kept).

    Thinning spreads half the points evenly along the curve in (log FPIR, log FNIR), so both
    the low-FPIR end and the low-FNIR end keep their detail, and half evenly in threshold order.
    """
    R = outcomes.rank_limit(rank)
    nm = np.sort(outcomes.nonmated_top)
    ms = np.sort(outcomes.mate_scores(R).scores)
    wt = np.sort(outcomes.wrong_top1_score)
    t = np.unique(np.concatenate([nm, ms, wt]))
    t = t[np.isfinite(t)]
    if t.size == 0:
        e = np.empty(0)
        return ThresholdCurves(e, e, e, e, R)
    n_nm, n_m = max(nm.size, 1), max(ms.size, 1)
    fpir = (nm.size - np.searchsorted(nm, t, side="left")) / n_nm
    fnir = np.searchsorted(ms, t, side="left") / n_m
    wrong = (wt.size - np.searchsorted(wt, t, side="left")) / n_m
    if t.size > max_points:
        eps = 1e-9
        step = np.abs(np.diff(np.log10(fpir + eps))) + np.abs(np.diff(np.log10(fnir + eps)))
        # half the points evenly along the curve in log space, half evenly in threshold order
        arc = np.concatenate([[0.0], np.cumsum(step)])
        pos = 0.5 * arc / max(arc[-1], 1e-300) + 0.5 * np.arange(t.size) / (t.size - 1)
        want = np.linspace(0.0, 1.0, max_points)
        idx = np.unique(np.searchsorted(pos, want).clip(0, t.size - 1))
        idx = np.unique(np.concatenate([[0, t.size - 1], idx]))
        if idx.size > max_points:
            keep = np.linspace(0, idx.size - 1, max_points).round().astype(int)
            idx = idx[np.unique(keep)]
        t, fpir, fnir, wrong = t[idx], fpir[idx], fnir[idx], wrong[idx]
    return ThresholdCurves(t, fpir, fnir, wrong, R)
