"""Demographic differentials on small cases computed by hand: rates, matrix, ratios, summaries."""

import math

import numpy as np
import pytest

from faceaudit.analyses import demographics
from faceaudit.analyses.demographics import ThresholdRule
from faceaudit.data import ComparisonScores, SubjectMetadata
from faceaudit.errors import InputError
from faceaudit.report.sentences import demographic_sentences
from faceaudit.stats.estimate import zero_error_bound
from faceaudit.stats.identification import SearchOutcomes

SUBJECTS = ["a1", "a2", "a3", "b1", "b2", "b3"]
GROUP = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "b3": "B"}
# Mated comparisons below 0.5 (false non-matches), out of 8 per subject.
MATED_ERRORS = {"a1": 2, "a2": 0, "a3": 2, "b1": 2, "b2": 2, "b3": 4}
# Ordered (probe, reference) pairs whose 10 non-mated comparisons all score >= 0.5.
FALSE_MATCH_PAIRS = {("a1", "a2"), ("a2", "a3"), ("a3", "a1"), ("b1", "b2"), ("a1", "b1"),
                     ("a2", "b2")}  # fmt: skip
IMAGES = 10


# These cases have 3 subjects per group: they test the counting, the comparisons' rule of 3 and
# the ratios with the rule on people relaxed (min_subjects=1); test_a_handful_of_people_... below
# tests the rule on people itself.
def verification_differentials(*args, **kw):
    kw.setdefault("min_subjects", 1)
    return demographics.verification_differentials(*args, **kw)


def identification_differentials(*args, **kw):
    kw.setdefault("min_subjects", 1)
    return demographics.identification_differentials(*args, **kw)


def comparisons(orientation="similarity"):
    code = {s: i for i, s in enumerate(SUBJECTS)}
    gen, gsub, imp, isub, iref = [], [], [], [], []
    for s in SUBJECTS:
        e = MATED_ERRORS[s]
        gen += [0.3] * e + [0.9] * (8 - e)
        gsub += [code[s]] * 8
        for r in SUBJECTS:
            if r == s:
                continue
            score = 0.5 if (s, r) in FALSE_MATCH_PAIRS else 0.2  # 0.5 ties the threshold: a match
            imp += [score] * IMAGES
            isub += [code[s]] * IMAGES
            iref += [code[r]] * IMAGES
    g, i = np.array(gen), np.array(imp)
    if orientation == "distance":
        g, i = -g, -i
    return ComparisonScores(
        mated=g if orientation == "similarity" else -g,
        nonmated=i if orientation == "similarity" else -i,
        mated_subject=np.array(gsub, np.int32),
        nonmated_subject=np.array(isub, np.int32),
        nonmated_reference_subject=np.array(iref, np.int32),
        subjects=list(SUBJECTS),
        orientation=orientation,
    )


def groups_for(data, mapping=GROUP, by=("group",)):
    meta = SubjectMetadata.from_mapping({"group": mapping})
    return meta.groups(list(by), data.subjects)


@pytest.fixture(scope="module")
def result():
    data = comparisons()
    return verification_differentials(data, groups_for(data), threshold=0.5, bootstrap=300)


def test_group_rates_are_the_hand_counts(result):
    a, b = result.group("A"), result.group("B")
    # FMR within the group: A-A pairs 6 x 10 comparisons, 3 pairs match; B-B: 1 pair.
    assert (a.false_positive.count, a.false_positive.n) == (30, 60)
    assert (b.false_positive.count, b.false_positive.n) == (10, 60)
    # FNMR: mated comparisons of the group's subjects.
    assert (a.false_negative.count, a.false_negative.n) == (4, 24)
    assert (b.false_negative.count, b.false_negative.n) == (8, 24)
    assert a.n_subjects == b.n_subjects == 3
    # Overall at 0.5: 60 of 300 non-mated comparisons, 12 of 48 mated.
    assert (result.overall_false_positive.count, result.overall_false_positive.n) == (60, 300)
    assert (result.overall_false_negative.count, result.overall_false_negative.n) == (12, 48)
    # 3/60 <= 0.2 and 3/24 <= 0.25: supported.
    assert a.supported and b.supported
    assert result.threshold == 0.5 and result.threshold_source == "given: 0.5"


