"""A known open-set pitfall must be impossible here: FPIR is about *searches*, not comparisons.

insightface's IJB 1:N evaluation (before deepinsight/insightface pull requests 1386 and 1387,
merged as 1739) chose the "FAR" threshold from the **pooled** non-mate scores of all searches
(every gallery entry that was not the mate, flattened), with the number of *mated queries* as the
denominator (``th = neg_sims[ceil(query_num * far) - 1]``), and counted a mated search as found
when its mate scored above that. On IJB-C (MS1MV2-ResNet100-ArcFace) TPIR at FAR 1e-3 read 0.716
before the fix and 0.964 after: the fixed code takes each non-mated search's **top** score and
divides by the number of non-mated searches.

NIST FRTE's definition (faceaudit's): FPIR(N, T) = share of **non-mated searches** whose top
candidate scores ``>= T``; FNIR(N, R, T) = share of mated searches whose mate is not in the top R
at ``>= T``. Below, a hand-built gallery of 4 subjects where the pooled readings and the NIST one
disagree, and faceaudit's 1:N path gives the NIST numbers, computed by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from faceaudit import audit_candidates
from faceaudit.analyses import identification
from faceaudit.analyses.identification import identify
from faceaudit.data import CandidateLists, CandidateSearch, ProbeTruth
from faceaudit.stats.identification import fpir_count, search_outcomes
from faceaudit.stats.support import Support

GALLERY = ["A", "B", "C", "D"]  # N = 4 enrolled subjects


@pytest.fixture(autouse=True)
def _ten_searches_support_a_target(monkeypatch):
    """The support rule (tests/test_stats_uncertainty.py) asks, at FPIR <= 0.3, for 13 searches
    (3.69 / 0.3) from 30 people; the hand-built case has 10 from 10, and the pitfall is about
    which scores count, so here the plain rule of 3 (3 / 0.3 = 10 searches) and one person do."""

    def rule_of_3(target, n_comparisons, n_subjects, confidence=0.95, min_subjects=1):
        return Support(int(n_comparisons), n_subjects, math.ceil(3 / target - 1e-9), 1)

    monkeypatch.setattr(identification, "support", rule_of_3)


SEARCHES = [
    # non-mated: n0 resembles everyone (4 candidates >= 0.7); n1 has one; the rest are low
    ("n0", "", [("A", 0.90), ("B", 0.85), ("C", 0.80), ("D", 0.75)]),
    ("n1", "", [("B", 0.70), ("A", 0.40), ("C", 0.30), ("D", 0.20)]),
    ("n2", "", [("C", 0.50), ("D", 0.45), ("A", 0.10), ("B", 0.05)]),
    *[
        (f"n{k}", "", [("A", t), ("B", t - 0.01), ("C", t - 0.02), ("D", t - 0.03)])
        for k, t in zip(range(3, 10), (0.40, 0.35, 0.30, 0.25, 0.20, 0.15, 0.12), strict=True)
    ],
    # mated: m1's non-mates score high (they must not count as false alarms); m4's mate is rank 2
    ("m1", "A", [("A", 0.95), ("C", 0.88), ("B", 0.87), ("D", 0.86)]),
    ("m2", "B", [("B", 0.60), ("A", 0.20), ("C", 0.10), ("D", 0.05)]),
    ("m3", "C", [("C", 0.55), ("A", 0.15), ("B", 0.10), ("D", 0.05)]),
    ("m4", "D", [("A", 0.35), ("D", 0.30), ("B", 0.10), ("C", 0.05)]),
]


def lists(searches, *, depth=None):
    names = np.array(GALLERY)
    L = depth or max(len(c) for _, _, c in searches)
    cand = np.full((len(searches), L), -1)
    sc = np.full((len(searches), L), -np.inf)
    for i, (_, _, cs) in enumerate(searches):
        for r, (c, s) in enumerate(cs[:L]):
            cand[i, r], sc[i, r] = GALLERY.index(c), s
    probes = np.array([p for p, _, _ in searches])
    truth = ProbeTruth(probes, np.array([s for _, s, _ in searches]))
    return CandidateLists(probes, cand, sc, names), truth


def outcomes(searches=SEARCHES, **kw):
    cl, truth = lists(searches, **kw)
    return search_outcomes(cl, truth, gallery_size=4, gallery_subjects=np.array(GALLERY))


# --- the readings that the pitfall produces, written out to show they differ -----------------


def nonmated_scores(searches=SEARCHES):
    return [[s for _, s in cs] for _, subj, cs in searches if not subj]


def pooled_rate_per_comparison(t):
    """Every non-mated comparison pooled, per comparison: an FMR, not an FPIR."""
    flat = [s for row in nonmated_scores() for s in row]
    return sum(s >= t for s in flat) / len(flat)


def pooled_count_per_search(t):
    """Pooled false alarms over the number of searches (the wrong denominator): can exceed 1."""
    rows = nonmated_scores()
    return sum(s >= t for row in rows for s in row) / len(rows)


def insightface_before_fix_tpir(far):
    """``ijb_1n.py`` before the fix: all queries mated, non-mate scores of the mated searches
    pooled, threshold the ceil(query_num * far)-th largest, TPIR = share of mates above it."""
    mated = [(subj, cs) for _, subj, cs in SEARCHES if subj]
    pos = [dict(cs)[subj] for subj, cs in mated]
    neg = sorted((s for subj, cs in mated for c, s in cs if c != subj), reverse=True)
    th = neg[math.ceil(len(mated) * far) - 1]
    return sum(p > th for p in pos) / len(mated), th


# --- faceaudit --------------------------------------------------------------------------------


def test_the_readings_disagree_at_one_threshold():
    # at T = 0.7 (by hand): non-mated tops >= 0.7 are n0 (0.90) and n1 (0.70) -> FPIR 2/10;
    # pooled: n0 has 4 scores >= 0.7 and n1 one -> 5 of 40 comparisons, or "5 per 10 searches"
    assert pooled_rate_per_comparison(0.7) == 5 / 40
    assert pooled_count_per_search(0.7) == 5 / 10
    o = outcomes()
    assert (o.n_nonmated, o.n_mated) == (10, 4)
    assert fpir_count(o, 0.7) == 2  # NIST: searches, not comparisons
    r = identify(o, fpir_targets=[], thresholds=[0.7, 0.5], bootstrap=0)
    at07, at05 = r.operating_points
    assert (at07.fpir.count, at07.fpir.n) == (2, 10)  # FPIR = 0.2, the denominator is searches
    # at T = 0.5: tops n0, n1, n2 -> 3/10 (pooled: 4 + 1 + 1 = 6 of 40 = 0.15, or 0.6 "per search")
    assert (at05.fpir.count, at05.fpir.n) == (3, 10)
    assert pooled_rate_per_comparison(0.5) == 6 / 40 and pooled_count_per_search(0.5) == 0.6
    # FNIR(N, R=L, 0.5): only m4's mate (0.30) is below -> 1/4; wrong person at rank 1: none
    # (m4's top, A at 0.35, is under 0.5)
    assert (at05.fnir.count, at05.fnir.n, at05.wrong_top1.count) == (1, 4, 0)
    # at T = 0.7: m2 (0.60), m3 (0.55), m4 (0.30) miss -> 3/4
    assert at07.fnir.count == 3


def test_threshold_for_an_fpir_target_is_chosen_from_top_scores():
    """FPIR <= 0.3 (10 searches support it by the rule of 3: 3 / 0.3 = 10) holds for T > 0.40,
    the 4th-highest non-mated top score. The lowest FNIR there is at the smallest observed score
    above 0.40, which is n2's top, 0.50 (FPIR 3/10). FNIR = 1/4 (m4), so TPIR = 3/4.

    The pre-fix recipe at "FAR 0.3": threshold = 2nd largest (ceil(4 * 0.3)) of the mated
    searches' pooled non-mate scores = 0.87 (m1's), and only m1's mate (0.95) is above: TPIR 1/4.
    """
    tpir_before, th_before = insightface_before_fix_tpir(0.3)
    assert (th_before, tpir_before) == (0.87, 0.25)
    r = identify(outcomes(), fpir_targets=[0.3], bootstrap=0)
    op = r.operating_points[0]
    assert op.supported and op.threshold == 0.50
    assert (op.fpir.count, op.fpir.n) == (3, 10)
    assert (op.fnir.count, op.fnir.n) == (1, 4)
    assert 1 - op.fnir.value == 0.75 != tpir_before
    assert op.fnir_rank1.count == 1  # m4's mate is at rank 2


def test_only_the_top_candidate_of_a_non_mated_search_counts():
    """Lists cut to rank 1 give the same FPIR at every threshold as full lists."""
    full, top1 = outcomes(), outcomes(depth=1)
    for t in np.unique(np.concatenate([np.arange(0, 1.0, 0.05), [0.7, 0.75, 0.85, 0.9]])):
        assert fpir_count(full, t) == fpir_count(top1, t)
    np.testing.assert_array_equal(full.nonmated_top, top1.nonmated_top)


def test_mated_searches_never_raise_false_alarms():
    """Raising the non-mate scores inside mated searches (to 0.94) changes no FPIR figure."""
    louder = [
        (p, s, [cs[0]] + [(c, 0.94 - 0.001 * i) for i, (c, _) in enumerate(cs[1:])])
        if s == "A"
        else (p, s, cs)
        for p, s, cs in SEARCHES
    ]
    a = identify(outcomes(), fpir_targets=[0.3], thresholds=[0.7], bootstrap=0)
    b = identify(outcomes(louder), fpir_targets=[0.3], thresholds=[0.7], bootstrap=0)
    for pa, pb in zip(a.operating_points, b.operating_points, strict=True):
        assert (pa.threshold, pa.fpir.count, pa.fpir.n) == (pb.threshold, pb.fpir.count, pb.fpir.n)
    assert a.curves.fpir.tolist() == pytest.approx(
        [fpir_count(outcomes(), t) / 10 for t in a.curves.threshold]
    )


def test_fpir_never_exceeds_one_and_counts_searches():
    o = outcomes()
    for t in (-1.0, 0.0, 0.05, 0.5):
        assert 0 <= fpir_count(o, t) <= o.n_nonmated
    r = identify(o, fpir_targets=[], thresholds=[0.0], bootstrap=0)
    assert r.operating_points[0].fpir.value == 1.0  # every non-mated search has a top >= 0
    assert r.investigation_fpir.n == 10


def test_audit_candidates_gives_the_nist_figures():
    cl, truth = lists(SEARCHES)
    search = CandidateSearch(cl, truth, gallery_size=4, gallery_subjects=np.array(GALLERY))
    run = audit_candidates(search, fpir_targets=[0.3], thresholds=[0.7], bootstrap=0)
    j = run["identification"].to_json()
    target, fixed = j["operating_points"]
    assert target["threshold"] == 0.5 and target["fpir"]["count"] == 3
    assert target["fpir"]["n"] == 10 and target["fnir"]["count"] == 1
    assert fixed["threshold"] == 0.7 and fixed["fpir"]["value"] == 0.2
