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
