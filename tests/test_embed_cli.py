"""``faceaudit embed`` as a user runs it: output files, refusals, SIGKILL resume, Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from faceaudit.cli import main
from faceaudit.embedding import embed_images, read_embedding_result
from faceaudit.embedding.cache import EmbeddingCache

ORL = Path(__file__).resolve().parents[2] / "shared" / "data" / "orl_faces"
needs_orl = pytest.mark.skipif(
    not ORL.is_dir(), reason=f"ORL faces not found at {ORL} (../shared/data is absent)"
)


def _manifest(tmp_path: Path, subjects: list[str], per: int, *, group: bool = False) -> Path:
    lines = ["path,subject" + (",group" if group else "")]
    for k, s in enumerate(subjects):
        for i in range(1, per + 1):
            lines.append(f"{ORL / s / f'{i}.pgm'},{s}" + (f",g{k % 2}" if group else ""))
    path = tmp_path / "manifest.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("faceaudit")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "faceaudit"]


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code


def _session_pids(sid: int) -> list[int]:
    """Processes still alive in session ``sid`` (the CLI and its workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def _wait_for_rows(cache: Path, rows: int, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        if (cache / "embeddings-v1.sqlite3").exists():
            with EmbeddingCache(cache, read_only=True) as c:
                if c.count() >= rows:
                    return
        time.sleep(0.05)
    raise AssertionError("the run made no progress")


# -- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "x.csv"], "name the output .parquet"),
        (["--out", "exists.parquet"], "already exists; pass --force"),
        (["--out", "o.parquet", "--model", "resnet-9000"], "unknown model"),
        (["--out", "o.parquet", "-O", "upsample"], "key=value"),
        (["--out", "o.parquet", "-O", "upsample=lots"], "whole number"),
        (["--out", "o.parquet", "--model", "onnx:missing.onnx"], "no such ONNX model"),
    ],
)
def test_refusals_are_one_clear_line(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exists.parquet").write_bytes(b"keep me")
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / "a.png").write_bytes(b"x")
    assert _exit_code(["embed", str(tmp_path), *args, "--cache", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and "Traceback" not in err
    assert (tmp_path / "exists.parquet").read_bytes() == b"keep me"


def test_missing_images_folder(tmp_path, capsys):
    assert _exit_code(["embed", str(tmp_path / "nope"), "--out", str(tmp_path / "o.parquet")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


# -- outputs --------------------------------------------------------------------------------------


@needs_orl
def test_parquet_and_npz_outputs(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    manifest = _manifest(tmp_path, ["s1", "s2"], 3, group=True)
    out = tmp_path / "emb.parquet"
    cache = tmp_path / "cache"
    main(["embed", str(manifest), "--out", str(out), "-j", "1", "--cache", str(cache)])
    err = capsys.readouterr().err
    assert "embedded" in err and "wrote" in err
    table = pq.read_table(out)
    assert table.column_names == ["subject", "sample", "embedding", "group"]
    assert table.schema.field("embedding").type == pa.list_(pa.float32(), 128)
    meta = json.loads(table.schema.metadata[b"faceaudit"])
    assert meta["model"]["id"] == "dlib-resnet" and meta["model"]["dim"] == 128
    assert len(meta["model"]["weights_sha256"]) == 64
    acq = meta["acquisition"]
    assert acq["n_images"] == 6 and acq["n_failed"] == 6 - table.num_rows
    assert {f["image"] for f in acq["failures"]} | set(table.column("sample").to_pylist()) == {
        str(ORL / s / f"{i}.pgm") for s in ("s1", "s2") for i in (1, 2, 3)
    }
    log = (tmp_path / "emb.parquet.log").read_text()
    assert "cache: 0 reused, 6 computed" in log
    # npz, from the cache this time; same numbers
    npz = tmp_path / "emb.npz"
    main(["embed", str(manifest), "--out", str(npz), "-j", "1", "--cache", str(cache), "-q"])
    assert "cache: 6 reused, 0 computed" in (tmp_path / "emb.npz.log").read_text()
    with np.load(npz, allow_pickle=False) as z:
        assert z["embeddings"].dtype == np.float32
        np.testing.assert_array_equal(
            z["embeddings"], np.stack(table.column("embedding").to_numpy(zero_copy_only=False))
        )
        assert z["subjects"].tolist() == table.column("subject").to_pylist()
        assert z["groups"].tolist() == table.column("group").to_pylist()
    back = read_embedding_result(npz)
    assert back.model.id == "dlib-resnet" and back.n_images == 6
    # the project's embeddings reader takes both files
    io_embeddings = pytest.importorskip("faceaudit.io.embeddings")
    for path in (out, npz):
        es = io_embeddings.read_embeddings(path)
        assert es.n == table.num_rows and es.dim == 128
    # --force replaces; byte-identical output for identical input
    before = out.read_bytes()
    main(["embed", str(manifest), "--out", str(out), "-j", "1", "--cache", str(cache), "--force"])
    assert out.read_bytes() == before


# -- interruption ---------------------------------------------------------------------------------


@needs_orl
@pytest.mark.slow
def test_sigkill_then_resume_loses_nothing_and_recomputes_nothing(tmp_path):
    manifest = _manifest(tmp_path, ["s3", "s4", "s5"], 10)
    cache = tmp_path / "cache"
    cmd = [*_cli(), "embed", str(manifest), "--cache", str(cache), "-j", "1", "-q", "--out"]
    proc = subprocess.Popen(
        [*cmd, str(tmp_path / "killed.parquet")],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_rows(cache, 6, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker, as a crash or OOM would
        proc.wait()
    with EmbeddingCache(cache, read_only=True) as c:
        stored = c.count()
    assert 6 <= stored < 30
    assert not (tmp_path / "killed.parquet").exists()
    assert not list(tmp_path.glob(".killed.parquet.*"))  # no partial output either
    resumed = tmp_path / "resumed.parquet"
    done = subprocess.run([*cmd, str(resumed)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "resumed.parquet.log").read_text()
    assert f"cache: {stored} reused, {30 - stored} computed" in log
    fresh = embed_images(manifest, workers=2, use_cache=False)
    got = read_embedding_result(resumed)
    np.testing.assert_array_equal(got.embeddings, fresh.embeddings)
    assert list(got.samples) == list(fresh.samples)
    assert [f.to_json() for f in got.failures] == [f.to_json() for f in fresh.failures]


@needs_orl
@pytest.mark.slow
def test_ctrl_c_stops_cleanly(tmp_path):
    manifest = _manifest(tmp_path, ["s7", "s8", "s9"], 10)
    cache = tmp_path / "cache"
    out = tmp_path / "o.parquet"
    cmd = [*_cli(), "embed", str(manifest), "--out", str(out), "--cache", str(cache), "-j", "2"]
    proc = subprocess.Popen(
        cmd,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # as in a terminal's foreground: a suite started in the background of a non-interactive
        # shell (`pytest &`) ignores SIGINT, and a child inherits that (the run then finishes)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        _wait_for_rows(cache, 3, proc)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: the whole group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists()
    deadline = time.monotonic() + 10
    while _session_pids(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session_pids(proc.pid) == []  # the workers were terminated too
    with EmbeddingCache(cache, read_only=True) as c:
        assert c.count() >= 3
