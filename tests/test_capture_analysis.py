"""The capture-conditions analysis on hand-made embeddings: every count by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from faceaudit.analyses.capture import (
    Condition,
    ProbeObservations,
    References,
    _count,
    _replicate_rates,
    _Scored,
    capture_conditions,
)
from faceaudit.errors import InputError


def _unit(*v):
    a = np.array(v, dtype=np.float32)
    return a / np.linalg.norm(a)


E = np.eye(3, dtype=np.float32)
REFS = References(
    embeddings=E.copy(),
    subject=np.array([0, 1, 2]),
    enrolled=np.array([True, True, False]),  # s2 held out of the gallery
    sample=np.array(["s0/r", "s1/r", "s2/r"]),
)
#                 clean: exact mates          blur: s0 near s1, s1 near s2, s2 lost
PROBE_VECTORS = [E[0], E[1], E[2], _unit(0.6, 0.8, 0), _unit(0, 0.4, np.sqrt(1 - 0.16)), None]
PROBES = ProbeObservations(
    condition=np.array([0, 0, 0, 1, 1, 1]),
    subject=np.array([0, 1, 2, 0, 1, 2]),
    photo=np.array([f"p{i}" for i in range(6)]),
    sample=np.array([f"s{i % 3}/p" for i in range(6)]),
    acquired=np.array([True, True, True, True, True, False]),
    embeddings=np.stack([v if v is not None else np.zeros(3, np.float32) for v in PROBE_VECTORS]),
    reason=np.array(["", "", "", "", "", "no_face"]),
)
CONDS = [Condition("clean", "clean photos", "clean"), Condition("blur", "blurred photos")]


def _run(**kw):
    kw.setdefault("bootstrap", 0)
    return capture_conditions(
        REFS, PROBES, CONDS, subjects=["s0", "s1", "s2"], reference="clean", **kw
    ).capture


def _counts(rate):
    return (rate.count, rate.n)


def test_rates_at_a_given_threshold_by_hand():
    res = _run(threshold=0.5)
    clean, blur = res["clean"], res["blur"]
    assert clean.reference and not blur.reference
    assert _counts(clean.rates["fta"]) == (0, 3)
    assert _counts(clean.rates["fnmr"]) == (0, 3)
    assert _counts(clean.rates["fmr"]) == (0, 6)
    assert _counts(clean.rates["fnir"]) == (0, 2)
    assert _counts(clean.rates["fpir"]) == (0, 1)  # s2 is not enrolled: a non-mated search
    assert _counts(blur.rates["fta"]) == (1, 3)
    assert _counts(blur.rates["fnmr"]) == (1, 2)  # s1's mate scores 0.4 < 0.5
    assert _counts(blur.rates["generalized_fnmr"]) == (2, 3)  # + s2's lost photo
    assert _counts(blur.rates["fmr"]) == (2, 4)  # s0 vs s1 (0.8), s1 vs s2 (0.92)
    assert _counts(blur.rates["fnir"]) == (1, 2)  # s0's mate is 2nd (0.6 < 0.8) but above t
    assert _counts(blur.rates["generalized_fnir"]) == (1, 2)  # s2 is not enrolled
    assert blur.rates["fpir"] is None  # s2's only non-mated search failed to acquire
    assert blur.fta_by_reason == {"no_face": 1}
    # zero errors: the exact one-sided bound at the intervals' level (97.5%), flagged
    assert clean.rates["fnmr"].upper_bound and clean.rates["fnmr"].ci[1] == pytest.approx(
        1 - 0.025 ** (1 / 3)
    )
    assert blur.ratios["fnmr"].value is None  # clean FNMR is 0
    assert blur.differences["fnmr"].value == pytest.approx(0.5)
    assert res.threshold["value"] == 0.5 and res.threshold["rule"] == "value"
    assert res.gallery_size == 2 and res.rank == 2


def test_rank_criterion_is_the_list_length_capped_by_the_gallery():
    blur = _run(threshold=0.5, list_length=1)["blur"]
    assert _counts(blur.rates["fnir"]) == (2, 2)  # s0's mate is not at rank 1


def test_threshold_fixed_on_the_reference_condition_and_held():
    res = _run(fmr_target=0.65)  # 6 comparisons support it: 3.69 / 0.65 < 6
    # clean non-mated scores are all 0: 3 of 6 may match (4 would exceed 0.65); the lowest such
    # threshold is 1.0
    assert res.threshold["value"] == pytest.approx(1.0)
    assert res.threshold["fixed_on"] == "clean" and res.threshold["rule"] == "fmr_target"
    assert _counts(res["clean"].rates["fnmr"]) == (0, 3)
    assert _counts(res["blur"].rates["fnmr"]) == (2, 2)  # the clean threshold, held


def test_a_target_the_reference_condition_cannot_support_is_refused():
    with pytest.raises(InputError, match="bound reaches it from 37"):  # 3.69 / 0.1
        _run(fmr_target=0.1)
    with pytest.raises(InputError, match="reference condition 'dark' is not among"):
        capture_conditions(REFS, PROBES, CONDS, subjects=["s0", "s1", "s2"], reference="dark")


def test_json_is_plain_and_every_condition_has_a_sentence():
    res = _run(threshold=0.5, bootstrap=200)
    text = json.dumps(res.to_json(), allow_nan=False)
    back = json.loads(text)
    assert [c["name"] for c in back["conditions"]] == ["clean", "blur"]
    blur = back["conditions"][1]
    assert blur["fnmr"]["count"] == 1 and blur["fnmr"]["n"] == 2
    assert blur["vs_reference"]["fnmr"]["difference"]["value"] == pytest.approx(0.5)
    assert back["conditions"][0]["vs_reference"] is None
    assert all(c["sentence"].endswith(".") for c in back["conditions"])
    assert "threshold fixed on clean photos" in blur["sentence"]
    assert len(back["sentences"]) == 2


def test_two_way_replicates_weigh_each_non_mated_pair_by_both_subjects():
    scored = _Scored(PROBES, REFS, np.array([3, 4]), 3)
    counts = _count(PROBES, REFS, scored, np.array([3, 4, 5]), 0.5, 2, 3)
    rng = np.random.default_rng(1)
    w = rng.integers(0, 3, size=(20, 3)).astype(float)
    got = _replicate_rates(counts, w, np.ones(3))["fmr"]
    # brute force: every non-mated comparison with weight w[probe subject] * w[ref subject]
    S = PROBES.embeddings[[3, 4]] @ E.T
    num = np.zeros(20)
    den = np.zeros(20)
    for k, p in enumerate((0, 1)):
        for r in range(3):
            if r != p:
                num += w[:, p] * w[:, r] * (S[k, r] >= 0.5)
                den += w[:, p] * w[:, r]
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(got, num / den)