def test_cross_matrix_is_the_hand_counts(result):
    cells = {(c.probe_group, c.reference_group): c.fmr for c in result.cross}
    assert {k: (r.count, r.n) for k, r in cells.items()} == {
        ("A", "A"): (30, 60),
        ("A", "B"): (20, 90),
        ("B", "A"): (0, 90),
        ("B", "B"): (10, 60),
    }
    # zero errors: the bound rests on the people, the fewer of the two groups' 3 subjects
    zero = cells[("B", "A")]
    assert zero.upper_bound and zero.ci[1] == pytest.approx(zero_error_bound(3, 0.95))
    assert (zero.bound.n_units, zero.bound.unit, zero.bound.level) == (3, "subject", 0.975)


def test_ratios_and_summaries_by_hand(result):
    a, b = result.group("A"), result.group("B")
    # FMR: best B (1/6); A = 0.5 -> 3x. FNMR: best A (1/6); B = 1/3 -> 2x.
    assert result.best_groups == {"fmr": "B", "fnmr": "A"}
    assert a.fp_ratio.value == pytest.approx(3.0) and a.fp_ratio.reference_group == "B"
    assert b.fp_ratio.value == 1.0 and b.fp_ratio.ci == (1.0, 1.0)
    assert b.fn_ratio.value == pytest.approx(2.0) and a.fn_ratio.value == 1.0
    # B's false matches all come from probe b1: a replicate without b1 has B's FMR 0 (in
    # (2/3)^3 = 30% of replicates), so the ratio's interval has no finite upper end.
    assert a.fp_ratio.ci is None and a.fp_ratio.ci_unbounded and a.fp_ratio.ci_low <= 3.0
    assert s_unbounded(result.summary["fmr_max_over_min"])
    s = result.summary
    assert s["fmr_max_over_min"].value == pytest.approx(3.0)
    assert s["fmr_max_over_geomean"].value == pytest.approx(math.sqrt(3.0))
    assert s["fnmr_max_over_min"].value == pytest.approx(2.0)
    assert s["fnmr_max_over_geomean"].value == pytest.approx(math.sqrt(2.0))
    # Gini of two values with the n/(n-1) correction: |x1 - x2| / (x1 + x2).
    assert s["fmr_gini"].value == pytest.approx((0.5 - 1 / 6) / (0.5 + 1 / 6))
    assert s["fnmr_gini"].value == pytest.approx((1 / 3 - 1 / 6) / (1 / 3 + 1 / 6))
    assert s["garbe"].value == pytest.approx(0.5 * 0.5 + 0.5 * (1 / 3))
    assert s["fmr_groups_compared"] == ["A", "B"]
    lo, hi = s["garbe"].ci
    assert lo <= s["garbe"].value <= hi


def s_unbounded(v):
    return v.ci is None and v.ci_unbounded and v.ci_low is not None


def test_sentences_say_the_differentials(result):
    text = " ".join(demographic_sentences(result))
    first = demographic_sentences(result)[0]
    assert first.startswith("At this threshold, people in group A are falsely matched 3.0×")
    assert "as often as those in group B" in first
    assert "people in group B are falsely rejected 2.0×" in text
    # 4 and 8 false non-matches: the rule of 30 is stated.
    assert "fewer than 30" in text and "rule of 30" in text


def test_json_has_the_issue_keys(result):
    j = result.to_json()
    assert set(j) >= {"attribute", "threshold", "threshold_source", "groups", "cross_fmr",
                      "summary"}  # fmt: skip
    g = j["groups"][0]
    assert set(g) >= {"group", "n_subjects", "fmr", "fnmr", "supported"}
    assert set(g["fmr"]) == {"value", "ci", "count", "n", "upper_bound", "lower_bound", "bound"}
    assert set(j["summary"]) >= {
        "fmr_max_over_geomean",
        "fnmr_max_over_geomean",
        "fmr_max_over_min",
        "fnmr_max_over_min",
    }
    c = j["cross_fmr"][0]
    assert set(c) >= {"probe_group", "reference_group", "fmr"}
    assert j["groups"][0]["fmr_ratio"] == {
        "value": pytest.approx(3.0),
        "ci": None,
        "reference_group": "B",
        "upper_bound": False,
        "ci_unbounded": True,
        "ci_low": result.group("A").fp_ratio.ci_low,
    }
    assert j["groups"][1]["fmr_ratio"]["ci"] == [1.0, 1.0]


def test_distance_scores_report_thresholds_in_file_units():
    from faceaudit.analyses.demographics import ThresholdRule

    data = comparisons("distance")  # arrays hold similarity; file units are distances
    rule = ThresholdRule.parse("value=-0.5", default_target=1e-3).in_similarity("distance")
    r = verification_differentials(data, groups_for(data), threshold=rule, bootstrap=0)
    assert r.threshold == 0.5  # inside: similarity
    assert r.to_json()["threshold"] == -0.5 and r.to_json()["threshold_rule"]["value"] == -0.5
    assert r.threshold_source == "given: -0.5"
    assert (r.group("A").false_positive.count, r.group("B").false_negative.count) == (30, 8)


