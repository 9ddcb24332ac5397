"""CFP splits, generic pair lists, IJB-B/C template protocols, sample matching and image folders."""

from __future__ import annotations

import numpy as np
import pytest

from faceaudit.data import EmbeddingSet
from faceaudit.data.protocols import (
    AMBIGUOUS,
    MISSING,
    match_samples,
    normalise_sample_id,
    pool_template_features,
)
from faceaudit.errors import InputError
from faceaudit.io.protocols import (
    check_image_folder,
    contiguous_folds,
    read_cfp_pairs,
    read_pair_list,
    read_template_metadata,
    read_template_pairs,
    resolve_pairs,
    template_embeddings,
)

# ------------------------------------------------------------------------------------------------
# CFP


def make_cfp(tmp_path, *, folds=2):
    root = tmp_path / "cfp-dataset"
    proto = root / "Protocol"
    proto.mkdir(parents=True)
    frontal = [f"{i} ../Data/Images/{s:03d}/frontal/{k:02d}.jpg" for i, (s, k) in enumerate(
        [(1, 1), (1, 2), (2, 1), (2, 2)], start=1)]  # fmt: skip
    profile = [f"{i} ../Data/Images/{s:03d}/profile/{k:02d}.jpg" for i, (s, k) in enumerate(
        [(1, 1), (2, 1)], start=1)]  # fmt: skip
    (proto / "Pair_list_F.txt").write_text("\n".join(frontal) + "\n")
    (proto / "Pair_list_P.txt").write_text("\n".join(profile) + "\n")
    for split, same, diff in (("FF", "1,2\n", "1,3\n"), ("FP", "1,1\n3,2\n", "2,2\n")):
        for f in range(1, folds + 1):
            d = proto / "Split" / split / f"{f:02d}"
            d.mkdir(parents=True)
            (d / "same.txt").write_text(same)
            (d / "diff.txt").write_text(diff)
    return root


def test_cfp_frontal_profile(tmp_path):
    root = make_cfp(tmp_path)
    fp = read_cfp_pairs(root, protocol="FP")
    assert fp.name == "CFP-FP" and fp.n_folds == 2 and fp.n == 6
    assert fp.first.tolist()[:3] == [
        "Data/Images/001/frontal/01.jpg",
        "Data/Images/002/frontal/01.jpg",
        "Data/Images/001/frontal/02.jpg",
    ]
    assert fp.second.tolist()[:3] == [
        "Data/Images/001/profile/01.jpg",
        "Data/Images/002/profile/01.jpg",
        "Data/Images/002/profile/01.jpg",
    ]
    assert fp.mated.tolist() == [True, True, False] * 2
    assert fp.folds.tolist() == [1, 1, 1, 2, 2, 2]
    assert fp.first_subject.tolist()[:3] == ["001", "002", "001"]
    assert fp.location(2) == {
        "path": str(root / "Protocol" / "Split" / "FP" / "01" / "diff.txt"),
        "line": 1,
    }
    assert fp.warnings == (
        "3 pair(s) appear more than once in the protocol; each is counted as listed.",
    )
    ff = read_cfp_pairs(root / "Protocol", protocol="ff")  # the Protocol folder itself will do
    assert ff.first.tolist()[:2] == ["Data/Images/001/frontal/01.jpg"] * 2
    assert ff.second.tolist()[:2] == [
        "Data/Images/001/frontal/02.jpg",
        "Data/Images/002/frontal/01.jpg",
    ]


