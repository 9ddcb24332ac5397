"""End to end: ``faceaudit compare`` on score tables, as a user runs it; bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from compare_systems_data import paired, write_csv
from faceaudit.cli import main
from faceaudit.errors import InputError
from faceaudit.io.paired_scores import read_paired_scores


def run(*args) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def tables(tmp_path):
    data = paired(n_subjects=30, shifts=(0.0, 0.5), seed=7, names=("A", "B"))
    a, b = tmp_path / "vendor_a.csv", tmp_path / "vendor_b.csv"
    write_csv(a, data, 0)
    rng = np.random.default_rng(0)
    write_csv(b, data, 1, order=rng.permutation(data.n)[: data.n - 9])  # shuffled, 9 missing
    return a, b, data


def test_compare_writes_report_and_results(tables, tmp_path):
    a, b, data = tables
    out = tmp_path / "cmp"
    code = run("compare", "--scores", str(a), "--scores", str(b), "--name", "Old <v1>",
               "--name", "New & improved", "--threshold", "2.0", "--fmr-target", "1e-2",
               "--bootstrap", "100", "--out", str(out), "--quiet")  # fmt: skip
    assert code == 0
    res = json.loads((out / "results.json").read_text())
    c = res["compare"]
    assert [s["name"] for s in c["systems"]] == ["Old <v1>", "New & improved"]
    assert c["coverage"]["join"] == "probe and reference ids"
    assert c["coverage"]["restricted_to_common"] is True
    assert c["coverage"]["common"] == data.n - 9
    assert [s["only_this_system"] for s in c["coverage"]["systems"]] == [9, 0]
    assert any("do not cover the same comparisons" in w and "9" in w for w in res["warnings"])
    assert {d["figure"] for d in c["differences"]} == {
        "fnmr_at_fmr", "fmr_at_threshold", "fnmr_at_threshold", "eer"}  # fmt: skip
    html = (out / "report.html").read_text()
    assert "Paired comparison of systems" in html
    assert "Old &lt;v1&gt;" in html and "<v1>" not in html  # escaped everywhere
    assert "paired by subject" in html and "<svg" in html
    assert "left out" in html  # the restriction to the common set is said in the report


def test_row_order_join_checks_the_subjects(tables, tmp_path):
    _, _, data = tables
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(a, data, 0, ids=False)
    write_csv(b, data, 1, ids=False)
    p = read_paired_scores([a, b])
    assert p.coverage.join == "row order" and p.n == data.n
    write_csv(b, data, 1, ids=False, order=np.r_[1, 0, 2 : data.n])  # two rows swapped
    with pytest.raises(InputError, match=r"b\.csv, line 2: the (mated flag|probe subject|refer)"):
        read_paired_scores([a, b])


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("one", "at least two score files"),
        ("dup", "given twice"),
        ("names", "one name per file"),
        ("rows", "joined on row order"),
        ("subjects", "differs from"),
        ("strict", "do not cover the same comparisons"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(tables, tmp_path, capsys, case, message):
    a, b, data = tables
    args = ["compare", "--scores", str(a), "--scores", str(b)]
    if case == "one":
        args = ["compare", "--scores", str(a)]
    elif case == "dup":
        args += ["--name", "X", "--name", "X"]
    elif case == "names":
        args += ["--name", "X"]
    elif case in ("rows", "subjects"):
        a, b = tmp_path / "a.csv", tmp_path / "b.csv"
        write_csv(a, data, 0, ids=False)
        order = np.arange(data.n - 1) if case == "rows" else np.r_[1, 0, 2 : data.n]
        write_csv(b, data, 1, ids=False, order=order)
        args = ["compare", "--scores", str(a), "--scores", str(b)]
    elif case == "strict":
        args += ["--strict-coverage"]
    code = run(*args, "--bootstrap", "0", "--out", str(tmp_path / "o"), "--quiet")
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_a_pair_repeated_in_a_file_is_refused(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("probe,reference,score,mated\np1,r1,0.9,1\np2,r1,0.1,0\np1,r1,0.8,1\n")
    b = tmp_path / "b.csv"
    b.write_text("probe,reference,score,mated\np1,r1,0.9,1\np2,r1,0.1,0\n")
    with pytest.raises(InputError, match=r"a\.csv, line 4: repeats the comparison .* line 2"):
        read_paired_scores([a, b])


CANDIDATES = Path(__file__).parent / "golden" / "inputs" / "candidates.csv"
TRUTH = Path(__file__).parent / "golden" / "inputs" / "truth.csv"


def _better_lists(path, shift: float) -> None:
    """The golden candidate lists with every mate's score raised by ``shift`` (re-ranked)."""
    import pandas as pd

    df = pd.read_csv(CANDIDATES)
    truth = pd.read_csv(TRUTH, keep_default_na=False).set_index("probe")["subject"]
    mate = df["candidate"].to_numpy() == truth.reindex(df["probe"]).to_numpy()
    df.loc[mate, "score"] += shift
    df = df.sort_values(["probe", "score"], ascending=[True, False])
    df["rank"] = df.groupby("probe").cumcount() + 1
    df.to_csv(path, index=False)


