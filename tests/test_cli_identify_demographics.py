"""End to end: `faceaudit identify --metadata --by` gives per-probe-group FPIR and FNIR."""

import json

import numpy as np

from faceaudit.cli import main


def run(*args):
    try:
        main(list(args))
    except SystemExit as exc:
        return exc.code
    return 0


def test_identify_by_group(tmp_path):
    g, p = tmp_path / "g.npz", tmp_path / "p.npz"
    assert (
        run(
            "synth",
            "--subjects",
            "400",
            "--samples",
            "3",
            "--group",
            "A:1:0",
            "--group",
            "B:1:0.1",
            "--gallery-out",
            str(g),
            "--probes-out",
            str(p),
            "--seed",
            "3",
            "--quiet",
        )
        == 0
    )
    groups = {}
    for f in (g, p):
        d = np.load(f, allow_pickle=False)
        groups.update(zip(d["subjects"].tolist(), d["groups"].tolist(), strict=True))
    meta = tmp_path / "meta.csv"
    meta.write_text("subject,group\n" + "".join(f"{s},{grp}\n" for s, grp in groups.items()))
    out = tmp_path / "out"
    assert (
        run(
            "identify",
            "--gallery",
            str(g),
            "--probes",
            str(p),
            "--metadata",
            str(meta),
            "--by",
            "group",
            "--bootstrap",
            "200",
            "--out",
            str(out),
            "--quiet",
        )
        == 0
    )
    res = json.loads((out / "results.json").read_text())
    demo = res["identification_demographics"]
    names = {grp["group"] for grp in demo["groups"]}
    assert names == {"A", "B"}
    assert res["identification"]["n_nonmated"] > 0
    for grp in demo["groups"]:  # per probe group FPIR and FNIR, each a rate with its n
        assert grp["fpir"]["n"] > 0 and grp["fnir"]["n"] > 0


def test_identify_by_without_metadata_exits_2(tmp_path):
    assert (
        run("identify", "--gallery", "g.npz", "--probes", "p.npz", "--by", "sex", "--json", "-")
        == 2
    )
