"""Warnings for data or settings that make figures look valid when they are not (issue 9)."""

from __future__ import annotations

import json

import numpy as np

from faceaudit.cli import main


def run_json(capsys, *args) -> dict:
    try:
        main([*args, "--json", "-", "--quiet"])
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def bob_file(tmp_path, mated_mean, nonmated_mean):
    rng = np.random.default_rng(0)
    path = tmp_path / "scores-dev"
    with open(path, "w") as fh:
        for i in range(30):
            for j in range(30):
                s = rng.normal(mated_mean if i == j else nonmated_mean, 0.1)
                fh.write(f"s{i} s{j} s{j}_x {s:.4f}\n")
    return path


def test_inverted_looking_scores_are_flagged(tmp_path, capsys):
    path = bob_file(tmp_path, 0.3, 0.8)  # distances read as similarities
    w = run_json(capsys, "errors", "--bob", str(path), "--bootstrap", "0")["warnings"]
    assert any("look inverted" in x and "--distance" in x for x in w)
    w = run_json(capsys, "errors", "--bob", str(path), "--distance", "--bootstrap", "0")
    assert not any("look inverted" in x for x in w["warnings"])


def test_a_threshold_beyond_every_score_is_flagged(tmp_path, capsys):
    path = bob_file(tmp_path, 0.8, 0.3)
    w = run_json(capsys, "errors", "--bob", str(path), "--threshold", "5", "--bootstrap", "0")
    assert any("threshold 5 lies outside every observed score" in x for x in w["warnings"])
    w = run_json(capsys, "errors", "--bob", str(path), "--threshold", "0.5", "--bootstrap", "0")
    assert not any("outside every observed score" in x for x in w["warnings"])


def test_placeholder_scores_far_outside_the_rest_are_counted_and_the_histogram_stays_finite(
    tmp_path,
):
    """+-1e308 placeholders among real scores: one warning with their count; every histogram
    edge finite (lo + (hi - lo) t would overflow); the figures drawn."""
    import math

    rng = np.random.default_rng(0)
    rows = ["score,mated,probe_subject,reference_subject"]
    for i in range(200):
        rows.append(f"{1e308 if i % 7 == 0 else rng.random()},1,s{i % 40},s{i % 40}")
    for i in range(2000):
        rows.append(f"{-1e308 if i % 11 == 0 else rng.random() - 0.5},0,s{i % 40},s{(i + 1) % 40}")
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "o"
    try:
        main(["errors", "--scores", str(tmp_path / "s.csv"), "--out", str(out), "-q",
              "--bootstrap", "0"])  # fmt: skip
    except SystemExit as e:
        assert not e.code
    res = json.loads((out / "results.json").read_text())
    far = [w for w in res["warnings"] if "far outside the rest" in w]
    assert len(far) == 1 and far[0].startswith(f"{29 + 182} scores")
    assert all(math.isfinite(e) for e in res["verification"]["histogram"]["edges"])
    # the figures are drawn all the same (the score axis in units of 10^308)
    assert (out / "figures" / "score_histogram.svg").exists()
    assert (out / "figures" / "det.svg").exists()


def test_ordinary_scores_raise_no_placeholder_warning():
    from faceaudit.analyses.verification import far_outside_warnings
    from faceaudit.stats.scoreset import ScoreSet

    rng = np.random.default_rng(1)
    g, i = ScoreSet(rng.normal(0.6, 0.1, 500)), ScoreSet(rng.normal(0.0, 0.1, 5000))
    assert far_outside_warnings(g, i) == []
