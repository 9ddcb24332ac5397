"""Honest uncertainty (issue 10): the two-way bootstrap, thresholds re-chosen per replicate,
bounds at 0 and 1 on people, support by people, and a small coverage check.

The crossed-effects generator here is the test's own (independent of ``faceaudit.synth``):
subjects carry a non-mated effect that acts on BOTH sides of a comparison (as probe and as
reference), a mated effect, and images a quality effect; the population rates are normal
tails, so coverage of the truth can be counted.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta, norm

from faceaudit.analyses.demographics import verification_differentials
from faceaudit.analyses.verification import verify
from faceaudit.data import ComparisonScores, SubjectMetadata
from faceaudit.report.sentences import demographic_sentences
from faceaudit.stats.bootstrap import Resampler
from faceaudit.stats.estimate import make_rate, zero_error_bound
from faceaudit.stats.operating import rechosen_points
from faceaudit.stats.rates import operating_threshold
from faceaudit.stats.replicates import ReplicateCounts
from faceaudit.stats.scoreset import ScoreSet
from faceaudit.stats.support import support

SD_SUBJECT, SD_IMAGE, SD_MATED, MU_MATED = 0.45, 0.3, 0.5, 4.0
SD_IMP = np.sqrt(2 * SD_SUBJECT**2 + 2 * SD_IMAGE**2 + 1)


def crossed(rng, subjects=60, images=2, *, probe_only=False) -> ComparisonScores:
    """All image pairs of ``subjects`` x ``images``: non-mated = c_i + c_j + q_k + q_l + e."""
    c = rng.normal(0, SD_SUBJECT, subjects)  # the subject's effect, as probe and as reference
    g = rng.normal(0, SD_MATED, subjects)
    q = rng.normal(0, SD_IMAGE, subjects * images)
    subj = np.repeat(np.arange(subjects), images)
    k, m = np.triu_indices(subjects * images, 1)
    same = subj[k] == subj[m]
    s = q[k] + q[m] + rng.normal(0, 1, k.size)
    s = np.where(same, MU_MATED + g[subj[k]] + s, c[subj[k]] + c[subj[m]] + s)
    gi, ii = np.flatnonzero(same), np.flatnonzero(~same)
    return ComparisonScores(
        mated=s[gi],
        nonmated=s[ii],
        mated_subject=subj[k[gi]].astype(np.int32),
        nonmated_subject=subj[k[ii]].astype(np.int32),
        nonmated_reference_subject=None if probe_only else subj[m[ii]].astype(np.int32),
        subjects=[f"s{i:03d}" for i in range(subjects)],
    )


def without_reference(s: ComparisonScores) -> ComparisonScores:
    return ComparisonScores(s.mated, s.nonmated, s.mated_subject, s.nonmated_subject, None,
                            s.subjects)  # fmt: skip


# -- the engine: replicate counts are exact weighted merges ---------------------------------------


@pytest.mark.parametrize("two_way", [True, False])
def test_replicate_counts_equal_brute_force_weights_over_rounds(two_way):
    rng = np.random.default_rng(1)
    S, n = 25, 3000
    p, r = rng.integers(0, S, n), rng.integers(0, S, n)
    x = np.round(rng.normal(0, 1, n), 2)  # ties
    res = Resampler(S, 80, seed=3)
    w = res.weights()
    w = w[:, p] * w[:, r] if two_way else w[:, p]
    rc = ReplicateCounts(ScoreSet(x, units=p, chunk_size=500), res,
                         reference_units=r if two_way else None)  # fmt: skip
    for ts in ([0.5, 1.0, -0.3], [0.51, 0.7, 2.5, -3.0], [0.52, -np.inf, np.inf, 0.2]):
        brute = np.stack([(w * (x[None, :] >= t)).sum(axis=1) for t in ts], axis=1)
        assert np.array_equal(rc.ge(ts), brute)
    assert np.array_equal(rc.total, w.sum(axis=1))


def test_comparison_bootstrap_refines_consistently():
    x = np.random.default_rng(2).normal(0, 1, 4000)
    rc = ReplicateCounts(ScoreSet(x), Resampler(0, 3000, seed=2))
    rc.ge([0.0, 1.0])
    allc = rc.ge([-1.0, 0.0, 0.5, 1.0, 1.5])  # refined in a second round
    assert np.all(np.diff(allc, axis=1) <= 0) and np.all(rc.total == 4000)
    full = np.array([(x >= t).sum() for t in (-1.0, 0.0, 0.5, 1.0, 1.5)])
    np.testing.assert_allclose(allc.mean(axis=0), full, rtol=0.01)
    p = full[2] / 4000  # binomial variance of a resampled count
    assert allc[:, 2].var() == pytest.approx(4000 * p * (1 - p), rel=0.15)


# -- item 1: two-way -------------------------------------------------------------------------------


def test_two_way_gives_wider_fmr_intervals_than_one_way_on_a_crossed_case():
    data = crossed(np.random.default_rng(5), subjects=60)
    t = float(SD_IMP * norm.isf(0.01))
    two = verify(data, fmr_targets=[0.01], thresholds=[t], bootstrap=400, seed=1)
    one = verify(without_reference(data), fmr_targets=[0.01], thresholds=[t], bootstrap=400,
                 seed=1)  # fmt: skip
    assert two.bootstrap.design == "two-way" and one.bootstrap.design == "probe subject"
    assert not two.warnings and "Only the probe subject" in one.warnings[0]
    for a, b in zip(two.operating_points, one.operating_points, strict=True):
        assert a.fmr.count == b.fmr.count  # same point estimate
        assert np.diff(a.fmr.ci)[0] > 1.2 * np.diff(b.fmr.ci)[0]


# -- item 2: re-chosen thresholds ---------------------------------------------------------------


def test_each_replicate_rechooses_its_threshold_exactly(monkeypatch):
    import faceaudit.stats.operating as op_module

    predicted = op_module._predicted_counts

    def too_narrow(neg, axis, targets, n_neg):  # half the windows start too narrow: widened
        lo, hi = predicted(neg, axis, targets, n_neg)
        mid = (lo + hi) / 2
        return np.where([0, 1, 0, 1], mid, lo), np.where([0, 1, 0, 1], mid, hi)

    monkeypatch.setattr(op_module, "_predicted_counts", too_narrow)
    data = crossed(np.random.default_rng(7), subjects=40)
    neg = ScoreSet(data.nonmated, units=data.nonmated_subject)
    pos = ScoreSet(data.mated, units=data.mated_subject)
    res = Resampler(40, 60, seed=0)
    nc = ReplicateCounts(neg, res, reference_units=data.nonmated_reference_subject)
    pc = ReplicateCounts(pos, res)
    targets = [(t, operating_threshold(neg, pos, t).threshold) for t in (0.1, 0.03, 0.01, 0.003)]
    chosen = rechosen_points(nc, pc, neg, pos, targets)
    assert len({r.rounds for r in chosen}) > 1  # the targets settled in different rounds
    w = res.weights()
    wi = w[:, data.nonmated_subject] * w[:, data.nonmated_reference_subject]
    wg = w[:, data.mated_subject]
    cands = np.unique(np.concatenate([data.nonmated, data.mated]))
    ge = np.stack([(wi * (data.nonmated >= t)).sum(axis=1) for t in cands], axis=1)
    for (target, _), r in zip(targets, chosen, strict=True):
        assert r.exact
        for b in range(0, 60, 7):
            t_b = cands[np.argmax(ge[b] <= np.floor(target * wi[b].sum()))]  # lowest, FMR_b <= t
            fnmr_b = (wg[b] * (data.mated < t_b)).sum() / wg[b].sum()
            assert r.fn[b] == pytest.approx(fnmr_b, abs=1e-12)
            assert r.fp[b] <= target
    r = chosen[2]
    assert np.unique(r.threshold).size > 5  # the replicates' thresholds differ
    v = verify(data, fmr_targets=[0.01], bootstrap=300, seed=3)
    op = v.operating_points[0]
    lo, hi = op.threshold_ci
    assert lo < op.threshold < hi
    assert op.fnmr.count == op.fnmr_fixed.count and op.fnmr.ci != op.fnmr_fixed.ci
    j = op.to_json()
    assert j["fnmr_interval"] == "threshold re-chosen in every replicate"
    assert set(j["optimism"]) == {"fnmr_bias", "fnmr_bias_corrected", "fmr_realised_mean",
                                  "fmr_realised_ratio", "fnmr_optimism"}  # fmt: skip


# -- item 3: bounds at 0 and 1, on people; support by people ----------------------------------


def test_all_error_rate_gets_a_clopper_pearson_interval():
    r = make_rate(10, 10, (1.0, 1.0))  # the degenerate bootstrap interval is replaced
    assert r.lower_bound and not r.upper_bound
    assert r.ci[0] == pytest.approx(beta.ppf(0.025, 10, 1)) and r.ci[1] == 1.0  # [0.69, 1]
    assert r.ci[0] == pytest.approx(0.6915, abs=1e-4)
    z = make_rate(0, 10, (0.0, 0.0))
    assert z.upper_bound and z.ci == pytest.approx((0.0, beta.ppf(0.975, 1, 10)))
    assert z.bound.level == 0.975 and z.to_json()["bound"]["side"] == "upper"


def test_cmc_of_all_found_is_a_bound_not_one():
    from faceaudit.analyses.identification import identify
    from faceaudit.stats.identification import SearchOutcomes

    n = 100
    o = SearchOutcomes(
        gallery_size=100,
        list_length=5,
        mate_rank=np.ones(n, dtype=np.int64),
        mate_score=np.full(n, 0.9),
        wrong_top1_score=np.full(n, -np.inf),
        nonmated_top=np.linspace(0.1, 0.5, 50),
        mated_unit=np.arange(n),
        nonmated_unit=np.arange(n, n + 50),
        units=np.array([f"u{i}" for i in range(n + 50)]),
        mated_probes=np.array([f"m{i}" for i in range(n)]),
        nonmated_probes=np.array([f"n{i}" for i in range(50)]),
    )
    r = identify(o, fpir_targets=[0.1], bootstrap=200)
    rank1 = r.cmc[0][1]
    assert rank1.count == rank1.n == 100 and rank1.lower_bound
    assert rank1.ci == pytest.approx((0.025 ** (1 / 100), 1.0))
    inv = dict(r.investigation_fnir)[1]  # its complement, 0 of 100: the matching upper bound
    assert inv.upper_bound and inv.ci[1] == pytest.approx(1 - rank1.ci[0])


def test_zero_error_bounds_rest_on_subjects_not_comparisons():
    data = crossed(np.random.default_rng(3), subjects=40, images=3)
    t = float(np.max(data.nonmated)) + 1.0  # no false match among ~7000 comparisons
    v = verify(data, fmr_targets=[0.1], thresholds=[t], bootstrap=200)
    fmr = v.operating_points[1].fmr
    assert fmr.count == 0 and fmr.upper_bound
    assert (fmr.bound.n_units, fmr.bound.unit) == (40, "subject")
    assert fmr.ci[1] == pytest.approx(zero_error_bound(40, 0.95))  # 0.088, not 3.7/7020
    assert fmr.ci[1] > 100 * (-np.log(0.025) / fmr.n)
    j = v.to_json()["operating_points"][1]["fmr"]["bound"]
    assert j == {"side": "upper", "confidence": 0.975, "n_units": 40, "unit": "subject",
                 "method": fmr.bound.method}  # fmt: skip
    # without subject ids the comparisons are the units, and the results say so
    anon = ComparisonScores(data.mated, data.nonmated, None, None, None, [])
    a = verify(anon, thresholds=[t], bootstrap=200).operating_points[-1].fmr
    assert (a.bound.unit, a.bound.n_units) == ("comparison", a.n)


def test_support_needs_people_as_well_as_comparisons():
    assert support(1e-3, 10**6, 10).comparisons_ok and not support(1e-3, 10**6, 10).supported
    assert support(1e-3, 3689, 30).supported and not support(1e-3, 3688, 30).supported
    assert support(1e-3, 10**6, None).supported  # no subject ids: only the comparisons' rule
    data = crossed(np.random.default_rng(4), subjects=20, images=6)  # ~7000 non-mated pairs
    op = verify(data, fmr_targets=[1e-2], bootstrap=0).operating_points[0]
    assert not op.supported and op.threshold is None
    assert op.support.comparisons_ok and op.support.subjects_ok is False
    assert op.to_json()["support"]["n_subjects"] == 20


def test_demographic_groups_of_a_handful_of_people_are_not_supported():
    data = crossed(np.random.default_rng(6), subjects=40, images=3)
    sex = {s: ("f" if i % 4 == 0 else "m") for i, s in enumerate(data.subjects)}  # f: 10 people
    groups = SubjectMetadata.from_mapping({"sex": sex}).groups(["sex"], data.subjects)
    r = verification_differentials(data, groups, threshold="all@0.05", bootstrap=100)
    f, m = r.group("f"), r.group("m")
    assert f.false_positive.n > 400 and not f.fp_supported  # comparisons enough, people not
    assert m.fp_supported  # 30 people
    assert any("rests on too few people (10 subjects" in s for s in demographic_sentences(r))
    assert r.bootstrap["design"] == "two-way (probe and reference subjects)"


# -- item 5: coverage, quickly -------------------------------------------------------------------


def test_fmr_coverage_two_way_near_nominal_where_probe_only_falls_short():
    """50 crossed data sets: the two-way interval covers the true FMR at about the nominal rate;
    the probe-only one (the old engine's) does not. Loose bounds; measured in validation/."""
    t = float(SD_IMP * norm.isf(0.01))
    truth = float(norm.sf(t / SD_IMP))
    hits = {"two-way": 0, "probe": 0}
    for i in range(50):
        data = crossed(np.random.default_rng(100 + i), subjects=50)
        for name, d in (("two-way", data), ("probe", without_reference(data))):
            lo, hi = verify(d, fmr_targets=[], thresholds=[t], bootstrap=200,
                            seed=i).operating_points[0].fmr.ci  # fmt: skip
            hits[name] += lo <= truth <= hi
    assert hits["two-way"] >= 41, hits  # >= 82% (nominal 95%; 69% would fail)
    assert hits["probe"] < hits["two-way"], hits


def test_an_eer_of_zero_gets_a_bound_not_a_zero_width_interval():
    """10 people, perfectly separated: every replicate's EER is 0, so the percentile interval
    would be [0, 0]; the interval is the zero-error bound on the 10 people instead."""
    subj = np.arange(10, dtype=np.int32)
    pr, rf = np.meshgrid(subj, subj, indexing="ij")
    off = pr != rf
    scores = ComparisonScores(
        mated=np.linspace(0.8, 0.9, 10),
        nonmated=np.linspace(-0.2, 0.2, int(off.sum())),
        mated_subject=subj,
        nonmated_subject=pr[off].astype(np.int32),
        nonmated_reference_subject=rf[off].astype(np.int32),
        subjects=[f"s{k}" for k in range(10)],
    )
    eer = verify(scores, fmr_targets=[0.1], bootstrap=200).eer
    assert eer.value == 0.0
    assert eer.ci == (0.0, pytest.approx(zero_error_bound(10, 0.95)))
