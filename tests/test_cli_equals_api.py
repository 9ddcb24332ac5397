"""Every command writes exactly the results.json of the library call it stands for.

"Everything the CLI does is a function call": for each command, the CLI run and the equivalent
Python (read the inputs with ``faceaudit.io``, call ONE audit, ``run.to_json()``) must give the
same JSON, figure for figure (only the creation time may differ).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from compare_systems_data import paired, write_csv
from faceaudit import audit_compare
from faceaudit.audits import (
    GroupBy,
    audit_candidates,
    audit_demo,
    audit_images,
    audit_scale,
    audit_scores,
    audit_search,
)
from faceaudit.cli import main
from faceaudit.io.candidates import load_candidate_search
from faceaudit.io.embeddings import read_embeddings
from faceaudit.io.images import discover_images
from faceaudit.io.metadata import read_metadata
from faceaudit.io.paired_scores import read_paired_scores
from faceaudit.io.scores import load_scores

INPUTS = Path(__file__).parent / "golden" / "inputs"


def cli(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "cli"
    try:
        main([*args, "--out", str(out), "--quiet"])
    except SystemExit as exc:
        assert not exc.code, f"faceaudit {' '.join(args)} exited {exc.code}"
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def same(cli_json: dict, run) -> None:
    api = json.loads(json.dumps(run.to_json()))
    assert cli_json["settings"].pop("command_line")[0] == "faceaudit"  # the CLI records its args
    for d in (cli_json, api):
        d.pop("created")
    assert api == cli_json


def test_errors_with_demographics(tmp_path):
    scores, meta = INPUTS / "ties.csv", INPUTS / "subjects.csv"
    got = cli(tmp_path, "errors", "--scores", str(scores), "--threshold", "0.3",
              "--metadata", str(meta), "--by", "sex,age_band", "--bootstrap", "100")  # fmt: skip
    run = audit_scores(
        load_scores(table=scores),
        thresholds=[0.3],
        bootstrap=100,
        demographics=GroupBy(read_metadata(meta), "sex,age_band"),
    )
    same(got, run)


def test_errors_bob_distance(tmp_path):
    bob = INPUTS / "scores-dev"
    got = cli(tmp_path, "errors", "--bob", str(bob), "--distance", "--threshold", "0.6",
              "--bootstrap", "0")  # fmt: skip
    run = audit_scores(load_scores(bob=bob, orientation="distance"), thresholds=[0.6], bootstrap=0)
    same(got, run)


def test_identify_candidates(tmp_path):
    c, t = INPUTS / "candidates.csv", INPUTS / "truth.csv"
    got = cli(tmp_path, "identify", "--candidates", str(c), "--truth", str(t),
              "--gallery-size", "280", "--bootstrap", "100")  # fmt: skip
    run = audit_candidates(load_candidate_search(c, t, gallery_size=280), bootstrap=100)
    same(got, run)


def test_identify_embeddings_with_groups(tmp_path):
    g, p, groups = INPUTS / "gallery.npz", INPUTS / "probes.npz", INPUTS / "groups.csv"
    got = cli(tmp_path, "identify", "--gallery", str(g), "--probes", str(p),
              "--metadata", str(groups), "--by", "group", "--bootstrap", "100")  # fmt: skip
    run = audit_search(
        read_embeddings(g),
        read_embeddings(p),
        bootstrap=100,
        demographics=GroupBy(read_metadata(groups), "group"),
    )
    same(got, run)


def test_identify_one_file_split(tmp_path):
    p = INPUTS / "probes.npz"
    got = cli(tmp_path, "identify", "--embeddings", str(p), "--held-out", "0.3",
              "--bootstrap", "0")  # fmt: skip
    same(got, audit_search(read_embeddings(p), held_out=0.3, bootstrap=0))


def test_scale(tmp_path):
    g, p = INPUTS / "scale_gallery.npz", INPUTS / "scale_probes.npz"
    got = cli(tmp_path, "scale", "--gallery", str(g), "--probes", str(p), "--threshold", "0.45",
              "--validation-fit-size", "300", "--bootstrap", "100")  # fmt: skip
    run = audit_scale(
        read_embeddings(g),
        read_embeddings(p),
        threshold=0.45,
        validation_fit_size=300,
        bootstrap=100,
    )
    same(got, run)


@pytest.mark.slow
def test_demo(tmp_path):
    out = tmp_path / "cli"
    main(["demo", "--out", str(out), "--bootstrap", "100", "--quiet"])
    got = json.loads((out / "results.json").read_text(encoding="utf-8"))
    same(got, audit_demo(bootstrap=100))


@pytest.mark.slow
def test_audit_images(shared_data, tmp_path):
    manifest = tmp_path / "m.csv"
    rows = ["path,subject,sex"] + [
        f"{shared_data}/orl_faces/s{s}/{k}.pgm,s{s},{'f' if s % 2 else 'm'}"
        for s in range(1, 7)
        for k in range(1, 4)
    ]
    manifest.write_text("\n".join(rows) + "\n")
    cache = tmp_path / "cache"
    got = cli(tmp_path, "audit", str(manifest), "--cache", str(cache), "--held-out", "2",
              "--by", "sex", "--bootstrap", "100")  # fmt: skip
    images = discover_images(manifest)
    run = audit_images(
        images,
        cache_dir=cache,
        held_out=2,
        demographics=GroupBy(images.subject_metadata("sex"), "sex"),
        bootstrap=100,
    )
    same(got, run)


def test_compare_two_systems(tmp_path):
    data = paired(n_subjects=20, shifts=(0.0, 0.4), seed=1)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(a, data, 0)
    write_csv(b, data, 1, order=np.arange(data.n)[::-1][:-3])
    got = cli(tmp_path, "compare", "--scores", str(a), "--scores", str(b), "--name", "A",
              "--name", "B", "--threshold", "2.0", "--bootstrap", "100")  # fmt: skip
    run = audit_compare(read_paired_scores([a, b], names=["A", "B"]), thresholds=[2.0],
                        bootstrap=100)  # fmt: skip
    same(got, run)


def test_compare_candidate_lists(tmp_path):
    from faceaudit.io.paired_scores import read_paired_candidates

    c, t = INPUTS / "candidates.csv", INPUTS / "truth.csv"
    got = cli(tmp_path, "compare", "--candidates", str(c), "--candidates", str(c),
              "--name", "A", "--name", "B", "--truth", str(t), "--gallery-size", "280",
              "--bootstrap", "100")  # fmt: skip
    data = read_paired_candidates([c, c], t, names=["A", "B"], gallery_size=280)
    same(got, audit_compare(data, bootstrap=100))


def test_impact_from_counts(tmp_path):
    from faceaudit.audits.impact import SearchCounts, audit_impact

    got = cli(tmp_path, "impact", "--fpir", "30/3000", "--fnir-rank1", "100/1000",
              "--wrong-top1", "20/1000", "--gallery-size", "1000000", "--encounters-per-day",
              "500", "--prevalence", "0.01", "--bootstrap", "200")  # fmt: skip
    counts = SearchCounts(nonmated_hits=30, n_nonmated=3000, mated_correct=900, mated_wrong=20,
                          n_mated=1000, gallery_size=1_000_000)  # fmt: skip
    same(got, audit_impact(counts, encounters_per_day=500, prevalence=[0.01], bootstrap=200))


def test_impact_field_log(tmp_path):
    from faceaudit.audits.impact import audit_field_log

    got = cli(tmp_path, "impact", "--alerts", "2077", "--confirmed-wrong", "10",
              "--scanned", "3147436")  # fmt: skip
    same(got, audit_field_log(alerts=2077, confirmed_wrong=10, scanned=3147436))


@pytest.mark.slow
def test_capture(shared_data, tmp_path):
    from faceaudit.audits import audit_capture
    from faceaudit.capture.sweeps import build_sweeps

    manifest = tmp_path / "m.csv"
    rows = ["path,subject"] + [
        f"{shared_data}/orl_faces/s{s}/{k}.pgm,s{s}" for s in range(1, 7) for k in range(1, 5)
    ]
    manifest.write_text("\n".join(rows) + "\n")
    cache = tmp_path / "cache"
    got = cli(tmp_path, "capture", str(manifest), "--degrade", "defocus", "--severities", "2,5",
              "--threshold", "0.9", "--cache", str(cache), "--bootstrap", "100")  # fmt: skip
    run = audit_capture(
        discover_images(manifest),
        sweeps=build_sweeps(degrade=["defocus"], severities=[2.0, 5.0]),
        threshold=0.9,
        cache_dir=cache,
        bootstrap=100,
    )
    same(got, run)
