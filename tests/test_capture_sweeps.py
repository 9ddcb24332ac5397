"""Sweeps of degradations and profiles: levels, names, labels, and refusals."""

from __future__ import annotations

import pytest

from faceaudit.capture.sweeps import (
    CLEAN,
    DEFAULT_PROFILES,
    SWEEPS,
    build_sweeps,
    degradation_sweep,
    profile_sweep,
)
from faceaudit.errors import InputError


def test_a_degradation_sweeps_its_parameter_mildest_first():
    s = degradation_sweep("defocus")
    assert s.parameter == "radius" and s.unit == "pixels"
    assert [lv.value for lv in s.levels] == list(SWEEPS["defocus"][1])
    assert [lv.severity for lv in s.levels] == [1, 2, 3, 4, 5]
    assert s.levels[0].name == "defocus:kernel=disc,radius=1"
    assert s.levels[0].label == "defocus blur of radius 1 px"


def test_fixed_parameters_stay_and_show_in_the_label():
    s = degradation_sweep("motion:angle=90", [8, 16])
    assert [lv.chain[0]["angle"] for lv in s.levels] == [90.0, 90.0]
    assert s.levels[1].label == "motion blur of 16 px (angle 90)"
    one = degradation_sweep("defocus:radius=3")
    assert [lv.value for lv in one.levels] == [3.0]


def test_eyes_are_needed_only_for_downscale():
    assert degradation_sweep("downscale").needs_eyes
    assert not degradation_sweep("defocus").needs_eyes
    assert degradation_sweep("mask").uses_eyes and not degradation_sweep("mask").needs_eyes


def test_profiles_scale_their_lengths_to_each_face():
    s = profile_sweep("moving-subject")
    lv = s.levels[2]
    assert lv.name == "moving-subject/3" and s.scaled_to_face
    assert s.chain_for(lv, ied=64)[0]["length"] == pytest.approx(11.4)
    assert s.chain_for(lv, ied=32)[0]["length"] == pytest.approx(5.7)
    assert profile_sweep("far-away", [0, 2, 2]).levels[0].severity == 2  # 0 is the clean photo


def test_the_default_is_the_built_in_profiles():
    assert [s.name for s in build_sweeps()] == list(DEFAULT_PROFILES)
    assert CLEAN not in {lv.name for s in build_sweeps() for lv in s.levels}


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"degrade": ["blur"]}, "unknown degradation 'blur'"),
        ({"degrade": ["defocus"], "severities": [60]}, "between 0 and 50"),
        ({"degrade": ["downscale:ied=1"]}, "between 2 and 1000"),
        ({"profiles": ["night-street"], "severities": [9]}, "from 0 to 4"),
        ({"profiles": ["rainy"]}, "unknown capture profile"),
        ({"degrade": ["defocus"], "profiles": ["far-away"], "severities": [1]}, "separate runs"),
        ({"degrade": ["defocus", "defocus:kernel=disc"]}, "given twice"),
    ],
)
def test_bad_sweeps_are_refused_with_one_sentence(kw, message):
    with pytest.raises(InputError, match=message):
        build_sweeps(**kw)
