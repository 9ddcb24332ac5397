"""``audit_capture`` checks its option combinations itself, naming library parameters.

No face model is needed: every refusal comes before the first photo is embedded.
"""

from __future__ import annotations

import pytest
from PIL import Image

from capture_images import texture
from faceaudit.audits import ConditionsBy, audit_capture
from faceaudit.audits._capture_plan import threshold_keywords
from faceaudit.capture.sweeps import build_sweeps
from faceaudit.errors import InputError
from faceaudit.io.images import discover_images
from faceaudit.params import ParameterError


@pytest.fixture
def images(tmp_path):
    lines = ["path,subject,condition"]
    for s in range(2):
        for i in range(2):
            name = f"p{s}_{i}.png"
            Image.fromarray(texture(seed=s * 2 + i)).save(tmp_path / name)
            lines.append(f"{name},p{s},{'dark' if i else 'lit'}")
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n")
    return discover_images(tmp_path / "m.csv")


BY_COLUMN = ConditionsBy(column="condition")


@pytest.mark.parametrize(
    ("conditions", "keywords", "expected"),
    [
        (None, {}, {"fmr_target": 1e-3}),
        (None, {"fpir_target": 0.01}, {"fpir_target": 0.01}),
        (None, {"threshold": 0.42}, {"threshold": 0.42}),
        (BY_COLUMN, {}, {"fmr_target": 1e-3}),  # threshold_from=None: the keywords say it
        (BY_COLUMN, {"fpir_target": 0.01}, {"fpir_target": 0.01}),
        (ConditionsBy(column="c", threshold_from="value=0.42"), {}, {"threshold": 0.42}),
        (ConditionsBy(column="c", threshold_from="fmr=1e-3"), {}, {"fmr_target": 1e-3}),
    ],
)
def test_one_threshold_rule_from_keywords_or_threshold_from(conditions, keywords, expected):
    kw = {"fmr_target": None, "fpir_target": None, "threshold": None} | keywords
    got = threshold_keywords(conditions, kw["fmr_target"], kw["fpir_target"], kw["threshold"])
    assert got == {"fmr_target": None, "fpir_target": None, "threshold": None} | expected


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"fmr_target": 0.01, "threshold": 0.5}, InputError, "fix the one threshold one way"),
        (
            {"conditions": BY_COLUMN, "fmr_target": 0.01, "fpir_target": 0.1},
            InputError,
            "fix the one threshold one way",
        ),
        (
            {"conditions": ConditionsBy(column="condition", threshold_from="fmr=0.1")}
            | {"threshold": 0.5},
            InputError,
            "the threshold rule is given twice",
        ),
        ({"conditions": BY_COLUMN, "fmr_target": 2.0}, ParameterError, "fmr_targets = 2.0"),
        ({"conditions": BY_COLUMN, "threshold": float("nan")}, ParameterError, "threshold = nan"),
        ({"conditions": BY_COLUMN, "sweeps": build_sweeps()}, InputError, "not both"),
        (
            {"conditions": BY_COLUMN, "show_examples": "p0_0.png"},
            ParameterError,
            "nothing to render",
        ),
        ({"list_length": 0}, ParameterError, "list_length = 0"),
        ({"held_out": -1}, ParameterError, "held_out = -1"),
    ],
)
def test_refusals_name_the_parameter_not_a_flag(images, kwargs, error, message):
    with pytest.raises(error, match=message) as info:
        audit_capture(images, **kwargs)
    assert "--" not in str(info.value)


def test_conditions_come_from_a_column_or_a_pattern():
    with pytest.raises(InputError, match=r"\(column=\) or .* \(pattern=\), not both"):
        ConditionsBy(column="condition", pattern="_(\\w+)")
    with pytest.raises(InputError, match="one of the two"):
        ConditionsBy()
    with pytest.raises(ParameterError, match="condition_threshold = 'fmr'"):
        ConditionsBy(column="condition", threshold_from="fmr")