def test_cfp_errors(tmp_path):
    root = make_cfp(tmp_path)
    bad = root / "Protocol" / "Split" / "FP" / "02" / "same.txt"
    bad.write_text("1,1\n3;2\n")
    with pytest.raises(InputError) as e:
        read_cfp_pairs(root)
    assert e.value.path == str(bad) and e.value.line == 2 and "'i,j'" in str(e.value)
    bad.write_text("1,1\n3,9\n")
    with pytest.raises(InputError, match="index 9 is not in Pair_list_P.txt"):
        read_cfp_pairs(root)
    bad.write_text("1,1\n")
    (root / "Protocol" / "Split" / "FP" / "02" / "diff.txt").unlink()
    with pytest.raises(InputError, match="no diff.txt"):
        read_cfp_pairs(root)
    (root / "Protocol" / "Pair_list_F.txt").write_text("1 a.jpg\n1 b.jpg\n")
    with pytest.raises(InputError) as e:
        read_cfp_pairs(root, protocol="FF")
    assert e.value.line == 2 and "listed twice" in str(e.value)
    with pytest.raises(InputError, match="'FF' or 'FP'"):
        read_cfp_pairs(root, protocol="PP")
    with pytest.raises(InputError, match="Pair_list_F.txt"):
        read_cfp_pairs(tmp_path)


def test_cfp_label_that_contradicts_the_folders_is_a_warning(tmp_path):
    root = make_cfp(tmp_path, folds=1)
    (root / "Protocol" / "Split" / "FF" / "01" / "same.txt").write_text("1,3\n")
    ff = read_cfp_pairs(root, protocol="FF")
    assert ff.mated.tolist() == [True, False]
    assert any("disagree with the image folders" in w for w in ff.warnings)


# ------------------------------------------------------------------------------------------------
# Pair lists


def test_pair_list_with_header_labels_and_contiguous_folds(tmp_path):
    p = tmp_path / "agedb_30_pairs.txt"
    p.write_text(
        "path1,path2,issame\n"
        "# AgeDB-30 style\n"
        "A/1.jpg,A/2.jpg,1\n"
        "A/1.jpg,B/1.jpg,0\n"
        "B/1.jpg,B/2.jpg,true\n"
        "B/2.jpg,C/1.jpg,-1\n"
        "C/1.jpg,C/2.jpg,same\n"
    )
    proto = read_pair_list(p, folds=2, subjects="parent", name="AgeDB-30")
    assert proto.name == "AgeDB-30" and proto.n == 5 and proto.n_folds == 2
    assert proto.mated.tolist() == [True, False, True, False, True]
    assert proto.folds.tolist() == [1, 1, 1, 2, 2]  # KFold(2, shuffle=False): 3 + 2
    assert proto.lines.tolist() == [3, 4, 5, 6, 7]
    assert proto.first_subject.tolist() == ["A", "A", "B", "B", "C"]
    assert proto.second_subject.tolist() == ["A", "B", "B", "C", "C"]


def test_contiguous_folds_match_sklearn_kfold():
    from sklearn.model_selection import KFold

    for n, k in [(6000, 10), (7, 3), (10, 10), (23, 4)]:
        want = np.empty(n, dtype=int)
        for f, (_, test) in enumerate(KFold(n_splits=k, shuffle=False).split(np.arange(n))):
            want[test] = f + 1
        assert contiguous_folds(n, k).tolist() == want.tolist()


def test_pair_list_fold_column_and_subjects_from_embeddings(tmp_path):
    p = tmp_path / "pairs.txt"
    p.write_text("x1.jpg x2.jpg 1 1\nx1.jpg y1.jpg 0 2\n")
    proto = read_pair_list(p)
    assert proto.folds.tolist() == [1, 2] and proto.n_folds == 2
    assert proto.first_subject.tolist() == ["", ""]
    emb = EmbeddingSet.from_arrays(
        np.eye(3), ["X", "X", "Y"], samples=["aligned/x1.jpg", "aligned/x2.jpg", "aligned/y1.jpg"]
    )
    r = resolve_pairs(proto, emb)
    assert r.protocol.first_subject.tolist() == ["X", "X"]
    assert r.protocol.second_subject.tolist() == ["X", "Y"]
    np.testing.assert_allclose(r.cosine_scores(emb.embeddings), [0.0, 0.0])


