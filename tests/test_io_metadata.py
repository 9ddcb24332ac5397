"""Subject metadata: reading CSV/TSV/gzip/Parquet, missing values, grouping, and every bad file."""

import gzip

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from faceaudit.data.metadata import UNKNOWN, SubjectMetadata, parse_by
from faceaudit.errors import InputError
from faceaudit.io.metadata import read_metadata


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_csv_values_are_stripped_and_missing_become_unknown(tmp_path):
    p = write(
        tmp_path,
        "meta.csv",
        "subject,sex,age_band\n s1 , F ,18-30\ns2,M,\ns3,NA,N/A\ns4,unknown,?\ns5,null,None\n",
    )
    m = read_metadata(p)
    assert m.subjects == ("s1", "s2", "s3", "s4", "s5")
    assert m.attributes == ("sex", "age_band")
    assert m.values["sex"] == ("F", "M", UNKNOWN, UNKNOWN, UNKNOWN)
    assert m.values["age_band"] == ("18-30", UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN)
    assert m.source.records == 5 and len(m.source.sha256) == 64
    assert m.source.to_json()["path"] == str(p)


def test_tsv_gzip_bom_blank_lines_and_quotes(tmp_path):
    p = tmp_path / "meta.tsv.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write('\ufeffsubject\tgroup\n\ns1\t"a, b"\n\ns2\tc\n')
    m = read_metadata(p)
    assert m.subjects == ("s1", "s2") and m.values["group"] == ("a, b", "c")


def test_parquet_with_numbers_and_nulls(tmp_path):
    p = tmp_path / "meta.parquet"
    table = pa.table({"id": ["s1", "s2", "s3"], "age_band": [1, None, 3], "sex": ["F", None, "M"]})
    pq.write_table(table, p)
    m = read_metadata(p, subject_column="id")
    assert m.values["age_band"] == ("1", UNKNOWN, "3")
    assert m.values["sex"] == ("F", UNKNOWN, "M")


@pytest.mark.parametrize(
    "text, where, words",
    [
        ("subj,sex\ns1,F\n", "meta.csv, line 1", ["no column 'subject'", "'subj'"]),
        ("Subject,sex\ns1,F\n", "meta.csv, line 1", ["Did you mean 'Subject'"]),
        ("subject\ns1\n", "meta.csv, line 1", ["only the 'subject' column"]),
        ("subject,sex,sex\ns1,F,F\n", "meta.csv, line 1", ["two columns named 'sex'"]),
        ("subject,,sex\ns1,x,F\n", "meta.csv, line 1", ["column 2 of the header has no name"]),
        ("subject,sex\n", "meta.csv, line 1", ["no rows"]),
        (
            "subject,sex\ns1,F\ns2\n",
            "meta.csv, line 3",
            ["has 1 fields but the header (line 1) has 2"],
        ),
        ("subject,sex\ns1,F\n ,M\n", "meta.csv, line 3", ["subject field is empty"]),
        (
            "subject,sex\ns1,F\ns2,M\n\ns1,M\n",
            "meta.csv, line 5",
            ["subject 's1' appears again (first at line 2)"],
        ),
        ('subject,sex\ns1,"F\n', "meta.csv, line 2", ["not valid CSV"]),
        ("\n\n", "meta.csv", ["only blank lines"]),
    ],
)
def test_bad_csv_names_file_line_and_fix(tmp_path, text, where, words):
    p = write(tmp_path, "meta.csv", text)
    with pytest.raises(InputError) as err:
        read_metadata(p)
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path}/{where}:"), msg
    for w in words:
        assert w in msg, msg


