"""Hostile and careless use of the outputs and options: nothing lost, one sentence, exit status 2.

Every case here once lost data, printed a traceback or gave a result that looked valid but was not
(issue 9). Each runs the real command line (``faceaudit.cli.main``).
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from faceaudit.cli import main
from faceaudit.errors import InputError
from faceaudit.output import MARKER, OutputDir

INPUTS = Path(__file__).parent / "golden" / "inputs"
SCORES = INPUTS / "ties.csv"


def run(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def one_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def errors_args(*extra: str) -> list[str]:
    return ["errors", "--scores", str(SCORES), "--bootstrap", "0", "--quiet", *extra]


# -- --force never destroys what faceaudit did not write ------------------------------------------


def test_force_refuses_a_folder_of_the_users(tmp_path, capsys):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "me.jpg").write_bytes(b"not really a photo")
    assert run(*errors_args("--out", str(out), "--force")) == 2
    assert "not written by faceaudit" in one_error(capsys)
    assert (out / "me.jpg").read_bytes() == b"not really a photo"


def test_force_refuses_the_folder_holding_an_input(tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    scores = d / "s.csv"
    scores.write_bytes(SCORES.read_bytes())
    args = ["errors", "--scores", str(scores), "--bootstrap", "0", "--quiet", "--out", str(d)]
    assert run(*args, "--force") == 2
    one_error(capsys)
    assert scores.read_bytes() == SCORES.read_bytes()
    # even a faceaudit output folder is not replaced while it holds an input of the run
    out = tmp_path / "ours"
    assert run(*errors_args("--out", str(out))) == 0
    inside = out / "s.csv"
    inside.write_bytes(SCORES.read_bytes())
    args = ["errors", "--scores", str(inside), "--bootstrap", "0", "-q", "--out", str(out)]
    assert run(*args, "--force") == 2
    assert "refusing" in one_error(capsys)
    assert inside.read_bytes() == SCORES.read_bytes()


def test_an_input_inside_the_destination_is_named(tmp_path):
    out = tmp_path / "ours"
    with OutputDir(out) as tmp:
        (tmp / "data.txt").write_text("x")
    with pytest.raises(InputError, match="holds the input"):
        OutputDir(out, force=True, inputs=[str(out / "data.txt")]).__enter__()


def test_force_refuses_a_faceaudit_folder_with_foreign_files(tmp_path, capsys):
    out = tmp_path / "audit"
    assert run(*errors_args("--out", str(out))) == 0
    assert json.loads((out / MARKER).read_text())["tool"] == "faceaudit"
    (out / "notes.txt").write_text("mine")
    assert run(*errors_args("--out", str(out), "--force")) == 2
    assert "notes.txt" in one_error(capsys)
    assert (out / "notes.txt").read_text() == "mine"
    (out / "notes.txt").unlink()
    assert run(*errors_args("--out", str(out), "--force")) == 0


def test_out_dot_with_force_is_refused_and_leaves_nothing_behind(tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.txt").write_text("keep")
    monkeypatch.chdir(work)
    assert run(*errors_args("--out", ".", "--force")) == 2
    one_error(capsys)
    assert (work / "data.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]  # no ..XXXX.partial


def test_json_to_a_folder_with_force_is_refused(tmp_path, capsys):
    d = tmp_path / "folder"
    d.mkdir()
    assert run(*errors_args("--json", str(d), "--force")) == 2
    one_error(capsys)
    assert d.is_dir()


def test_json_file_force_replaces_only_our_results(tmp_path, capsys):
    mine = tmp_path / "mine.json"
    mine.write_text('{"my": "data"}')
    assert run(*errors_args("--json", str(mine), "--force")) == 2
    one_error(capsys)
    assert mine.read_text() == '{"my": "data"}'
    ours = tmp_path / "r.json"
    assert run(*errors_args("--json", str(ours))) == 0
    assert run(*errors_args("--json", str(ours))) == 2  # no --force: never replaced
    capsys.readouterr()
    assert run(*errors_args("--json", str(ours), "--force")) == 0
    assert oct(ours.stat().st_mode & 0o777) == oct(0o644 & ~_umask())


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


# -- concurrency: the loser is refused, the winner's output is intact ---------------------------


def test_two_runs_racing_to_one_new_folder(tmp_path):
    out = tmp_path / "race"
    a, b = OutputDir(out), OutputDir(out)
    ta, tb = a.__enter__(), b.__enter__()
    (ta / "out.txt").write_text("A")
    (tb / "out.txt").write_text("B")
    a.__exit__(None, None, None)
    with pytest.raises(InputError, match="another run"):
        b.__exit__(None, None, None)
    assert (out / "out.txt").read_text() == "A"
    assert not tb.exists()


def test_a_stale_partial_folder_of_a_dead_run_is_cleaned(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".out.{dead}.abcd.partial"
    stale.mkdir()
    (stale / "results.json").write_text("half")
    with OutputDir(tmp_path / "out") as tmp:
        (tmp / "out.txt").write_text("x")
    assert not stale.exists() and (tmp_path / "out" / "out.txt").exists()


# -- every OS error on writing is one sentence ----------------------------------------------------


def test_a_full_disk_is_one_sentence(tmp_path, capsys, monkeypatch):
    real = Path.write_text

    def full(self, *a, **k):
        if self.name == "results.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "write_text", full)
    assert run(*errors_args("--out", str(tmp_path / "o"))) == 2
    assert "disk is full" in one_error(capsys)
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


def test_an_unwritable_place_is_one_sentence(tmp_path, capsys):
    target = "/proc/faceaudit-test-out" if Path("/proc/self").exists() else "/nonexistent/x"
    assert run(*errors_args("--out", target)) == 2
    one_error(capsys)


def test_closed_stdout_is_one_sentence(tmp_path):
    code = "import sys; from faceaudit.cli import main; main(sys.argv[1:])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *errors_args("--json", "-")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader went away (e.g. `| head -c0`)
    err = proc.stderr.read().decode()
    assert proc.wait() == 2, err
    assert "Traceback" not in err and "standard output" in err


# -- numbers outside their domain -----------------------------------------------------------------

GALLERY, PROBES = str(INPUTS / "gallery.npz"), str(INPUTS / "probes.npz")
SCALE = ["scale", "--gallery", str(INPUTS / "scale_gallery.npz"), "--probes",
         str(INPUTS / "scale_probes.npz"), "--bootstrap", "0", "--json", "-"]  # fmt: skip
IDENT = ["identify", "--gallery", GALLERY, "--probes", PROBES, "--bootstrap", "0", "--json", "-"]


@pytest.mark.parametrize(
    "args, flag",
    [
        (errors_args("--threshold", "nan", "--json", "-"), "--threshold"),
        (errors_args("--threshold", "inf", "--json", "-"), "--threshold"),
        (errors_args("--threshold", "-inf", "--json", "-"), "--threshold"),
        (errors_args("--seed", "-1", "--json", "-"), "--seed"),
        (errors_args("--fmr-target", "0", "--json", "-"), "--fmr-target"),
        (errors_args("--fmr-target", "1.5", "--json", "-"), "--fmr-target"),
        (errors_args("--confidence", "1", "--json", "-"), "--confidence"),
        (["errors", "--scores", str(SCORES), "--bootstrap", "50", "--json", "-"], "--bootstrap"),
        ([*IDENT, "--threshold", "nan"], "--threshold"),
        ([*IDENT, "--rank", "51"], "--rank"),
        (["identify", "--embeddings", PROBES, "--held-out", "1000", "--json", "-"], "--held-out"),
        (["identify", "--embeddings", PROBES, "--held-out", "-0.2", "--json", "-"], "--held-out"),
        ([*SCALE, "--threshold", "nan"], "--threshold"),
        ([*SCALE, "--threshold", "-inf"], "--threshold"),
        ([*SCALE, "--threshold", "0.5", "--gallery-size", "inf"], "--gallery-size"),
        ([*SCALE, "--threshold", "0.5", "--tail-count", "10"], "--tail-count"),
        (["demo", "--bootstrap", "-1", "--quiet"], "--bootstrap"),
    ],
)
def test_numbers_outside_their_domain(args, flag, capsys):
    assert run(*args) == 2
    line = one_error(capsys)
    assert line.startswith(f"error: {flag} "), line