@pytest.mark.parametrize(
    ("text", "kwargs", "line", "fragment"),
    [
        ("a b\n", {}, 1, "got 2 fields"),
        ("a b 1\na b 1 2\n", {}, 2, "has 4 fields but line 1 has 3"),
        ("a b maybe\n", {}, 1, "label 'maybe'"),
        ("a b 1 0\n", {}, 1, "fold '0'"),
        ("a.jpg b/c.jpg 1\n", {"subjects": "parent"}, 1, "has no folder"),
    ],
)
def test_pair_list_errors(tmp_path, text, kwargs, line, fragment):
    p = tmp_path / "pairs.txt"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        read_pair_list(p, **kwargs)
    assert e.value.path == str(p) and e.value.line == line and fragment in str(e.value)


def test_pair_list_fold_problems(tmp_path):
    p = tmp_path / "pairs.txt"
    p.write_text("a b 1 1\nc d 0 3\n")
    with pytest.raises(InputError, match="fold 2 has no pair"):
        read_pair_list(p)
    p.write_text("a b 1 1\nc d 0 2\n")
    with pytest.raises(InputError, match="has a fold column"):
        read_pair_list(p, folds=2)
    p.write_text("a b 1\n")
    with pytest.raises(InputError, match="into 10 folds"):
        read_pair_list(p, folds=10)


# ------------------------------------------------------------------------------------------------
# Sample ids


def test_sample_matching():
    avail = ["lfw/A/A_0001.jpg", "lfw/B/B_0001.jpg", "x/01.jpg", "y/01.jpg", "z/k/02.jpg"]
    wanted = [
        "A/A_0001.jpg",  # available has an extra leading folder
        "data/lfw/B/B_0001.jpg",  # wanted has one
        "..\\lfw\\A\\A_0001.jpg",  # Windows separators, a climb above the start
        "01.jpg",  # file name alone: two candidates, so unresolved
        "q/01.jpg",  # no folder q: the file name alone is not unique either
        "k/02.jpg",
        "none.jpg",
    ]
    assert match_samples(wanted, avail).tolist() == [0, 1, 0, MISSING, MISSING, 4, MISSING]
    assert match_samples(["a/x/01.jpg"], ["b/x/01.jpg", "c/x/01.jpg"]).tolist() == [AMBIGUOUS]
    assert normalise_sample_id("./a//b/./c/../d.jpg") == "a/b/d.jpg"


def test_ambiguous_sample_is_an_input_error(tmp_path):
    p = tmp_path / "pairs.txt"
    p.write_text("x/01.jpg y/01.jpg 0\n")
    emb = EmbeddingSet.from_arrays(
        np.eye(3), ["a", "b", "c"], samples=["s1/x/01.jpg", "s2/x/01.jpg", "y/01.jpg"]
    )
    with pytest.raises(InputError) as e:
        resolve_pairs(read_pair_list(p), emb)
    assert e.value.line == 1 and "matches several" in str(e.value)


def test_image_folder(tmp_path):
    p = tmp_path / "pairs.txt"
    p.write_text("A/1.jpg A/2.jpg 1\nA/1.jpg B/1.jpg 0\n")
    lfw = tmp_path / "lfw"
    for f in ("A/1.jpg", "A/2.jpg"):
        (lfw / f).parent.mkdir(parents=True, exist_ok=True)
        (lfw / f).write_bytes(b"\xff\xd8")
    proto = read_pair_list(p)
    with pytest.raises(InputError) as e:
        check_image_folder(proto, lfw)
    assert e.value.line == 2 and "'B/1.jpg'" in str(e.value)
    (lfw / "B").mkdir()
    (lfw / "B" / "1.jpg").write_bytes(b"\xff\xd8")
    found = check_image_folder(proto, lfw)
    assert [f.relative_to(lfw).as_posix() for f in found] == ["A/1.jpg", "A/2.jpg", "B/1.jpg"]
    with pytest.raises(InputError, match="not a folder"):
        check_image_folder(proto, p)


