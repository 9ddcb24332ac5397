"""What every report figure shares: matplotlib settings, colours, log axes, rendering, inlining."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: matplotlib settings used for every report figure (applied with ``rc_context``).
RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "faceaudit",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "grid.linewidth": 0.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8.0,
    "legend.frameon": False,
    "path.simplify": True,
}

MATED = "#0072B2"  # blue
NONMATED = "#D55E00"  # vermillion
ACCENT = "#009E73"  # bluish green
MARK = "#000000"
OTHER = "#CC79A7"  # reddish purple
WARN = "#E69F00"  # orange
GREY = "#999999"

MAX_LABEL = 40
PNG_DPI = 100
SVG_PX_PER_PT = 1.6


class Point(NamedTuple):
    """One rate for a figure: value, interval, and how to show it.

    ``bound`` marks a rule-of-3 upper bound (value 0, ``hi`` the bound); ``supported=False`` marks a
    figure the data cannot support (drawn greyed, never hidden).
    """

    value: float | None
    lo: float | None = None
    hi: float | None = None
    bound: bool = False
    supported: bool = True


def plain(text: object, limit: int = MAX_LABEL) -> str:
    """A label matplotlib draws literally: ``$`` escaped, shortened to ``limit`` characters."""
    s = str(text)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s.replace("$", r"\$")


def _finite_positive(values: Sequence[float | None]) -> list[float]:
    out = []
    for v in values:
        if v is None:
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f) and f > 0:
            out.append(f)
    return out


def log_limits(
    values: Sequence[float | None], *, upper: float | None = 1.0, default_low: float = 1e-4
) -> tuple[float, float]:
    """Log-axis limits spanning the positive ``values``: whole decades, ``upper`` at most.

    The lower limit is the decade at or below the smallest positive value (``default_low`` when
    there is none); the upper is the decade at or above the largest, capped at ``upper``.
    """
    pos = _finite_positive(values)
    if not pos:
        return default_low, upper if upper is not None else 1.0
    lo = 10.0 ** math.floor(math.log10(min(pos)) + 1e-12)
    hi = 10.0 ** math.ceil(math.log10(max(pos)) - 1e-12)
    if upper is not None:
        hi = min(hi, upper)
    if hi <= lo:
        hi = lo * 10.0
    return lo, hi


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decade_label(x: float, _pos: object = None) -> str:
    """Tick label for a log axis without mathtext: ``10⁻⁴`` for 1e-4, ``1`` for 1, else empty."""
    if x <= 0 or not math.isfinite(x):
        return ""
    e = math.log10(x)
    if abs(e - round(e)) > 1e-9:
        return ""
    e = round(e)
    if e == 0:
        return "1"
    if e == 1:
        return "10"
    return "10" + str(e).translate(_SUPERSCRIPT)


def _set_log(ax: Axes, which: str) -> None:
    """Log scale on ``which`` ("x" or "y") with plain-text decade labels (no slow mathtext)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis.set_major_locator(LogLocator(base=10.0, numticks=12))
    axis.set_major_formatter(FuncFormatter(decade_label))
    # Two minor ticks a decade (2, 5) instead of eight: fewer tick artists, faster to draw.
    axis.set_minor_locator(LogLocator(base=10.0, subs=(2.0, 5.0), numticks=12))
    axis.set_minor_formatter(NullFormatter())


