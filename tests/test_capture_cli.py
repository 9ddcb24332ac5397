"""``faceaudit capture`` and ``faceaudit audit --condition`` as a user runs them.

Refusals need no face model; the ORL tests (``shared_data``) run the real default model on small
subsets: FNMR at the clean threshold grows with blur, FTA with extreme downscaling; recorded
conditions from a manifest column and from a file-name pattern; a rerun served from the cache;
a sweep killed mid-run resumes with the same results.
"""

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
from PIL import Image

from capture_images import texture
from faceaudit.capture import Degradation, apply_chain, eye_centres
from faceaudit.cli import main
from faceaudit.embedding.cache import EmbeddingCache


def _exit_code(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return exc.code
    return 0


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("faceaudit")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "faceaudit"]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A manifest of textured PNGs (no faces) with a condition column."""
    lines = ["path,subject,condition"]
    for s in range(2):
        for i in range(2):
            name = f"p{s}_{i}_{'dark' if i else 'lit'}.png"
            Image.fromarray(texture(seed=s * 2 + i)).save(tmp_path / name)
            lines.append(f"{name},p{s},{'dark' if i else 'lit'}")
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "m.csv"


# -- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--condition", "condition", "--degrade", "defocus"], "recorded ones"),
        (["--reference-condition", "lit"], "names a recorded condition"),
        (["--condition", "condition", "--condition-from-name", "x"], "not both"),
        (["--degrade", "blur"], "unknown degradation 'blur'"),
        (["--degrade", "defocus", "--severities", "two"], "--severities takes numbers"),
        (["--degrade", "defocus", "--severities", "80"], "between 0 and 50 pixels"),
        (["--degrade", "downscale:ied=1"], "between 2 and 1000 pixels"),
        (["--profile", "night-street", "--severities", "9"], "from 0 to 4"),
        (["--degrade", "defocus", "--profile", "far-away", "--severities", "1"], "separate runs"),
        (["--fmr-target", "1e-3,1e-4"], "takes one value"),
        (["--fmr-target", "0.01", "--threshold", "0.5"], "one way"),
        (["--fmr-target", "2"], "--fmr-target 2.0: a target rate must lie in (0, 1]"),
        (["--condition", "lighting"], "--condition 'lighting': is not a column of the manifest"),
        (["--condition-from-name", "("], "--condition-from-name '(': is not a regular expr"),
        (["--condition-from-name", r"_(night)\.png$"], "does not give a condition for 4 of 4"),
        (["--condition", "condition", "--reference-condition", "dusk"], "not one of the cond"),
        (["--show-examples", "nobody.png"], "--show-examples 'nobody.png': is not one of the"),
        (["--condition", "condition", "--show-examples", "p0_0_lit.png"], "nothing to render"),
        (["--bootstrap", "50"], "--bootstrap 50: below 100 replicates"),
        (["--held-out", "-1"], "--held-out -1.0"),
    ],
)
def test_bad_options_exit_2_with_one_sentence(tiny, tmp_path, capsys, args, message):
    code = _exit_code(["capture", str(tiny), "--out", str(tmp_path / "out"), "-q", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("error: ") and message in err, err
    assert "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reference-condition", "lit"], "needs --condition COLUMN"),
        (["--condition", "nosuch"], "is not a column of the manifest"),
        (["--condition", "condition", "--condition-threshold", "fmr"], "fmr=1e-3, fpir=0.01"),
    ],
)
def test_audit_condition_options_refuse_bad_values(tiny, tmp_path, capsys, args, message):
    code = _exit_code(["audit", str(tiny), "--out", str(tmp_path / "out"), "-q", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "\n" not in err, err


# -- ORL, the default model -----------------------------------------------------------------------


def _orl_manifest(tmp_path: Path, orl: Path, subjects: int, images: tuple[int, ...]) -> Path:
    lines = ["path,subject"]
    for s in range(1, subjects + 1):
        for i in images:
            lines.append(f"{orl / f's{s}' / f'{i}.pgm'},s{s}")
    path = tmp_path / "orl.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _conditions(results: dict) -> dict:
    return {c["name"]: c for c in results["capture"]["conditions"]}


@pytest.mark.slow
def test_blur_never_helps_and_extreme_downscaling_loses_the_face(shared_data, tmp_path):
    orl = shared_data / "orl_faces"
    manifest = _orl_manifest(tmp_path, orl, 10, (1, 3, 4, 5, 6, 7))
    out = tmp_path / "out"
    argv = [  # each degradation over its default values (defocus radius 1..6, IED 24..6 px)
        "capture", str(manifest), "--degrade", "defocus,downscale", "--fmr-target", "0.02",
        "--bootstrap", "200",
        "--cache", str(tmp_path / "cache"), "-j", "2", "-q", "--out", str(out),
    ]  # fmt: skip
    assert _exit_code(argv) == 0
    res = json.loads((out / "results.json").read_text())
    cond = _conditions(res)
    cap = res["capture"]
    assert cap["reference_condition"] == "clean" and cap["threshold"]["fixed_on"] == "clean"
    assert cap["threshold"]["rule"] == "fmr_target" and cap["threshold"]["target"] == 0.02
    blur = [cond["clean"]] + [cond[f"defocus:kernel=disc,radius={r}"] for r in (1, 2, 3, 4, 6)]
    fnmr = [c["fnmr"] for c in blur]
    for a, b in zip(fnmr, fnmr[1:], strict=False):
        # FNMR does not improve as blur grows: it rises, or any fall is within the intervals
        assert b["value"] >= a["value"] or b["ci"][1] >= a["ci"][0], (a, b)
    # no miss on clean photos: a bound on the 10 people (not on their 50 photos), so the strongest
    # blur is told apart by the paired difference, not by the two intervals
    assert fnmr[0]["upper_bound"] and fnmr[0]["bound"]["n_units"] == 10
    assert fnmr[0]["bound"]["unit"] == "subject"
    assert blur[-1]["vs_reference"]["fnmr"]["difference"]["ci"][0] > 0
    down = [cond["clean"]] + [cond[f"downscale:ied={d},restore=false"] for d in (24, 16, 12, 8, 6)]
    fta = [c["fta"]["value"] for c in down]
    assert fta[-1] >= 0.9 > fta[0] and fta[-1] == max(fta)
    assert cond["downscale:ied=6,restore=false"]["fta_by_reason"]
    # every figure has its n and interval; plain JSON; one sentence per condition
    for c in cond.values():
        assert c["fta"]["n"] == c["n_photos"] == 50 and c["sentence"]
    json.dumps(res, allow_nan=False)
    q = res["quality"]
    assert q["score"]["source"] == "built-in"
    assert {c["condition"] for c in q["conditions"]} == set(cond)
    assert q["pooled"]["edc"]["fnmr"]["pauc"]["value"] is not None
    assert q["pooled"]["gates"]["verification"]
    # the report shows every figure of results.json, in HTML and Markdown
    from test_report_sections import md_text, shown_figures, text_of

    page, md = (out / "report.html").read_text(), (out / "report.md").read_text()
    assert '<section id="capture">' in page and '<section id="quality">' in page
    figures = shown_figures(res)
    assert len(figures) > 100
    assert [f for f in figures if f[1] not in text_of(page)] == []
    assert [f for f in figures if f[1] not in md_text(md)] == []
    # no face image anywhere unless asked for
    written = {p.suffix for p in out.rglob("*") if p.is_file()}
    assert not (tmp_path / "out" / "examples").exists()
    pngs = [p for p in out.rglob("*.png") if "figures" not in p.parts]
    assert pngs == [] and ".pgm" not in written


@pytest.mark.slow
def test_show_examples_writes_only_that_image_under_each_condition(shared_data, tmp_path):
    orl = shared_data / "orl_faces"
    manifest = _orl_manifest(tmp_path, orl, 5, (1, 3, 4))
    out = tmp_path / "out"
    argv = [
        "capture", str(manifest), "--degrade", "defocus:radius=3",
        "--profile", "moving-subject", "--fmr-target", "0.1", "--bootstrap", "0",
        "--show-examples", str(orl / "s2" / "3.pgm"), "--cache", str(tmp_path / "cache"),
        "-j", "1", "-q", "--out", str(out),
    ]  # fmt: skip
    assert _exit_code(argv) == 0
    index = json.loads((out / "examples" / "index.json").read_text())
    assert index["image"].endswith("s2/3.pgm")
    files = sorted(p.name for p in (out / "examples").glob("*.png"))
    assert files == sorted(e["file"] for e in index["examples"])
    assert len(files) == 1 + 1 + 4  # clean, defocus 3, moving-subject 1..4
    shown = np.asarray(Image.open(out / "examples" / files[1]))
    assert shown.shape[:2] == (112, 92)


def _write_recorded(tmp_path: Path, orl: Path, subjects: int) -> Path:
    """ORL photos as taken ("lit") and blurred copies ("blur"), as if photographed so."""
    from faceaudit.recognizers import load_recognizer

    rec = load_recognizer("dlib-resnet")
    root = tmp_path / "recorded"
    lines = ["path,subject,lighting"]
    blur = (Degradation("defocus", {"radius": 5}),)
    for s in range(1, subjects + 1):
        (root / f"s{s}").mkdir(parents=True)
        for i in (1, 3, 4, 5, 6):
            img = np.asarray(Image.open(orl / f"s{s}" / f"{i}.pgm").convert("RGB"))
            Image.fromarray(img).save(root / f"s{s}" / f"{i}_lit.png")
            lines.append(f"s{s}/{i}_lit.png,s{s},lit")
            if i >= 3:
                try:
                    eyes = eye_centres(rec.represent(img).face.landmarks, "dlib5")
                except Exception:
                    eyes = None
                out = apply_chain(img, blur, eyes=eyes, seed=i)
                Image.fromarray(out).save(root / f"s{s}" / f"{i}_blur.png")
                lines.append(f"s{s}/{i}_blur.png,s{s},blur")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.slow
def test_recorded_conditions_from_a_column_and_from_file_names(shared_data, tmp_path):
    root = _write_recorded(tmp_path, shared_data / "orl_faces", 10)
    cache = str(tmp_path / "cache")
    common = ["--bootstrap", "200", "--cache", cache, "-j", "2", "-q"]
    by_column = tmp_path / "by_column"
    rows = (root / "manifest.csv").read_text().splitlines()[1:]
    scores = [
        f"{r.split(',')[0]},{(80 if 'lit' in r else 20) + k / 100}" for k, r in enumerate(rows)
    ]
    (tmp_path / "q.csv").write_text("path,quality\n" + "\n".join(scores) + "\n")
    argv = ["capture", str(root / "manifest.csv"), "--condition", "lighting",
            "--fmr-target", "0.02", "--quality", str(tmp_path / "q.csv"),
            "--out", str(by_column), *common]  # fmt: skip
    assert _exit_code(argv) == 0
    by_name = tmp_path / "by_name"
    argv = ["audit", str(root), "--condition-from-name", r"_(?P<condition>[a-z]+)\.png$",
            "--reference-condition", "lit", "--condition-threshold", "fmr=0.02",
            "--fmr-target", "0.01", "--out", str(by_name), *common]  # fmt: skip
    assert _exit_code(argv) == 0
    a = json.loads((by_column / "results.json").read_text())
    b = json.loads((by_name / "results.json").read_text())
    for res, source in ((a, "manifest column"), (b, "file name")):
        cap = res["capture"]
        assert cap["mode"] == "recorded" and cap["condition_source"]["kind"] == source
        assert cap["reference_condition"] == "lit"  # the most frequent / named
        cond = _conditions(res)
        assert set(cond) == {"lit", "blur"}
        assert cond["lit"]["n_photos"] == 40 and cond["blur"]["n_photos"] == 40
        assert cap["split"]["n_with_reference"] == 10  # each subject's first lit photo enrols
        assert cond["blur"]["fnmr"]["value"] > cond["lit"]["fnmr"]["value"]
        assert cond["blur"]["vs_reference"]["fnmr"]["difference"]["ci"][0] > 0
    # the same photos, the same split and threshold: the same figures either way
    assert a["capture"]["threshold"]["value"] == b["capture"]["threshold"]["value"]
    for name in ("lit", "blur"):
        assert _conditions(a)[name]["fnmr"] == _conditions(b)[name]["fnmr"]
    assert "quality" in a and "verification" in b and "identification" in b
    q = a["quality"]  # the user's scores: low for every blurred photo
    assert q["score"]["source"] == "file" and q["score"]["file"]["n_images"] == len(rows)
    widest = q["pooled"]["gates"]["verification"][-1]
    assert widest["rejected_by_condition"]["lit"] == 0.0
    assert widest["rejected_by_condition"]["blur"] > 0.0
    assert any(i["path"].endswith("q.csv") for i in a["inputs"])


@pytest.mark.slow
def test_a_rerun_computes_nothing(shared_data, tmp_path):
    manifest = _orl_manifest(tmp_path, shared_data / "orl_faces", 5, (1, 3, 4))
    cache = tmp_path / "cache"
    argv = ["capture", str(manifest), "--degrade", "motion", "--severities", "6,12",
            "--fmr-target", "0.1", "--bootstrap", "100", "--cache", str(cache), "-j", "1",
            "-q", "--out"]  # fmt: skip
    assert _exit_code([*argv, str(tmp_path / "a")]) == 0
    assert _exit_code([*argv, str(tmp_path / "b")]) == 0
    log_a = (tmp_path / "a" / "faceaudit.log").read_text()
    log_b = (tmp_path / "b" / "faceaudit.log").read_text()
    assert "photos as taken: 15 images, cache: 0 reused, 15 computed" in log_a
    assert "degraded probes: 20 images, cache: 0 reused, 20 computed" in log_a
    assert "photos as taken: 15 images, cache: 15 reused, 0 computed" in log_b
    assert "degraded probes: 20 images, cache: 20 reused, 0 computed" in log_b
    a = json.loads((tmp_path / "a" / "results.json").read_text())
    b = json.loads((tmp_path / "b" / "results.json").read_text())
    assert a["capture"] == b["capture"] and a["quality"] == b["quality"]


def _stored(cache: Path) -> int:
    if not (cache / "embeddings-v1.sqlite3").exists():
        return 0
    with EmbeddingCache(cache, read_only=True) as c:
        return c.count()


@pytest.mark.slow
def test_a_killed_sweep_resumes_with_the_same_results(shared_data, tmp_path):
    manifest = _orl_manifest(tmp_path, shared_data / "orl_faces", 6, (1, 3, 4, 5))
    sweep = ["--degrade", "defocus", "--severities", "2,4", "--fmr-target", "0.1",
             "--bootstrap", "100", "-j", "1", "-q"]  # fmt: skip
    fresh = tmp_path / "fresh"
    assert _exit_code(["capture", str(manifest), *sweep, "--cache", str(tmp_path / "c1"),
                       "--out", str(fresh)]) == 0  # fmt: skip
    cache = tmp_path / "c2"
    cmd = [*_cli(), "capture", str(manifest), *sweep, "--cache", str(cache), "--out"]
    proc = subprocess.Popen(
        [*cmd, str(tmp_path / "killed")],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:  # 24 photos as taken, then 36 degraded probes: kill it inside the degraded pass
        deadline = time.monotonic() + 300
        while _stored(cache) < 24 + 6:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    stored = _stored(cache)
    assert 30 <= stored < 60
    assert not (tmp_path / "killed").exists()
    resumed = tmp_path / "resumed"
    done = subprocess.run([*cmd, str(resumed)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    log = (resumed / "faceaudit.log").read_text()
    m = re.search(r"degraded probes: 36 images, cache: (\d+) reused, (\d+) computed", log)
    assert m and int(m.group(1)) == stored - 24 and int(m.group(2)) == 60 - stored, log
    a = json.loads((fresh / "results.json").read_text())
    b = json.loads((resumed / "results.json").read_text())
    assert a["capture"] == b["capture"] and a["quality"] == b["quality"]
