"""``faceaudit impact``: field logs of real deployments, 1:N counts, a results.json carried in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faceaudit.cli import main

INPUTS = Path(__file__).parent / "golden" / "inputs"


def run_json(capsys, *args: str) -> dict:
    try:
        main([*args, "--json", "-", "--quiet"])
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_met_police_field_log(capsys):
    d = run_json(capsys, "impact", "--alerts", "2077", "--confirmed-wrong", "10",
                 "--scanned", "3147436", "--source", "Metropolitan Police LFR 2024-25")  # fmt: skip
    f = d["field_log"]
    assert f["ppv"]["value"] == pytest.approx(0.9952, abs=5e-5)
    assert f["false_alerts_per_face"]["value"] == pytest.approx(3.18e-6, rel=1e-2)
    assert f["ppv"]["ci"][0] < f["ppv"]["value"] < f["ppv"]["ci"][1]


def test_south_wales_field_log(capsys):
    d = run_json(capsys, "impact", "--alerts", "2470", "--confirmed-wrong", "2297")
    assert round(d["field_log"]["ppv"]["value"], 3) == 0.070


def test_counts_on_the_command_line(capsys):
    d = run_json(capsys, "impact", "--fpir", "30/3000", "--fnir-rank1", "100/1000",
                 "--wrong-top1", "20/1000", "--gallery-size", "1000000",
                 "--prevalence", "0.01", "--bootstrap", "500")  # fmt: skip
    imp = d["impact"]
    point = next(p for p in imp["points"] if p["user_given"])
    # PPV = pi (1 - FNIR1) / (pi (1 - FNIR1 + wrong) + (1 - pi) FPIR), hand-checked
    pi = 0.01
    ppv = pi * 0.9 / (pi * (0.9 + 0.02) + (1 - pi) * 0.01)
    assert point["ppv"]["value"] == pytest.approx(ppv)
    lo, hi = point["ppv"]["ci"]
    assert lo < ppv < hi
    assert d["settings"]["bootstrap_unit"].startswith("search")


def test_results_json_carried_into_impact(capsys, tmp_path):
    out = tmp_path / "ident"
    g, p = str(INPUTS / "gallery.npz"), str(INPUTS / "probes.npz")
    main(["identify", "--gallery", g, "--probes", p, "--bootstrap", "0", "--out", str(out), "-q"])
    ident = json.loads((out / "results.json").read_text())["identification"]
    op = next(p for p in ident["operating_points"] if p["supported"])
    d = run_json(capsys, "impact", "--results", str(out / "results.json"), "--bootstrap", "0")
    assert d["impact"]["gallery_size"] == ident["gallery_size"]
    assert d["impact"]["rates"]["fpir"]["value"] == pytest.approx(op["fpir"]["value"])
    assert d["inputs"][0]["path"] == str(out / "results.json")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--alerts", "5"], "--confirmed-wrong"),
        (["--alerts", "5", "--confirmed-wrong", "6"], "confirmed_wrong"),
        (["--fpir", "3"], "COUNT/N"),
        (
            [
                "--fpir",
                "1/10",
                "--fnir-rank1",
                "1/10",
                "--wrong-top1",
                "1/9",
                "--gallery-size",
                "10",
            ],
            "same mated searches",
        ),  # fmt: skip
        (
            [
                "--fpir",
                "11/10",
                "--fnir-rank1",
                "1/10",
                "--wrong-top1",
                "1/10",
                "--gallery-size",
                "10",
            ],
            "--fpir 11: must be at most 10",
        ),  # fmt: skip
        ([], "give --results FILE"),
    ],
)
def test_bad_impact_input_is_one_sentence(capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(["impact", *args, "--json", "-"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err, err
