"""Peer score formats, each on a small fixture written here, as the peer's documentation says.

- pyeer (README "Input file formats"): one score per line, any number of columns with the score
  in the last; histograms (``-ht``): line k holds the number of scores equal to k.
- bob.measure (``load.split``): two columns, label 1 (positive) / -1 (negative) and score;
  ``nan`` scores are failures to acquire.
- bob.bio.base (``score.load``): 4/5 columns; a score file may be a (compressed) tar archive,
  whose first regular file is read (``open_file``); lines starting with ``#`` are comments
  (``four_column``: ``if len(s) == 0 or s[0] == '#': continue``).
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from faceaudit.errors import InputError
from faceaudit.io.pyeer import looks_like_histogram, read_pyeer
from faceaudit.io.scores import load_scores, read_bob, read_table_scores


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------------------
# pyeer


def test_pyeer_histogram_expands_exactly(tmp_path):
    g = write(tmp_path / "gen.txt", "5\n6\n7\n3\n9\n")
    h = write(tmp_path / "imp_hist.txt", "2\n0\n3\n1\n")  # scores 0,0,2,2,2,3
    r = load_scores(mated=g, nonmated_hist=h)
    assert sorted(r.nonmated.tolist()) == [0, 0, 2, 2, 2, 3]
    assert r.mated.tolist() == [5, 6, 7, 3, 9]
    assert r.inputs[1].records == 4  # bins
    both = load_scores(mated_hist=write(tmp_path / "gh.txt", "0\n1\n"), nonmated_hist=h)
    assert both.mated.tolist() == [1.0]


def test_pyeer_histogram_equals_its_expansion_on_pyeers_own_example(tmp_path):
    pyeer = pytest.importorskip("pyeer")
    ex = Path(pyeer.__file__).parent / "example_files"
    hist, expanded = ex / "hist" / "exp1_false.txt", ex / "non_hist" / "exp3_false.txt"
    gen = ex / "hist" / "exp1_true.txt"
    if not (hist.exists() and expanded.exists() and gen.exists()):
        pytest.skip("pyeer's example files are not installed")
    a = read_pyeer(gen, hist, nonmated_hist=True)
    b = read_pyeer(gen, expanded)
    assert np.array_equal(np.sort(a.nonmated), np.sort(b.nonmated))
    with pytest.raises(InputError, match="looks like a pyeer histogram.*--nonmated-hist"):
        read_pyeer(gen, hist)  # today's silent wrong EER (0.097 instead of 0.114)


def test_histogram_detection_spares_score_lists():
    rng = np.random.default_rng(0)
    integer_scores = rng.normal(60, 10, 400).round().clip(0)  # like tests/golden genuine.txt
    assert not looks_like_histogram(integer_scores)
    assert not looks_like_histogram(np.sort(integer_scores))  # sorted scores: monotonic
    assert not looks_like_histogram(rng.random(1000))  # not whole numbers
    counts = np.round(5000 * np.exp(-0.5 * ((np.arange(200) - 60) / 12) ** 2))
    assert looks_like_histogram(counts + rng.integers(0, 3, 200))


def test_pyeer_histogram_errors_name_the_line(tmp_path):
    g = write(tmp_path / "g.txt", "1\n2\n")
    with pytest.raises(InputError, match=r"h.txt, line 3: count '2.5' is not a whole number"):
        read_pyeer(g, write(tmp_path / "h.txt", "1\n0\n2.5\n"), nonmated_hist=True)
    with pytest.raises(InputError, match=r"b.txt, line 2: is blank, but every line"):
        read_pyeer(g, write(tmp_path / "b.txt", "1\n\n2\n"), nonmated_hist=True)
    ok = read_pyeer(g, write(tmp_path / "t.txt", "1\n2\n\n\n"), nonmated_hist=True)
    assert ok.nonmated.tolist() == [0, 1, 1]  # blank lines at the end are nothing


def test_pyeer_multi_column_and_comment_lines(tmp_path):
    g = write(tmp_path / "g.txt", "p1 r1 0.9\np2 r2 0.8\n0.7\n")
    i = write(tmp_path / "i.txt", "p1 r3 0.1\n")
    assert read_pyeer(g, i).mated.tolist() == [0.9, 0.8, 0.7]
    with pytest.raises(InputError, match=r"c.txt, line 2: starts with '#'"):
        read_pyeer(g, write(tmp_path / "c.txt", "0.1\n# 0.5\n"))


def test_bob_file_given_as_pyeer_list_is_refused(tmp_path):
    bob = write(tmp_path / "dev", "a a x1 0.9\na b x2 0.1\nb b x3 0.8\nb a x4 0.2\n")
    with pytest.raises(InputError, match="looks like a bob score file.*--bob"):
        read_pyeer(bob, write(tmp_path / "i.txt", "0.1\n"))


def test_same_file_as_mated_and_nonmated_is_refused(tmp_path):
    g = write(tmp_path / "g.txt", "0.9\n0.8\n")
    with pytest.raises(InputError, match="holds the same bytes as the mated file"):
        read_pyeer(g, g)
    with pytest.raises(InputError, match="holds the same bytes as the mated file"):
        read_pyeer(g, write(tmp_path / "copy.txt", "0.9\n0.8\n"))


# ------------------------------------------------------------------------------------------
# bob


def test_bob_measure_two_columns_labels_and_nan(tmp_path):
    f = write(tmp_path / "dev-1.txt", "1 0.26 \n-1 -0.52 \n1 nan \n-1 nan \n-1 0.06\n1 0.9\n")
    r = read_bob(f)
    assert r.mated.tolist() == [0.26, 0.9] and r.nonmated.tolist() == [-0.52, 0.06]
    assert (r.mated_fta, r.nonmated_fta) == (1, 1) and r.mated_subject is None
    with pytest.raises(InputError, match=r"z.txt, line 2: label '0' is neither 1"):
        read_bob(write(tmp_path / "z.txt", "1 0.5\n0 0.1\n"))


def test_bob_comments_are_not_comparisons(tmp_path):
    text = "# claimed real label score\na a x1 0.9\n  # a note\nb a x2 0.1  # inline\nb b x3 0.8\n"
    r = read_bob(write(tmp_path / "dev", text))
    assert r.mated.tolist() == [0.9, 0.8] and r.nonmated.tolist() == [0.1]
    assert r.inputs[0].records == 3


def _tar(path: Path, members: dict[str, str], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        dirinfo = tarfile.TarInfo("scores")
        dirinfo.type = tarfile.DIRTYPE
        tar.addfile(dirinfo)
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("mode, name", [("w:gz", "s.tar.gz"), ("w", "s.tar"), ("w:bz2", "s.tbz")])
def test_bob_tar_archives_read_their_first_file(tmp_path, mode, name):
    dev = "a a x1 0.9\na b x2 0.1\nb b x3 0.8\n"
    arch = _tar(tmp_path / name, {"scores/scores-dev": dev, "scores/scores-eval": dev}, mode)
    r = read_bob(arch)
    assert r.mated.tolist() == [0.9, 0.8] and r.nonmated.tolist() == [0.1]
    assert any("only the first, scores/scores-dev" in w for w in r.warnings)
    bad = _tar(tmp_path / ("b" + name), {"scores/dev": "a a x1 0.9\na b x2 oops\n"}, mode)
    with pytest.raises(InputError) as err:
        read_bob(bad)
    assert str(err.value).startswith(f"{bad} (file scores/dev in the archive), line 2: score ")


def test_bob_csv_score_file(tmp_path):
    f = write(
        tmp_path / "scores-dev.csv",
        "probe_key,probe_subject_id,bio_ref_subject_id,score\nk1,a,a,0.9\nk2,a,b,0.2\n",
    )
    r = read_bob(f)
    assert r.mated.tolist() == [0.9] and r.nonmated.tolist() == [0.2]


# ------------------------------------------------------------------------------------------
# data-quality warnings


def test_self_comparisons_and_repeated_pairs_are_counted(tmp_path):
    rows = [
        "i1,i1,s1,s1,0.99,1",  # self-comparison
        "i1,i2,s1,s1,0.8,1",
        "i1,i2,s1,s1,0.8,1",  # repeat
        "i2,i1,s1,s1,0.8,1",  # swapped repeat
        "i1,i3,s1,s2,0.1,0",
    ]
    f = write(
        tmp_path / "s.csv",
        "probe,reference,probe_subject,reference_subject,score,mated\n" + "\n".join(rows) + "\n",
    )
    w = read_table_scores(f).warnings
    assert any(x.startswith("1 of 5 comparisons compare a sample with itself") for x in w)
    assert any("line 2" in x for x in w if "itself" in x)
    rep = [x for x in w if "repeat" in x]
    assert rep and rep[0].startswith("2 of 5 comparisons repeat a (probe, reference) pair")
    assert "1 in the same order, 1 with probe and reference swapped" in rep[0]


def test_repeated_pairs_in_a_bob_file(tmp_path):
    r = read_bob(write(tmp_path / "dev", "a a x1 0.9\na a x1 0.9\nb a x2 0.1\n"))
    assert any(w.startswith("1 of 3 comparisons repeat") for w in r.warnings)
    five = read_bob(write(tmp_path / "dev5", "a m1 a m1 0.99\na m1 a p2 0.8\nb m3 a p4 0.1\n"))
    assert any("model_label equals test_label" in w for w in five.warnings)


def test_clean_files_have_no_warnings(tmp_path):
    f = write(tmp_path / "s.csv", "probe,reference,score,mated\na,b,0.9,1\na,c,0.1,0\n")
    assert read_table_scores(f).warnings == []
