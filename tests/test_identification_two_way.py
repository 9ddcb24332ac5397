"""The 1:N bootstrap resamples gallery subjects too (stats.identification.search_design).

A false positive of a 1:N search involves two people, the searched one and the gallery subject
of the top candidate; a gallery "wolf" who is the top candidate of many searches makes FPIR
depend on whether that person is enrolled, which resampling the searches alone cannot show.
"""

from __future__ import annotations

import numpy as np
import pytest

from faceaudit.analyses.identification import identify
from faceaudit.data import CandidateLists, ProbeTruth
from faceaudit.stats.identification import search_design, search_outcomes


def _searches(n_nonmated=400, n_mated=200, wolf_share=0.6, seed=0, wrong=0):
    """Candidate lists of length 3 over a gallery of 300 subjects ``g0..g299``: mated searches
    of ``g0..g199``; non-mated searches whose top candidate scoring 0.9 (a false positive at
    0.8) is, for ``wolf_share`` of them, one of 3 wolves ``g200..g202``, else spread over the
    gallery; the other non-mated searches top out at 0.5."""
    rng = np.random.default_rng(seed)
    subjects = np.array([f"g{i:03d}" for i in range(300)])
    n = n_mated + n_nonmated
    cand = np.zeros((n, 3), dtype=np.int64)
    scores = np.zeros((n, 3))
    for i in range(n_mated):
        others = rng.choice(np.setdiff1d(np.arange(300), [i]), 2, replace=False)
        cand[i] = [i, *others] if i >= wrong else [others[0], i, others[1]]
        scores[i] = [0.95, 0.4, 0.3] if i >= wrong else [0.97, 0.95, 0.3]
    for j in range(n_nonmated):
        i = n_mated + j
        alarm = j < n_nonmated // 4  # FPIR 0.25 at T = 0.8
        if alarm and rng.random() < wolf_share:
            top = 200 + int(rng.integers(0, 3))
        else:
            top = int(rng.integers(0, 300))
        rest = rng.choice(np.setdiff1d(np.arange(300), [top]), 2, replace=False)
        cand[i] = [top, *rest]
        scores[i] = [0.9 if alarm else 0.5, 0.3, 0.2]
    probes = np.array([f"p{i}" for i in range(n)])
    truth_subjects = np.array([subjects[i] for i in range(n_mated)] + [""] * n_nonmated)
    persons = np.array([subjects[i] for i in range(n_mated)]
                       + [f"x{j}" for j in range(n_nonmated)])  # fmt: skip
    lists = CandidateLists(probes, cand, scores, subjects)
    truth = ProbeTruth(probes, truth_subjects, persons=persons)
    return search_outcomes(lists, truth, gallery_size=300, gallery_subjects=subjects)


def test_design_has_one_unit_per_person_in_both_roles():
    o = _searches()
    d = search_design([o])
    assert d.two_way and d.n_search_units == o.n_units == 600
    refs = d.references[0]["nonmated"]
    names = o.nonmated_top_subject
    # an enrolled subject who also searched is that search's unit; the others are new units
    searched = set(o.units[o.mated_unit].tolist())
    for name, code in zip(names[:50], refs[:50], strict=True):
        if name in searched:
            assert o.units[code] == name and d.strata[code] == 0
        else:
            assert code >= o.n_units and d.strata[code] == 1
    assert d.n_gallery_units == len(set(names.tolist()) - searched)
    # every replicate draws the searchers and the gallery subjects apart: both keep their size
    w = d.resampler(20, 0).weights()
    assert np.all(w[:, d.strata == 0].sum(axis=1) == d.n_search_units)
    assert np.all(w[:, d.strata == 1].sum(axis=1) == d.n_gallery_units)