# ------------------------------------------------------------------------------------------------
# IJB-B / IJB-C templates

NIST_GALLERY = (
    "TEMPLATE_ID,SUBJECT_ID,FILENAME,SIGHTING_ID,FACE_X\n"
    "1,100,img/1.jpg,5,10\n"
    "1,100,frames/7_1.png,7,10\n"
    "1,100,frames/7_2.png,7,10\n"
    "2,200,img/2.jpg,6,10\n"
)
NIST_PROBE = "TEMPLATE_ID,SUBJECT_ID,FILENAME,SIGHTING_ID\n11,100,img/3.jpg,8\n12,300,img/4.jpg,9\n"


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_nist_metadata_and_labelless_matches(tmp_path):
    meta = read_template_metadata(
        write(tmp_path, "g.csv", NIST_GALLERY), write(tmp_path, "p.csv", NIST_PROBE)
    )
    assert meta.n == 6
    assert meta.templates.tolist() == ["1", "1", "1", "2", "11", "12"]
    assert meta.media.tolist() == ["5", "7", "7", "6", "8", "9"]
    assert meta.template_subjects() == {"1": "100", "2": "200", "11": "100", "12": "300"}
    assert meta.location(4) == {"path": str(tmp_path / "p.csv"), "line": 2}
    m = write(tmp_path, "ijbb_11_S1_S2_matches.csv", "1,11\n2,11\n1,12\n")
    pairs = read_template_pairs(m, meta)
    assert pairs.mated.tolist() == [True, False, False]
    assert pairs.first_subject.tolist() == ["100", "200", "100"]
    with pytest.raises(InputError) as e:
        read_template_pairs(write(tmp_path, "m2.csv", "1,11\n1,99\n"), meta)
    assert e.value.line == 2 and "template 99 is not in" in str(e.value)


def test_insightface_meta_and_labels(tmp_path):
    tid_mid = write(tmp_path, "ijbc_face_tid_mid.txt", "1.jpg 1 69544\n2.jpg 1 69544\n3.jpg 2 3\n")
    meta = read_template_metadata(tid_mid)
    assert meta.templates.tolist() == ["1", "1", "2"] and meta.subjects.tolist() == ["", "", ""]
    assert any("no subject" in w for w in meta.warnings)
    labels = write(tmp_path, "ijbc_template_pair_label.txt", "1 2 0\n2 1 1\n")
    pairs = read_template_pairs(labels, meta)
    assert pairs.mated.tolist() == [False, True]
    with pytest.raises(InputError, match="no labels"):
        read_template_pairs(write(tmp_path, "nolabel.txt", "1 2\n"), meta)


@pytest.mark.parametrize(
    ("files", "line", "fragment"),
    [
        ({"a.csv": "TEMPLATE,SUBJECT,NAME\n1,2,x\n"}, 1, "lacks TEMPLATE_ID and FILENAME"),
        ({"a.csv": "TEMPLATE_ID,SUBJECT_ID,FILENAME\n1,2\n"}, 2, "has 2 fields"),
        ({"a.csv": "TEMPLATE_ID,SUBJECT_ID,FILENAME\n,2,x.jpg\n"}, 2, "template id is empty"),
        ({"a.txt": "x.jpg 1\n"}, 1, "'filename tid mid'"),
        (
            {"a.csv": "TEMPLATE_ID,SUBJECT_ID,FILENAME\n1,2,x.jpg\n1,3,y.jpg\n"},
            3,
            "template 1 is given subject 3",
        ),
    ],
)
def test_metadata_errors(tmp_path, files, line, fragment):
    paths = [write(tmp_path, n, t) for n, t in files.items()]
    with pytest.raises(InputError) as e:
        read_template_metadata(*paths)
    assert e.value.line == line and fragment in str(e.value)


