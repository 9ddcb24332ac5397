"""Embedding readers: .npz and Parquet, every bad record named by file and row."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from faceaudit.data import EmbeddingSet
from faceaudit.errors import InputError
from faceaudit.io.embeddings import read_embeddings, write_embeddings


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_npz_reads_normalises_and_defaults_sample_ids(tmp_path):
    p = _npz(tmp_path / "e.npz", embeddings=np.array([[3.0, 4.0], [0, 2]]), subjects=[7, 8])
    es = read_embeddings(p)
    np.testing.assert_allclose(es.embeddings, [[0.6, 0.8], [0, 1]])
    assert es.embeddings.dtype == np.float32
    assert es.subjects.tolist() == ["7", "8"] and es.samples.tolist() == ["0", "1"]
    assert not es.synthetic and es.path == str(p)


def test_parquet_fixed_size_and_variable_list(tmp_path):
    emb = np.arange(12, dtype=np.float32).reshape(4, 3) + 1
    write_embeddings(tmp_path / "a.parquet", emb, ["a", "a", "b", "c"], samples=list("wxyz"))
    es = read_embeddings(tmp_path / "a.parquet")
    np.testing.assert_allclose(es.embeddings, emb / np.linalg.norm(emb, axis=1, keepdims=True))
    assert es.samples.tolist() == list("wxyz")
    t = pa.table({"subject": ["a", "b"], "embedding": pa.array([[1.0, 0.0], [0.0, 2.0]])})
    pq.write_table(t, tmp_path / "b.parquet")
    assert read_embeddings(tmp_path / "b.parquet").dim == 2


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"embeddings": np.ones((2, 2))}, "lacks the array(s) ['subjects']"),
        ({"embeddings": np.ones(3), "subjects": ["a"] * 3}, "must be a 2-d array"),
        ({"embeddings": np.ones((2, 2)), "subjects": ["a"]}, "one subject per embedding row"),
        (
            {"embeddings": np.array([[1.0, 0], [np.nan, 1]]), "subjects": ["a", "b"]},
            "embeddings[1] contains a NaN",
        ),
        (
            {"embeddings": np.array([[1.0, 0], [0, 0]]), "subjects": ["a", "b"]},
            "embeddings[1] is the zero vector",
        ),
        (
            {"embeddings": np.ones((2, 2)), "subjects": ["a", ""]},
            "embeddings[1] has an empty subject",
        ),
        (
            {
                "embeddings": np.ones((3, 2)),
                "subjects": ["a", "b", "c"],
                "samples": ["x", "y", "x"],
            },
            "sample id 'x' appears more than once (embeddings[0] and embeddings[2])",
        ),
        ({"embeddings": np.ones((2, 2)), "subjects": [0.5, 1.5]}, "floating-point"),
    ],
)
def test_npz_errors(tmp_path, arrays, message):
    p = _npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(InputError) as info:
        read_embeddings(p)
    assert str(info.value).startswith(str(p))
    assert message in str(info.value)


def test_object_arrays_refused_without_pickle(tmp_path):
    p = tmp_path / "o.npz"
    np.savez(p, embeddings=np.ones((2, 2)), subjects=np.array(["a", None], dtype=object))
    with pytest.raises(InputError, match="without pickle"):
        read_embeddings(p)


def test_parquet_errors(tmp_path):
    p = tmp_path / "v.parquet"
    pq.write_table(pa.table({"subject": ["a", "b"], "embedding": [[1.0, 2.0], [1.0]]}), p)
    with pytest.raises(InputError, match=r"row 2: the embedding has 1 values but row 1 has 2"):
        read_embeddings(p)
    pq.write_table(pa.table({"subject": ["a", None], "embedding": [[1.0], [1.0]]}), p)
    with pytest.raises(InputError, match=r"column 'subject' is empty \(null\) in row 2"):
        read_embeddings(p)
    pq.write_table(pa.table({"who": ["a"], "embedding": [[1.0]]}), p)
    with pytest.raises(InputError, match=r"lacks the column\(s\) \['subject'\]"):
        read_embeddings(p)


def test_missing_file_unknown_extension_and_garbage(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_embeddings(tmp_path / "nope.npz")
    (tmp_path / "e.csv").write_text("x")
    with pytest.raises(InputError, match="unknown embeddings format '.csv'"):
        read_embeddings(tmp_path / "e.csv")
    (tmp_path / "g.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="cannot be read as a .npz archive"):
        read_embeddings(tmp_path / "g.npz")


def test_from_arrays_does_not_modify_the_callers_array():
    a = np.array([[3.0, 4.0]], dtype=np.float32)
    es = EmbeddingSet.from_arrays(a, ["s"])
    assert a.tolist() == [[3.0, 4.0]] and es.embeddings.tolist() == [
        [0.6000000238418579, 0.800000011920929]
    ]


def test_write_refuses_existing_file(tmp_path):
    write_embeddings(tmp_path / "a.npz", np.ones((1, 2)), ["a"])
    with pytest.raises(InputError, match="already exists"):
        write_embeddings(tmp_path / "a.npz", np.ones((1, 2)), ["a"])
    write_embeddings(tmp_path / "a.npz", np.ones((1, 2)), ["b"], force=True)
    assert read_embeddings(tmp_path / "a.npz").subjects.tolist() == ["b"]
