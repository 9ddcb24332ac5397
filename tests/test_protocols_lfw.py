"""LFW pairs.txt: the format of the LFW README, errors with file + line, and the 10-fold figure."""

from __future__ import annotations

import numpy as np
import pytest

from faceaudit.data import EmbeddingSet
from faceaudit.errors import InputError
from faceaudit.io.protocols import read_lfw_pairs, resolve_pairs
from faceaudit.stats.folds import cross_validated_accuracy

# 2 folds x 2 matched + 2 mismatched pairs, tab-separated as the published file is
PAIRS = (
    "2\t2\n"
    "Abel_Pacheco\t1\t4\n"
    "Akhmed_Zakayev\t1\t3\n"
    "Abdel_Madi_Shabneh\t1\tDean_Barker\t1\n"
    "Abdel_Madi_Shabneh\t1\tGiancarlo_Fisichella\t1\n"
    "George_W_Bush\t10\t24\n"
    "John_Kerry\t8\t9\n"
    "George_W_Bush\t12\tJohn_Kerry\t8\n"
    "Dean_Barker\t1\tAbel_Pacheco\t4\n"
)


def write(tmp_path, text, name="pairs.txt"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_reads_folds_pairs_and_subjects(tmp_path):
    proto = read_lfw_pairs(write(tmp_path, PAIRS))
    assert (proto.n, proto.n_folds, proto.n_mated, proto.n_nonmated) == (8, 2, 4, 4)
    assert proto.folds.tolist() == [1, 1, 1, 1, 2, 2, 2, 2]
    assert proto.mated.tolist() == [True, True, False, False] * 2
    assert proto.first[4] == "George_W_Bush/George_W_Bush_0010.jpg"
    assert proto.second[4] == "George_W_Bush/George_W_Bush_0024.jpg"
    assert proto.second[6] == "John_Kerry/John_Kerry_0008.jpg"
    assert proto.first_subject[6] == "George_W_Bush" and proto.second_subject[6] == "John_Kerry"
    assert proto.lines.tolist() == list(range(2, 10))
    assert proto.location(3) == {"path": str(tmp_path / "pairs.txt"), "line": 5}
    assert proto.inputs[0].records == 9 and len(proto.inputs[0].sha256) == 64
    assert "9" in proto.convention and "fold" in proto.convention


def test_space_separated_and_view1_header(tmp_path):
    view1 = "1\nA 1 2\nA 1 B 1\n"
    proto = read_lfw_pairs(write(tmp_path, view1))
    assert proto.n_folds == 1 and proto.folds.tolist() == [1, 1]
    assert proto.first.tolist() == ["A/A_0001.jpg", "A/A_0001.jpg"]


def test_blank_lines_keep_editor_line_numbers(tmp_path):
    text = "1 1\n\nA 1 2\n\nA 1 B\n"
    with pytest.raises(InputError) as e:
        read_lfw_pairs(write(tmp_path, text))
    assert e.value.line == 5 and "mismatched pair" in str(e.value)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("10 300 7\nA 1 2\n", 1, "number of folds"),
        ("ten 300\nA 1 2\n", 1, "not a positive integer"),
        ("1 1\nA 1 B 2\nA 1 B 2\n", 2, "expected a matched pair"),
        ("1 1\nA 1 2\nA 1 2\n", 3, "expected a mismatched pair"),
        ("1 1\nA 1 x\nA 1 B 2\n", 2, "image number 'x'"),
        ("1 1\nA 0 2\nA 1 B 2\n", 2, "image number '0'"),
        ("1 1\nA 3 3\nA 1 B 2\n", 2, "with itself"),
        ("1 1\nA 1 2\nA 1 A 2\n", 3, "names A twice"),
        ("1 2\nA 1 2\nB 1 2\nA 1 B 2\n", 4, "truncated"),
        ("1 1\nA 1 2\nA 1 B 2\nC 1 2\n", 4, "beyond the 2"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, line, fragment):
    p = write(tmp_path, text)
    with pytest.raises(InputError) as e:
        read_lfw_pairs(p)
    assert e.value.path == str(p) and e.value.line == line
    assert fragment in str(e.value)
    assert str(e.value).startswith(f"{p}, line {line}: ")


def test_file_problems(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_lfw_pairs(tmp_path / "absent.txt")
    with pytest.raises(InputError, match="is empty"):
        read_lfw_pairs(write(tmp_path, "\n\n"))
    (tmp_path / "bad.txt").write_bytes(b"1 1\nA\xff 1 2\n")
    with pytest.raises(InputError) as e:
        read_lfw_pairs(tmp_path / "bad.txt")
    assert e.value.line == 2 and "UTF-8" in str(e.value)
    with pytest.raises(InputError, match="folder"):
        read_lfw_pairs(tmp_path)


def _embeddings(proto, seed=0, noise=0.6, dim=16, prefix=""):
    """One embedding per image: a subject direction plus noise (images named as in the folder)."""
    rng = np.random.default_rng(seed)
    samples = proto.samples()
    subjects = np.array([s.split("/")[0] for s in samples])
    centre = {s: rng.normal(size=dim) for s in np.unique(subjects)}
    x = np.stack([centre[s] + noise * rng.normal(size=dim) for s in subjects])
    return EmbeddingSet.from_arrays(x, subjects, samples=np.char.add(prefix, samples))


def test_embeddings_resolve_scores_and_the_two_kinds_of_figures(tmp_path):
    from faceaudit import audit_scores

    proto = read_lfw_pairs(write(tmp_path, PAIRS))
    emb = _embeddings(proto, prefix="lfw/")  # embedded from the folder above lfw/: still matches
    resolved = resolve_pairs(proto, emb)
    scores = resolved.cosine_scores(emb.embeddings)
    rows1 = [list(emb.samples).index("lfw/" + s) for s in proto.first]
    rows2 = [list(emb.samples).index("lfw/" + s) for s in proto.second]
    want = np.einsum("ij,ij->i", emb.embeddings[rows1], emb.embeddings[rows2])
    np.testing.assert_allclose(scores, want, rtol=1e-6)
    # the LFW convention ...
    folds = cross_validated_accuracy(scores, proto.mated, proto.folds)
    assert folds.k == 2 and folds.n.tolist() == [4, 4]
    # ... beside faceaudit's usual 1:1 figures on the same pairs (subject bootstrap)
    cs = resolved.protocol.comparison_scores(scores)
    assert (cs.mated.size, cs.nonmated.size) == (4, 4)
    assert cs.subjects == sorted(set(proto.first_subject) | set(proto.second_subject))
    run = audit_scores(cs, fmr_targets=[0.5], thresholds=[0.5], bootstrap=100)
    ver = run["verification"]
    assert not ver.operating_points[0].supported  # 4 non-mated pairs cannot support FMR 0.5
    op = ver.operating_points[1]
    assert (op.threshold, op.fmr.n, op.fnmr.n) == (0.5, 4, 4)
    assert op.fnmr.count == int(np.count_nonzero(scores[proto.mated] < 0.5))
    assert ver.bootstrap.unit == "subject"


def test_missing_embedding_is_an_error_or_a_failure_to_acquire(tmp_path):
    p = write(tmp_path, PAIRS)
    proto = read_lfw_pairs(p)
    emb = _embeddings(proto)
    keep = emb.samples != "John_Kerry/John_Kerry_0009.jpg"
    emb = emb.subset(keep)
    with pytest.raises(InputError) as e:
        resolve_pairs(proto, emb)
    assert e.value.path == str(p) and e.value.line == 7  # the first pair that uses the image
    assert "John_Kerry_0009" in str(e.value) and "missing='fta'" in str(e.value)
    resolved = resolve_pairs(proto, emb, missing="fta")
    assert resolved.n_fta == 1
    scores = resolved.cosine_scores(emb.embeddings)
    assert np.isnan(scores[5]) and np.isfinite(np.delete(scores, 5)).all()
    cs = resolved.protocol.comparison_scores(scores)
    assert (cs.mated_fta, cs.nonmated_fta, cs.mated.size) == (1, 0, 3)
    assert any("failures to acquire" in w for w in resolved.warnings)
    # in the fold figure a pair without a score is a non-match decision (here: a mated error)
    f = cross_validated_accuracy(scores, proto.mated, proto.folds)
    assert f.fta.tolist() == [0, 1] and f.false_non_matches[1] >= 1
