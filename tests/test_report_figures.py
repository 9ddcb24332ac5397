"""Report figures: axis ranges that span the data, inlining, rendering."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from faceaudit.report import build_figures
from faceaudit.report import figures as F
from test_report_fixtures import full_results, verification_only


def _close(fig):
    # Figures made with matplotlib.figure.Figure are not registered with pyplot; drop refs.
    fig.clf()


@pytest.mark.parametrize(
    ("fmr_min", "expected_low"),
    [(1e-8, 1e-8), (3.2e-7, 1e-7), (1e-3, 1e-3), (4.5e-5, 1e-5)],
)
def test_det_x_axis_reaches_smallest_nonzero_fmr(fmr_min, expected_low):
    fmr = np.logspace(0, math.log10(fmr_min), 300)
    fnmr = np.clip(0.01 * fmr**-0.2, 0, 1)
    fig = F.det_figure(np.append(fmr, 0.0), np.append(fnmr, 1.0))  # a zero FMR point is skipped
    lo, hi = fig.axes[0].get_xlim()
    assert lo == pytest.approx(expected_low)
    assert hi == pytest.approx(1.0)
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "log"
    _close(fig)


def test_det_axes_include_operating_points_and_eer():
    fmr = np.logspace(0, -3, 50)
    fnmr = np.clip(0.05 * fmr**-0.1, 0, 1)
    fig = F.det_figure(fmr, fnmr, operating_points=[(2e-6, 4e-4, "FMR ≤ 10⁻⁵")], eer=0.04)
    ax = fig.axes[0]
    assert ax.get_xlim()[0] == pytest.approx(1e-6)
    assert ax.get_ylim()[0] == pytest.approx(1e-4)
    _close(fig)


def test_det_of_full_results_spans_1e_8():
    res = verification_only()
    figs, notes = build_figures(res)
    assert notes == []
    ax = figs["det"].axes[0]
    # The fixture's DET reaches FMR 1e-8: the axis goes there, not to scikit-learn's 1e-3.
    assert ax.get_xlim()[0] == pytest.approx(1e-8)
    lowest_fnmr = min(v for v in res["verification"]["det"]["fnmr"] if v > 0)
    assert ax.get_ylim()[0] <= lowest_fnmr
    # Tick labels are plain text decades (no mathtext).
    labels = {t.get_text() for t in ax.get_xticklabels()}
    assert "10⁻⁸" in labels and "1" in labels


def test_full_results_build_every_figure():
    figs, notes = build_figures(full_results())
    assert notes == []
    assert set(figs) == {
        "id_group_rates",
        "scale_validation",
        "det",
        "score_histogram",
        "cmc",
        "fpir_fnir",
        "fpir_gallery",
        "tail_fit",
        "group_rates",
        "cross_fmr",
        "ppv",
        "compare_det",
    }
    # FPIR vs gallery size: log x, measured and extrapolated drawn as distinct artists.
    ax = figs["fpir_gallery"].axes[0]
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["extrapolated (tail fit)", "extrapolation band", "measured (with CI)"]
    # Cross-group heatmap uses a log colour scale.
    from matplotlib.colors import LogNorm

    assert isinstance(figs["cross_fmr"].axes[0].collections[0].norm, LogNorm)
    # Group bars: one row per group, unsupported group still labelled.
    ytick = [t.get_text() for t in figs["group_rates"].axes[0].get_yticklabels()]
    assert ytick == ["female", "male", "unknown (n/s)"][::-1] or ytick == [
        "female",
        "male",
        "unknown (n/s)",
    ]


@given(st.lists(st.floats(min_value=1e-300, max_value=1.0), min_size=1, max_size=20))
def test_log_limits_contain_every_positive_value(values):
    lo, hi = F.log_limits(values)
    assert lo <= min(values) * (1 + 1e-9)
    assert max(values) <= hi * (1 + 1e-9) or hi == 1.0
    assert lo < hi
    assert math.log10(lo) == pytest.approx(round(math.log10(lo)))  # whole decades


def test_log_limits_ignore_zero_none_nan():
    assert F.log_limits([0.0, None, float("nan"), 3e-5, 0.2]) == (pytest.approx(1e-5), 1.0)
    assert F.log_limits([]) == (1e-4, 1.0)


@pytest.mark.parametrize(
    ("x", "label"), [(1e-8, "10⁻⁸"), (1.0, "1"), (10.0, "10"), (1e3, "10³"), (2e-3, "")]
)
def test_decade_label(x, label):
    assert F.decade_label(x) == label


def test_plain_escapes_mathtext_and_shortens():
    assert F.plain("a$b$") == r"a\$b\$"
    assert F.plain("x" * 100, 10) == "x" * 9 + "…"


def test_inline_svg_is_html_ready():
    fig = F.cmc_figure([1, 2, 3], [0.5, 0.7, 0.8])
    svg = F.render_svg(fig)
    assert svg.startswith("<?xml")
    ET.fromstring(svg.encode())  # the standalone file is valid XML
    inl = F.inline_svg(svg, "svg-cmc", 'CMC <"&>')
    # 5.6 x 3.8 in = 403.2 x 273.6 pt, shown at 1.6 px/pt.
    assert inl.startswith('<svg width="645" height="438" viewBox="0 0 403.2 273.6"')
    assert "<?xml" not in inl and "DOCTYPE" not in inl and "xmlns" not in inl
    assert 'id="svg-cmc"' in inl and "<title>CMC &lt;&#34;&amp;&gt;</title>" in inl
    assert "#svg-cmc *{" in inl  # matplotlib's global style rule is scoped to the figure
    ids = [m for m in __import__("re").findall(r'\sid="([^"]+)"', inl)]
    assert all(i == "svg-cmc" or i.startswith("svg-cmc-") for i in ids)
    with pytest.raises(ValueError):
        F.inline_svg(svg, 'x" onload="1', "label")


def test_render_is_deterministic_and_png_is_small():
    fig1 = F.cmc_figure([1, 2, 3], [0.5, 0.7, 0.8])
    fig2 = F.cmc_figure([1, 2, 3], [0.5, 0.7, 0.8])
    svg1, png1 = F.render(fig1)
    svg2, png2 = F.render(fig2)
    assert svg1 == svg2  # fixed hash salt, no date: reproducible outputs
    assert png1 == png2
    assert len(png1) < 200_000


def test_histogram_has_linear_and_log_panels():
    edges = np.linspace(0, 1, 11)
    fig = F.score_histogram_figure(
        edges, np.arange(10), np.arange(10)[::-1] * 1000, thresholds=[(0.5, "EER")]
    )
    a, b = fig.axes
    assert a.get_yscale() == "linear" and b.get_yscale() == "log"
    # Each class is drawn as a share of its own total.
    assert b.get_ylim()[1] <= 1.5


def test_det_overlay_draws_each_operating_points_interval():
    from faceaudit.report.figures.systems import det_overlay_figure

    curves = [("A", [1e-4, 1e-3, 1e-2], [0.2, 0.1, 0.05]), ("B", [1e-4, 1e-3], [0.3, 0.15])]
    marks = [("A", 1e-3, 0.1, [0.08, 0.13]), ("B", 1e-3, 0.15, [0.0, 0.2])]
    ax = det_overlay_figure(curves, marks=marks).axes[0]
    bars = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] == 1e-3]
    spans = {tuple(float(v) for v in ln.get_ydata()) for ln in bars}
    # A's two-sided interval; B's bound from 0 runs down to the plot's floor
    assert spans == {(0.08, 0.13), (ax.get_ylim()[0], 0.2)}
    assert "bars: intervals" in ax.get_title()
    plain = det_overlay_figure(curves, marks=[(n, x, y) for n, x, y, _ in marks]).axes[0]
    assert "bars" not in plain.get_title()
