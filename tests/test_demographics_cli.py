"""The --metadata/--by options: parsing, input errors (exit 2), and the path from files to
results.json through ``faceaudit errors`` and the library calls it makes."""

import json

import numpy as np
import pytest

from faceaudit.cli import main
from faceaudit.commands._demographics import group_by
from faceaudit.errors import InputError


def run_thin(*args) -> int:
    """``faceaudit errors ... --bootstrap 200 --json -`` (results.json on stdout)."""
    return run_cli(*args, "--bootstrap", "200", "--json", "-")


def run_cli(*args) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return exc.code
    return 0


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(1)
    rows = ["probe,reference,score,mated,probe_subject,reference_subject"]
    n = 64  # 31 subjects per sex with metadata: enough people for supported group rates
    for s in range(n):
        for k in range(5):
            rows.append(f"p{s}_{k},r{s},{rng.normal(0.7, 0.1):.4f},1,s{s},s{s}")
        for o in range(n):
            if o != s:
                shift = 0.1 if (s % 2 == 0 and o % 2 == 0) else 0.0  # even subjects: higher FMR
                rows.append(f"p{s},r{o},{rng.normal(0.2 + shift, 0.1):.4f},0,s{s},s{o}")
    scores = tmp_path / "scores.csv"
    scores.write_text("\n".join(rows) + "\n")
    meta_rows = ["id,sex,age_band"]
    for s in range(n - 2):  # the last two subjects: no metadata
        meta_rows.append(f"s{s},{'F' if s % 2 == 0 else 'M'},{'young' if s < 20 else 'old'}")
    meta_rows.append("s99,F,old")  # not in the data
    meta = tmp_path / "meta.csv"
    meta.write_text("\n".join(meta_rows) + "\n")
    return scores, meta


def test_thin_command_writes_the_demographics_key(files, capsys):
    scores, meta = files
    code = run_thin("errors", "--scores", str(scores), "--metadata", str(meta), "--by", "sex",
                    "--metadata-subject-column", "id", "--threshold-from", "all@0.1")  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    res = json.loads(out.out)
    d = res["demographics"]
    assert d["attribute"] == "sex" and d["threshold_source"] == "whole data set, FMR target 0.1"
    assert [g["group"] for g in d["groups"]] == ["F", "M", "unknown"]
    f = next(g for g in d["groups"] if g["group"] == "F")
    assert f["fmr_ratio"]["ci"][0] > 1.0  # even (F) subjects were given higher non-mated scores
    assert d["coverage"]["subjects_without_metadata"] == 2
    assert d["coverage"]["metadata_subjects_not_in_data_examples"] == ["s99"]
    assert any(i["path"] == str(meta) for i in res["inputs"])
    # the threshold is the one verify chose at FMR 0.1 (reused, not recomputed)
    op = next(p for p in res["verification"]["operating_points"] if p["fmr_target"] == 0.1)
    assert d["threshold"] == op["threshold"]
    assert len(res["warnings"]) == 2


