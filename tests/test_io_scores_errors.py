"""Score readers: one test per bad input, each asserting the message names the file and line.

Line numbers are what an editor shows (1-based; a CSV header is line 1), counting blank lines.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from faceaudit.errors import InputError
from faceaudit.io import _checks
from faceaudit.io import tables as tables_mod
from faceaudit.io.scores import (
    ColumnNames,
    load_scores,
    read_bob,
    read_npy,
    read_pyeer,
    read_table_scores,
)

GOOD = "score,mated,probe_subject,reference_subject\n0.9,1,a,a\n0.1,0,a,b\n0.2,0,b,a\n"


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def table_error(path: Path, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        read_table_scores(path, **kwargs)
    return info.value


def assert_names(err: InputError, path: Path, line: int | None, *words: str) -> None:
    """The message starts with the file (and line) and contains ``words``."""
    text = str(err)
    where = f"{path}, line {line}: " if line is not None else f"{path}: "
    assert text.startswith(where), text
    assert err.path == str(path)
    assert err.line == line
    for w in words:
        assert w in text, (w, text)
    assert "Traceback" not in text and text.endswith((".", ")")), text


# --------------------------------------------------------------------------------------------
# Files that cannot be used at all


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    assert_names(table_error(path), path, None, "not found")


def test_directory_instead_of_file(tmp_path):
    assert_names(table_error(tmp_path), tmp_path, None, "directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path):
    path = write(tmp_path / "s.csv", GOOD)
    path.chmod(0)
    assert_names(table_error(path), path, None, "cannot be read")


def test_empty_file(tmp_path):
    path = write(tmp_path / "s.csv", "")
    assert_names(table_error(path), path, None, "empty")


def test_only_blank_lines(tmp_path):
    path = write(tmp_path / "s.csv", "\n\n\r\n")
    assert_names(table_error(path), path, None, "blank")


def test_header_without_data_rows(tmp_path):
    path = write(tmp_path / "s.csv", "\nscore,mated\n\n")
    assert_names(table_error(path), path, 2, "no data rows")


# --------------------------------------------------------------------------------------------
# Columns


def test_missing_score_column_lists_the_columns_found(tmp_path):
    path = write(tmp_path / "s.csv", "Score,mated,extra\n0.5,1,x\n")
    err = table_error(path)
    assert_names(err, path, 1, "no column 'score'", "'Score', 'mated', 'extra'", "Did you mean")


def test_missing_mated_and_subject_columns(tmp_path):
    path = write(tmp_path / "s.csv", "score,probe_subject\n0.5,a\n")
    err = table_error(path)
    assert_names(err, path, 1, "no column 'mated'", "'score', 'probe_subject'")


def test_configured_column_missing(tmp_path):
    path = write(tmp_path / "s.csv", GOOD)
    err = table_error(path, columns=ColumnNames(score="similarity"))
    assert_names(err, path, 1, "no column 'similarity'")


def test_duplicate_column_in_header(tmp_path):
    path = write(tmp_path / "s.csv", "score,mated,score\n1,1,2\n")
    assert_names(table_error(path), path, 1, "two columns named 'score'")


def test_one_column_name_for_two_roles():
    with pytest.raises(InputError, match="more than one role"):
        read_table_scores("unused.csv", columns=ColumnNames(mated="score"))


def test_unknown_orientation():
    with pytest.raises(InputError, match="orientation 'similar' is not known"):
        read_table_scores("unused.csv", orientation="similar")


# --------------------------------------------------------------------------------------------
# Bad values in a CSV: the message names the line


@pytest.mark.parametrize(
    "value, words",
    [
        ("abc", ["score 'abc' is not a number"]),
        ("0,5", []),  # a decimal comma makes an extra field; tested below as a field-count error
        ("nan", ["score 'nan' is NaN"]),
        ("NaN", ["score 'NaN' is NaN"]),
        ("inf", ["score 'inf' is infinite"]),
        ("-inf", ["score '-inf' is infinite"]),
        ("1.2.3", ["is not a number"]),
        ("NA", ["score 'NA' is not a number", "leave the field empty"]),
    ],
)
def test_bad_score_in_csv(tmp_path, value, words):
    text = f"score,mated\n0.5,1\n\n0.4,0\n{value},0\n0.3,0\n"
    path = write(tmp_path / "s.csv", text)
    err = table_error(path)
    if value == "0,5":
        assert_names(err, path, 5, "has 3 fields but the header (line 1) has 2")
    else:
        assert_names(err, path, 5, *words)


def test_bad_score_with_blanks_around_it(tmp_path):
    path = write(tmp_path / "s.csv", "score,mated\n 0.5 ,1\n x ,0\n")
    assert_names(table_error(path), path, 3, "score 'x' is not a number")


def test_mated_not_boolean(tmp_path):
    path = write(tmp_path / "s.csv", "score,mated\n0.5,true\n0.4,maybe\n0.3,false\n")
    assert_names(table_error(path), path, 3, "mated value 'maybe' is not boolean")


@pytest.mark.parametrize("word", ["t", "y", "2", "-1", "on", "mated"])
def test_mated_word_outside_the_accepted_spellings(tmp_path, word):
    path = write(tmp_path / "s.csv", f"score,mated\n0.5,1\n0.4,0\n0.3,{word}\n")
    assert_names(table_error(path), path, 4, f"mated value '{word}' is not boolean")


def test_mated_number_other_than_0_1(tmp_path):
    path = write(tmp_path / "s.csv", "score,mated\n0.5,1\n0.4,0\n0.3,2\n")
    assert_names(table_error(path), path, 4, "mated value '2' is not boolean")


def test_mated_empty(tmp_path):
    path = write(tmp_path / "s.csv", "score,mated\n0.5,1\n0.4,\n0.3,0\n")
    assert_names(table_error(path), path, 3, "mated value is empty")


def test_mated_true_but_subjects_differ(tmp_path):
    path = write(tmp_path / "s.csv", GOOD + "0.7,1,b,c\n")
    assert_names(table_error(path), path, 5, "marked mated but its subjects differ ('b' vs 'c')")


def test_mated_false_but_subjects_equal(tmp_path):
    path = write(tmp_path / "s.csv", GOOD + "0.7,0,c,c\n")
    assert_names(table_error(path), path, 5, "marked non-mated but both subjects are 'c'")


def test_empty_subject_id(tmp_path):
    path = write(tmp_path / "s.csv", GOOD + "0.7,0,,c\n")
    assert_names(table_error(path), path, 5, "probe_subject is empty")


def test_blank_subject_id(tmp_path):
    path = write(tmp_path / "s.csv", GOOD + "0.7,0,c,   \n")
    assert_names(table_error(path), path, 5, "reference_subject is empty")


def test_empty_probe_id(tmp_path):
    path = write(tmp_path / "s.csv", "probe,score,mated\np1,0.5,1\n,0.4,0\n")
    assert_names(table_error(path), path, 3, "probe is empty")


def test_error_line_after_blank_lines_and_crlf(tmp_path):
    text = "\r\n\r\nscore,mated\r\n0.5,1\r\n\r\n\r\n0.4,0\r\n0.3,x\r\n"
    path = write(tmp_path / "s.csv", text)
    assert_names(table_error(path), path, 8, "mated value 'x'")


def test_error_line_in_a_later_chunk(tmp_path, monkeypatch):
    rows = "".join(f"0.{i},{i % 2}\n" for i in range(1, 500))
    path = write(tmp_path / "s.csv", "score,mated\n" + rows + "oops,1\n" + rows)
    monkeypatch.setattr(tables_mod, "_CSV_BLOCK_BYTES", 256)
    assert_names(table_error(path, chunk_rows=7), path, 501, "score 'oops'")


def test_error_line_in_a_gzip_file(tmp_path):
    path = tmp_path / "s.csv.gz"
    path.write_bytes(gzip.compress(b"score,mated\n0.5,1\n\n0.4,0\n0.3,nope\n"))
    assert_names(table_error(path), path, 5, "mated value 'nope'")


# --------------------------------------------------------------------------------------------
# Malformed or truncated CSV


def test_row_with_too_few_fields(tmp_path):
    path = write(tmp_path / "s.csv", "score,mated\n0.5,1\n0.4\n0.3,0\n")
    assert_names(table_error(path), path, 3, "has 1 fields but the header (line 1) has 2")


def test_row_with_too_many_fields(tmp_path):
    path = write(tmp_path / "s.csv", "score,mated\n0.5,1\n\n0.4,0,zzz\n0.3,0\n")
    assert_names(table_error(path), path, 4, "has 3 fields but the header (line 1) has 2")


def test_truncated_last_row(tmp_path):
    full = GOOD + "0.7,0,b,c\n"
    path = write(tmp_path / "s.csv", full[: full.rindex(",")])  # cut inside the last row
    assert_names(
        table_error(path), path, 5, "has 3 fields but the header (line 1) has 4", "truncated"
    )


def test_unterminated_quote(tmp_path):
    path = write(tmp_path / "s.csv", 'score,mated,probe\n0.5,1,"a"\n0.4,0,"b\n')
    assert_names(table_error(path), path, 3, "a quoted field is not closed")


def test_unterminated_quote_swallowing_the_lines_after_it(tmp_path):
    text = 'score,mated,probe\n0.5,1,a\n\n0.4,0,"b\n0.3,0,c\n0.2,0,d\n'
    path = write(tmp_path / "s.csv", text)
    assert_names(table_error(path), path, 4, "a quoted field is not closed")


def test_unterminated_quote_in_an_unused_column_on_the_last_line(tmp_path):
    path = write(tmp_path / "s.csv", 'score,mated,note\n0.5,1,a\n0.4,0,"b\n\n')
    assert_names(table_error(path), path, 3, "a quoted field is not closed")


def test_line_break_inside_a_quoted_value_is_refused(tmp_path):
    path = write(tmp_path / "s.csv", 'score,mated,note\n0.5,1,"two\nlines"\n0.4,0,x\n')
    assert_names(table_error(path), path, 2, "line break (not supported)")


def test_truncated_gzip_file(tmp_path):
    data = gzip.compress(("score,mated\n" + "0.5,1\n0.1,0\n" * 20000).encode())
    path = write(tmp_path / "s.csv.gz", data[: len(data) // 2])
    assert_names(table_error(path), path, None, "truncated or corrupt")


def test_invalid_utf8(tmp_path):
    path = write(tmp_path / "s.csv", b"score,mated,probe\n0.5,1,a\n0.4,0,caf\xe9\n")
    assert_names(table_error(path), path, 3, "is not UTF-8")


def test_parquet_bytes_in_a_csv_file(tmp_path):
    path = tmp_path / "s.csv"
    pq.write_table(pa.table({"score": [1.0], "mated": [True]}), path)
    assert_names(table_error(path), path, None, "is a Parquet file, not CSV")


# --------------------------------------------------------------------------------------------
# Experiments without mated or non-mated scores


def test_no_mated_comparisons(tmp_path):
    path = write(tmp_path / "s.csv", "score,mated\n0.5,0\n0.4,0\n")
    assert_names(table_error(path), path, None, "no mated comparisons found")


def test_no_nonmated_comparisons(tmp_path):
    path = write(tmp_path / "s.csv", "score,mated\n0.5,1\n")
    assert_names(table_error(path), path, None, "no non-mated comparisons found")


def test_every_mated_score_missing(tmp_path):
    path = write(tmp_path / "s.csv", "score,mated\n,1\n,1\n0.4,0\n")
    err = table_error(path)
    assert_names(err, path, None, "all 2 mated comparisons have no score")


# --------------------------------------------------------------------------------------------
# Parquet: records are rows (1-based)


def parquet(tmp_path: Path, **columns) -> Path:
    path = tmp_path / "s.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=2)
    return path


def test_not_a_parquet_file(tmp_path):
    path = write(tmp_path / "s.parquet", GOOD)
    assert_names(table_error(path), path, None, "is not a Parquet file")


def test_truncated_parquet_file(tmp_path):
    path = parquet(tmp_path, score=[0.5, 0.1], mated=[True, False])
    data = path.read_bytes()
    write(path, data[: len(data) - 20])
    assert_names(table_error(path), path, None, "not a Parquet file, or it is truncated")


def test_parquet_nan_score_names_the_row(tmp_path):
    path = parquet(tmp_path, score=[0.5, 0.1, 0.2, float("nan")], mated=[1, 0, 0, 0])
    err = table_error(path)
    assert str(err).startswith(f"{path}, row 4: score nan is NaN"), str(err)
    assert err.record == "row 4"


def test_parquet_mated_not_boolean(tmp_path):
    path = parquet(tmp_path, score=[0.5, 0.1, 0.2], mated=["yes", "no", "perhaps"])
    assert str(table_error(path)).startswith(f"{path}, row 3: mated value 'perhaps' is not")


def test_parquet_missing_subject(tmp_path):
    path = parquet(
        tmp_path,
        score=[0.5, 0.1, 0.2],
        probe_subject=["a", "a", None],
        reference_subject=["a", "b", "b"],
    )
    assert str(table_error(path)).startswith(f"{path}, row 3: probe_subject is empty")


def test_parquet_missing_probe_id(tmp_path):
    path = parquet(tmp_path, probe=["p", None, "q"], score=[0.5, 0.1, 0.2], mated=[1, 0, 0])
    assert str(table_error(path)).startswith(f"{path}, row 2: probe is empty")


def test_parquet_missing_column(tmp_path):
    path = parquet(tmp_path, similarity=[0.5, 0.1], mated=[True, False])
    assert_names(table_error(path), path, None, "no column 'score'", "'similarity', 'mated'")


def test_parquet_score_column_of_the_wrong_type(tmp_path):
    path = parquet(tmp_path, score=[True, False], mated=[True, False])
    assert_names(table_error(path), path, None, "column 'score' has type bool")


def test_parquet_subject_column_of_the_wrong_type(tmp_path):
    path = parquet(tmp_path, score=[0.5, 0.1], probe_subject=[0.5, 1.5], reference_subject=[1, 2])
    assert_names(table_error(path), path, None, "column 'probe_subject'", "as text")


def test_parquet_score_column_of_text_that_is_not_numeric(tmp_path):
    path = parquet(tmp_path, score=["0.5", "high"], mated=[True, False])
    assert str(table_error(path)).startswith(f"{path}, row 2: score 'high' is not a number")


# --------------------------------------------------------------------------------------------
# pyeer


def pyeer_error(tmp_path: Path, mated: str | bytes, nonmated: str | bytes = "0.1\n"):
    g = write(tmp_path / "genuine.txt", mated)
    i = write(tmp_path / "impostor.txt", nonmated)
    with pytest.raises(InputError) as info:
        read_pyeer(g, i)
    return info.value, g, i


def test_pyeer_non_numeric_line(tmp_path):
    err, g, _ = pyeer_error(tmp_path, "0.9\n\n0.8\nhello\n0.7\n")
    assert_names(err, g, 4, "score 'hello' is not a number", "one number per line")


@pytest.mark.parametrize("value, word", [("nan", "NaN"), ("inf", "infinite"), ("-inf", "inf")])
def test_pyeer_nan_or_inf(tmp_path, value, word):
    err, _, i = pyeer_error(tmp_path, "0.9\n", f"0.1\n\n\n0.2\n{value}\n")
    assert_names(err, i, 5, word)


def test_pyeer_several_fields_on_a_line_take_the_last(tmp_path):
    # pyeer's README: "Each line can have any number of columns but the score must be in the
    # last column"; a bad last field is named with its line.
    g = write(tmp_path / "gen.txt", "0.9\np1 g1 0.8\nx 0.7\n")
    i = write(tmp_path / "imp.txt", "0.1\n0.2\n")
    assert read_pyeer(g, i).mated.tolist() == [0.9, 0.8, 0.7]
    err, g, _ = pyeer_error(tmp_path, "0.9\n0.8 abc\n")
    assert_names(err, g, 2, "'abc' is not a number")


def test_pyeer_header_line(tmp_path):
    err, g, _ = pyeer_error(tmp_path, "score\n0.9\n")
    assert_names(err, g, 1, "'score' is not a number")


def test_pyeer_error_after_blank_only_lines(tmp_path):
    err, g, _ = pyeer_error(tmp_path, "0.9\n   \n\t\n\n0.x\n")
    assert_names(err, g, 5, "'0.x'")


def test_pyeer_bad_line_far_into_a_big_file(tmp_path):
    lines = ["0.5"] * 300_000
    lines[250_000] = "bad"
    err, g, _ = pyeer_error(tmp_path, "\n".join(lines) + "\n")
    assert_names(err, g, 250_001, "'bad'")


def test_pyeer_empty_file(tmp_path):
    err, _, i = pyeer_error(tmp_path, "0.9\n", "")
    assert_names(err, i, None, "empty")


def test_pyeer_only_blank_lines(tmp_path):
    err, g, _ = pyeer_error(tmp_path, "\n  \n\n")
    assert_names(err, g, None, "holds no scores", "mated")


def test_pyeer_missing_nonmated_file(tmp_path):
    g = write(tmp_path / "genuine.txt", "0.9\n")
    with pytest.raises(InputError) as info:
        read_pyeer(g, tmp_path / "missing.txt")
    assert_names(info.value, tmp_path / "missing.txt", None, "not found")


def test_pyeer_npy_given_as_text(tmp_path):
    g = tmp_path / "genuine.txt"
    with open(g, "wb") as fh:
        np.save(fh, np.array([0.5]))
    with pytest.raises(InputError) as info:
        read_pyeer(g, write(tmp_path / "i.txt", "0.1\n"))
    assert_names(info.value, g, None, "NumPy .npy file")


def test_pyeer_truncated_gzip(tmp_path):
    data = gzip.compress(b"0.5\n0.25\n" * 50000)
    g = write(tmp_path / "genuine.txt.gz", data[: len(data) // 2])
    with pytest.raises(InputError) as info:
        read_pyeer(g, write(tmp_path / "i.txt", "0.1\n"))
    assert_names(info.value, g, None, "truncated")


def test_pyeer_invalid_utf8(tmp_path):
    err, g, _ = pyeer_error(tmp_path, b"0.9\n0.8\n\xff\xfe\n")
    assert_names(err, g, 3, "not")


# --------------------------------------------------------------------------------------------
# bob


def bob_error(tmp_path: Path, text: str) -> tuple[InputError, Path]:
    path = write(tmp_path / "scores.txt", text)
    with pytest.raises(InputError) as info:
        read_bob(path)
    return info.value, path


def test_bob_first_line_with_wrong_field_count(tmp_path):
    err, path = bob_error(tmp_path, "\n\na b 0.5\na a x 0.9\n")
    assert_names(err, path, 3, "has 3 fields", "4 (claimed_id real_id test_label score)")


def test_bob_truncated_last_line(tmp_path):
    err, path = bob_error(tmp_path, "a a x 0.9\na b y 0.1\n\nb b z 0.8\nb a w")
    assert_names(err, path, 5, "has 3 fields but the first comparison line has 4", "truncated")


def test_bob_5_column_file_with_a_4_column_line(tmp_path):
    err, path = bob_error(tmp_path, "a m a x 0.9\na m b y 0.1\nb b z 0.8\n")
    assert_names(err, path, 3, "has 4 fields but the first comparison line has 5")


def test_bob_wrong_field_count_with_tabs(tmp_path):
    err, path = bob_error(tmp_path, "a\ta\tx\t0.9\na\tb\ty\t0.1\nb\tb\tz\t0.8\textra\n")
    assert_names(err, path, 3, "has 5 fields but the first comparison line has 4")


@pytest.mark.parametrize(
    "value, words", [("inf", ["infinite"]), ("-inf", ["infinite"]), ("x1", ["'x1' is not a"])]
)
def test_bob_bad_score(tmp_path, value, words):
    err, path = bob_error(tmp_path, f"a a x 0.9\na b y 0.1\n\nb b z {value}\nb a w 0.2\n")
    assert_names(err, path, 4, *words)


def test_bob_nan_is_not_an_error_but_all_mated_nan_is(tmp_path):
    err, path = bob_error(tmp_path, "a a x nan\na b y 0.1\n")
    assert_names(err, path, None, "all 1 mated comparisons have no score")


def test_bob_no_mated_comparisons(tmp_path):
    err, path = bob_error(tmp_path, "a b x 0.9\nb a y 0.1\n")
    assert_names(err, path, None, "no mated comparisons", "claimed_id equals")


@pytest.mark.parametrize("cut", [0.02, 0.5])
def test_bob_truncated_gzip(tmp_path, cut):
    rows = "".join(f"s{i % 7} s{i % 5} img{i} 0.{i}\n" for i in range(30000))
    data = gzip.compress(rows.encode())
    path = write(tmp_path / "scores.txt.gz", data[: int(len(data) * cut)])
    with pytest.raises(InputError) as info:
        read_bob(path)
    assert_names(info.value, path, None, "truncated")


def test_bob_empty_file(tmp_path):
    err, path = bob_error(tmp_path, "")
    assert_names(err, path, None, "empty")


# --------------------------------------------------------------------------------------------
# .npy


def npy_error(tmp_path: Path, mated, nonmated=None) -> tuple[InputError, Path, Path]:
    g, i = tmp_path / "g.npy", tmp_path / "i.npy"
    for path, value in ((g, mated), (i, nonmated)):
        if isinstance(value, bytes):
            path.write_bytes(value)
        else:
            np.save(path, np.array([0.1, 0.2]) if value is None else value)
    with pytest.raises(InputError) as info:
        read_npy(g, i)
    return info.value, g, i


def npy_bytes(values: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, values)
    return buf.getvalue()


def test_npy_truncated(tmp_path):
    data = npy_bytes(np.arange(1000.0))
    err, g, _ = npy_error(tmp_path, data[:500])
    assert_names(err, g, None, "not a readable .npy array", "truncated")


def test_npy_truncated_header(tmp_path):
    err, g, _ = npy_error(tmp_path, npy_bytes(np.arange(10.0))[:40])
    assert_names(err, g, None, "not a readable .npy array")


def test_npy_that_is_text(tmp_path):
    err, g, _ = npy_error(tmp_path, b"0.5\n0.6\n")
    assert_names(err, g, None, "not a readable .npy array")


def test_npy_of_python_objects(tmp_path):
    err, g, _ = npy_error(tmp_path, np.array([0.5, "x"], dtype=object))
    assert_names(err, g, None, "not a readable .npy array")


def test_npz_archive(tmp_path):
    import io

    buf = io.BytesIO()
    np.savez(buf, scores=np.array([0.5]))
    err, g, _ = npy_error(tmp_path, buf.getvalue())
    assert_names(err, g, None, ".npz archive")


def test_npy_two_dimensional(tmp_path):
    err, g, _ = npy_error(tmp_path, np.zeros((3, 2)))
    assert_names(err, g, None, "shape (3, 2)", "1-D")


def test_npy_empty_nonmated_array(tmp_path):
    err, _, i = npy_error(tmp_path, np.array([0.5]), np.zeros(0))
    assert_names(err, i, None, "no scores", "non-mated")


@pytest.mark.parametrize("dtype", [bool, "U3", complex])
def test_npy_non_numeric_dtype(tmp_path, dtype):
    err, g, _ = npy_error(tmp_path, np.zeros(3, dtype=dtype))
    assert_names(err, g, None, "scores must be floating-point")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "infinite"), (-np.inf, "inf")])
def test_npy_non_finite_element_is_named(tmp_path, dtype, bad, word):
    values = np.zeros(1000, dtype=dtype)
    values[123] = bad
    values[900] = np.nan
    err, _, i = npy_error(tmp_path, np.array([0.5]), values)
    assert str(err).startswith(f"{i}, element 123 (0-based): score "), str(err)
    assert word in str(err) and err.record == "element 123 (0-based)"


def test_npy_non_finite_element_in_a_later_slice(tmp_path, monkeypatch):
    monkeypatch.setattr(_checks, "_FINITE_SLICE", 64)
    values = np.ones(1000)
    values[777] = np.inf
    monkeypatch.setattr(
        _checks.first_nonfinite, "__defaults__", None, raising=False
    )  # keep the default step
    err, g, _ = npy_error(tmp_path, values)
    assert err.record == "element 777 (0-based)"
    assert _checks.first_nonfinite(values, step=64) == 777
    assert _checks.first_nonfinite(np.ones(10), step=3) is None


# --------------------------------------------------------------------------------------------
# load_scores: combinations of sources


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({}, "none given"),
        ({"table": "a.csv", "bob": "b.txt"}, "got: table, bob"),
        ({"table": "a.csv", "mated": "g.txt"}, "got: table, mated"),
        ({"mated": "g.txt"}, "the non-mated file is missing"),
        ({"nonmated": "i.txt"}, "the mated file is missing"),
        ({"mated": "g.npy", "nonmated": "i.txt"}, "both .npy"),
    ],
)
def test_load_scores_wrong_combination(kwargs, words):
    with pytest.raises(InputError) as info:
        load_scores(**kwargs)
    assert words in str(info.value)


# --------------------------------------------------------------------------------------------
# The line locator itself, across block boundaries


def naive_line(data: bytes, k: int) -> int | None:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    seen = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line in (b"", b"\r"):
            continue
        if seen == k:
            return number
        seen += 1
    return None


@given(
    lines=st.lists(st.sampled_from(["", "\r", "a", "bb\r", "ccc", "\ufeff"]), max_size=30),
    end=st.sampled_from(["", "\n"]),
    k=st.integers(0, 30),
    block=st.integers(1, 7),
)
def test_locate_nonempty_line_matches_a_naive_count(lines, end, k, block):
    data = ("\n".join(lines) + end).encode()
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.txt"
        path.write_bytes(data)
        old = _checks._SCAN_BYTES
        _checks._SCAN_BYTES = block
        try:
            found = _checks.locate_nonempty_line(path, k)
        finally:
            _checks._SCAN_BYTES = old
    expected = naive_line(data, k)
    assert (found[0] if found else None) == expected
    if found:
        start = data[found[1] :]
        body = data.split(b"\n")[expected - 1]
        assert start.startswith(body.lstrip(b"\xef\xbb\xbf") if expected == 1 else body)


@given(
    lines=st.lists(st.sampled_from(["", "\r", "a", "bb\r", "ccc", "\ufeff"]), max_size=30),
    end=st.sampled_from(["", "\n", "\r\n"]),
    block=st.integers(1, 7),
)
def test_count_nonempty_lines_matches_a_naive_count(lines, end, block):
    data = ("\n".join(lines) + end).encode()
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.txt"
        path.write_bytes(data)
        old = _checks._SCAN_BYTES
        _checks._SCAN_BYTES = block
        try:
            nonempty = _checks.count_nonempty_lines(path)
            total, last = _checks.count_lines(path)
        finally:
            _checks._SCAN_BYTES = old
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    physical = body.split(b"\n")
    if physical and physical[-1] == b"":
        physical = physical[:-1]
    full = [line for line in physical if line not in (b"", b"\r")]
    assert nonempty == len(full)
    assert total == len(physical)
    if full and full[-1] == physical[-1] and full[-1].strip(b"\r"):
        assert last == full[-1].rstrip(b"\r")


# --------------------------------------------------------------------------------------------
# End to end: the CLI turns InputError into exit status 2 and one line on stderr


def test_cli_exits_2_with_the_message(tmp_path, capsys):
    cli = pytest.importorskip("faceaudit.cli", reason="the CLI does not import yet")
    if "faceaudit.commands.errors" not in getattr(cli, "COMMAND_MODULES", []):
        pytest.skip("the errors command is not registered yet")
    path = write(tmp_path / "s.csv", "score,mated\n0.5,1\n0.4,sometimes\n")
    with pytest.raises(SystemExit) as info:
        cli.main(["errors", "--scores", str(path), "--json", "-", "--bootstrap", "0"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"{path}, line 3: mated value 'sometimes' is not boolean" in err
    assert "Traceback" not in err
