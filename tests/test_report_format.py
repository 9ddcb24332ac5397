"""Number and rate formatting for the report (hand-checked strings)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faceaudit.report import format as fmt
from faceaudit.report import sentences


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (None, "—"),
        (0.0, "0"),
        (0.0231, "0.0231"),
        (0.001, "0.001"),
        (9.5e-5, "9.50×10⁻⁵"),
        (3e-6, "3.00×10⁻⁶"),
        (1.0, "1"),
        (123.456, "123"),
        (2.7e8, "2.70×10⁸"),
        (1234.5, "1,234"),
        (1_000_000, "1,000,000"),
        (True, "yes"),
        (float("nan"), "n/a"),
        (float("inf"), "∞"),
        ("abc", "abc"),
    ],
)
def test_fmt_num(x, text):
    assert fmt.fmt_num(x) == text


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (3.2e-6, "1 in 310,000"),
        (9.5e-5, "1 in 11,000"),
        (1e-4, "1 in 10,000"),
        (0.1, "1 in 10"),
        (0.12, "1 in 8.3"),
        (0.5, "1 in 2"),
        (0.0, "none"),
        (None, "none"),
    ],
)
def test_one_in(x, text):
    assert sentences.one_in(x) == text


@given(st.floats(min_value=1e-12, max_value=1.0))
def test_one_in_is_within_rounding_of_the_inverse(x):
    text = sentences.one_in(x)
    m = re.fullmatch(r"1 in ([\d,.]+)", text)
    assert m, text
    shown = float(m.group(1).replace(",", ""))
    assert shown == pytest.approx(1 / x, rel=0.06)  # 2 significant digits


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_fmt_num_never_fails(x):
    out = fmt.fmt_num(x)
    assert isinstance(out, str) and out


def test_fmt_rate_full_forms():
    r = {"value": 0.0123, "ci": [0.0101, 0.0149], "count": 123, "n": 10_000, "upper_bound": False}
    assert fmt.fmt_rate(r) == "0.0123 (95% CI 0.0101–0.0149; 123 of 10,000)"
    assert fmt.fmt_rate(r, 0.9) == "0.0123 (90% CI 0.0101–0.0149; 123 of 10,000)"
    bound = {"value": 0.0, "ci": [0.0, 3e-4], "count": 0, "n": 10_000, "upper_bound": True}
    assert fmt.fmt_rate(bound) == "≤ 3.00×10⁻⁴ (no errors observed; 0 of 10,000)"
    assert fmt.fmt_rate({"value": None, "ci": None, "count": 0, "n": 0}) == "no data (n = 0)"
    assert fmt.fmt_rate({"value": 0.2, "ci": None}) == "0.2 (no CI)"
    assert fmt.fmt_rate(None) == "—"
    assert fmt.fmt_rate(0.5) == "0.5"


def test_fmt_value_nested_and_ratio():
    assert fmt.fmt_value({"value": 8.3, "ci": [5.1, 12.0]}) == "8.3 (95% CI 5.1–12)"
    assert fmt.fmt_value({"a": 1, "b": "x"}) == "a: 1; b: x"
    assert fmt.fmt_value([0.5, 2]) == "0.5, 2"


def test_threshold_and_confidence():
    assert fmt.fmt_threshold(0.41234567) == "0.412346"
    assert fmt.fmt_threshold(72) == "72"
    assert fmt.fmt_threshold(None) == "—"
    assert fmt.fmt_confidence(0.95) == "95%"
    assert fmt.fmt_confidence(0.999) == "99.9%"


def test_humanize_key():
    assert fmt.humanize_key("fmr_max_over_geomean") == "FMR max over geomean"
    assert fmt.humanize_key("n_exceed") == "N exceed"
    assert fmt.humanize_key("expected_wrong_hits") == "Expected wrong hits"


def test_numpy_scalars_format_like_python_numbers():
    import numpy as np

    assert fmt.fmt_num(np.int64(1_000_000)) == "1,000,000"
    assert fmt.fmt_num(np.float32(9.5e-5)) == "9.50×10⁻⁵"
    assert fmt.fmt_threshold(np.float64(0.5)) == "0.5"
    assert fmt.is_number(np.float64(1.0)) and not fmt.is_number(np.float64("nan"))


def test_importing_the_report_does_not_import_matplotlib():
    import subprocess
    import sys

    code = (
        "import sys, faceaudit.report as r; "
        "from test_report_fixtures import verification_only; "
        "r.render_html(verification_only()); "
        "print('matplotlib' in sys.modules)"
    )
    here = str(Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=here
    )
    assert out.stdout.strip() == "False"