def test_no_bootstrap_gives_counts_without_intervals():
    data = comparisons()
    r = verification_differentials(data, groups_for(data), threshold=0.5, bootstrap=0)
    assert r.group("A").false_positive.ci is None
    assert r.group("A").fp_ratio.ci is None and r.group("A").fp_ratio.value == pytest.approx(3)
    assert "no confidence interval" in demographic_sentences(r)[0]
    # the rule-of-3 bound is there even without a bootstrap
    cells = {(c.probe_group, c.reference_group): c.fmr for c in r.cross}
    assert cells[("B", "A")].upper_bound


def test_unsupported_and_empty_groups_are_flagged_not_hidden():
    data = comparisons()
    mapping = dict(GROUP, b3="C")  # C: one subject, no within-group non-mated pair
    r = verification_differentials(data, groups_for(data, mapping), threshold=0.5, bootstrap=200)
    c = r.group("C")
    assert c.false_positive.n == 0 and c.false_positive.value is None
    assert not c.fp_supported and c.fp_ratio is None
    assert c.false_negative.n == 8 and not c.fn_supported  # 3/8 > 12/48
    assert "C" not in r.summary["fmr_groups_compared"]
    text = " ".join(demographic_sentences(r))
    assert "Group C has no non-mated comparisons within the group" in text
    assert "Group C has too few mated comparisons (8)" in text
    j = r.to_json()
    assert [g["group"] for g in j["groups"]] == ["A", "B", "C"]


def test_zero_error_group_gets_a_bound_ratio():
    data = comparisons()
    # FNMR: make every subject of B perfect by regrouping a2 (no mated errors) alone... use
    # the cross cell B->A (0 of 90) as a "group" via a mapping where B's within pairs never match.
    mapping = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "C", "b3": "C"}
    r = verification_differentials(data, groups_for(data, mapping), threshold=0.5, bootstrap=200)
    c = r.group("C")  # b2-b3 pairs: no false match among 20 comparisons
    assert (c.false_positive.count, c.false_positive.n) == (0, 20)
    assert c.false_positive.upper_bound
    # -ln(0.025)/20 = 0.18 <= 0.2: supported, zero errors: ratio is a bound, on C's 2 subjects
    assert c.fp_supported and c.fp_ratio.upper_bound and c.fp_ratio.value == 0.0
    assert c.fp_ratio.ci[1] == pytest.approx(zero_error_bound(2, 0.95) / 0.5)
    assert any("No false matches were observed in group C" in s for s in demographic_sentences(r))


def test_intersections_of_two_attributes():
    data = comparisons()
    meta = SubjectMetadata.from_mapping(
        {
            "group": GROUP,
            "band": {"a1": "x", "a2": "x", "a3": "y", "b1": "x", "b2": "x", "b3": "x"},
        }
    )
    g = meta.groups(["group", "band"], data.subjects)
    r = verification_differentials(data, g, threshold=0.5, bootstrap=0)
    assert r.attribute == "group × band"
    assert [x.group for x in r.groups] == ["A × x", "A × y", "B × x"]
    ax = r.group("A × x")  # a1, a2: pairs (a1,a2) match, (a2,a1) not
    assert (ax.false_positive.count, ax.false_positive.n) == (10, 20)
    assert (ax.false_negative.count, ax.false_negative.n) == (2, 16)


def test_threshold_rules_all_group_and_value():
    data = comparisons()
    g = groups_for(data)
    # whole data set at FMR 0.2: the 60 non-mated comparisons at 0.5 are exactly 0.2, the others
    # score 0.2; the lowest observed score above 0.2 (in either set) is the mated 0.3
    r = verification_differentials(data, g, threshold="all@0.2", bootstrap=0)
    assert r.threshold == 0.3 and r.threshold_source == "whole data set, FMR target 0.2"
    assert r.overall_false_positive.count == 60 and r.overall_false_negative.count == 0
    assert r.threshold_rule == {"kind": "all", "target": 0.2, "group": None, "value": None}
    # on group B alone at FMR 0.1: B-B has 10/60 >= 0.5, so the threshold must exceed 0.5;
    # the smallest observed score above 0.5 is 0.9
    r = verification_differentials(data, g, threshold="B@0.1", bootstrap=0)
    assert r.threshold == 0.9 and r.threshold_source == "reference group B, FMR target 0.1"
    assert r.group("A").false_positive.count == 0
    with pytest.raises(InputError, match="no group 'Z'"):
        verification_differentials(data, g, threshold="group=Z", bootstrap=0)


