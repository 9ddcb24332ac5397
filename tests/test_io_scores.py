"""Score readers (faceaudit.io.scores): each format round-trips small hand-written files."""

from __future__ import annotations

import bz2
import gzip
import hashlib
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from faceaudit.data import ComparisonScores, InputFile
from faceaudit.io import tables as tables_mod
from faceaudit.io.scores import (
    ColumnNames,
    load_scores,
    read_bob,
    read_npy,
    read_pyeer,
    read_table_scores,
)


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode())
    return path


# A hand-written table: ties (0.5 twice, 80 three times), quantised integer scores, three
# subjects, two failures to acquire (empty score), one mated and one non-mated.
TABLE = """probe,reference,score,mated,probe_subject,reference_subject
a1,a2,80,true,alice,alice
a1,b1,80,false,alice,bob
b1,b2,95,1,bob,bob
b2,a1,,0,bob,alice
c1,c2,,yes,carol,carol
c1,a2,0.5,no,carol,alice
a2,c2,0.5,FALSE,alice,carol
c2,c1,80,True,carol,carol
"""


def check_table(r: ComparisonScores) -> None:
    assert r.mated.dtype == np.float64 and r.nonmated.dtype == np.float64
    assert_array_equal(r.mated, [80.0, 95.0, 80.0])
    assert_array_equal(r.nonmated, [80.0, 0.5, 0.5])
    assert r.subjects == ["alice", "bob", "carol"]
    names = np.array(r.subjects)
    assert_array_equal(names[r.mated_subject], ["alice", "bob", "carol"])
    assert_array_equal(names[r.nonmated_subject], ["alice", "carol", "alice"])
    assert_array_equal(names[r.nonmated_reference_subject], ["bob", "alice", "carol"])
    for codes in (r.mated_subject, r.nonmated_subject, r.nonmated_reference_subject):
        assert codes.dtype == np.int32
    assert (r.mated_fta, r.nonmated_fta) == (1, 1)
    assert r.orientation == "similarity"