def test_label_contradicting_subjects(tmp_path):
    meta = read_template_metadata(write(tmp_path, "g.csv", NIST_GALLERY))
    with pytest.raises(InputError) as e:
        read_template_pairs(write(tmp_path, "l.txt", "1 2 1\n"), meta)
    assert e.value.line == 1 and "says mated" in str(e.value)


def test_pooling_by_hand():
    # template 0: photo (1, 0) and a 2-frame video (0, 1), (0, 1) -> media means (1,0), (0,1)
    f = np.array([[2.0, 0.0], [0.0, 3.0], [0.0, 1.0], [3.0, 4.0]])
    t = np.array([0, 0, 0, 1])
    media = np.array([0, 1, 1, 2])
    pooled, n_img, n_med = pool_template_features(f, t, 2, media_index=media)
    np.testing.assert_allclose(pooled, [[2**-0.5, 2**-0.5], [0.6, 0.8]], rtol=1e-6)
    assert n_img.tolist() == [3, 1] and n_med.tolist() == [2, 1]
    # without media pooling the video's two frames outweigh the photo: (1, 2) / sqrt(5)
    flat, _, n_med = pool_template_features(f, t, 2)
    np.testing.assert_allclose(flat[0], np.array([1.0, 2.0]) / 5**0.5, rtol=1e-6)
    assert n_med.tolist() == [3, 1]
    # weights and kept norms (insightface N1D1): sum of w * f within media means
    w = np.array([1.0, 0.5, 0.5, 1.0])
    kept, _, _ = pool_template_features(
        f, t, 2, media_index=media, weights=w, normalise_images=False
    )
    v = np.array([2.0, 0.0]) + np.array([0.0, (1.5 + 0.5) / 2])
    np.testing.assert_allclose(kept[0], v / np.linalg.norm(v), rtol=1e-6)


def test_template_protocol_end_to_end(tmp_path):
    meta = read_template_metadata(
        write(tmp_path, "g.csv", NIST_GALLERY), write(tmp_path, "p.csv", NIST_PROBE)
    )
    samples = ["loose_crop/img/1.jpg", "loose_crop/frames/7_1.png", "loose_crop/frames/7_2.png",
               "loose_crop/img/2.jpg", "loose_crop/img/3.jpg", "loose_crop/img/4.jpg"]  # fmt: skip
    x = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 0, 1.0]])
    emb = EmbeddingSet.from_arrays(x, ["i"] * 6, samples=samples)
    te = template_embeddings(emb, meta)
    assert te.embeddings.samples.tolist() == ["1", "11", "12", "2"]
    assert te.embeddings.subjects.tolist() == ["100", "100", "300", "200"]
    assert te.n_images.tolist() == [3, 1, 1, 1] and te.n_media.tolist() == [2, 1, 1, 1]
    assert "media" in te.pooling
    pairs = read_template_pairs(write(tmp_path, "m.csv", "1,11\n2,11\n1,12\n"), meta)
    r = resolve_pairs(pairs, te.embeddings)
    # template 1 = (1,0,0) + (0,1,0) -> (1,1,0)/sqrt2; template 11 = (1,1,0)/sqrt2
    np.testing.assert_allclose(
        r.cosine_scores(te.embeddings.embeddings), [1.0, 0.0, 0.0], atol=1e-6
    )
    # an image without an embedding
    short = emb.subset(np.arange(6) != 4)
    with pytest.raises(InputError) as e:
        template_embeddings(short, meta)
    assert e.value.path == str(tmp_path / "p.csv") and e.value.line == 2
    te2 = template_embeddings(short, meta, missing="fta")
    assert te2.empty.tolist() == ["11"]
    r2 = resolve_pairs(pairs, te2.embeddings, missing="fta")
    assert r2.n_fta == 2
    cs = r2.protocol.comparison_scores(r2.cosine_scores(te2.embeddings.embeddings))
    assert (cs.mated_fta, cs.nonmated_fta, cs.nonmated.size) == (1, 1, 1)
