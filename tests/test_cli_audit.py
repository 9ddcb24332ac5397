"""End to end: `faceaudit audit` on real face images (a subset of ORL), then a cached rerun."""

import csv
import json

import pytest

from faceaudit.cli import main


def run(*args):
    try:
        main(list(args))
    except SystemExit as exc:
        return exc.code
    return 0


@pytest.fixture
def manifest(shared_data, tmp_path):
    """8 subjects x 5 images of ORL plus one corrupt file: a small but real audit."""
    rows = list(csv.DictReader(open(shared_data / "orl_faces.csv")))
    keep = sorted({r["subject"] for r in rows})[:8]
    chosen = [r for r in rows if r["subject"] in keep and int(r["path"].split("/")[-1][:-4]) <= 5]
    bad = tmp_path / "broken.pgm"
    bad.write_bytes(b"P5\n92 112\n255\n" + b"\x00" * 50)  # truncated image
    path = tmp_path / "manifest.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "subject", "sex"])
        for r in chosen:
            w.writerow(
                [str(shared_data / r["path"]), r["subject"], "f" if r["subject"] < "s2" else "m"]
            )
        w.writerow([str(bad), keep[0], "f"])
    return path, len(chosen) + 1


@pytest.mark.slow
def test_audit_images_end_to_end(manifest, tmp_path):
    path, n_images = manifest
    out, cache = tmp_path / "audit", tmp_path / "cache"
    args = [
        "audit",
        str(path),
        "--out",
        str(out),
        "--cache",
        str(cache),
        "--bootstrap",
        "200",
        "--held-out",
        "2",
        "--by",
        "sex",
        "--quiet",
    ]
    assert run(*args) == 0
    res = json.loads((out / "results.json").read_text())
    acq = res["acquisition"]
    assert acq["n_images"] == n_images and acq["n_failed"] >= 1
    assert {"image", "reason"} <= set(acq["failures"][0])
    assert res["model"]["id"] == "dlib-resnet" and res["model"]["dim"] == 128
    assert len(res["model"]["weights_sha256"]) == 64
    v = res["verification"]
    ok = n_images - acq["n_failed"]
    assert v["n_mated"] + v["n_nonmated"] + v["mated_fta"] + v["nonmated_fta"] == (
        n_images * (n_images - 1) // 2
    )
    assert v["n_mated"] + v["n_nonmated"] == ok * (ok - 1) // 2
    assert v["eer"]["value"] < 0.05  # ORL with dlib: measured 0.3% on all 400 images
    op = v["operating_points"][0]  # 8 people: too few to support an FMR target (rule of 30)
    assert op["supported"] is False and op["support"]["subjects_ok"] is False
    ident = res["identification"]
    assert ident["gallery_size"] == 6 and ident["n_nonmated"] > 0
    assert res["demographics"]["attribute"] == "sex"
    assert res["inputs"][0]["records"] == n_images and len(res["inputs"][0]["sha256"]) == 64
    assert "<img" not in (out / "report.html").read_text()  # aggregate figures, no faces
    # a rerun hits the cache and gives the same numbers
    assert run(*args[:-1], "--force", "--quiet") == 0
    again = json.loads((out / "results.json").read_text())
    assert again["verification"] == v and again["acquisition"] == acq


def test_audit_refuses_existing_output(tmp_path, capsys):
    out = tmp_path / "exists"
    out.mkdir()
    assert run("audit", str(tmp_path), "--out", str(out)) == 2
    assert "already exists" in capsys.readouterr().err
