"""1:N metrics: hand-checked values, brute-force cross-checks, exact thresholds, properties."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from faceaudit.analyses.identification import identify, identify_embeddings
from faceaudit.compare.search import split_enrolment
from faceaudit.data import CandidateLists, EmbeddingSet, ProbeTruth
from faceaudit.stats.identification import (
    cmc_counts,
    fnir_count,
    fpir_count,
    search_outcomes,
    threshold_curves,
    wrong_top1_count,
)
from faceaudit.synth import synthesize


def _lists(rows):
    """rows: list of (probe, [(candidate, score), ...])."""
    names = sorted({c for _, cs in rows for c, _ in cs})
    L = max(len(cs) for _, cs in rows)
    cand = np.full((len(rows), L), -1)
    sc = np.full((len(rows), L), -np.inf)
    for i, (_, cs) in enumerate(rows):
        for r, (c, s) in enumerate(cs):
            cand[i, r], sc[i, r] = names.index(c), s
    return CandidateLists(np.array([p for p, _ in rows]), cand, sc, np.array(names))


HAND = _lists(
    [
        ("m1", [("A", 0.9), ("B", 0.4)]),  # mate A at rank 1
        ("m2", [("C", 0.8), ("B", 0.6)]),  # mate B at rank 2, wrong person C at rank 1
        ("m3", [("A", 0.5), ("C", 0.3)]),  # mate D absent
        ("n1", [("B", 0.7), ("A", 0.2)]),
        ("n2", [("C", 0.3), ("A", 0.1)]),
        ("n3", []),  # returned nothing
    ]
)
HAND_TRUTH = ProbeTruth(
    np.array(["m1", "m2", "m3", "n1", "n2", "n3"]), np.array(["A", "B", "D", "", "", "X"])
)


def test_hand_example():
    o = search_outcomes(HAND, HAND_TRUTH, gallery_size=4, gallery_subjects=np.array(list("ABCD")))
    assert (o.n_mated, o.n_nonmated, o.list_length) == (3, 3, 2)
    assert o.mate_rank.tolist() == [1, 2, 0]
    assert o.mate_score.tolist() == [0.9, 0.6, -np.inf]
    assert o.wrong_top1_score.tolist() == [-np.inf, 0.8, 0.5]
    assert o.nonmated_top.tolist() == [0.7, 0.3, -np.inf]
    assert cmc_counts(o).tolist() == [1, 2]
    # FPIR(0.3) = n1, n2 -> 2/3; FNIR(R=2, 0.65) = m2 (0.6 < 0.65), m3 -> 2/3; R=1: also m2
    assert fpir_count(o, 0.3) == 2 and fpir_count(o, 0.31) == 1
    assert fnir_count(o, 0.65) == 2 and fnir_count(o, 0.6) == 1 and fnir_count(o, 0.6, rank=1) == 2
    assert wrong_top1_count(o, 0.5) == 2 and wrong_top1_count(o, 0.51) == 1
    from faceaudit.stats.rates import operating_threshold

    # FPIR <= 1/3 first holds above 0.3; the smallest observed score (top non-mated or mate
    # score) there is the mate score 0.6, where FPIR = 1/3 and FNIR = 1/3 (m3 only)
    ot = operating_threshold(o.nonmated_scores(), o.mate_scores(), 0.34)
    assert (ot.threshold, ot.negatives_ge, ot.positives_lt) == (0.6, 1, 1)
    r = identify(o, fpir_targets=[0.34], thresholds=[0.4], bootstrap=0)
    # 3 non-mated searches cannot support a target of 0.34 (rule of 3 needs >= 3 / 0.34)
    assert not r.operating_points[0].supported and r.operating_points[0].threshold is None
    op = r.operating_points[1]
    assert op.fpir_target is None and op.threshold == 0.4
    assert (op.fpir.count, op.fnir.count, op.fnir_rank1.count, op.wrong_top1.count) == (1, 1, 2, 2)
    j = r.to_json()
    assert j["cmc"][0]["rate"] == pytest.approx(1 / 3) and j["cmc"][1]["rate"] == pytest.approx(
        2 / 3
    )
    assert j["investigation"]["fpir_any_candidate"]["count"] == 2
    json.dumps(j, allow_nan=False)


def _brute(sim, gal_subj, probe_subj):
    """Per-search quantities straight from the full score matrix (one template per subject)."""
    order = np.argsort(-sim, axis=1, kind="stable")
    mated = np.isin(probe_subj, gal_subj)
    top = sim.max(axis=1)
    ranks, mate = [], []
    for i in np.nonzero(mated)[0]:
        col = int(np.nonzero(gal_subj == probe_subj[i])[0][0])
        mate.append(sim[i, col])
        ranks.append(int(np.nonzero(order[i] == col)[0][0]) + 1)
    wrong = [
        top[i] if gal_subj[order[i, 0]] != probe_subj[i] else -np.inf for i in np.nonzero(mated)[0]
    ]
    return mated, top, np.array(ranks), np.array(mate), np.array(wrong)


@pytest.fixture(scope="module")
def searched():
    d = synthesize(400, 3, dim=32, mated_mean=0.45, quality_spread=0.5, seed=11)
    es = EmbeddingSet.from_arrays(d.embeddings, d.subjects, samples=d.samples)
    g, p = split_enrolment(es, held_out=0.3, seed=2)
    result, found = identify_embeddings(g, p, list_length=20, bootstrap=200, seed=3)
    return g, p, result, found


def test_every_metric_matches_brute_force(searched):
    g, p, result, found = searched
    sim = p.embeddings.astype(np.float64) @ g.embeddings.T.astype(np.float64)
    mated, top, ranks, mate, wrong = _brute(sim, g.subjects, p.subjects)
    o = search_outcomes(
        found.lists,
        found.truth,
        gallery_size=found.gallery_size,
        gallery_subjects=found.gallery_subjects,
    )
    L = 20
    assert o.n_mated == mated.sum() and o.n_nonmated == (~mated).sum()
    tol = 1e-5
    for t in np.quantile(np.concatenate([top, mate]), [0.1, 0.3, 0.5, 0.7, 0.9, 0.99]):
        t = float(t) + tol / 3  # keep brute-force float64 and float32 search off exact ties
        assert fpir_count(o, t) == np.sum(top[~mated] >= t)
        for R in (1, 5, L):
            assert fnir_count(o, t, rank=R) == np.sum(~((ranks <= R) & (mate >= t)))
        assert wrong_top1_count(o, t) == np.sum(wrong >= t)
    want_cmc = [np.sum(ranks <= r) for r in range(1, L + 1)]
    assert cmc_counts(o).tolist() == want_cmc
    j = result.to_json()
    assert [c["count"] for c in j["cmc"]] == want_cmc


def _best_threshold(neg, pos, target):
    """Exhaustive: the smallest observed threshold with FPIR <= target (lowest FNIR)."""
    cands = np.unique(np.concatenate([neg, pos, [np.inf]]))
    ok = [t for t in cands if np.mean(neg >= t) <= target + 1e-15]
    fn = [np.sum(pos < t) for t in ok]
    best = min(fn)
    return min(t for t, f in zip(ok, fn, strict=True) if f == best)


def test_thresholds_are_exact_and_best(searched):
    _, _, result, found = searched
    o = search_outcomes(
        found.lists,
        found.truth,
        gallery_size=found.gallery_size,
        gallery_subjects=found.gallery_subjects,
    )
    neg = o.nonmated_top
    pos = o.mate_scores().scores
    for op in result.operating_points:
        if not op.supported:  # too few searches (rule of 3 at 97.5%) or too few people
            s = op.support
            assert not s.supported and s.n_comparisons == o.n_nonmated
            assert op.fpir_target * o.n_nonmated < -np.log(0.025) or s.n_subjects < 30
            continue
        t = _best_threshold(neg, pos, op.fpir_target)
        assert op.threshold == t
        assert op.fpir.count == np.sum(neg >= t) and op.fnir.count == np.sum(pos < t)
        assert op.fpir.value <= op.fpir_target
        lo, hi = op.fpir.ci
        assert lo <= op.fpir.value <= hi or op.fpir.count == 0


def test_candidate_path_equals_embedding_path(searched, tmp_path):
    from faceaudit.analyses.identification import identify_candidates
    from faceaudit.io.candidates import load_candidate_search

    _, _, result, found = searched
    found.lists.to_frame().to_csv(tmp_path / "c.csv", index=False)
    (tmp_path / "t.csv").write_text(
        "probe,subject\n"
        + "".join(
            f"{a},{b}\n" for a, b in zip(found.truth.probes, found.truth.subjects, strict=True)
        )
    )
    (tmp_path / "g.txt").write_text("\n".join(found.gallery_subjects) + "\n")
    s = load_candidate_search(tmp_path / "c.csv", tmp_path / "t.csv", gallery=tmp_path / "g.txt")
    other = identify_candidates(s, bootstrap=200, seed=3)
    a, b = result.to_json(), other.to_json()
    for key in (
        "gallery_size",
        "n_mated",
        "n_nonmated",
        "operating_points",
        "cmc",
        "investigation",
        "curve",
    ):
        assert a[key] == b[key], key


def test_cli_identify_both_paths_agree(tmp_path):
    from faceaudit import cli

    d = synthesize(150, 3, dim=16, mated_mean=0.5, seed=21)
    from faceaudit.synth import split_gallery_probes

    g, p = split_gallery_probes(d, held_out_subjects=40, seed=1)
    g.save(tmp_path / "g.npz")
    p.save(tmp_path / "p.npz")
    cli.main(
        [
            "identify",
            "--gallery",
            str(tmp_path / "g.npz"),
            "--probes",
            str(tmp_path / "p.npz"),
            "--out",
            str(tmp_path / "a"),
            "--write-candidates",
            "--bootstrap",
            "100",
            "-q",
        ]
    )
    a = tmp_path / "a"
    ra = json.loads((a / "results.json").read_text())
    # the black-box files it wrote give the same audit, with the gallery as a list or a size
    for name, gallery in [
        ("b", ["--gallery-subjects", str(a / "gallery_subjects.txt")]),
        ("c", ["--gallery-size", "110"]),
    ]:
        cli.main(
            [
                "identify",
                "--candidates",
                str(a / "candidates.csv"),
                "--truth",
                str(a / "truth.csv"),
                *gallery,
                "--out",
                str(tmp_path / name),
                "--bootstrap",
                "100",
                "-q",
            ]
        )
        rb = json.loads((tmp_path / name / "results.json").read_text())
        for key in ("gallery_size", "n_mated", "n_nonmated", "operating_points", "cmc", "curve"):
            assert ra["identification"][key] == rb["identification"][key], (name, key)
    assert ra["synthetic"] is True and "SYNTHETIC" in ra["title"]
    assert {i["path"] for i in ra["inputs"]} == {str(tmp_path / "g.npz"), str(tmp_path / "p.npz")}
    assert all(len(i["sha256"]) == 64 and i["records"] > 0 for i in ra["inputs"])
    assert (a / "report.html").is_file()
    with pytest.raises(SystemExit) as info:  # refuses an existing folder
        cli.main(
            [
                "identify",
                "--gallery",
                str(tmp_path / "g.npz"),
                "--probes",
                str(tmp_path / "p.npz"),
                "--out",
                str(a),
                "-q",
            ]
        )
    assert info.value.code == 2


@st.composite
def outcomes(draw):
    n = draw(st.integers(1, 12))
    L = draw(st.integers(1, 5))
    subjects = [f"s{i}" for i in range(6)]
    rows = []
    truth = []
    for i in range(n):
        k = draw(st.integers(0, L))
        cands = draw(st.permutations(subjects))[:k]
        scores = sorted(draw(st.lists(st.floats(-1, 1), min_size=k, max_size=k)), reverse=True)
        rows.append((f"p{i}", list(zip(cands, scores, strict=True))))
        truth.append(draw(st.sampled_from(subjects + ["", "z"])))
    if all(len(cs) == 0 for _, cs in rows):
        rows[0] = ("p0", [("s0", 0.0)])
    return search_outcomes(
        _lists(rows),
        ProbeTruth(np.array([p for p, _ in rows]), np.array(truth)),
        gallery_size=6,
        gallery_subjects=np.array(subjects),
    )


@given(outcomes(), st.lists(st.floats(-1.5, 1.5), min_size=2, max_size=6))
def test_rates_are_monotone_in_threshold_and_cmc_in_rank(o, ts):
    ts = sorted(ts)
    fp = [fpir_count(o, t) for t in ts]
    fn = [fnir_count(o, t) for t in ts]
    wt = [wrong_top1_count(o, t) for t in ts]
    assert fp == sorted(fp, reverse=True) and wt == sorted(wt, reverse=True)
    assert fn == sorted(fn)
    c = cmc_counts(o)
    assert (np.diff(c) >= 0).all()
    if o.n_mated and o.list_length:
        assert c[-1] == o.n_mated - fnir_count(o, -np.inf)
    curve = threshold_curves(o)
    assert (np.diff(curve.fpir) <= 0).all() and (np.diff(curve.fnir) >= 0).all()


def test_curves_are_thinned_to_the_limit(searched):
    _, _, result, found = searched
    o = search_outcomes(
        found.lists,
        found.truth,
        gallery_size=found.gallery_size,
        gallery_subjects=found.gallery_subjects,
    )
    c = threshold_curves(o, max_points=100)
    assert len(c.threshold) <= 100 and (np.diff(c.threshold) > 0).all()
    assert len(result.to_json()["curve"]["threshold"]) <= 1000
