"""Did the upgrade reduce the differential? ``compare --by``: every group's rates in every system
and their paired changes from one stratified subject bootstrap shared by all systems."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import norm

from compare_systems_data import MU, SC, SE, SU, paired
from faceaudit.analyses._demographics_vocabulary import _VERIFY
from faceaudit.analyses._system_comparison_groups import compare_groups, score_system_sets
from faceaudit.analyses.demographics import ThresholdRule, verification_differentials
from faceaudit.audits import GroupBy
from faceaudit.audits.compare import audit_compare
from faceaudit.data import SubjectMetadata
from faceaudit.errors import InputError
from faceaudit.report._data import Node
from faceaudit.report.sentences.systems_groups import group_difference_sentence

SD = math.sqrt(SU**2 + SC**2 + SE**2)


def _meta(data) -> SubjectMetadata:
    return SubjectMetadata.from_mapping(
        {"sex": {s: ("f" if i % 2 else "m") for i, s in enumerate(data.subjects)}}
    )


def _worse_for_f(data, shift: float):
    """System A's mated scores lowered by ``shift`` for group f's people (B unchanged)."""
    f = (data.probe_subject % 2 == 1) & data.mated
    return replace(data, scores=(data.scores[0] - np.where(f, shift, 0.0), *data.scores[1:]))


def _groups(data, rule="all@1e-2", thresholds=(), bootstrap=200, seed=0, adjustment="holm"):
    """The demographic part alone (what ``audit_compare(..., demographics=...)`` adds)."""
    rules = [ThresholdRule.parse(rule, default_target=1e-3)]
    rules += [ThresholdRule("value", value=t, label=f"{t:g}") for t in thresholds]
    return compare_groups(data.names, score_system_sets(data),
                          _meta(data).groups(["sex"], data.subjects), vocab=_VERIFY, rules=rules,
                          bootstrap=bootstrap, confidence=0.95, seed=seed, adjustment=adjustment,
                          orientation="similarity")  # fmt: skip


def _diff(g, figure, group=None, point=0):
    for d in g.differences:
        if d.figure == figure and d.group == group and d.point == point:
            return d
    raise AssertionError(f"no {figure} {group} difference at point {point}")


def test_each_system_gets_exactly_the_one_system_analysis():
    """No failure to acquire: the shared design is each system's own; rates and CIs identical."""
    data = paired(n_subjects=60, shifts=(0.0, 0.4), seed=4)
    g = _groups(data, bootstrap=150, seed=3)
    groups = _meta(data).groups(["sex"], data.subjects)
    for i in range(2):
        alone = verification_differentials(data.system(i), groups, threshold="all@1e-2",
                                           bootstrap=150, seed=3).to_json()  # fmt: skip
        mine = g.points[0]["systems"][i]
        assert mine["threshold"] == alone["threshold"]
        assert mine["groups"] == alone["groups"]  # counts, n, intervals, ratios, flags
        for k in ("fnmr_max_over_geomean", "fmr_max_over_min"):
            assert mine["summary"][k] == alone["summary"][k]


def test_group_rates_are_the_hand_counts_at_each_systems_threshold():
    data = paired(n_subjects=40, shifts=(0.0, 0.3), seed=1)
    g = _groups(data, rule="all@1e-2", thresholds=[2.0], bootstrap=50)
    sex = data.probe_subject % 2  # 1: f
    ref_sex = data.reference_subject % 2
    for p, point in enumerate(g.points):
        for i, sys_ in enumerate(point["systems"]):
            t, s = sys_["threshold"], data.scores[i]
            assert p == 0 or t == 2.0
            for row in sys_["groups"]:
                k = 1 if row["group"] == "f" else 0
                gen = data.mated & (sex == k)
                imp = ~data.mated & (sex == k) & (ref_sex == k)
                assert (row["fnmr"]["count"], row["fnmr"]["n"]) == (int((s[gen] < t).sum()),
                                                                    int(gen.sum()))  # fmt: skip
                assert (row["fmr"]["count"], row["fmr"]["n"]) == (int((s[imp] >= t).sum()),
                                                                  int(imp.sum()))  # fmt: skip
    d = _diff(g, "group_fnmr", "f", point=1)
    a, b = g.points[1]["systems"][0]["groups"][0]["fnmr"], g.points[1]["systems"][1]["groups"][0]
    assert d.paired.estimate == pytest.approx(a["value"] - b["fnmr"]["value"])