def test_thin_command_intersections(files, capsys):
    scores, meta = files
    assert run_thin("errors", "--scores", str(scores), "--metadata", str(meta), "--by",
                    "sex,age_band", "--metadata-subject-column", "id") == 0  # fmt: skip
    d = json.loads(capsys.readouterr().out)["demographics"]
    assert d["attribute"] == "sex × age_band"
    assert [g["group"] for g in d["groups"]] == [
        "F × old", "F × young", "M × old", "M × young", "unknown × unknown"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--by", "sex"], "--by needs --metadata FILE"),
        (["--metadata", "META"], "--metadata needs --by ATTR"),
        (
            ["--metadata", "META", "--by", "race", "--metadata-subject-column", "id"],
            "no attribute column 'race'",
        ),
        (["--metadata", "META", "--by", "sex"], "no column 'subject' (columns found: 'id'"),
        (["--metadata", "nope.csv", "--by", "sex"], "nope.csv: file not found"),
        (
            [
                "--metadata",
                "META",
                "--by",
                "sex",
                "--metadata-subject-column",
                "id",
                "--threshold-from",
                "Z",
            ],
            "there is no group 'Z' in sex",
        ),  # fmt: skip
        (
            [
                "--metadata",
                "META",
                "--by",
                "sex",
                "--metadata-subject-column",
                "id",
                "--threshold-from",
                "all@7",
            ],
            "is not a rate in (0, 1]",
        ),  # fmt: skip
    ],
)
def test_bad_options_exit_2_with_a_sentence(files, capsys, extra, message):
    scores, meta = files
    extra = [str(meta) if x == "META" else x for x in extra]
    assert run_thin("errors", "--scores", str(scores), *extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err


def test_bad_metadata_rows_name_the_line(files, capsys, tmp_path):
    scores, _ = files
    bad = tmp_path / "bad.csv"
    bad.write_text("subject,sex\ns1,F\ns1,M\n")
    assert run_thin("errors", "--scores", str(scores), "--metadata", str(bad), "--by", "sex") == 2
    assert "bad.csv, line 3: subject 's1' appears again" in capsys.readouterr().err


def test_group_by_is_none_without_options_and_reads_the_file_once(files):
    _, meta = files
    assert group_by(None, None, "all", "subject") is None
    m = group_by(meta, "sex", "all", "id").metadata
    assert m.attributes == ("sex", "age_band") and m.source.records == 63


def test_scores_without_subject_ids_are_an_input_error(tmp_path, files):
    _, meta = files
    g, i = tmp_path / "g.txt", tmp_path / "i.txt"
    g.write_text("0.9\n0.8\n")
    i.write_text("0.1\n0.2\n")
    from faceaudit.audits import audit_scores
    from faceaudit.io.scores import load_scores

    data = load_scores(mated=g, nonmated=i)
    spec = group_by(meta, "sex", "all", "id")
    with pytest.raises(InputError, match="probe_subject and reference_subject"):
        audit_scores(data, bootstrap=0, demographics=spec)


def test_real_errors_command_when_wired(files, tmp_path):
    scores, meta = files
    out = tmp_path / "audit"
    code = run_cli("errors", "--scores", str(scores), "--metadata", str(meta), "--by", "sex",
                   "--metadata-subject-column", "id", "--bootstrap", "200", "--out", str(out),
                   "--quiet")  # fmt: skip
    assert code == 0
    res = json.loads((out / "results.json").read_text())
    assert [g["group"] for g in res["demographics"]["groups"]] == ["F", "M", "unknown"]
    assert "Demographic differentials" in (out / "report.html").read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text("subject,sex\n")
    assert run_cli("errors", "--scores", str(scores), "--metadata", str(bad), "--by", "sex",
                   "--json", "-") == 2  # fmt: skip


def test_identification_options_give_the_1n_key(tmp_path):
    from faceaudit.audits.identification import _finish
    from faceaudit.stats.identification import SearchOutcomes

    meta = tmp_path / "m.csv"
    meta.write_text("subject,sex\na1,F\na2,F\nb1,M\nb2,M\n")
    rng = np.random.default_rng(0)
    units = np.array(["a1", "a2", "b1", "b2"])
    mated_unit = np.repeat(np.arange(4), 50)
    nonmated_unit = np.repeat(np.arange(4), 50)
    o = SearchOutcomes(
        gallery_size=100,
        list_length=10,
        mate_rank=np.ones(200, dtype=np.int64),
        mate_score=rng.normal(0.7, 0.1, 200),
        wrong_top1_score=np.full(200, -np.inf),
        nonmated_top=rng.normal(0.3, 0.1, 200) + 0.1 * (nonmated_unit < 2),
        mated_unit=mated_unit,
        nonmated_unit=nonmated_unit,
        units=units,
        mated_probes=np.array([f"m{i}" for i in range(200)]),
        nonmated_probes=np.array([f"n{i}" for i in range(200)]),
    )
    from faceaudit.analyses.identification import identify
    from faceaudit.audits import SILENT

    kw = {"rank": None, "bootstrap": 200, "confidence": 0.95, "seed": 0, "thresholds": ()}
    run = _finish("t", o, identify(o, bootstrap=0), kw, inputs=(), settings={},
                  synthetic=False, demographics=group_by(meta, "sex", "all@0.1", "subject"),
                  progress=SILENT)  # fmt: skip
    results = run.to_json()
    d = results["identification_demographics"]
    assert d["threshold_source"] == "whole data set, FPIR target 0.1"
    assert [g["group"] for g in d["groups"]] == ["F", "M"]
    assert d["groups"][0]["fpir"]["n"] == 100 and d["groups"][0]["fnir"]["n"] == 100
    assert results["settings"]["demographics_by"] == "sex"