def test_csv_round_trip(tmp_path):
    path = write(tmp_path / "scores.csv", TABLE)
    r = read_table_scores(path)
    check_table(r)
    assert len(r.inputs) == 1
    assert r.inputs[0].path == str(path)
    assert r.inputs[0].records == 8
    assert r.inputs[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_sha256_and_records_to_json(tmp_path):
    path = write(tmp_path / "scores.csv", TABLE)
    info = read_table_scores(str(path)).inputs[0]
    assert isinstance(info.sha256, str)
    assert info.to_json() == {
        "path": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "records": 8,
    }
    with pytest.raises(FrozenInstanceError):
        info.records = 3  # type: ignore[misc]


def test_input_file_is_a_plain_frozen_dataclass():
    a = InputFile(path="x.csv", sha256="ab", records=2)
    assert a == InputFile("x.csv", "ab", 2)
    assert a.to_json() == {"path": "x.csv", "sha256": "ab", "records": 2}
    assert hash(a) == hash(InputFile("x.csv", "ab", 2))
    with pytest.raises(TypeError):
        InputFile("x.csv", "ab")  # type: ignore[call-arg]


def test_input_file_pickles_with_its_digest(tmp_path):
    import pickle

    path = write(tmp_path / "scores.csv", TABLE)
    info = read_table_scores(path).inputs[0]
    again = pickle.loads(pickle.dumps(info))
    assert again == info and again.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_growable_array_in_segments_equals_concatenate(monkeypatch):
    from faceaudit.io._tabular import GrowableArray

    monkeypatch.setattr(GrowableArray, "SEGMENT_BYTES", 16)
    rng = np.random.default_rng(3)
    grow = GrowableArray(np.float64)
    parts = []
    for n in rng.integers(0, 50, 200):
        values = rng.normal(size=n)
        mask = None if n % 3 == 0 else rng.random(n) < 0.5
        grow.extend_where(values, mask)
        parts.append(values if mask is None else values[mask])
    out = grow.finish()
    assert out.dtype == np.float64 and out.flags.owndata
    assert_array_equal(out, np.concatenate(parts))


def test_tsv_gzip_bz2_crlf_bom_blank_lines_and_quotes_read_alike(tmp_path):
    check_table(read_table_scores(write(tmp_path / "s.tsv", TABLE.replace(",", "\t"))))
    gz = tmp_path / "s.csv.gz"
    gz.write_bytes(gzip.compress(TABLE.encode()))
    r = read_table_scores(gz)
    check_table(r)
    assert r.inputs[0].sha256 == hashlib.sha256(gz.read_bytes()).hexdigest()
    b = tmp_path / "s.tsv.bz2"
    b.write_bytes(bz2.compress(TABLE.replace(",", "\t").encode()))
    check_table(read_table_scores(b))
    crlf = "\ufeff" + "\n" + TABLE.replace("\n", "\r\n\r\n")
    check_table(read_table_scores(write(tmp_path / "crlf.csv", crlf)))
    quoted = TABLE.replace("alice", '"alice"').replace(",80,", ',"80",')
    check_table(read_table_scores(write(tmp_path / "q.csv", quoted)))


def test_extra_columns_and_column_order_do_not_matter(tmp_path):
    lines = TABLE.splitlines()
    rows = [line.split(",") for line in lines]
    order = [5, 3, 0, 2, 4, 1]
    text = "\n".join(",".join([r[j] for j in order] + ["extra"]) for r in rows) + "\n"
    check_table(read_table_scores(write(tmp_path / "s.csv", text)))


def test_configured_column_names(tmp_path):
    text = TABLE.replace("score,mated,probe_subject,reference_subject", "Similarity,Same,PS,RS")
    cols = ColumnNames(score="Similarity", mated="Same", probe_subject="PS", reference_subject="RS")
    check_table(read_table_scores(write(tmp_path / "s.csv", text), columns=cols))


@pytest.mark.parametrize(
    "true_word, false_word",
    [
        ("true", "false"),
        ("1", "0"),
        ("yes", "no"),
        ("TRUE", "False"),
        (" Yes ", "NO"),
        ("1.0", "0.0"),
    ],
)
def test_mated_spellings(tmp_path, true_word, false_word):
    text = f"score,mated\n0.9,{true_word}\n0.1,{false_word}\n0.2,{false_word}\n"
    r = read_table_scores(write(tmp_path / "s.csv", text))
    assert_array_equal(r.mated, [0.9])
    assert_array_equal(r.nonmated, [0.1, 0.2])
    assert r.mated_subject is None and r.nonmated_subject is None
    assert r.nonmated_reference_subject is None and r.subjects == []


def test_mated_derived_from_subject_ids(tmp_path):
    text = "score,probe_subject,reference_subject\n3,7,7\n2,7,8\n1,8,8\n0,8,7\n"
    r = read_table_scores(write(tmp_path / "s.csv", text))
    assert_array_equal(r.mated, [3.0, 1.0])
    assert_array_equal(r.nonmated, [2.0, 0.0])
    assert r.subjects == ["7", "8"]
    assert_array_equal(r.mated_subject, [0, 1])
    assert_array_equal(r.nonmated_subject, [0, 1])
    assert_array_equal(r.nonmated_reference_subject, [1, 0])


def test_only_probe_subjects(tmp_path):
    text = "score,mated,probe_subject\n3,1,x\n2,0,y\n1,0,x\n"
    r = read_table_scores(write(tmp_path / "s.csv", text))
    assert r.subjects == ["x", "y"]
    assert_array_equal(r.mated_subject, [0])
    assert_array_equal(r.nonmated_subject, [1, 0])
    assert r.nonmated_reference_subject is None


def test_number_formats(tmp_path):
    text = "score,mated\n1e-3,1\n+2,0\n.5,1\n5.,0\n -7 ,0\n0x_not_used_here,0\n"
    text = text.replace("0x_not_used_here,0\n", "-0.0,0\n")
    r = read_table_scores(write(tmp_path / "s.csv", text))
    assert_array_equal(r.mated, [0.001, 0.5])
    assert_array_equal(r.nonmated, [2.0, 5.0, -7.0, 0.0])


def test_distance_orientation_negates_after_validation(tmp_path):
    path = write(tmp_path / "s.csv", TABLE)
    r = read_table_scores(path, orientation="distance")
    assert r.orientation == "distance"
    assert_array_equal(r.mated, [-80.0, -95.0, -80.0])
    assert_array_equal(r.nonmated, [-80.0, -0.5, -0.5])
    assert (r.mated_fta, r.nonmated_fta) == (1, 1)


def table_as_arrow() -> pa.Table:
    return pa.table(
        {
            "probe": ["a1", "a1", "b1", "b2", "c1", "c1", "a2", "c2"],
            "reference": ["a2", "b1", "b2", "a1", "c2", "a2", "c2", "c1"],
            "score": pa.array([80, 80, 95, None, None, 0.5, 0.5, 80], pa.float32()),
            "mated": [True, False, True, False, True, False, False, True],
            "probe_subject": pa.array(
                ["alice", "alice", "bob", "bob", "carol", "carol", "alice", "carol"]
            ).dictionary_encode(),
            "reference_subject": [
                "alice",
                "bob",
                "bob",
                "alice",
                "carol",
                "alice",
                "carol",
                "carol",
            ],
        }
    )


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_equals_csv(tmp_path, suffix):
    pq_path = tmp_path / f"s{suffix}"
    pq.write_table(table_as_arrow(), pq_path)
    a = read_table_scores(pq_path)
    b = read_table_scores(write(tmp_path / "s.csv", TABLE))
    check_table(a)
    for name in ("mated", "nonmated", "mated_subject", "nonmated_subject"):
        assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.subjects == b.subjects
    assert a.inputs[0].records == 8
    assert a.inputs[0].sha256 == hashlib.sha256(pq_path.read_bytes()).hexdigest()


def test_parquet_numeric_mated_and_integer_subjects(tmp_path):
    t = pa.table(
        {
            "score": pa.array([5, 4, 3, 2], pa.int16()),
            "mated": pa.array([1, 0, 1, 0], pa.int8()),
            "probe_subject": pa.array([10, 10, 11, 11], pa.int64()),
            "reference_subject": pa.array([10, 11, 11, 10], pa.int64()),
        }
    )
    pq.write_table(t, tmp_path / "s.parquet", row_group_size=3)
    r = read_table_scores(tmp_path / "s.parquet", chunk_rows=2)
    assert_array_equal(r.mated, [5.0, 3.0])
    assert_array_equal(r.nonmated, [4.0, 2.0])
    assert r.subjects == ["10", "11"]
    assert_array_equal(np.array(r.subjects)[r.nonmated_reference_subject], ["11", "10"])


def test_parquet_probe_ids_without_statistics_are_read(tmp_path):
    path = tmp_path / "s.parquet"
    pq.write_table(table_as_arrow(), path, write_statistics=False)
    check_table(read_table_scores(path))


TEN_ROWS = "score,mated,probe_subject,reference_subject\n" + "".join(
    f"{s},{m},{p},{q}\n"
    for s, m, p, q in [
        (0.9, 1, "s1", "s1"),
        (0.1, 0, "s1", "s2"),
        ("", 0, "s3", "s2"),
        (0.8, 1, "s2", "s2"),
        (0.8, 0, "s4", "s1"),
        (0.2, 0, "s2", "s4"),
        ("", 1, "s5", "s5"),
        (0.7, 1, "s4", "s4"),
        (0.8, 0, "s5", "s3"),
        (0.3, 0, "s1", "s5"),
    ]
)


def assert_same(a: ComparisonScores, b: ComparisonScores) -> None:
    for name in (
        "mated",
        "nonmated",
        "mated_subject",
        "nonmated_subject",
        "nonmated_reference_subject",
    ):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None)
        if x is not None:
            assert_array_equal(x, y)
    assert a.subjects == b.subjects
    assert (a.mated_fta, a.nonmated_fta) == (b.mated_fta, b.nonmated_fta)
    assert a.inputs[0].records == b.inputs[0].records


