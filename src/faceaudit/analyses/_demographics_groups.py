"""Per-group rates of the demographic analysis: one counting pass, the bootstrap, the rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from faceaudit.analyses._demographics_summary import _rate, _ratios, _supported
from faceaudit.analyses._demographics_types import CrossCell, GroupRates
from faceaudit.analyses._demographics_vocabulary import _Vocabulary
from faceaudit.data import SubjectGroups
from faceaudit.stats.bootstrap import Resampler
from faceaudit.stats.groups import group_counts
from faceaudit.stats.identification import PRODUCT_WEIGHT_EXCESS
from faceaudit.stats.intervals import design_variance, influence_df
from faceaudit.stats.pairs import IntervalTables, replicate_grouped
from faceaudit.stats.scoreset import ScoreSet


@dataclass(frozen=True, eq=False)
class _Counted:
    """One pass at the threshold: totals by group and the bootstrap replicates of the rates."""

    neg_tot: np.ndarray  # (G, R, 2) [comparisons, errors] by probe group (x reference group)
    pos_tot: np.ndarray  # (G, 2)
    by_reference: bool
    active_units: int
    fp_subjects: np.ndarray  # (G,) subjects under each group's negatives (either side)
    fn_subjects: np.ndarray  # (G,) subjects under each group's positives
    fp_reps: np.ndarray | None  # (B, G) within-group false-positive rates
    fn_reps: np.ndarray | None  # (B, G)
    cross_reps: np.ndarray | None  # (B, G, G)
    fp_df: np.ndarray | None = None  # (G,) degrees of freedom of each rate's variance
    fn_df: np.ndarray | None = None  # (G,)
    cross_df: np.ndarray | None = None  # (G, G)
    #: 1:N: each non-mated search's replicate weight is its probe's times its top candidate's
    #: gallery subject's multiplicity (their excess: :data:`~faceaudit.stats.identification.
    #: PRODUCT_WEIGHT_EXCESS`)
    fp_two_way_searches: bool = False

    @property
    def within(self) -> np.ndarray:
        """``(G, 2)``: the within-group negatives (probe and reference in the group)."""
        if not self.by_reference:
            return self.neg_tot[:, 0]
        diag = np.arange(self.neg_tot.shape[0])
        return self.neg_tot[diag, diag]

    @property
    def overall(self) -> tuple[np.ndarray, np.ndarray, float | None, float | None]:
        """``(total negatives [n, errors], total positives, overall fp rate, overall fn rate)``."""
        neg, pos = self.neg_tot.sum(axis=(0, 1)), self.pos_tot.sum(axis=0)
        fp = float(neg[1] / neg[0]) if neg[0] else None
        fn = float(pos[1] / pos[0]) if pos[0] else None
        return neg, pos, fp, fn


def _seen(codes: np.ndarray, n: int) -> np.ndarray:
    """Which of ``n`` unit codes occur (chunked)."""
    seen = np.zeros(n, dtype=bool)
    for s in range(0, len(codes), 1 << 22):
        seen[np.asarray(codes[s : s + (1 << 22)], dtype=np.int64)] = True
    return seen


def _count_and_resample(
    negatives: ScoreSet,
    positives: ScoreSet,
    t: float,
    group_of_unit: np.ndarray,
    n_groups: int,
    negative_reference_units: np.ndarray | None,
    bootstrap: int,
    seed: int,
    resampler: Resampler | None = None,
    search_references: tuple[np.ndarray, np.ndarray] | None = None,
) -> _Counted:
    """Per-subject counts at ``t`` (one pass), their group totals and the stratified bootstrap.

    ``resampler``: the draws to use instead of these counts' own stratified design (a paired
    comparison of systems passes one design shared by every system: the same people in every
    replicate); it must cover the same units.

    1:1 (reference subjects known): the negatives' replicates are **two-way**, each non-mated
    comparison weighted by the product of its probe's and its reference's multiplicities
    (:func:`faceaudit.stats.pairs.replicate_grouped`), so the within-group and cross-group FMR
    intervals resample both people of a comparison. Positives go with their one subject.

    1:N with ``search_references`` = ``(unit of each non-mated search's top candidate's gallery
    subject, strata of the design's units)`` (:func:`faceaudit.stats.identification.
    search_design`): each non-mated search weighs its probe's times that gallery subject's
    multiplicity, summed over the gallery subjects' groups, so a probe group's FPIR resamples the
    gallery people its false positives land on; searchers are drawn within their group, gallery-
    only subjects in a stratum of their own. Without them 1:N searches are one-way.
    """
    counts = group_counts(
        negatives,
        positives,
        t,
        group_of_unit,
        n_groups,
        negative_reference_units=negative_reference_units,
    )
    neg_tot, pos_tot = counts.totals()
    by_ref = counts.by_reference
    S, G = counts.n_units, n_groups
    g = counts.group_of_unit
    neg_seen = counts.negatives[..., 0].sum(axis=1) > 0
    if by_ref:
        neg_seen |= _seen(negative_reference_units, S)
    fp_subjects = np.bincount(g[neg_seen], minlength=G)
    fn_subjects = np.bincount(g[counts.positives[:, 0] > 0], minlength=G)
    fp_reps = fn_reps = cross_reps = None
    if bootstrap > 0 and search_references is not None:
        totals = (neg_tot, pos_tot, fp_subjects, fn_subjects)
        return _searches_two_way(counts, negatives, t, search_references, bootstrap, seed,
                                 totals, resampler)  # fmt: skip
    if bootstrap > 0:
        pairs = None
        if by_ref:
            pairs = IntervalTables(negatives, np.array([float(t)]), np.array([0, 1]), S,
                                   reference_units=negative_reference_units,
                                   approx_counts=np.array([negatives.n, 0.0]))  # fmt: skip
        fps, fns, crs = [], [], []
        diag = np.arange(G)
        res = counts.resampler(bootstrap, seed) if resampler is None else resampler
        if res.n_units != S:
            raise ValueError("the shared resampler does not cover these counts' units")
        for w in res.weight_batches():
            nb, pb = counts.replicate_totals(w)
            with np.errstate(invalid="ignore", divide="ignore"):
                if by_ref:
                    q = replicate_grouped(pairs, w, g, G)  # (b, 2 slots, G, G)
                    n_b, e_b = q.sum(axis=1), q[:, 1]
                    crs.append(e_b / n_b)
                    fps.append(e_b[:, diag, diag] / n_b[:, diag, diag])
                else:
                    fps.append(nb[:, :, 0, 1] / nb[:, :, 0, 0])
                fns.append(pb[..., 1] / pb[..., 0])
        fp_reps, fn_reps = np.concatenate(fps), np.concatenate(fns)
        cross_reps = np.concatenate(crs) if by_ref else None
    c = _Counted(
        neg_tot, pos_tot, by_ref, int(counts.active_units().sum()), fp_subjects, fn_subjects,
        fp_reps, fn_reps, cross_reps,
    )  # fmt: skip
    return c if bootstrap <= 0 else _with_df(c, counts.resampler(bootstrap, seed))


def _searches_two_way(counts, negatives, t, search_references, bootstrap, seed, totals,
                      resampler=None):  # fmt: skip
    """1:N per-group replicates with non-mated searches two-way (:func:`_count_and_resample`);
    ``resampler``: a design shared by systems, over the same units."""
    refs, design_strata = search_references
    neg_tot, pos_tot, fp_subjects, fn_subjects = totals
    S, G, g = counts.n_units, counts.n_groups, counts.group_of_unit
    extra = np.where(np.asarray(design_strata[S:]) == 1, G, G + 1)  # gallery-only; fixed unit
    strata = np.concatenate([counts.strata(), extra])
    g_ext = np.concatenate([g, extra])
    U = strata.size
    res = Resampler.stratified(strata, bootstrap, seed) if resampler is None else resampler
    if res.n_units != U:
        raise ValueError("the shared resampler does not cover the 1:N design's units")
    pairs = IntervalTables(
        negatives, np.array([float(t)]), np.array([0, 1]), U, reference_units=refs,
        approx_counts=np.array([negatives.n, 0.0]),
    )  # fmt: skip
    fps, fns = [], []
    for w in res.weight_batches():
        _, pb = counts.replicate_totals(w[:, :S])
        q = replicate_grouped(pairs, w, g_ext, G + 2)  # (b, 2 slots, probe group, ref group)
        with np.errstate(invalid="ignore", divide="ignore"):
            fps.append(q[:, 1, :G].sum(axis=-1) / q[:, :, :G].sum(axis=(1, -1)))
            fns.append(pb[..., 1] / pb[..., 0])
    c = _Counted(
        neg_tot, pos_tot, False, int(counts.active_units().sum()), fp_subjects, fn_subjects,
        np.concatenate(fps), np.concatenate(fns), None, fp_two_way_searches=True,
    )  # fmt: skip
    return _with_df(c, res)


def _with_df(c: _Counted, resampler) -> _Counted:
    """The rates' degrees of freedom (:func:`faceaudit.stats.intervals.influence_df`), from the
    same replicates' weights, re-drawn: one pass for every group's rates."""
    G = c.pos_tot.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        fp_p, fn_p = c.within[:, 1] / c.within[:, 0], c.pos_tot[:, 1] / c.pos_tot[:, 0]
        cr_p = c.neg_tot[..., 1] / c.neg_tot[..., 0]
    parts = [c.fp_reps, c.fn_reps] + ([c.cross_reps.reshape(-1, G * G)] if c.by_reference else [])
    centers = [fp_p, fn_p] + ([cr_p.reshape(-1)] if c.by_reference else [])
    df = influence_df(resampler.weight_batches(), np.hstack(parts), np.concatenate(centers))
    cross = np.minimum.outer(c.fp_subjects, c.fp_subjects)
    fp_df = np.minimum(df[:G], np.maximum(c.fp_subjects - 1, 1))
    fn_df = np.minimum(df[G : 2 * G], np.maximum(c.fn_subjects - 1, 1))
    cross_df = (
        np.minimum(df[2 * G :].reshape(G, G), np.maximum(cross - 1, 1)) if c.by_reference else None
    )
    return replace(c, fp_df=fp_df, fn_df=fn_df, cross_df=cross_df)


def _group_rows(
    vocab: _Vocabulary,
    c: _Counted,
    groups: SubjectGroups,
    n_subjects: np.ndarray,
    confidence: float,
    min_subjects: int,
) -> tuple[list[GroupRates], dict]:
    """Every group's rates, support, ratios to the best group and flags.

    Returns the rows and ``{"fp": (rates, ok, best), "fn": (...)}`` for the summaries.
    """
    G, names = groups.n_groups, groups.names
    within, pos_tot = c.within, c.pos_tot
    _, _, overall_fp, overall_fn = c.overall
    fp_k, fn_k = c.fp_subjects, c.fn_subjects

    def reps(a, g):
        return None if a is None else a[:, g]

    def df(a, g):
        return None if a is None else a[g]

    fp_rates = [
        _rate(
            within[g, 1],
            within[g, 0],
            reps(c.fp_reps, g),
            confidence,
            int(fp_k[g]),
            df=df(c.fp_df, g),
            iid_excess=PRODUCT_WEIGHT_EXCESS if c.fp_two_way_searches else 0.0,
        )  # fmt: skip
        for g in range(G)
    ]
    fn_rates = [
        _rate(
            pos_tot[g, 1],
            pos_tot[g, 0],
            reps(c.fn_reps, g),
            confidence,
            int(fn_k[g]),
            df=df(c.fn_df, g),
        )  # fmt: skip
        for g in range(G)
    ]
    fp_ok = [
        _supported(int(within[g, 0]), int(fp_k[g]), overall_fp, confidence, min_subjects)
        for g in range(G)
    ]
    fn_ok = [
        _supported(int(pos_tot[g, 0]), int(fn_k[g]), overall_fn, confidence, min_subjects)
        for g in range(G)
    ]
    # 1:N two-way: the ratios from the rates' own variances (the product weights' noise out)
    fp_var = (
        design_variance(
            c.fp_reps,
            within[:, 1],
            within[:, 0],
            confidence,
            iid_excess=PRODUCT_WEIGHT_EXCESS,
            df=c.fp_df,
        )
        if c.fp_two_way_searches and c.fp_reps is not None
        else None
    )
    fp_best, fp_ratios = _ratios(fp_rates, fp_ok, c.fp_reps, names, confidence, fp_var)
    fn_best, fn_ratios = _ratios(fn_rates, fn_ok, c.fn_reps, names, confidence)

    n_without = len(groups.subjects_without_metadata)
    rows = []
    for g in range(G):
        flags = []
        if n_without and _all_unknown(names[g]):
            flags.append(f"includes {n_without} subjects without metadata")
        if fp_best == g:
            flags.append(f"lowest {vocab.fp_upper}: reference of the {vocab.fp_upper} ratios")
        if fn_best == g:
            flags.append(f"lowest {vocab.fn_upper}: reference of the {vocab.fn_upper} ratios")
        rows.append(
            GroupRates(
                group=names[g],
                n_subjects=int(n_subjects[g]),
                false_positive=fp_rates[g],
                false_negative=fn_rates[g],
                fp_supported=fp_ok[g],
                fn_supported=fn_ok[g],
                fp_ratio=fp_ratios[g],
                fn_ratio=fn_ratios[g],
                flags=tuple(flags),
            )
        )
    return rows, {
        "fp": (fp_rates, fp_ok, fp_best),
        "fn": (fn_rates, fn_ok, fn_best),
        "fp_variances": fp_var,
    }


def _cross_cells(
    c: _Counted, names: Sequence[str], confidence: float, min_subjects: int
) -> list[CrossCell]:
    """The cross-group FMR matrix (probe group x reference group), row by row."""
    if not c.by_reference:
        return []
    _, _, overall_fp, _ = c.overall
    G = len(names)
    cross = []
    for p in range(G):
        for r in range(G):
            reps = None if c.cross_reps is None else c.cross_reps[:, p, r]
            n, k = int(c.neg_tot[p, r, 0]), c.neg_tot[p, r, 1]
            people = int(min(c.fp_subjects[p], c.fp_subjects[r]))
            cross.append(
                CrossCell(
                    names[p],
                    names[r],
                    _rate(
                        k,
                        n,
                        reps,
                        confidence,
                        people,
                        df=None if c.cross_df is None else c.cross_df[p, r],
                    ),  # fmt: skip
                    _supported(n, people, overall_fp, confidence, min_subjects),
                )
            )
    return cross


def _all_unknown(name: str) -> bool:
    from faceaudit.data.metadata import GROUP_SEPARATOR, UNKNOWN

    return all(p == UNKNOWN for p in name.split(GROUP_SEPARATOR))


# ---------------------------------------------------------------------------------------------
# Public entries