def test_a_gallery_wolf_widens_the_fpir_interval():
    o = _searches(wolf_share=0.6)
    one_way = search_outcomes_without_gallery(o)
    two = identify(o, fpir_targets=[], thresholds=[0.8], bootstrap=1000, seed=1)
    one = identify(one_way, fpir_targets=[], thresholds=[0.8], bootstrap=1000, seed=1)
    f2, f1 = two.operating_points[0].fpir, one.operating_points[0].fpir
    assert f2.count == f1.count == 100 and f2.value == pytest.approx(0.25)
    w2, w1 = f2.ci[1] - f2.ci[0], f1.ci[1] - f1.ci[0]
    # 60 of the 100 false positives come from 3 people: one of them missing from a gallery
    # moves FPIR by about 0.05; the one-way interval (400 independent searchers) cannot show it
    assert w2 > 1.5 * w1
    assert two.bootstrap["design"] == "two-way" and one.bootstrap["design"] != "two-way"
    assert two.bootstrap["n_gallery_subjects"] > 0


def test_without_wolves_two_way_stays_close_to_one_way():
    o = _searches(wolf_share=0.0)
    two = identify(o, fpir_targets=[], thresholds=[0.8], bootstrap=1000, seed=1)
    one = identify(search_outcomes_without_gallery(o), fpir_targets=[], thresholds=[0.8],
                   bootstrap=1000, seed=1)  # fmt: skip
    f2, f1 = two.operating_points[0].fpir, one.operating_points[0].fpir
    w2, w1 = f2.ci[1] - f2.ci[0], f1.ci[1] - f1.ci[0]
    # 100 false positives spread over ~90 gallery subjects: after the product weights' own
    # excess (2 p (1 - p) / n) the gallery adds little
    assert 0.85 * w1 < w2 < 1.25 * w1


def test_fpir_of_every_list_is_exactly_one_in_every_replicate():
    o = _searches()
    r = identify(o, fpir_targets=[], thresholds=[0.8], bootstrap=200)
    any_candidate = r.investigation_fpir
    assert any_candidate.value == 1.0 and any_candidate.ci[1] == 1.0
    assert any_candidate.ci[0] < 1.0  # the exact bound on the people, never a zero width


def search_outcomes_without_gallery(o):
    """The same outcomes without the candidates' subjects (the one-way fallback)."""
    from dataclasses import replace

    return replace(o, nonmated_top_subject=None, wrong_top1_subject=None)


def test_systems_compared_share_the_gallery_draws_and_match_identify():
    from faceaudit.analyses._system_comparison_1n import compare_searches

    a = _searches(wolf_share=0.6, seed=0)
    b = _searches(wolf_share=0.6, seed=0)  # the same system twice
    cmp = compare_searches([a, b], ["a", "b"], fpir_targets=[], thresholds=[0.8], bootstrap=400,
                           seed=3)  # fmt: skip
    alone = identify(a, fpir_targets=[], thresholds=[0.8], bootstrap=400, seed=3)
    fa, fb = (s.points[0].fpir for s in cmp.systems)
    assert cmp.bootstrap["design"] == "two-way"
    assert fa.ci == fb.ci == pytest.approx(alone.operating_points[0].fpir.ci, rel=1e-12)


def test_a_wrong_rank1_candidate_resamples_its_gallery_subject():
    o = _searches(wrong=20)
    d = search_design([o])
    wrong = d.references[0]["wrong"]
    has = o.wrong_top1_score > -np.inf
    assert has.sum() == 20
    assert np.all(d.strata[wrong[~has]] == 2)  # rank 1 is the mate: nobody else to resample
    assert np.all(d.strata[wrong[has]] < 2)
    assert all(o.units[c] == n for c, n in zip(wrong[has], o.wrong_top1_subject[has], strict=True)
               if c < d.n_search_units)  # fmt: skip
    r = identify(o, fpir_targets=[], thresholds=[0.96], bootstrap=300)
    w = r.operating_points[0].wrong_top1
    assert w.count == 20 and w.ci[0] < 0.1 < w.ci[1]
