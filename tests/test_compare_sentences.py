"""The sentences of ``compare``: the lower-error system first, points, paired CI, and "the data
cannot tell them apart" when the interval spans 0."""

from __future__ import annotations

from faceaudit.report._data import Node
from faceaudit.report.sentences.systems import difference_sentence


def _diff(**kw) -> Node:
    d = {
        "figure": "fnmr_at_fmr", "target": 1e-3, "threshold_a": 0.5, "threshold_b": 0.6,
        "a": "A", "b": "B", "value_a": {"value": 0.063, "ci": None, "count": 63, "n": 1000},
        "value_b": {"value": 0.041, "ci": None, "count": 41, "n": 1000}, "difference": 0.022,
        "ci": [0.014, 0.030], "unpaired_ci": [-0.01, 0.05], "replicates": 1000, "p_value": 0.001,
        "adjusted_p": 0.001, "indistinguishable": False,
    }  # fmt: skip
    d.update(kw)
    return Node(d)


def test_the_better_system_is_named_first_with_its_difference_in_points():
    s = difference_sentence(_diff(), confidence=0.95, unit="subject", pairs=1, method="holm")
    assert s == (
        "At FMR 10⁻³, B misses fewer mated pairs than A: 4.1% vs 6.3%, a difference of -2.2 "
        "points (95% CI -3.0 to -1.4), paired by subject."
    )


def test_an_interval_spanning_zero_cannot_tell_them_apart():
    d = _diff(ci=[-0.004, 0.030], indistinguishable=True)
    s = difference_sentence(d, confidence=0.95, unit="subject", pairs=1, method="holm")
    assert s.endswith("paired by subject; the data cannot tell them apart.")
    assert "misses fewer" not in s


def test_more_than_two_systems_state_the_adjustment():
    d = _diff(figure="eer", target=None, adjusted_p=0.03)
    s = difference_sentence(d, confidence=0.95, unit="subject", pairs=3, method="holm")
    assert s.startswith("At the equal error rate, B has a lower equal error rate than A")
    assert "Holm-adjusted p = 0.03 over 3 pairs" in s