def test_chunk_boundaries_do_not_change_the_result(tmp_path, monkeypatch):
    path = write(tmp_path / "s.csv", TEN_ROWS)
    one = read_table_scores(path)
    assert (one.mated_fta, one.nonmated_fta) == (1, 1)
    assert_array_equal(one.mated, [0.9, 0.8, 0.7])
    for chunk_rows in (1, 3, 4, 10):
        assert_same(read_table_scores(path, chunk_rows=chunk_rows), one)
    # Real pyarrow block boundaries, not only slices of one block.
    monkeypatch.setattr(tables_mod, "_CSV_BLOCK_BYTES", 64)
    assert_same(read_table_scores(path, chunk_rows=3), one)
    pq.write_table(
        pa.csv.read_csv(path, convert_options=pa.csv.ConvertOptions(strings_can_be_null=True)),
        tmp_path / "s.parquet",
        row_group_size=4,
    )
    assert_same(read_table_scores(tmp_path / "s.parquet", chunk_rows=3), one)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(-5, 5).map(float), st.floats(-1e6, 1e6)),
            st.integers(0, 4),
            st.integers(0, 4),
        ),
        min_size=1,
        max_size=40,
    ),
    chunk_rows=st.integers(1, 50),
)
def test_property_csv_and_parquet_match_a_direct_computation(tmp_path, rows, chunk_rows):
    score = np.array([np.nan if s is None else s for s, _, _ in rows])
    ps = np.array([f"p{p}" for _, p, _ in rows])
    rs = np.array([f"p{q}" for _, _, q in rows])
    mated = ps == rs
    have = ~np.isnan(score)
    if not (mated & have).any() or not (~mated & have).any():
        return  # the readers reject an experiment without mated or non-mated scores
    text = "score,probe_subject,reference_subject\n" + "".join(
        f"{'' if s is None else repr(s)},p{p},p{q}\n" for s, p, q in rows
    )
    csv_path = write(tmp_path / "prop.csv", text)
    pq_path = tmp_path / "prop.parquet"
    pq.write_table(
        pa.table(
            {
                "score": pa.array(score, from_pandas=True),
                "probe_subject": ps,
                "reference_subject": rs,
            }
        ),
        pq_path,
        row_group_size=7,
    )
    for path in (csv_path, pq_path):
        r = read_table_scores(path, chunk_rows=chunk_rows)
        assert_array_equal(r.mated, score[mated & have])
        assert_array_equal(r.nonmated, score[~mated & have])
        names = np.array(r.subjects)
        assert_array_equal(names[r.mated_subject], ps[mated & have])
        assert_array_equal(names[r.nonmated_subject], ps[~mated & have])
        assert_array_equal(names[r.nonmated_reference_subject], rs[~mated & have])
        assert r.mated_fta == int((mated & ~have).sum())
        assert r.nonmated_fta == int((~mated & ~have).sum())
        assert len(set(r.subjects)) == len(r.subjects)
        assert set(r.subjects) == set(ps) | set(rs)