def test_compare_candidate_lists_finds_a_planted_improvement(tmp_path):
    better = tmp_path / "better.csv"
    _better_lists(better, 0.08)
    out = tmp_path / "cmp"
    code = run("compare", "--candidates", str(CANDIDATES), "--candidates", str(better),
               "--name", "old", "--name", "new", "--truth", str(TRUTH), "--gallery-size", "280",
               "--bootstrap", "200", "--out", str(out), "--quiet")  # fmt: skip
    assert code == 0
    c = json.loads((out / "results.json").read_text())["compare"]
    assert c["mode"] == "identification" and c["coverage"]["join"] == "truth probes"
    figs = {d["figure"]: d for d in c["differences"]}
    d = figs["fnir_at_fpir"]
    assert d["a"] == "old" and d["difference"] > 0 and d["ci"][0] > 0  # new misses fewer
    assert not d["indistinguishable"]
    html = (out / "report.html").read_text()
    assert "new misses fewer enrolled people than old" in html


def test_compare_candidates_needs_a_truth_and_one_kind_of_input(tmp_path, capsys):
    o = str(tmp_path / "o")
    assert run("compare", "--candidates", str(CANDIDATES), "--candidates", str(CANDIDATES),
               "--out", o, "--quiet") == 2  # fmt: skip
    assert "--truth" in capsys.readouterr().err
    assert run("compare", "--candidates", str(CANDIDATES), "--scores", str(CANDIDATES),
               "--truth", str(TRUTH), "--out", o, "--quiet") == 2  # fmt: skip
    assert "not both" in capsys.readouterr().err


def _lfw_fixture(tmp_path, n_people=24, seed=0):
    """A tiny LFW View 2 (2 folds) and two systems' embeddings of its images (B less noisy)."""
    rng = np.random.default_rng(seed)
    people = [f"Person_{i:02d}" for i in range(n_people)]
    half = n_people // 2
    lines = ["2\t6"]
    for fold in range(2):
        group = people[fold * half : (fold + 1) * half]
        lines += [f"{p}\t1\t2" for p in group[:6]]
        lines += [f"{group[i]}\t1\t{group[(i + 3) % half]}\t2" for i in range(6)]
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("\n".join(lines) + "\n")
    centre = rng.normal(size=(n_people, 16))
    samples = [f"{p}/{p}_{k:04d}.jpg" for p in people for k in (1, 2)]
    subjects = [p for p in people for _ in (1, 2)]
    noise = rng.normal(size=(len(samples), 16))
    paths = []
    for name, sd in (("sysA", 1.2), ("sysB", 0.6)):
        x = centre.repeat(2, axis=0) + sd * noise
        path = tmp_path / f"{name}.npz"
        np.savez(path, embeddings=x, subjects=np.array(subjects), samples=np.array(samples))
        paths.append(path)
    return pairs, paths


def test_compare_on_the_lfw_protocol_reports_fold_accuracy_beside_the_intervals(tmp_path):
    pairs, (a, b) = _lfw_fixture(tmp_path)
    out = tmp_path / "cmp"
    code = run("compare", "--protocol", "lfw", str(pairs), "--embeddings", str(a),
               "--embeddings", str(b), "--fmr-target", "0.2", "--bootstrap", "100",
               "--out", str(out), "--quiet")  # fmt: skip
    assert code == 0
    c = json.loads((out / "results.json").read_text())["compare"]
    assert c["coverage"]["join"] == "protocol pairs" and c["coverage"]["common"] == 24
    assert [s["name"] for s in c["protocol"]["systems"]] == ["sysA", "sysB"]
    assert all(s["k"] == 2 and 0 <= s["mean_accuracy"] <= 1 for s in c["protocol"]["systems"])
    assert c["bootstrap"]["unit"] == "subject"
    assert "fold" in (out / "report.html").read_text()


def test_a_protocol_needs_embeddings_per_system(tmp_path, capsys):
    pairs, (a, _) = _lfw_fixture(tmp_path)
    assert run("compare", "--protocol", "lfw", str(pairs), "--embeddings", str(a),
               "--out", str(tmp_path / "o"), "--quiet") == 2  # fmt: skip
    assert "at least two embeddings files" in capsys.readouterr().err


def test_a_parquet_table_joins_a_csv_table(tables, tmp_path):
    import pandas as pd

    a, b, data = tables
    pq = tmp_path / "vendor_a.parquet"
    pd.read_csv(a).to_parquet(pq)
    p = read_paired_scores([pq, b], names=["A", "B"])
    assert p.coverage.join == "probe and reference ids" and p.n == data.n - 9
    assert p.subjects == data.subjects
