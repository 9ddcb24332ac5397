"""faceaudit.report.sentences: the words made from the figures (hand-checked and regressed).

The demographic sentences are made from the demographics JSON only (the analysis keeps no words
of its own); on the goldens they must equal the sentences recorded in
``tests/golden/demographic_sentences.json`` (the analysis's own wording when it still made them).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from faceaudit.report import sentences as words
from faceaudit.report._data import Node
from faceaudit.stats.support import support
from test_report_fixtures import full_results, impact_result
from test_results_schema import CASES, golden

DEMO_KEYS = ("demographics", "identification_demographics")


RECORDED = json.loads(
    (Path(__file__).parent / "golden" / "demographic_sentences.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES)
def test_demographic_sentences_on_the_goldens_are_the_recorded_ones(case):
    res = golden(case)
    for key in DEMO_KEYS:
        if key in res:
            assert words.demographic_sentences(Node(res[key])) == RECORDED[f"{case}/{key}"]
    assert {k.split("/")[0] for k in RECORDED} <= set(CASES)


@pytest.mark.parametrize("seed", range(6))
def test_demographic_sentences_on_random_data_name_the_differential(seed):
    from faceaudit.analyses.demographics import verification_differentials
    from faceaudit.data import ComparisonScores, SubjectMetadata

    rng = np.random.default_rng(seed)
    n, names = 45, ["a", "b", "c"][: 2 + seed % 2]
    group = rng.integers(0, len(names), n)
    p, r = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = p != r
    p, r = p[keep], r[keep]
    imp = rng.random(p.size) ** (1 + group[p])  # groups differ in FMR
    gs = np.repeat(np.arange(n), 4)
    gen = np.where(rng.random(gs.size) < 0.05 * (1 + group[gs]), 0.2, 1.0)
    subjects = [f"s{i}" for i in range(n)]
    data = ComparisonScores(
        mated=gen,
        nonmated=imp,
        mated_subject=gs.astype(np.int32),
        nonmated_subject=p.astype(np.int32),
        nonmated_reference_subject=r.astype(np.int32),
        subjects=subjects,
    )
    n_meta = n - (seed % 3)  # some subjects without metadata
    meta = SubjectMetadata.from_mapping(
        {"g": {s: names[group[i]] for i, s in enumerate(subjects[:n_meta])}}
    )
    target = (0.02, 0.1, 0.3)[seed % 3]
    demo = verification_differentials(
        data, meta.groups(["g"], subjects), threshold=f"all@{target}",
        bootstrap=(0, 100)[seed % 2], seed=seed, min_subjects=5,
    )  # fmt: skip
    said = words.demographic_sentences(demo)
    assert said == words.demographic_sentences(Node(demo.to_json()))  # a result or its JSON
    assert said and all(isinstance(s, str) and s.endswith(".") for s in said)
    # the groups differ in FMR by design: a sentence gives the worst group's FMR ratio
    ok = [g for g in demo.groups if g.fp_supported]
    worst = max(ok, key=lambda g: g.false_positive.value).group
    start = f"At this threshold, people in group {worst} are falsely matched"
    assert any(s.startswith(start) for s in said)


def test_rate_phrase_forms():
    conf = 0.95
    r = {"value": 9.5e-5, "ci": [7.8e-5, 1.1e-4], "count": 95, "n": 10**6, "upper_bound": False}
    assert words.rate_phrase(Node(r), conf, "non-mated comparisons", words.FMR_VERBS) == (
        "about 1 in 11,000 non-mated comparisons is falsely matched (9.50×10⁻⁵; 95% CI 1 in "
        "13,000 to 1 in 9,100)"
    )
    b = {"value": 0.0, "ci": [0.0, 3e-6], "count": 0, "n": 10**6, "upper_bound": True}
    assert words.rate_phrase(Node(b), conf, "non-mated comparisons", words.FMR_VERBS) == (
        "none of the 1,000,000 non-mated comparisons was falsely matched: the true rate is at "
        "most about 1 in 330,000 (≤ 3.00×10⁻⁶; no errors observed)"
    )
    big = {"value": 0.87, "ci": [0.8, 0.9], "count": 87, "n": 100, "upper_bound": False}
    assert words.rate_phrase(Node(big), conf, "searches", words.FNIR_VERBS).startswith(
        "about 87% of searches miss them (0.87; 95% CI 80% to 90%)"
    )


def test_support_text():
    assert words.support_text(1e-4, 12_000, "non-mated comparisons", None) == (
        "not supported by the data (needs ≥ 3/target = 30,000 non-mated comparisons; have 12,000)"
    )
    sup = Node(support(1e-3, 12_000, 12).to_json())
    assert words.support_text(1e-3, 12_000, "non-mated comparisons", sup) == (
        "not supported by the data (needs ≥ 3,689 non-mated comparisons from ≥ 30 people; have "
        "12,000 from 12)"
    )


def test_optimism_sentence_says_what_choosing_the_threshold_costs():
    o = Node(
        {
            "optimism": {
                "fnmr_bias": -0.001,
                "fnmr_bias_corrected": 0.051,
                "fmr_realised_mean": 0.0012,
                "fmr_realised_ratio": 1.2,
                "fnmr_optimism": 0.004,
            }
        }
    )
    assert words.optimism_sentence(o, "fmr", "fnmr", "FMR ≤ 10⁻³") == (
        "A threshold chosen on the data flatters it. At FMR ≤ 10⁻³, the bootstrap estimates that "
        "a threshold chosen this way gives, on new people, an FMR of 1.2× the target on average "
        "and an FNMR about 0.4 percentage points worse than it looks where it was chosen "
        "(bias-corrected FNMR: 0.051)."
    )
    assert words.optimism_sentence(Node({"optimism": None}), "fmr", "fnmr", "x") is None


def test_wrong_hits_phrase_reads_one_in_x_and_percentages():
    pts = Node(impact_result().to_json()).objs("points")
    by_pi = {round(p.num("prevalence"), 6): p for p in pts}
    low, high = by_pi[0.001], by_pi[0.9]
    # At 0.1% prevalence most hits are wrong: said as a share, not "1 in 1.1".
    assert words.wrong_hits_phrase(low, 0.95).startswith("about 92% of hits shown to an officer")
    text = words.wrong_hits_phrase(high, 0.95)
    fd = high.band("false_discovery")
    assert text.startswith(f"about {words.one_in(fd['value'])} (95% CI ")
    assert "hits shown to an officer is the wrong person (PPV 99%" in text


def test_impact_verdict_states_the_assumptions_and_each_group():
    imp = Node(full_results()["impact"])
    s = words.impact_sentences(imp, 0.95)
    assert s[0].startswith(
        "Under these assumptions — a gallery of 100,000, FPIR measured at that size, and 5% of "
        "the people searched truly enrolled — about 1 in 5.5 (95% CI 1 in 4.3 to 1 in 7.8) hits "
        "shown to an officer is the wrong person (PPV 82%"
    )
    assert s[0].endswith("based on n = 4,000 mated and 3,000 non-mated searches.")
    assert s[1].startswith("Of 1,000 people searched a day, expect about 45 (95% CI ")
    assert "0.5 of enrolled people shown someone else, 9.5 of people not enrolled" in s[1]
    assert s[2].startswith("For group A (assumed prevalence 1%; basis: stated: 1 in 100), about")
    assert s[3].startswith("For group B (assumed prevalence 0.2%; no basis stated: an assumption")


def test_field_log_sentences():
    log = Node(full_results()["field_log"])
    s = words.field_log_sentences(log)
    assert s[0].startswith(
        "In the field log of Metropolitan Police LFR, Sep 2024 - Sep 2025, 10 of 2,077 verified "
        "alerts were the wrong person: about 1 in 210 (95% CI 1 in 110 to 1 in 430) alerts is "
        "the wrong person (PPV 99.5%"
    )
    assert s[1].startswith("Per face scanned, about 1 in 310,000 faces raises a false alert")


def test_limitations_name_what_the_data_cannot_support():
    lim = words.limitations(Node(full_results()))
    text = " ".join(lim)
    assert "synthetic" in text
    assert "FMR targets 10⁻⁶ are not supported by the data" in text
    assert "At FMR targets 10⁻⁵ no error was observed" in text
    assert "Too few comparisons to support the FMR of group(s) unknown" in text
    assert "extrapolated 27,000× beyond the largest measured gallery (10,000)" in text
    assert "No basis was stated for the prevalence of group(s) B." in text


def test_limitations_say_a_rare_kind_of_person_can_be_absent_from_the_people_tested():
    from faceaudit.report.sentences.methods import _rare_kinds_text

    res = full_results()
    text = " ".join(words.limitations(Node(res)))
    # (1 - 1/k)^n > 5% for k < n / ln(20): 7,000 people -> 1 in 2,337; 100 -> 1 in 33
    assert "like the 7,000 tested: a kind of person rarer than about 1 in 2,337 has" in text
    res["verification"]["bootstrap"] = {"unit": "subject", "n_units": 1500}  # 1:1 first
    assert "like the 1,500 tested" in " ".join(words.limitations(Node(res)))
    assert "rarer than about 1 in 33 has more than a 5% chance" in _rare_kinds_text(100, 0.95)
    assert "1 in 217 has more than a 1% chance" in _rare_kinds_text(1000, 0.99)
    res["settings"]["bootstrap_unit"] = "comparison"
    for key in ("verification", "identification"):
        res[key]["bootstrap"]["unit"] = "comparison"
    assert "kind of person rarer" not in " ".join(words.limitations(Node(res)))


def test_beyond_the_data_in_words_says_which_end_lies_beyond():
    base = {"fmr": 4.3e-6, "smallest_fmr_shown": 1.0 / 600_000, "times_below": 0.39,
            "factor": 1.0, "flagged": True}  # fmt: skip
    band = words.beyond_data_text(Node({**base, "fmr_band_lower": 1.0e-6, "basis": "band"}),
                                  600_000, 0.694)  # fmt: skip
    assert "its band reaches down to 1 in 1,000,000" in band
    assert "cannot rule out a chance rarer than they can show" in band
    assert "times rarer still" not in band
    est = words.beyond_data_text(
        Node({**base, "fmr": 1e-9, "times_below": 1667.0, "fmr_band_lower": 1e-10,
              "basis": "estimate"}), 600_000)  # fmt: skip
    assert "1,667 times rarer still" in est and "its band reaches" not in est
    old = words.beyond_data_text(Node({**base, "fmr": 1e-9, "times_below": 1667.0}), 600_000)
    assert old == est  # results written before the band's end was recorded read the same


def test_the_methods_limits_say_when_only_the_band_lies_beyond_the_data():
    from faceaudit.report.sentences.methods import _scale_limits
    from test_report_fixtures import scale

    s = scale()
    est = " ".join(_scale_limits(Node(s)))
    assert "rarer than anything these comparisons can show" in est
    s["beyond_data"] = {**s["beyond_data"], "fmr": 2e-6, "times_below": 0.06,
                        "fmr_band_lower": 1e-7, "basis": "band"}  # fmt: skip
    band = " ".join(_scale_limits(Node(s)))
    assert "within what these comparisons can show, but its band is not" in band
    assert "rarer than anything these comparisons can show" not in band