# --------------------------------------------------------------------------------------------
# pyeer


def test_pyeer_round_trip(tmp_path):
    g = write(tmp_path / "gen.txt", "0.9\n0.8\n\n0.8\n1e-1\n")
    i = write(tmp_path / "imp.txt", "\n0.1\n0.2\n0.2\n3\n")
    r = read_pyeer(g, i)
    assert_array_equal(r.mated, [0.9, 0.8, 0.8, 0.1])
    assert_array_equal(r.nonmated, [0.1, 0.2, 0.2, 3.0])
    assert r.mated.dtype == np.float64
    assert r.mated_subject is None and r.subjects == []
    assert [f.records for f in r.inputs] == [4, 4]
    assert r.inputs[0].sha256 == hashlib.sha256(g.read_bytes()).hexdigest()
    assert r.inputs[1].sha256 == hashlib.sha256(i.read_bytes()).hexdigest()


def test_pyeer_blanks_around_numbers_and_blank_only_lines(tmp_path):
    g = write(tmp_path / "gen.txt", "  0.9\r\n\t0.8 \r\n   \r\n0.7\n")
    i = write(tmp_path / "imp.txt", "1\n2")  # no final newline
    r = read_pyeer(g, i)
    assert_array_equal(r.mated, [0.9, 0.8, 0.7])
    assert_array_equal(r.nonmated, [1.0, 2.0])
    assert r.inputs[0].records == 3


def test_pyeer_distance(tmp_path):
    g = write(tmp_path / "gen.txt", "1\n2\n")
    i = write(tmp_path / "imp.txt", "5\n")
    r = read_pyeer(g, i, orientation="distance")
    assert_array_equal(r.mated, [-1.0, -2.0])
    assert_array_equal(r.nonmated, [-5.0])
    assert r.orientation == "distance"


def test_pyeer_many_lines_match_numpy(tmp_path):
    rng = np.random.default_rng(1)
    values = np.round(rng.normal(size=200_000), 6)
    g = tmp_path / "gen.txt"
    np.savetxt(g, values, fmt="%.6f")
    i = write(tmp_path / "imp.txt", "0\n")
    r = read_pyeer(g, i)
    assert_array_equal(r.mated, values)


# --------------------------------------------------------------------------------------------
# bob