def _new_figure(
    width: float,
    height: float,
    *,
    ncols: int = 1,
    margins: tuple[float, float, float, float] | None = (0.8, 0.55, 0.2, 0.4),
) -> tuple[Figure, list[Axes]]:
    """A figure with ``ncols`` axes in a row.

    ``margins`` (left, bottom, right, top, in inches) fix the layout by hand, which is several
    times cheaper to draw than a computed layout; use it where every label is known in advance.
    ``None`` asks for matplotlib's constrained layout, for figures whose labels come from the
    user (group names).
    """
    import matplotlib

    with matplotlib.rc_context(RC):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(width, height), layout="constrained" if margins is None else None)
        FigureCanvasAgg(fig)  # the Agg canvas, explicitly: no GUI backend, no pyplot state
        if margins is None:
            fig.get_layout_engine().set(w_pad=0.08, h_pad=0.06)
        axes = fig.subplots(1, ncols, squeeze=False)[0]
        if margins is not None:
            left, bottom, right, top = margins
            fig.subplots_adjust(
                left=left / width,
                bottom=bottom / height,
                right=1 - right / width,
                top=1 - top / height,
                wspace=0.28,
            )
    return fig, list(axes)


def _rc():
    import matplotlib

    return matplotlib.rc_context(RC)


# ---------------------------------------------------------------------------------------------
# Rendering


_SVG_META = {"Creator": None, "Date": None, "Format": None, "Type": None}


def render(fig: Figure, *, dpi: int = PNG_DPI) -> tuple[str, bytes]:
    """SVG text and PNG bytes of ``fig``, laying it out once.

    A computed (constrained) layout is done during the SVG render and then frozen, so the PNG
    render does not pay for it a second time; positions are figure fractions, valid at any dpi.
    """
    svg = render_svg(fig)
    fig.set_layout_engine("none")
    return svg, render_png(fig, dpi=dpi)


def render_svg(fig: Figure) -> str:
    """Standalone SVG text of ``fig`` (XML prolog kept, no metadata block, text as text)."""
    buf = io.StringIO()
    with _rc():
        fig.savefig(buf, format="svg", metadata=_SVG_META)
    return buf.getvalue()


def render_png(fig: Figure, dpi: int = PNG_DPI) -> bytes:
    """PNG bytes of ``fig`` at ``dpi`` (metadata limited to the software name)."""
    buf = io.BytesIO()
    with _rc():
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


_ID_RE = re.compile(r'(<[^<>]*?\sid=")')
_HREF_RE = re.compile(r'(<[^<>]*?\sxlink:href="#)')
_ROOT_RE = re.compile(r"<svg\b[^>]*>")


def inline_svg(svg: str, prefix: str, label: str) -> str:
    """SVG text ready to sit inside an HTML page.

    Drops the XML prolog/DOCTYPE and the namespace declarations (HTML parsers supply them), makes
    every element id unique to this figure (``prefix-…``) and scopes matplotlib's ``*`` style rule
    to the figure, and adds an accessible title. ``prefix`` must be a plain identifier;
    ``label`` is escaped here.
    """
    from markupsafe import escape

    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", prefix):
        raise ValueError(f"figure prefix must be an identifier, got {prefix!r}")
    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    body = _ID_RE.sub(lambda m: m.group(1) + prefix + "-", body)
    body = _HREF_RE.sub(lambda m: m.group(1) + prefix + "-", body)
    body = body.replace("url(#", f"url(#{prefix}-")
    body = body.replace('<style type="text/css">*{', f'<style type="text/css">#{prefix} *{{', 1)
    safe_label = str(escape(label))

    def root(m: re.Match[str]) -> str:
        tag = m.group(0)
        # Every figure is shown at one scale (1.6 CSS px per pt, so 9 pt labels read like body
        # text), so text is the same size in all of them; CSS lets a wide one shrink to the page.
        box = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', tag)
        tag = re.sub(r'\s(xmlns(:xlink)?|id|width|height)="[^"]*"', "", tag)
        if box:
            w, h = (float(v) * SVG_PX_PER_PT for v in box.groups())
            tag = tag.replace("<svg", f'<svg width="{w:.0f}" height="{h:.0f}"', 1)
        tag = tag[:-1].rstrip("/") + (
            f' id="{prefix}" class="figure" role="img" aria-label="{safe_label}">'
        )
        return tag + f"<title>{safe_label}</title>"

    return _ROOT_RE.sub(root, body, count=1).strip()