def test_a_planted_change_in_one_group_is_found_and_covered():
    t, shift = 2.0, 0.8
    data = _worse_for_f(paired(n_subjects=120, shifts=(0.0, 0.0), seed=3), shift)
    g = _groups(data, rule=f"value={t}", bootstrap=300, seed=1)
    truth = norm.cdf((t - MU + shift) / SD) - norm.cdf((t - MU) / SD)  # FNMR_A - FNMR_B in f
    d = _diff(g, "group_fnmr", "f")
    assert d.paired.low <= truth <= d.paired.high and d.paired.low > 0
    assert d.paired.width < d.unpaired.width
    m = _diff(g, "group_fnmr", "m")
    assert m.indistinguishable  # nothing changed for m
    s = group_difference_sentence(Node(d.to_json()), label="at threshold 2", confidence=0.95,
                                  pairs=1, method="holm")  # fmt: skip
    assert s.startswith("At threshold 2, in group f, B falsely rejects fewer mated comparisons "
                        "than A: FNMR")  # fmt: skip
    assert "paired by subject" in s and "cannot tell" not in s


def test_the_reduced_differential_is_detected_in_the_summaries():
    data = _worse_for_f(paired(n_subjects=160, shifts=(0.0, 0.0), seed=8, nonmated=10), 1.0)
    g = _groups(data, rule="value=2.0", bootstrap=300, seed=2)
    for stat in ("fnmr_max_over_geomean", "fnmr_max_over_min"):
        d = _diff(g, stat)
        assert d.groups_compared == ("f", "m")
        assert d.paired.low > 0, stat  # A's differential is larger: B reduced it
        assert d.value_a.value > d.value_b.value >= 1.0
    s = group_difference_sentence(Node(_diff(g, "fnmr_max_over_min").to_json()),
                                  label="at threshold 2", confidence=0.95, pairs=1,
                                  method="holm")  # fmt: skip
    assert "B has a smaller FNMR differential than A (max / min over groups f, m)" in s


def test_a_system_against_itself_changes_by_exactly_zero():
    data = paired(n_subjects=40, shifts=(0.0, 0.0), seed=2)
    data = replace(data, scores=(data.scores[0], data.scores[0].copy()))
    g = _groups(data, thresholds=[2.0], bootstrap=100)
    assert g.differences
    for d in g.differences:
        assert d.paired.estimate == 0 and d.paired.low == 0 and d.paired.high == 0
        assert d.indistinguishable


def test_no_difference_covers_zero_at_about_the_nominal_rate():
    """100 seeds of exchangeable systems (30 people a group): each group's 95% paired interval
    holds 0 in 88-100 of them, and so does the change of each supported summary."""
    hits: dict = {}
    for seed in range(100):
        data = paired(n_subjects=60, shifts=(0.0, 0.0), seed=seed, nonmated=10)
        g = _groups(data, rule="value=2.0", bootstrap=150, seed=seed)
        for d in g.differences:
            h = hits.setdefault((d.figure, d.group), [0, 0])
            h[0] += bool(d.paired.low <= 0.0 <= d.paired.high)
            h[1] += 1
    for key in [("group_fnmr", "f"), ("group_fnmr", "m"), ("group_fmr", "f"), ("group_fmr", "m"),
                ("fnmr_max_over_geomean", None), ("fnmr_max_over_min", None)]:  # fmt: skip
        covered, n = hits[key]
        assert n == 100 and 88 <= covered <= 100, (key, covered)


