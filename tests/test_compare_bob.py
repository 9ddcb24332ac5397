"""bob score files as ``compare`` inputs: joined on (model, probe sample), subjects from the ids,
the same figures as the same comparisons given as score tables; errors name the line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from compare_systems_data import paired, write_csv
from faceaudit.analyses.system_comparison import compare_systems
from faceaudit.errors import InputError
from faceaudit.io.paired_scores import read_paired_scores


def write_bob(path, data, i, *, cols=5, order=None, header="# bob scores\n") -> None:
    """System ``i`` of ``data`` as a bob 4- or 5-column file (one probe sample per row)."""
    rows = []
    for k in range(data.n):
        claimed = data.subjects[data.reference_subject[k]]
        real = data.subjects[data.probe_subject[k]]
        s = data.scores[i][k]
        score = "nan" if np.isnan(s) else repr(float(s))
        if cols == 5:
            rows.append(f"{claimed} {claimed}_model {real} {real}_sample{k} {score}")
        else:
            rows.append(f"{claimed} {real} {real}_sample{k} {score}")
    if order is not None:
        rows = [rows[j] for j in order]
    path.write_text(header + "\n".join(rows) + "\n")


@pytest.fixture
def data():
    return paired(n_subjects=30, shifts=(0.0, 0.5), seed=7)


def _figures(p):
    r = compare_systems(p, fmr_targets=[1e-2], thresholds=[2.0], bootstrap=100, seed=1)
    return [(d.figure, d.target, d.paired.estimate, d.paired.low, d.paired.high)
            for d in r.differences]  # fmt: skip


@pytest.mark.parametrize("cols", [4, 5])
def test_bob_files_give_the_figures_of_the_same_score_tables(data, tmp_path, cols):
    a, b, ca, cb = (tmp_path / n for n in ("a", "b", "a.csv", "b.csv"))
    write_bob(a, data, 0, cols=cols)
    write_bob(b, data, 1, cols=cols, order=np.random.default_rng(0).permutation(data.n))
    write_csv(ca, data, 0)
    write_csv(cb, data, 1)
    from_bob = read_paired_scores([a, b], bob=True)
    assert from_bob.coverage.join == "probe and reference ids" and from_bob.n == data.n
    assert from_bob.subjects == data.subjects
    assert _figures(from_bob) == _figures(read_paired_scores([ca, cb]))


def test_comparisons_missing_from_one_file_are_counted_and_left_out(data, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_bob(a, data, 0)
    write_bob(b, data, 1, order=np.arange(data.n)[7:])
    p = read_paired_scores([a, b], bob=True)
    assert p.n == data.n - 7 and p.coverage.restricted
    assert [s.only_here for s in p.coverage.systems] == [7, 0]
    with pytest.raises(InputError, match="do not cover the same comparisons"):
        read_paired_scores([a, b], bob=True, coverage="strict")


def test_a_repeated_pair_names_its_line_past_comments(data, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_bob(a, data, 0)
    write_bob(b, data, 1, order=[0, 1, 2, 1], header="# one\n\n# two\n")
    with pytest.raises(InputError, match=r"b, line 7: repeats the comparison .* line 5"):
        read_paired_scores([a, b], bob=True)


def _run(*args) -> int:
    from faceaudit.cli import main

    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_compare_on_the_command_line_takes_bob_files(data, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_bob(a, data, 0)
    write_bob(b, data, 1)
    out = tmp_path / "cmp.json"
    assert _run("compare", "--bob", str(a), "--bob", str(b), "--fmr-target", "1e-2",
                "--bootstrap", "100", "--json", str(out), "--quiet") == 0  # fmt: skip
    c = json.loads(out.read_text())["compare"]
    assert c["coverage"]["join"] == "probe and reference ids"
    assert [s["n_mated"] for s in c["systems"]] == [int(data.mated.sum())] * 2
    assert _run("compare", "--bob", str(a), "--scores", str(b), "--quiet", "--json", "-") == 2