BOB4 = """alice alice img1 0.9
alice bob img2 0.1
bob bob img3 nan
carol bob img4 0.1
bob bob img5 0.8
alice carol img6 NaN
"""

BOB5 = "\n".join(
    f"{c} model_{c} {r} {t} {s}" for c, r, t, s in (line.split() for line in BOB4.splitlines())
)


@pytest.mark.parametrize("text", [BOB4, BOB5], ids=["4-column", "5-column"])
def test_bob_round_trip(tmp_path, text):
    r = read_bob(write(tmp_path / "scores.txt", text))
    assert_array_equal(r.mated, [0.9, 0.8])
    assert_array_equal(r.nonmated, [0.1, 0.1])
    names = np.array(r.subjects)
    assert_array_equal(names[r.mated_subject], ["alice", "bob"])
    # nonmated_subject: the probe (real_id); nonmated_reference_subject: the claimed_id.
    assert_array_equal(names[r.nonmated_subject], ["bob", "bob"])
    assert_array_equal(names[r.nonmated_reference_subject], ["alice", "carol"])
    assert (r.mated_fta, r.nonmated_fta) == (1, 1)  # bob's nan = failure to acquire
    assert r.inputs[0].records == 6


def test_bob_irregular_whitespace_reads_like_single_spaces(tmp_path):
    plain = read_bob(write(tmp_path / "a.txt", BOB4))
    messy = BOB4.replace(" ", "  \t").replace("\n", " \r\n\n \t \n")
    other = read_bob(write(tmp_path / "b.txt", messy))
    assert_same(plain, other)
    tabs = read_bob(write(tmp_path / "c.txt", BOB4.replace(" ", "\t")))
    assert_same(plain, tabs)


def test_bob_distance(tmp_path):
    r = read_bob(write(tmp_path / "s.txt", BOB4), orientation="distance")
    assert_array_equal(r.mated, [-0.9, -0.8])
    assert r.orientation == "distance"


# --------------------------------------------------------------------------------------------
# .npy


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_npy_float_arrays_are_memory_mapped_not_copied(tmp_path, dtype):
    g = tmp_path / "g.npy"
    i = tmp_path / "i.npy"
    np.save(g, np.array([0.9, 0.8, 0.8], dtype=dtype))
    np.save(i, np.array([0.1, 0.2], dtype=dtype))
    r = read_npy(g, i)
    assert isinstance(r.mated, np.memmap) and isinstance(r.nonmated, np.memmap)
    assert r.mated.dtype == dtype
    assert_array_equal(r.mated, np.array([0.9, 0.8, 0.8], dtype=dtype))
    assert not r.mated.flags.writeable
    assert [f.records for f in r.inputs] == [3, 2]
    assert r.inputs[1].sha256 == hashlib.sha256(i.read_bytes()).hexdigest()
    assert r.subjects == [] and r.mated_subject is None


def test_npy_integers_are_converted_and_distance_negated(tmp_path):
    np.save(tmp_path / "g.npy", np.array([3, 1], dtype=np.int32))
    np.save(tmp_path / "i.npy", np.array([7], dtype=np.uint8))
    r = read_npy(tmp_path / "g.npy", tmp_path / "i.npy", orientation="distance")
    assert r.mated.dtype == np.float64
    assert_array_equal(r.mated, [-3.0, -1.0])
    assert_array_equal(r.nonmated, [-7.0])
    assert r.orientation == "distance"


# --------------------------------------------------------------------------------------------
# load_scores


def test_load_scores_dispatches(tmp_path):
    table = write(tmp_path / "s.csv", TABLE)
    check_table(load_scores(table=table, columns=ColumnNames()))
    g = write(tmp_path / "g.txt", "1\n")
    i = write(tmp_path / "i.txt", "0\n")
    r = load_scores(mated=g, nonmated=i, orientation="distance", columns=ColumnNames())
    assert_array_equal(r.mated, [-1.0])
    np.save(tmp_path / "g.npy", np.array([1.0]))
    np.save(tmp_path / "i.npy", np.array([0.0]))
    r = load_scores(mated=tmp_path / "g.npy", nonmated=tmp_path / "i.npy")
    assert isinstance(r.mated, np.memmap)
    r = load_scores(bob=write(tmp_path / "b.txt", BOB4))
    assert_array_equal(r.mated, [0.9, 0.8])