def test_more_than_two_systems_every_pair_adjusted():
    data = paired(n_subjects=40, shifts=(0.0, 0.3, 0.6), seed=5)
    g = _groups(data, rule="value=2.0", bootstrap=100)
    pairs = {(d.a, d.b) for d in g.differences if d.figure == "group_fnmr" and d.group == "f"}
    assert pairs == {("A", "B"), ("A", "C"), ("B", "C")}
    for d in g.differences:
        assert d.adjusted_p >= d.p_value


def test_subjects_are_needed_on_both_sides():
    data = paired(n_subjects=20, seed=1)
    data = replace(data, reference_subject=None)
    with pytest.raises(InputError, match="subject of both sides"):
        audit_compare(data, fmr_targets=[1e-2], bootstrap=0,
                      demographics=GroupBy(_meta(data), "sex"))  # fmt: skip


def test_an_unsupported_group_is_flagged_in_its_sentence():
    d = {
        "figure": "group_fmr", "rate": "fmr", "operating_point": 0, "group": "f",
        "groups_compared": [], "a": "A", "b": "B",
        "value_a": {"value": 0.004, "ci": None, "count": 4, "n": 1000},
        "value_b": {"value": 0.001, "ci": None, "count": 1, "n": 1000},
        "supported_a": True, "supported_b": False, "difference": 0.003, "ci": [-0.001, 0.007],
        "unpaired_ci": [-0.002, 0.008], "replicates": 1000, "dropped_replicates": 0,
        "p_value": 0.2, "adjusted_p": 0.2, "indistinguishable": True,
    }  # fmt: skip
    s = group_difference_sentence(Node(d), label="at threshold 0.5", confidence=0.95, pairs=1,
                                  method="holm")  # fmt: skip
    assert s == (
        "At threshold 0.5, in group f, B and A (FMR): FMR 0.1% vs 0.4%, a difference of -0.3 "
        "points (95% CI -0.7 to 0.1), paired by subject; the data cannot tell them apart (the "
        "group's FMR is not supported by the data in B: too few comparisons or people behind it)."
    )


def _cli(*args) -> int:
    from faceaudit.cli import main

    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_compare_by_on_the_command_line_writes_sentences_table_and_bars(tmp_path):
    import json

    from compare_systems_data import write_csv

    data = _worse_for_f(paired(n_subjects=60, shifts=(0.0, 0.0), seed=7), 0.8)
    a, b, meta = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "people.csv"
    write_csv(a, data, 0)
    write_csv(b, data, 1)
    meta.write_text("subject,sex\n" + "".join(f"{s},{'f' if i % 2 else 'm'}\n"
                                              for i, s in enumerate(data.subjects)))  # fmt: skip
    out = tmp_path / "cmp"
    code = _cli("compare", "--scores", str(a), "--scores", str(b), "--name", "old", "--name",
                "new", "--metadata", str(meta), "--by", "sex", "--threshold-from", "all@1e-2",
                "--threshold", "2.0", "--fmr-target", "1e-2", "--bootstrap", "100", "--out",
                str(out), "--quiet")  # fmt: skip
    assert code == 0
    r = json.loads((out / "results.json").read_text())  # schema-checked by conftest
    g = r["compare"]["demographics"]
    assert r["settings"]["demographics_by"] == "sex"
    assert [p["label"] for p in g["operating_points"]] == [
        "each system's own threshold for FMR 0.01 on the whole data set",
        "threshold 2",
    ]
    assert any(i["path"].endswith("people.csv") for i in r["inputs"])
    html = (out / "report.html").read_text()
    assert "Did the differential change? Groups by sex" in html
    assert "in group f, new falsely rejects fewer mated comparisons than old" in html
    assert (out / "figures" / "compare_group_differences.svg").exists()