@pytest.mark.parametrize(
    "text, expect",
    [
        (None, ("all", 1e-3, None, None)),
        ("all", ("all", 1e-3, None, None)),
        ("all@1e-4", ("all", 1e-4, None, None)),
        ("female", ("group", 1e-3, "female", None)),
        ("female@0.01", ("group", 0.01, "female", None)),
        ("group=1", ("group", 1e-3, "1", None)),
        ("group=a@b", ("group", 1e-3, "a@b", None)),
        ("value=0.42", ("value", None, None, 0.42)),
        ("-0.3", ("value", None, None, -0.3)),
        (0.7, ("value", None, None, 0.7)),
    ],
)
def test_threshold_rule_grammar(text, expect):
    r = ThresholdRule.parse(text, default_target=1e-3)
    assert (r.kind, r.target, r.group, r.value) == expect


@pytest.mark.parametrize("text", ["all@2", "all@0", "value=x", "group=", "value=inf"])
def test_threshold_rule_errors(text):
    with pytest.raises(InputError):
        ThresholdRule.parse(text, default_target=1e-3)


def test_scores_without_subjects_are_refused():
    data = comparisons()
    data.nonmated_reference_subject = None
    with pytest.raises(InputError, match="probe_subject and reference_subject"):
        verification_differentials(data, groups_for(comparisons()), threshold=0.5)


def outcomes():
    # units: a1 a2 (group A), b1 b2 (group B), p9 (a non-mated probe of unknown subject)
    units = np.array(["a1", "a2", "b1", "b2", "p9"])
    mated_unit = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    mate_score = np.array([0.9, 0.4, 0.9, 0.9, 0.3, 0.2, 0.9, 0.4])
    mate_rank = np.array([1, 1, 1, 1, 1, 3, 1, 1])
    nonmated_unit = np.array([0, 1, 1, 2, 3, 3, 4])
    nonmated_top = np.array([0.6, 0.1, 0.7, 0.2, 0.1, 0.1, 0.8])
    return SearchOutcomes(
        gallery_size=10,
        list_length=5,
        mate_rank=mate_rank,
        mate_score=mate_score,
        wrong_top1_score=np.full(8, -np.inf),
        nonmated_top=nonmated_top,
        mated_unit=mated_unit,
        nonmated_unit=nonmated_unit,
        units=units,
        mated_probes=np.array([f"m{i}" for i in range(8)]),
        nonmated_probes=np.array([f"n{i}" for i in range(7)]),
    )


def test_identification_per_probe_group_hand_counts():
    o = outcomes()
    meta = SubjectMetadata.from_mapping({"group": {"a1": "A", "a2": "A", "b1": "B", "b2": "B"}})
    g = meta.groups(["group"], list(o.units))
    r = identification_differentials(o, g, threshold=0.5, bootstrap=100)
    a, b, u = r.group("A"), r.group("B"), r.group("unknown")
    # FPIR: A searches 0.6, 0.1, 0.7 -> 2 of 3; B 0.2, 0.1, 0.1 -> 0 of 3; unknown 0.8 -> 1/1.
    assert (a.false_positive.count, a.false_positive.n) == (2, 3)
    assert (b.false_positive.count, b.false_positive.n) == (0, 3)
    assert (u.false_positive.count, u.false_positive.n) == (1, 1)
    # FNIR (R = L): A mates 0.9 0.4 0.9 0.9 -> 1 of 4; B 0.3 0.2 0.9 0.4 -> 3 of 4.
    assert (a.false_negative.count, a.false_negative.n) == (1, 4)
    assert (b.false_negative.count, b.false_negative.n) == (3, 4)
    # R = 1: B's rank-3 mate counts as missed too (it already is, below T)
    r1 = identification_differentials(o, g, threshold=0.1, rank=1, bootstrap=0)
    assert r1.group("B").false_negative.count == 1  # 0.2 at rank 3 missed at R=1
    j = r.to_json()
    assert j["mode"] == "identification" and j["cross_fmr"] == []
    assert set(j["groups"][0]) >= {"group", "n_subjects", "fpir", "fnir", "supported"}
    assert r.results_key == "identification_demographics"
    assert "fpir_max_over_geomean" in j["summary"]
    assert j["coverage"]["subjects_without_metadata_examples"] == ["p9"]
