"""The report renders the ``demographics`` key this analysis writes (figures, table, sentences)."""

import html
import json
import warnings

import numpy as np
import pytest

from faceaudit.analyses.demographics import verification_differentials
from faceaudit.analyses.verification import verify
from faceaudit.audits import Run
from faceaudit.data import ComparisonScores, SubjectMetadata
from faceaudit.output import dump_json
from faceaudit.report import ReportWarning, write_report
from faceaudit.report.sentences import demographic_sentences


def scores_and_groups(names):
    rng = np.random.default_rng(7)
    n = 120  # 40 people per group (at most 3 groups): enough for supported group rates
    group = np.arange(n) % len(names)
    p, r = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = p != r
    p, r = p[keep], r[keep]
    u = rng.random(p.size)
    same = group[p] == group[r]
    imp = np.where(same & (group[p] == 0), 1 - 0.2 * u, u)  # group 0: 5x FMR within
    gs = np.repeat(np.arange(n), 6)
    gen = np.where(rng.random(gs.size) < np.where(group[gs] == 1, 0.2, 0.05), 0.3, 1.0)
    subjects = [f"s{i}" for i in range(n)]
    data = ComparisonScores(
        mated=gen,
        nonmated=imp,
        mated_subject=gs.astype(np.int32),
        nonmated_subject=p.astype(np.int32),
        nonmated_reference_subject=r.astype(np.int32),
        subjects=subjects,
    )
    mapping = {s: names[group[i]] for i, s in enumerate(subjects[:-3])}  # 3 without metadata
    meta = SubjectMetadata.from_mapping({"sex": mapping})
    return data, meta.groups(["sex"], subjects)


@pytest.mark.parametrize("names", [["female", "male"], ["<b>x</b>", "a&b", "ok"]])
def test_report_renders_the_demographics_json(tmp_path, names):
    data, groups = scores_and_groups(names)
    v = verify(data, bootstrap=0)
    demo = verification_differentials(
        data, groups, threshold="all@0.05", bootstrap=200, verification=v
    )
    run = Run("demographics", {"verification": v}, settings={"confidence": 0.95})
    results = run.with_analysis("demographics", demo, warnings=demo.warnings).to_json()
    assert json.loads(dump_json(results))["demographics"] == demo.to_json()  # plain JSON
    assert results["warnings"] and "have no row in the metadata" in results["warnings"][0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReportWarning)
        path = write_report(results, tmp_path)
    page = path.read_text(encoding="utf-8")
    assert "Demographic differentials" in page
    assert (tmp_path / "figures" / "group_rates.svg").is_file()
    assert (tmp_path / "figures" / "cross_fmr.svg").is_file()
    text = html.unescape(page)
    for name in names + ["unknown"]:
        assert name in text
    assert "<b>x</b>" not in page  # escaped, never markup
    assert demographic_sentences(demo)[0] in text
    assert "Cross-group FMR" in page and "FMR max over geomean" in page
    assert demo.threshold_source in page
    j = results["demographics"]
    # ratio columns come from fmr_ratio / fnmr_ratio
    assert "FMR ratio to best" in page and j["groups"][0]["fmr_ratio"]["value"] is not None


def test_report_renders_the_1n_demographics_key(tmp_path):
    from faceaudit.analyses.demographics import identification_differentials
    from faceaudit.stats.identification import SearchOutcomes

    rng = np.random.default_rng(3)
    n_units = 40
    units = np.array([f"s{i}" for i in range(n_units)])
    unit = np.repeat(np.arange(n_units), 20)
    o = SearchOutcomes(
        gallery_size=500,
        list_length=20,
        mate_rank=np.ones(unit.size, dtype=np.int64),
        mate_score=rng.normal(0.7, 0.1, unit.size),
        wrong_top1_score=np.full(unit.size, -np.inf),
        nonmated_top=rng.normal(0.3, 0.1, unit.size) + 0.1 * (unit % 2 == 0),
        mated_unit=unit,
        nonmated_unit=unit,
        units=units,
        mated_probes=np.array([f"m{i}" for i in range(unit.size)]),
        nonmated_probes=np.array([f"n{i}" for i in range(unit.size)]),
    )
    meta = SubjectMetadata.from_mapping({"sex": {u: "FM"[i % 2] for i, u in enumerate(units)}})
    demo = identification_differentials(
        o, meta.groups(["sex"], list(units)), threshold="all@0.05", bootstrap=200
    )
    results = Run("1:N demographics", {demo.results_key: demo}).to_json()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReportWarning)
        page = html.unescape(write_report(results, tmp_path).read_text(encoding="utf-8"))
    assert demographic_sentences(demo)[0] in page
    assert "FPIR" in page and "whole data set, FPIR target 0.05" in page