def test_compare_by_on_candidate_lists_gives_fnir_and_fpir_by_group_and_the_overlays(tmp_path):
    import json

    import pandas as pd

    from test_compare_cli import CANDIDATES, TRUTH, _better_lists

    better, meta = tmp_path / "better.csv", tmp_path / "people.csv"
    _better_lists(better, 0.08)
    truth = pd.read_csv(TRUTH, keep_default_na=False)
    people = sorted(set(truth["subject"]) - {""})
    pd.DataFrame({"subject": people, "sex": ["f" if i % 2 else "m" for i in range(len(people))]}
                 ).to_csv(meta, index=False)  # fmt: skip
    out = tmp_path / "cmp"
    code = _cli("compare", "--candidates", str(CANDIDATES), "--candidates", str(better),
                "--name", "old", "--name", "new", "--truth", str(TRUTH), "--gallery-size", "280",
                "--metadata", str(meta), "--by", "sex", "--bootstrap", "100", "--out", str(out),
                "--quiet")  # fmt: skip
    assert code == 0
    c = json.loads((out / "results.json").read_text())["compare"]
    g = c["demographics"]
    assert g["rates"] == ["fpir", "fnir"]
    fnir = {d["group"]: d for d in g["differences"] if d["figure"] == "group_fnir"}
    assert set(fnir) == {"f", "m"}
    assert all(d["difference"] > 0 and d["ci"][0] > 0 for d in fnir.values())  # new misses fewer
    for s in c["systems"]:
        cmc = [p["identification_rate"] for p in s["cmc"]]
        assert cmc == sorted(cmc) and s["cmc"][0]["rank"] == 1
        assert 1 - cmc[0] == pytest.approx(s["fnir_rank1"]["value"])
        assert len(s["det"]["threshold"]) == len(s["det"]["fpir"])
    for name in ("compare_cmc", "compare_fpir_fnir", "compare_group_differences"):
        assert (out / "figures" / f"{name}.svg").exists(), name


def test_each_system_gets_exactly_the_one_system_analysis_in_1n(tmp_path):
    """1:N: every system's per-group FPIR/FNIR rows are those of ``identification_differentials``
    on its own outcomes with the same seed (the shared design is each system's own)."""
    from faceaudit.analyses._demographics_vocabulary import _IDENTIFY
    from faceaudit.analyses._system_comparison_groups import search_system_sets
    from faceaudit.analyses.demographics import identification_differentials
    from faceaudit.io.paired_scores import read_paired_candidates
    from faceaudit.stats.identification import search_outcomes
    from test_compare_cli import CANDIDATES, TRUTH, _better_lists

    better = tmp_path / "better.csv"
    _better_lists(better, 0.05)
    data = read_paired_candidates([CANDIDATES, better], TRUTH, gallery_size=280)
    outcomes = [
        search_outcomes(
            s.lists, s.truth, gallery_size=s.gallery_size, gallery_subjects=s.gallery_subjects
        )  # fmt: skip
        for s in data.searches
    ]
    units = [str(u) for u in outcomes[0].units]
    meta = SubjectMetadata.from_mapping({"band": {u: "ab"[i % 2] for i, u in enumerate(units)}})
    groups = meta.groups(["band"], units)
    g = compare_groups(data.names, search_system_sets(outcomes, None), groups, vocab=_IDENTIFY,
                       rules=[ThresholdRule.parse("all@0.05", default_target=0.01)],
                       bootstrap=120, confidence=0.95, seed=4, adjustment="holm",
                       orientation="similarity")  # fmt: skip
    for i, o in enumerate(outcomes):
        alone = identification_differentials(o, groups, threshold="all@0.05", bootstrap=120,
                                             seed=4).to_json()  # fmt: skip
        mine = g.points[0]["systems"][i]
        assert mine["threshold"] == alone["threshold"]
        assert mine["groups"] == alone["groups"]
    assert {d.figure for d in g.differences} >= {"group_fnir", "group_fpir"}
