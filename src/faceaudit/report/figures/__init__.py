"""Report figures: one function per figure, plain data in, a matplotlib ``Figure`` out.

The functions take numbers and labels (never a results dict, never images or identities) so they can
be reused and tested alone. matplotlib is imported lazily, inside the functions, and only the
object-oriented API with the Agg/SVG canvases is used (no pyplot, no global state, no display).

Rendering: :func:`render_svg` and :func:`render_png` turn a figure into standalone SVG text (no
metadata, so no links) and PNG bytes; :func:`inline_svg` makes SVG text safe to paste inside an
HTML page (no XML prolog, no namespace URLs, element ids prefixed so several figures can share one
page). Text stays text in the SVG (``svg.fonttype: none``): searchable, small, and drawn with the
reader's own sans-serif font; nothing is fetched.

Conventions
-----------
- Rates on log axes: axis limits are chosen from the smallest nonzero rate present, rounded down
  to a power of ten (:func:`log_limits`), so a DET curve that reaches FMR 1e-8 is drawn down to
  1e-8, not cut at 1e-3. Zero rates cannot sit on a log axis and are left out of the curve; the
  tables give them (as rule-of-3 bounds).
- User-supplied labels (group names, titles) pass through :func:`plain` so a ``$`` never starts
  mathtext, and are shortened to ``MAX_LABEL`` characters (tables show them in full).
- Colours: Okabe–Ito, distinguishable with the common colour-vision deficiencies.
"""

from faceaudit.report.figures._base import (
    ACCENT,
    GREY,
    MARK,
    MATED,
    MAX_LABEL,
    NONMATED,
    OTHER,
    PNG_DPI,
    RC,
    SVG_PX_PER_PT,
    WARN,
    Point,
    decade_label,
    inline_svg,
    log_limits,
    plain,
    render,
    render_png,
    render_svg,
)
from faceaudit.report.figures.capture import edc_figure, sweep_figure
from faceaudit.report.figures.errors import (
    cmc_figure,
    det_figure,
    fpir_fnir_figure,
    score_histogram_figure,
)
from faceaudit.report.figures.groups import cross_fmr_figure, group_rates_figure
from faceaudit.report.figures.impact import ppv_figure
from faceaudit.report.figures.scale import fpir_gallery_figure, tail_fit_figure
from faceaudit.report.figures.systems import (
    cmc_overlay_figure,
    det_overlay_figure,
    fpir_fnir_overlay_figure,
    group_difference_figure,
)

__all__ = [
    "ACCENT", "MATED", "GREY", "NONMATED", "MARK", "MAX_LABEL", "OTHER", "PNG_DPI", "RC",
    "SVG_PX_PER_PT", "WARN", "Point", "cmc_figure", "cross_fmr_figure", "decade_label",
    "cmc_overlay_figure", "det_figure", "det_overlay_figure", "fpir_fnir_overlay_figure",
    "group_difference_figure", "edc_figure", "fpir_fnir_figure", "fpir_gallery_figure",
    "group_rates_figure", "inline_svg", "log_limits", "plain", "ppv_figure", "render",
    "render_png", "render_svg",
    "score_histogram_figure", "sweep_figure", "tail_fit_figure",
]  # fmt: skip
