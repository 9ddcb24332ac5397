"""End to end: `faceaudit errors` and `faceaudit demo` on real files, as a user runs them."""

import json
import subprocess
import sys

import numpy as np
import pytest

from faceaudit.cli import main


def run(*args):
    """Run the CLI in-process; returns the exit status."""
    try:
        main(list(args))
    except SystemExit as exc:
        return exc.code
    return 0


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["probe,reference,score,mated,probe_subject,reference_subject"]
    for s in range(30):
        for k in range(4):
            rows.append(f"p{s}_{k},r{s},{rng.normal(0.7, 0.1):.3f},1,s{s},s{s}")
        for k in range(60):
            o = (s + 1 + k % 29) % 30
            rows.append(f"p{s}_{k},r{o},{rng.normal(0.2, 0.1):.3f},0,s{s},s{o}")
    path = tmp_path / "comparisons.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_errors_writes_report_and_contract(table, tmp_path):
    out = tmp_path / "audit"
    assert (
        run("errors", "--scores", str(table), "--out", str(out), "--bootstrap", "200", "--quiet")
        == 0
    )
    res = json.loads((out / "results.json").read_text())
    assert (out / "report.html").is_file() and any((out / "figures").iterdir())
    v = res["verification"]
    assert (v["n_mated"], v["n_nonmated"]) == (120, 1800)
    assert res["inputs"][0]["records"] == 1920 and len(res["inputs"][0]["sha256"]) == 64
    assert res["settings"]["bootstrap_unit"] == "subject"
    by_target = {op["fmr_target"]: op for op in v["operating_points"]}
    assert by_target[1e-3]["supported"] is False and by_target[1e-3]["threshold"] is None
    op = by_target[1e-2]
    scores = np.genfromtxt(table, delimiter=",", skip_header=1, usecols=(2, 3))
    gen, imp = scores[scores[:, 1] == 1, 0], scores[scores[:, 1] == 0, 0]
    t = op["threshold"]
    assert op["fmr"]["count"] == int((imp >= t).sum()) and op["fmr"]["value"] <= 1e-2
    assert op["fnmr"]["count"] == int((gen < t).sum())
    lo, hi = op["fnmr"]["ci"]
    assert lo <= op["fnmr"]["value"] <= hi
    assert v["eer"]["ci"][0] <= v["eer"]["value"] <= v["eer"]["ci"][1]


def test_existing_output_is_refused_without_force(table, tmp_path, capsys):
    out = tmp_path / "audit"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert run("errors", "--scores", str(table), "--out", str(out), "--bootstrap", "0") == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "mine.txt").read_text() == "keep me"
    force = ["errors", "--scores", str(table), "--bootstrap", "0", "--force", "--quiet"]
    # --force replaces only an output faceaudit wrote: never a folder holding the user's files
    assert run(*force, "--out", str(out)) == 2
    assert "not written by faceaudit" in capsys.readouterr().err
    assert (out / "mine.txt").read_text() == "keep me"
    ours = tmp_path / "ours"
    assert run(*force, "--out", str(ours)) == 0 and run(*force, "--out", str(ours)) == 0
    assert (ours / "results.json").exists()


def test_json_to_stdout_and_distance_orientation(tmp_path, capsys):
    g, i = tmp_path / "gen.txt", tmp_path / "imp.txt"
    g.write_text("0.1\n0.3\n0.3\n0.5\n")  # distances: lower = more similar
    i.write_text("0.9\n0.5\n0.5\n0.3\n")
    assert (
        run(
            "errors",
            "--genuine",
            str(g),
            "--impostor",
            str(i),
            "--distance",
            "--threshold",
            "0.3",
            "--bootstrap",
            "0",
            "--json",
            "-",
        )
        == 0
    )
    res = json.loads(capsys.readouterr().out)
    v = res["verification"]
    assert v["threshold_units"] == "distance"
    user = [op for op in v["operating_points"] if op["fmr_target"] is None][0]
    # distance <= 0.3 matches: non-mated 0.3 matches (1/4); mated 0.5 does not (1/4)
    assert user["threshold"] == 0.3
    assert user["fmr"]["count"] == 1 and user["fnmr"]["count"] == 1
    assert v["eer"]["threshold"] == 0.3 and v["eer"]["value"] == 0.25


def test_npy_and_bob_inputs(tmp_path, capsys):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "g.npy", rng.normal(0.7, 0.1, 500).astype(np.float32))
    np.save(tmp_path / "i.npy", rng.normal(0.2, 0.1, 5000).astype(np.float32))
    assert (
        run(
            "errors",
            "--genuine",
            str(tmp_path / "g.npy"),
            "--impostor",
            str(tmp_path / "i.npy"),
            "--bootstrap",
            "0",
            "--json",
            "-",
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["verification"]["n_nonmated"] == 5000
    bob = tmp_path / "scores-dev"
    bob.write_text("a a a/1.png 0.9\na b b/1.png 0.2\nb b b/2.png 0.8\nb a a/2.png 0.3\n")
    assert run("errors", "--bob", str(bob), "--bootstrap", "0", "--json", "-") == 0
    v = json.loads(capsys.readouterr().out)["verification"]
    assert (v["n_mated"], v["n_nonmated"], v["eer"]["value"]) == (2, 2, 0.0)


@pytest.mark.parametrize(
    "content, needle",
    [
        ("score,mated\n0.5,1\nabc,0\n", "line 3"),
        ("score,mated\n0.5,1\n0.2,maybe\n", "line 3"),
        ("score,mated\n0.5,1\nnan,0\n", "line 3"),
        ("value,mated\n0.5,1\n0.2,0\n", "score"),
        ("score,mated\n0.5,1\n0.6,1\n", "non-mated"),
    ],
)
def test_bad_input_exits_2_with_one_clear_message(tmp_path, content, needle):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    proc = subprocess.run(
        [sys.executable, "-m", "faceaudit", "errors", "--scores", str(path), "--json", "-"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "bad.csv" in proc.stderr and needle in proc.stderr


def test_option_errors_exit_2(table):
    assert run("errors", "--scores", str(table), "--fmr-target", "2", "--json", "-") == 2
    assert run("errors", "--scores", str(table), "--bootstrap", "5", "--json", "-") == 2
    assert run("errors", "--scores", str(table)) == 2  # no --out and no --json


def test_version():
    proc = subprocess.run(
        [sys.executable, "-m", "faceaudit", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stdout.startswith("faceaudit ")


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    out = tmp_path / "demo"
    assert run("demo", "--out", str(out), "--bootstrap", "200", "--quiet") == 0
    assert run("demo", "--out", str(out), "--bootstrap", "200", "--quiet") == 0
    first = json.loads((out / "results.json").read_text())
    second = json.loads((tmp_path / "demo-2" / "results.json").read_text())
    assert first["synthetic"] is True and "SYNTHETIC" in (out / "report.html").read_text()
    assert first["verification"] == second["verification"]  # seeded: identical results
    v = first["verification"]
    assert 0.005 < v["eer"]["value"] < 0.05  # documented design: EER near 1.5%
    for key in ("demographics", "identification", "scale"):  # the whole audit, end to end
        assert key in first
