"""Reading user quality scores: OFIQ's CSV layout and plain tables; file and line in every error."""

from __future__ import annotations

import json

import numpy as np
import pytest

from faceaudit.errors import InputError
from faceaudit.io.quality_scores import read_quality_scores

# OFIQSampleApp's layout: raw columns, then .scalar columns, header ending with ';'; -1 = failed
OFIQ = (
    "Filename;UnifiedQualityScore;Sharpness;UnifiedQualityScore.scalar;Sharpness.scalar;\n"
    "/data/orl/s1/1.png;27.512;0.6;63;71\n"
    "/data/orl/s1/2.png;0;0.1;-1;12\n"
    "/data/orl/s2/1.png;31.2;0.8;74;85\n"
)


def write(tmp_path, text, name="q.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_ofiq_unified_score_and_components(tmp_path):
    q = read_quality_scores(write(tmp_path, OFIQ))
    assert q.kind == "ofiq" and q.score_column == "UnifiedQualityScore.scalar"
    assert q.ids[0] == "/data/orl/s1/1.png" and q.lines == (2, 3, 4)
    np.testing.assert_array_equal(q.score, [63.0, np.nan, 74.0])  # -1: not assessed
    assert list(q.components) == ["Sharpness"]
    np.testing.assert_array_equal(q.components["Sharpness"], [71.0, 12.0, 85.0])
    got = q.lookup(["s2/1.png", "s1/1.png", "s9/1.png"])
    np.testing.assert_array_equal(got, [74.0, 63.0, np.nan])
    assert np.isnan(q.lookup(["s2/1.png"], match="exact")[0])
    summary = q.to_json()
    assert summary["n_images"] == 3 and summary["n_not_assessed"] == 1
    json.dumps(summary, allow_nan=False)


def test_plain_table_with_named_columns(tmp_path):
    text = "image,quality,blur\ns1/1.pgm,0.9,3\n.\\s1\\2.pgm,,4\n"
    q = read_quality_scores(write(tmp_path, text), component_columns=["blur"])
    assert q.kind == "table" and q.score_column == "quality"
    np.testing.assert_array_equal(q.lookup(["s1/1.pgm", "s1/2.pgm"]), [0.9, np.nan])
    other = read_quality_scores(write(tmp_path, "file\tq\na.png\t5\n", "t.tsv"), score_column="q")
    assert other.lookup(["a.png"])[0] == 5.0


@pytest.mark.parametrize(
    "text, words, line",
    [
        ("path,quality\na.png,high\n", "'high', which is not a number", 2),
        ("path,quality\na.png,1\nb.png,2\na.png,3\n", "listed twice (also at line 2)", 4),
        ("path,quality\na.png,1,7\n", "has 3 fields but the header", 2),
        ("path,quality\n,1\n", "image column 'path' is empty", 2),
        ("path,quality\na.png,inf\n", "leave the cell empty", 2),
        ("path,rating\na.png,1\n", "no score column", None),
        ("quality\n1\n", "no image column", None),
        ("path,quality\n", "no rows", None),
    ],
)
def test_errors_name_the_file_and_line(tmp_path, text, words, line):
    p = write(tmp_path, text)
    with pytest.raises(InputError) as exc:
        read_quality_scores(p)
    msg = str(exc.value)
    assert words in msg and str(p) in msg
    if line is not None:
        assert f"line {line}" in msg


def test_ambiguous_suffix_match_is_refused(tmp_path):
    q = read_quality_scores(write(tmp_path, "path,quality\n/a/s1/1.png,1\n/b/s1/1.png,2\n"))
    with pytest.raises(InputError, match="lines 2 and 3"):
        q.lookup(["s1/1.png"])
    assert q.lookup(["a/s1/1.png"])[0] == 1.0
