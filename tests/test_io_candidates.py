"""Candidate-list and truth readers: validation names file, line and problem; CLI exits 2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faceaudit.errors import InputError
from faceaudit.io.candidates import (
    load_candidate_search,
    read_candidates,
    read_gallery_subjects,
    read_truth,
)

GOOD = """probe,rank,candidate,score
p1,1,A,0.9
p1,2,B,0.5
p2,2,A,0.3
p2,1,C,0.7
p3,1,B,0.2
"""
TRUTH = "probe,subject\np1,A\np2,\np3,B\np4,D\n"


def write(path, text):
    path.write_text(text)
    return path


def test_reads_sorted_lists_and_aligns_to_truth(tmp_path):
    c = read_candidates(write(tmp_path / "c.csv", GOOD))
    assert c.probes.tolist() == ["p1", "p2", "p3"] and c.list_length == 2
    ids = c.candidate_ids()
    assert ids.tolist() == [["A", "B"], ["C", "A"], ["B", ""]]
    np.testing.assert_array_equal(c.scores[2], [0.2, -np.inf])
    s = load_candidate_search(tmp_path / "c.csv", write(tmp_path / "t.csv", TRUTH), gallery_size=10)
    assert s.lists.probes.tolist() == ["p1", "p2", "p3", "p4"]  # p4 returned nothing
    assert s.lists.candidate_ids()[3].tolist() == ["", ""]
    records = {i.path: i.records for i in s.inputs}
    assert records[str(tmp_path / "c.csv")] == 5 and records[str(tmp_path / "t.csv")] == 4
    back = s.lists.to_frame()
    assert len(back) == 5 and set(back.columns) == {"probe", "rank", "candidate", "score"}


def test_parquet_input(tmp_path):
    df = pd.read_csv(pd.io.common.StringIO(GOOD))
    df.to_parquet(tmp_path / "c.parquet")
    c = read_candidates(tmp_path / "c.parquet")
    assert c.candidate_ids().tolist() == [["A", "B"], ["C", "A"], ["B", ""]]
    bad = df.copy()
    bad.loc[4, "rank"] = 3
    bad.to_parquet(tmp_path / "b.parquet")
    with pytest.raises(InputError, match=r"b.parquet, row 5: probe 'p3': rank 3 follows rank 0"):
        read_candidates(tmp_path / "b.parquet")


@pytest.mark.parametrize(
    "text, where, message",
    [
        (GOOD.replace("p2,2,A,0.3", "p2,3,A,0.3"), "line 4", "probe 'p2': rank 3 follows rank 1"),
        (
            GOOD.replace("p1,2,B,0.5", "p1,1,B,0.5"),
            "line 3",
            "probe 'p1' has rank 1 twice (also at line 2)",
        ),
        (
            GOOD.replace("p1,2,B,0.5", "p1,2,B,0.95"),
            "line 3",
            "the score 0.95 at rank 2 is higher than 0.9 at rank 1",
        ),
        (
            GOOD.replace("p1,2,B,0.5", "p1,2,A,0.5"),
            "line 3",
            "candidate 'A' appears more than once in the list of probe 'p1'",
        ),
        (
            GOOD.replace("p2,1,C,0.7", "p2,1,C,high"),
            "line 5",
            "score 'high' is not a number",
        ),
        (
            GOOD.replace("p2,1,C,0.7", "p2,1,C,nan"),
            "line 5",
            "score 'nan' is NaN",
        ),
        (
            GOOD.replace("p3,1,B,0.2", "p3,1.5,B,0.2"),
            "line 6",
            "rank '1.5' is not a whole number >= 1",
        ),
        (GOOD.replace("p3,1,B,0.2", "p3,0,B,0.2"), "line 6", "rank '0' is not a whole number >= 1"),
        (GOOD.replace("p3,1,B,0.2", ",1,B,0.2"), "line 6", "probe is empty"),
        (GOOD.replace("p3,1,B,0.2", "p3,1,,0.2"), "line 6", "candidate is empty"),
    ],
)
def test_candidate_errors(tmp_path, text, where, message):
    path = write(tmp_path / "c.csv", text)
    with pytest.raises(InputError) as info:
        read_candidates(path)
    assert str(info.value).startswith(f"{path}, {where}: ")
    assert message in str(info.value)


def test_missing_columns_and_empty(tmp_path):
    with pytest.raises(InputError, match=r"c.csv, line 1: has no column 'score'"):
        read_candidates(write(tmp_path / "c.csv", "probe,rank,candidate\np,1,A\n"))
    with pytest.raises(InputError, match="has no rows"):
        read_candidates(write(tmp_path / "c.csv", "probe,rank,candidate,score\n"))
    with pytest.raises(InputError, match="none.csv: file not found"):
        read_candidates(tmp_path / "none.csv")


def test_truth_errors(tmp_path):
    t = write(tmp_path / "t.csv", "probe,subject\np1,A\np2,\np1,B\n")
    with pytest.raises(
        InputError, match=r"t.csv, line 4: probe 'p1' appears more than once .*line 2"
    ):
        read_truth(t)
    with pytest.raises(InputError, match=r"u.csv, line 1: has no column 'subject'"):
        read_truth(write(tmp_path / "u.csv", "probe\np1\n"))


def test_cross_checks(tmp_path):
    c = write(tmp_path / "c.csv", GOOD)
    t = write(tmp_path / "t.csv", "probe,subject\np1,A\np2,\n")
    with pytest.raises(InputError) as info:
        load_candidate_search(c, t, gallery_size=5)
    assert str(info.value).startswith(f"{c}, line 6: probe 'p3' is not in the truth table")
    t = write(tmp_path / "t.csv", TRUTH)
    g = write(tmp_path / "g.txt", "A\nB\n")
    with pytest.raises(InputError, match=r"c.csv, line 5: candidate 'C' is not in the gallery"):
        load_candidate_search(c, t, gallery=g)
    with pytest.raises(InputError, match="disagrees with the gallery subject list"):
        load_candidate_search(c, t, gallery=write(tmp_path / "h.txt", "A\nB\nC\n"), gallery_size=4)
    with pytest.raises(InputError, match="gallery size must count every enrolled subject"):
        load_candidate_search(c, t, gallery_size=2)
    with pytest.raises(InputError, match="gallery size is unknown"):
        load_candidate_search(c, t)


def test_gallery_subject_list(tmp_path):
    g = write(tmp_path / "g.txt", "# enrolled\nA\n\nB\n")
    assert read_gallery_subjects(g).tolist() == ["A", "B"]
    with pytest.raises(InputError, match=r"subject 'B' is listed twice \(line 2 and line 4\)"):
        read_gallery_subjects(write(tmp_path / "d.txt", "A\nB\nC\nB\n"))
    assert read_gallery_subjects(write(tmp_path / "g.csv", "subject\nA\nC\n")).tolist() == [
        "A",
        "C",
    ]


def test_cli_bad_candidates_exit_2(tmp_path, capsys):
    from faceaudit import cli

    c = write(tmp_path / "c.csv", GOOD.replace("p2,2,A,0.3", "p2,3,A,0.3"))
    t = write(tmp_path / "t.csv", TRUTH)
    with pytest.raises(SystemExit) as info:
        cli.main(
            [
                "identify",
                "--candidates",
                str(c),
                "--truth",
                str(t),
                "--gallery-size",
                "9",
                "--json",
                "-",
                "--bootstrap",
                "0",
            ]
        )
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"{c}, line 4: probe 'p2': rank 3 follows rank 1" in err and "Traceback" not in err


def test_person_column_sets_the_bootstrap_unit(tmp_path):
    from faceaudit.stats.identification import search_outcomes

    c = read_candidates(write(tmp_path / "c.csv", GOOD))
    t = read_truth(write(tmp_path / "t.csv", "probe,subject,person\np1,A,A\np2,,X\np3,,X\n"))
    assert t.persons.tolist() == ["A", "X", "X"]
    o = search_outcomes(c.align(t.probes), t, gallery_size=5)
    assert o.n_nonmated == 2 and o.nonmated_unit[0] == o.nonmated_unit[1]  # one person
    t2 = read_truth(write(tmp_path / "u.csv", "probe,subject\np1,A\np2,\np3,\n"))
    o2 = search_outcomes(c.align(t2.probes), t2, gallery_size=5)
    assert o2.nonmated_unit[0] != o2.nonmated_unit[1]  # unknown: each search its own unit
