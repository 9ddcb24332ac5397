"""Finding images: the <subject>/<image> folder layout and manifest CSVs, with their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from faceaudit.errors import InputError
from faceaudit.io.images import discover_images


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_folder_layout_sorted_and_skips_what_is_not_an_image(tmp_path):
    for rel in ["bob/2.jpg", "bob/10.JPG", "alice/a.png", "alice/b.pgm", "alice/notes.txt"]:
        _touch(tmp_path / rel)
    _touch(tmp_path / "README")
    _touch(tmp_path / ".hidden/x.jpg")
    _touch(tmp_path / "alice/.DS_Store")
    (tmp_path / "alice/deeper").mkdir()
    found = discover_images(tmp_path)
    assert found.kind == "folder"
    assert [r.sample for r in found.records] == [
        "alice/a.png",
        "alice/b.pgm",
        "bob/10.JPG",
        "bob/2.jpg",
    ]
    assert [r.subject for r in found.records] == ["alice", "alice", "bob", "bob"]
    assert found.records[0].path == tmp_path / "alice" / "a.png"
    skipped = dict(found.skipped)
    assert set(skipped) == {
        "README",
        "alice/notes.txt",
        "alice/deeper/",
        ".hidden/",  # hidden files are skipped and listed (issue 9)
        "alice/.DS_Store",
    }
    assert "hidden" in skipped["alice/.DS_Store"]


def test_empty_folder_is_an_input_error(tmp_path):
    _touch(tmp_path / "README")
    with pytest.raises(InputError, match="no images found"):
        discover_images(tmp_path)


def test_missing_source(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        discover_images(tmp_path / "nope")


def test_manifest_relative_paths_and_metadata(tmp_path):
    _touch(tmp_path / "img" / "a.jpg")
    (tmp_path / "m.csv").write_text(
        'subject,path,group,age\nalice,img/a.jpg,"F, 30s",31\n\nbob,img/missing.jpg,M,40\n',
        encoding="utf-8",
    )
    found = discover_images(tmp_path / "m.csv")
    assert found.kind == "manifest"
    assert found.metadata_columns == ("group", "age")
    a, b = found.records
    assert (a.sample, a.subject, a.metadata, a.line) == ("img/a.jpg", "alice", ("F, 30s", "31"), 2)
    assert a.path == tmp_path / "img" / "a.jpg"
    assert (b.subject, b.line) == ("bob", 4)  # a missing file is the pipeline's FTA, not an error


def test_manifest_with_bom_and_absolute_paths(tmp_path):
    img = _touch(tmp_path / "x.png")
    (tmp_path / "m.csv").write_text(f"\ufeffpath,subject\n{img},s1\n", encoding="utf-8")
    (rec,) = discover_images(tmp_path / "m.csv").records
    assert rec.path == img


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("file,subject\na.jpg,s\n", "no column 'path'"),
        ("path,who\na.jpg,s\n", "no column 'subject'"),
        ("path,subject,path\na.jpg,s,b\n", "twice"),
        ("path,subject,sample\na.jpg,s,1\n", "reserved"),
        ("path,subject\na.jpg,s\na.jpg,t\n", "line 3.*already listed on line 2"),
        ("path,subject\n./a.jpg,s\na.jpg,t\n", "line 3.*already listed on line 2"),
        ("path,subject\na.jpg\n", "line 2.*1 fields"),
        ("path,subject\na.jpg,\n", "line 2.*'subject' value is empty"),
        ("path,subject\n,s\n", "line 2.*'path' value is empty"),
        ("path,subject\n", "lists no images"),
        ("path,subject\nnope.jpg,s\n", "none of the 1 listed files exists"),
    ],
)
def test_manifest_errors_name_the_line(tmp_path, text, message):
    _touch(tmp_path / "a.jpg")
    (tmp_path / "m.csv").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        discover_images(tmp_path / "m.csv")
    assert "m.csv" in str(info.value)


def test_manifest_not_utf8(tmp_path):
    (tmp_path / "m.csv").write_bytes(b"path,subject\n\xff\xfe.jpg,s\n")
    with pytest.raises(InputError, match="not UTF-8"):
        discover_images(tmp_path / "m.csv")


def test_subset_keeps_order_given(tmp_path):
    for rel in ["a/1.jpg", "a/2.jpg", "b/1.jpg"]:
        _touch(tmp_path / rel)
    found = discover_images(tmp_path)
    assert [r.sample for r in found.subset([2, 0]).records] == ["b/1.jpg", "a/1.jpg"]