def test_missing_empty_and_non_utf8_files(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_metadata(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is empty"):
        read_metadata(write(tmp_path, "empty.csv", ""))
    p = tmp_path / "latin.csv"
    p.write_bytes(b"subject,sex\ns1,F\ns2,\xe9\n")
    with pytest.raises(InputError, match=r"line 3: is not UTF-8"):
        read_metadata(p)
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="is not a Parquet file"):
        read_metadata(bad)
    pq_as_csv = tmp_path / "meta.csv"
    pq.write_table(pa.table({"subject": ["s1"], "sex": ["F"]}), pq_as_csv)
    with pytest.raises(InputError, match="Parquet file, not CSV"):
        read_metadata(pq_as_csv)


def test_parquet_errors_name_the_row(tmp_path):
    p = tmp_path / "meta.parquet"
    pq.write_table(pa.table({"subject": ["s1", None], "sex": ["F", "M"]}), p)
    with pytest.raises(InputError, match=r"meta.parquet, row 2: the subject field is empty"):
        read_metadata(p)
    pq.write_table(pa.table({"subject": ["s1", "s1"], "sex": ["F", "M"]}), p)
    with pytest.raises(InputError, match=r"row 2: subject 's1' appears again \(first at row 1\)"):
        read_metadata(p)


def test_groups_single_attribute_with_unmatched_subjects_both_ways():
    m = SubjectMetadata.from_mapping({"sex": {"s1": "F", "s2": "M", "s3": "", "s9": "F"}})
    data = ["s2", "s1", "s3", "s4", "s5"]
    g = m.groups(["sex"], data)
    assert g.attribute == "sex" and g.names == ("F", "M", UNKNOWN)
    assert g.group_of_subject.tolist() == [1, 0, 2, 2, 2]
    assert g.n_subjects.tolist() == [1, 1, 3]
    assert g.subjects_without_metadata == ("s4", "s5")
    assert g.metadata_subjects_not_in_data == ("s9",)
    assert g.unknown_values == {"sex": 3}
    cov = g.coverage_json()
    assert cov["subjects_without_metadata"] == 2 and cov["metadata_subjects_not_in_data"] == 1
    assert cov["subjects_without_metadata_examples"] == ["s4", "s5"]
    w = g.warnings()
    assert len(w) == 2 and "2 of 5 subjects in the data have no row" in w[0]
    assert "1 of 4 subjects in the metadata do not appear" in w[1]


def test_groups_intersection_labels_and_order():
    m = SubjectMetadata.from_mapping(
        {
            "sex": {"s1": "F", "s2": "M", "s3": "F", "s4": "M"},
            "age": {"s1": "old", "s2": "young", "s3": "", "s4": "old"},
        }
    )
    g = m.groups(["sex", "age"], ["s1", "s2", "s3", "s4", "s5"])
    assert g.attribute == "sex × age"
    assert g.names == ("F × old", "M × old", "M × young", "F × unknown", "unknown × unknown")
    assert [g.names[c] for c in g.group_of_subject] == [
        "F × old",
        "M × young",
        "F × unknown",
        "M × old",
        "unknown × unknown",
    ]
    assert g.code("M × old") == 1
    with pytest.raises(InputError, match="no group 'X'.*the groups are 'F × old'"):
        g.code("X")


def test_too_many_groups_and_bad_by():
    m = SubjectMetadata.from_mapping({"age": {f"s{i}": str(i) for i in range(100)}})
    with pytest.raises(InputError, match="makes 100 groups.*banded column"):
        m.groups(["age"], [f"s{i}" for i in range(100)])
    assert m.groups(["age"], ["s1", "s2"], max_groups=3).n_groups == 2
    with pytest.raises(InputError, match="no attribute column 'sex'.*'age'"):
        parse_by("sex", m)
    with pytest.raises(InputError, match="Did you mean 'age'"):
        parse_by("AGE", m)
    with pytest.raises(InputError, match="names no attribute"):
        parse_by("age,", m)
    with pytest.raises(InputError, match="twice"):
        parse_by("age,age", m)
    assert parse_by(" age ", m) == ["age"]


def test_from_mapping_matches_file(tmp_path):
    p = write(tmp_path, "m.csv", "subject,sex\na,F\nb,\n")
    assert (
        read_metadata(p).values
        == SubjectMetadata.from_mapping({"sex": {"a": "F", "b": None}}).values
    )
    assert np.array_equal(read_metadata(p).groups(["sex"], ["b", "a"]).group_of_subject, [1, 0])
