"""Hostile inputs, end to end through ``faceaudit.cli.main``: every one exits with status 2 and
prints exactly one line, ``error: <file>[, line N]: ...``, never a traceback, never a number.

Each case is (files to write, command line, where the message must point). ``{d}`` in the
command line is the case's folder. Where a line exists the message names it; the few whole-file
judgements (a histogram given as scores, an empty file, an archive with no file) name the file.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from faceaudit.cli import main

TABLE = "probe,reference,score,mated\np1,r1,0.9,1\np2,r2,0.1,0\n"
GOOD_G = "0.9\n0.8\n0.7\n"
GOOD_I = "0.1\n0.2\n0.3\n"
HIST = "".join(f"{int(5000 * np.exp(-0.5 * ((k - 50) / 9) ** 2)) + k % 3}\n" for k in range(120))
CANDS = "probe,rank,candidate,score\np1,1,A,0.9\np1,2,B,0.5\np2,1,C,0.7\n"
TRUTH = "probe,subject\np1,A\np2,\n"


def _tar(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _empty_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("only-a-folder")
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    return buf.getvalue()


def _parquet() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"score": [0.5], "mated": [True]}), buf)
    return buf.getvalue()


def _npy(values) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(values, dtype=np.float64))
    return buf.getvalue()


SCORES = ["errors", "--scores", "{d}/s.csv", "--bootstrap", "0", "--json", "-"]
PAIR = ["errors", "--genuine", "{d}/g.txt", "--impostor", "{d}/i.txt", "--bootstrap", "0"]
BOB = ["errors", "--bob", "{d}/dev", "--bootstrap", "0", "--json", "-"]
IDENT = ["identify", "--candidates", "{d}/c.csv", "--truth", "{d}/t.csv", "--gallery-size", "9"]

CASES = {
    # --- score tables --------------------------------------------------------------------------
    "score not a number": ({"s.csv": TABLE.replace("0.1", "abc")}, SCORES, "s.csv, line 3"),
    "score NaN": ({"s.csv": TABLE.replace("0.1", "nan")}, SCORES, "s.csv, line 3"),
    "score infinite": ({"s.csv": TABLE.replace("0.9", "inf")}, SCORES, "s.csv, line 2"),
    "mated not boolean": ({"s.csv": TABLE.replace(",0\n", ",maybe\n")}, SCORES, "s.csv, line 3"),
    "mated contradicts subjects": (
        {"s.csv": "score,mated,probe_subject,reference_subject\n0.9,1,a,a\n0.2,1,a,b\n"},
        SCORES,
        "s.csv, line 3",
    ),
    "truncated last row": ({"s.csv": TABLE + "p3,r3"}, SCORES, "s.csv, line 4"),
    "unclosed quote swallows lines": (
        {"s.csv": 'probe,reference,score,mated\n"p1,r1,0.9,1\np2,r2,0.1,0\np3,r3,0.2,0\n'},
        SCORES,
        "s.csv, line 2",
    ),
    "not UTF-8": ({"s.csv": TABLE.encode() + b"p\xe9,r,0.2,0\n"}, SCORES, "s.csv, line 4"),
    "NUL in the header": ({"s.csv": b"sc\x00ore,mated\n0.1,1\n"}, SCORES, "s.csv, line 1"),
    "header only": ({"s.csv": "probe,reference,score,mated\n"}, SCORES, "s.csv, line 1"),
    "no score column": ({"s.csv": "probe,Score,mated\np,0.1,1\n"}, SCORES, "s.csv, line 1"),
    "whitespace-only line with wrong fields": (
        {"s.csv": TABLE + "   \n" + "p3,r3,0.2\n"},
        SCORES,
        "s.csv, line 5",
    ),
    "gzip truncated": (
        {"s.csv.gz": gzip.compress((TABLE * 200).encode())[:-40]},
        ["errors", "--scores", "{d}/s.csv.gz", "--bootstrap", "0"],
        "s.csv.gz",
    ),
    "Parquet named .csv": ({"s.csv": _parquet()}, SCORES, "s.csv"),
    "empty file": ({"s.csv": b""}, SCORES, "s.csv"),
    # --- pyeer ---------------------------------------------------------------------------------
    "histogram given as scores": ({"g.txt": GOOD_G, "i.txt": HIST}, PAIR, "i.txt"),
    "comment in a pyeer list": ({"g.txt": GOOD_G, "i.txt": "0.1\n# 0.5\n"}, PAIR, "i.txt, line 2"),
    "last field not a number": ({"g.txt": "a 0.9\nb x\n", "i.txt": GOOD_I}, PAIR, "g.txt, line 2"),
    "bob file as mated": (
        {"g.txt": "a a x 0.9\na b y 0.1\nb b z 0.8\n", "i.txt": GOOD_I},
        PAIR,
        "g.txt",
    ),
    "same file twice": (
        {"g.txt": GOOD_G},
        ["errors", "--genuine", "{d}/g.txt", "--impostor", "{d}/g.txt"],
        "g.txt",
    ),
    "histogram count not whole": (
        {"g.txt": GOOD_G, "h.txt": "3\n1.5\n"},
        ["errors", "--genuine", "{d}/g.txt", "--impostor-hist", "{d}/h.txt"],
        "h.txt, line 2",
    ),
    "histogram with a gap": (
        {"g.txt": GOOD_G, "h.txt": "3\n\n4\n"},
        ["errors", "--genuine", "{d}/g.txt", "--impostor-hist", "{d}/h.txt"],
        "h.txt, line 2",
    ),
    "npy with NaN": (
        {"g.npy": _npy([0.9, np.nan]), "i.npy": _npy([0.1])},
        ["errors", "--genuine", "{d}/g.npy", "--impostor", "{d}/i.npy"],
        "g.npy, element 1",
    ),
    # --- bob -----------------------------------------------------------------------------------
    "bob 3 fields": ({"dev": "a a 0.9\n"}, BOB, "dev, line 1"),
    "bob short line": ({"dev": "a a x 0.9\na b y 0.1\nb b\n"}, BOB, "dev, line 3"),
    "bob label 0": ({"dev": "1 0.9\n0 0.1\n"}, BOB, "dev, line 2"),
    "bob infinite score": ({"dev": "a a x 0.9\na b y -inf\n"}, BOB, "dev, line 2"),
    "bob comment then bad line": ({"dev": "# header\na a x 0.9\na b y zz\n"}, BOB, "dev, line 3"),
    "bob archive bad line": (
        {"dev": _tar({"scores-dev": "a a x 0.9\na b y oops\n"})},
        BOB,
        "dev (file scores-dev in the archive), line 2",
    ),
    "bob archive without a file": ({"dev": _empty_tar()}, BOB, "dev"),
    # --- candidate lists -----------------------------------------------------------------------
    "rank gap": (
        {"c.csv": CANDS.replace("p1,2,B", "p1,3,B"), "t.csv": TRUTH},
        IDENT,
        "c.csv, line 3",
    ),
    "score rising with rank": (
        {"c.csv": CANDS.replace("B,0.5", "B,0.95"), "t.csv": TRUTH},
        IDENT,
        "c.csv, line 3",
    ),
    "probe not in truth": (
        {"c.csv": CANDS, "t.csv": "probe,subject\np1,A\n"},
        IDENT,
        "c.csv, line 4",
    ),
    "truth probe twice": (
        {"c.csv": CANDS, "t.csv": TRUTH + "p1,B\n"},
        IDENT,
        "t.csv, line 4",
    ),
    "candidate empty": (
        {"c.csv": CANDS.replace("C,", ","), "t.csv": TRUTH},
        IDENT,
        "c.csv, line 4",
    ),
    # --- metadata ------------------------------------------------------------------------------
    "metadata subject twice": (
        {
            "s.csv": "score,probe_subject,reference_subject\n0.9,a,a\n0.1,a,b\n",
            "m.csv": "subject,sex\na,F\nb,M\na,M\n",
        },
        SCORES + ["--metadata", "{d}/m.csv", "--by", "sex"],
        "m.csv, line 4",
    ),
    "metadata short row": (
        {
            "s.csv": "score,probe_subject,reference_subject\n0.9,a,a\n0.1,a,b\n",
            "m.csv": "subject,sex,age\na,F,1\nb,M\n",
        },
        SCORES + ["--metadata", "{d}/m.csv", "--by", "sex"],
        "m.csv, line 3",
    ),
}


def _run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return exc.code
    return 0


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_one_error_line(name, tmp_path, capsys):
    files, argv, where = CASES[name]
    for rel, content in files.items():
        path = tmp_path / rel
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    argv = [a.replace("{d}", str(tmp_path)) for a in argv]
    if "--json" not in argv:
        argv += ["--json", "-"]
    if "--bootstrap" not in argv:
        argv += ["--bootstrap", "0"]
    code = _run(argv)
    out, err = capsys.readouterr()
    assert code == 2, (name, code, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, (name, err)
    assert lines[0].startswith(f"error: {tmp_path}/{where}"), (name, lines[0])
    assert "Traceback" not in err and '"verification"' not in out


def test_a_newline_in_a_file_name_cannot_forge_an_embed_log_line():
    from faceaudit.embedding.log import one_line as _one_line

    forged = "a.jpg\nFTA no_face: innocent.jpg"
    assert "\n" not in _one_line(forged) and _one_line(forged).endswith("innocent.jpg")
    assert _one_line("back\\slash") == "back\\\\slash"


def test_manifest_paths_outside_the_folder_are_counted(tmp_path):
    from faceaudit.io.image_sets import discover_images

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.png").write_bytes(b"x")
    (tmp_path / "b.png").write_bytes(b"x")
    m = tmp_path / "in" / "manifest.csv"
    m.write_text(f"path,subject\na.png,s1\n../b.png,s2\n{tmp_path / 'b.png'}x,s3\n")
    found = discover_images(m)
    assert len(found.records) == 3 and [r.line for r in found.records] == [2, 3, 4]
    assert len(found.warnings) == 1 and found.warnings[0].startswith("2 of 3 paths in the manifest")


def test_manifest_errors_name_the_line(tmp_path, capsys):
    m = tmp_path / "manifest.csv"
    (tmp_path / "a.png").write_bytes(b"x")
    m.write_text("path,subject\na.png,s1\na.png,s2\n")
    assert _run(["embed", str(m), "--out", str(tmp_path / "o.parquet")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {m}, line 3: 'a.png' is already listed on line 2")


def test_written_embeddings_are_world_readable(tmp_path):
    import os

    from faceaudit.io.embeddings import write_embeddings

    old = os.umask(0o022)
    try:
        write_embeddings(tmp_path / "e.npz", np.eye(2, dtype=np.float32), ["a", "b"])
    finally:
        os.umask(old)
    assert (tmp_path / "e.npz").stat().st_mode & 0o777 == 0o644


def test_no_case_prints_a_result_number(tmp_path):
    assert all(re.match(r"[\w .-]+", name) for name in CASES)
    assert len(CASES) >= 30
    assert Path(__file__).name == "test_hostile_inputs.py"
