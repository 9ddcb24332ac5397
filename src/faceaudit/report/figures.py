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

GENUINE = "#0072B2"  # blue
IMPOSTOR = "#D55E00"  # vermillion
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


def det_figure(
    fmr: Sequence[float],
    fnmr: Sequence[float],
    *,
    operating_points: Sequence[tuple[float, float, str]] = (),
    eer: float | None = None,
    title: str = "DET curve",
) -> Figure:
    """Detection error trade-off: FNMR against FMR, both on log axes spanning the data.

    Parameters
    ----------
    fmr, fnmr : sequences of float
        The curve, one point per threshold (rates in [0, 1]); points where either rate is 0 are not
        drawable on log axes and are skipped.
    operating_points : sequence of (fmr, fnmr, label)
        Points to mark (e.g. the FNMR at each supported FMR target).
    eer : float, optional
        Equal error rate, marked on the diagonal FMR = FNMR.
    """
    with _rc():
        fig, (ax,) = _new_figure(5.6, 4.6)
        xs, ys = [], []
        for x, y in zip(fmr, fnmr, strict=False):
            if x is not None and y is not None and x > 0 and y > 0:
                xs.append(float(x))
                ys.append(float(y))
        op_x = [p[0] for p in operating_points]
        op_y = [p[1] for p in operating_points]
        extra = [eer] if eer else []
        x_lo, x_hi = log_limits(xs + op_x + extra)
        y_lo, y_hi = log_limits(ys + op_y + extra)
        _set_log(ax, "x")
        _set_log(ax, "y")
        if xs:
            ax.plot(xs, ys, color=IMPOSTOR, lw=1.6, label="DET curve")
        else:
            ax.text(
                0.5,
                0.5,
                "no curve: no errors of one kind observed",
                ha="center",
                transform=ax.transAxes,
                color=GREY,
            )
        lo = min(x_lo, y_lo)
        ax.plot([lo, 1], [lo, 1], color=GREY, lw=0.8, ls=":", label="FMR = FNMR")
        if eer and eer > 0:
            ax.plot([eer], [eer], "o", color=MARK, ms=6, mfc="white", label=f"EER {eer:.3g}")
        drawn = False
        for x, y, label in operating_points:
            if x is None or y is None or x <= 0 or y <= 0:
                continue
            ax.plot([x], [y], "s", color=GENUINE, ms=5, label=None if drawn else "operating points")
            ax.annotate(
                plain(label),
                (x, y),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=7,
                color=GENUINE,
            )
            drawn = True
        ax.set_xlim(x_lo, x_hi)
        ax.set_ylim(y_lo, y_hi)
        ax.set_xlabel("FMR: share of impostor comparisons accepted")
        ax.set_ylabel("FNMR: share of genuine comparisons rejected")
        ax.set_title(plain(title, 80))
        ax.legend(loc="upper right")
    return fig


def score_histogram_figure(
    edges: Sequence[float],
    genuine: Sequence[float],
    impostor: Sequence[float],
    *,
    thresholds: Sequence[tuple[float, str]] = (),
    xlabel: str = "score",
) -> Figure:
    """Genuine and impostor score histograms, each as a share of its class; linear and log y.

    Two panels side by side: the left (linear y) shows the bulk, the right (log y) the tails, where
    the errors are. Vertical lines mark ``thresholds`` (value, label).
    """
    import numpy as np
    from matplotlib.colors import to_rgba

    with _rc():
        fig, axes = _new_figure(9.0, 3.6, ncols=2)
        e = np.asarray(edges, dtype=float)
        g = np.asarray(genuine, dtype=float)
        i = np.asarray(impostor, dtype=float)
        g_share = g / g.sum() if g.sum() > 0 else g
        i_share = i / i.sum() if i.sum() > 0 else i
        for ax, log in zip(axes, (False, True), strict=True):
            for share, colour, label in (
                (i_share, IMPOSTOR, "impostor"),
                (g_share, GENUINE, "genuine"),
            ):
                ax.stairs(
                    share,
                    e,
                    fill=True,
                    facecolor=to_rgba(colour, 0.35),
                    edgecolor=colour,
                    lw=1.0,
                    label=label,
                )
            if log:
                _set_log(ax, "y")
                pos = _finite_positive(list(g_share) + list(i_share))
                if pos:
                    top = min(1.5, 10.0 ** math.ceil(math.log10(max(pos) * 3)))
                    ax.set_ylim(10.0 ** math.floor(math.log10(min(pos))), top)
            for t, _ in thresholds:
                ax.axvline(t, color=MARK, lw=0.8, ls="--")
            if log:
                for t, label in _merge_close(thresholds, float(e[-1] - e[0]) if e.size else 1.0):
                    ax.annotate(
                        plain(label, 60),
                        (t, 1),
                        xycoords=("data", "axes fraction"),
                        rotation=90,
                        fontsize=7,
                        va="top",
                        ha="right",
                        xytext=(-2, -2),
                        textcoords="offset points",
                        bbox={
                            "boxstyle": "square,pad=0.1",
                            "fc": "white",
                            "ec": "none",
                            "alpha": 0.85,
                        },
                    )
            ax.set_xlabel(plain(xlabel, 80))
            ax.set_ylabel("share of class per bin" + (" (log)" if log else ""))
            ax.set_title("tails (log scale)" if log else "score distributions")
        axes[0].legend(loc="best")
    return fig


def _merge_close(
    marks: Sequence[tuple[float, str]], span: float, gap: float = 0.05
) -> list[tuple[float, str]]:
    """Threshold labels with neighbours closer than ``gap`` x ``span`` merged (no overlap)."""
    out: list[tuple[float, str]] = []
    for t, label in sorted(marks, key=lambda m: m[0]):
        if out and abs(t - out[-1][0]) < gap * abs(span):
            out[-1] = (out[-1][0], f"{out[-1][1]}, {label}")
        else:
            out.append((t, label))
    return out


def cmc_figure(ranks: Sequence[int], rates: Sequence[float]) -> Figure:
    """Cumulative match characteristic: share of mated searches with the mate within rank r."""
    with _rc():
        fig, (ax,) = _new_figure(5.6, 3.8)
        ax.plot(list(ranks), list(rates), "o-", color=GENUINE, ms=3, lw=1.4, drawstyle="steps-post")
        if ranks and max(ranks) > 50:
            _set_log(ax, "x")
        else:
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(min(0.9 * min(rates), 1.0) if rates else 0.0, 1.0)
        ax.set_xlabel("rank r")
        ax.set_ylabel("share of mated searches, mate in top r")
        ax.set_title("Cumulative match characteristic (CMC)")
    return fig


def fpir_fnir_figure(
    threshold: Sequence[float],
    fpir: Sequence[float],
    fnir: Sequence[float],
    *,
    marks: Sequence[tuple[float, str]] = (),
    xlabel: str = "threshold",
) -> Figure:
    """FPIR and FNIR against the threshold, log y spanning the data; ``marks`` are thresholds."""
    with _rc():
        fig, (ax,) = _new_figure(5.6, 3.8)
        t = [float(x) for x in threshold]
        fp = [v if v and v > 0 else float("nan") for v in fpir]
        fn = [v if v and v > 0 else float("nan") for v in fnir]
        _set_log(ax, "y")
        ax.plot(t, fp, color=IMPOSTOR, lw=1.5, label="FPIR (non-mated searches with a candidate)")
        ax.plot(t, fn, color=GENUINE, lw=1.5, label="FNIR (mated searches missing the mate)")
        ax.set_ylim(*log_limits(list(fpir) + list(fnir)))
        for x, label in marks:
            ax.axvline(x, color=MARK, lw=0.8, ls="--")
            ax.annotate(
                plain(label),
                (x, 1),
                xycoords=("data", "axes fraction"),
                rotation=90,
                fontsize=7,
                va="top",
                ha="right",
                xytext=(-2, -2),
                textcoords="offset points",
            )
        ax.set_xlabel(plain(xlabel, 80))
        ax.set_ylabel("rate (log)")
        ax.set_title("Open-set identification errors vs threshold")
        ax.legend(loc="lower left")
    return fig


def fpir_gallery_figure(
    measured: Sequence[tuple[float, Point]],
    extrapolated: Sequence[tuple[float, Point]],
    *,
    threshold: float | None = None,
    title: str | None = None,
) -> Figure:
    """FPIR against gallery size N (log-log): measured points with CI bars, extrapolation with band.

    Measured points are drawn as filled markers with error bars; the extrapolated curve as a dashed
    line with a shaded band, so the two are never confused.
    """
    with _rc():
        fig, (ax,) = _new_figure(5.6, 4.2, margins=(0.8, 0.55, 0.2, 0.55))
        _set_log(ax, "x")
        _set_log(ax, "y")
        # Fixed x limits (set before drawing, so a single gallery size is never a singular axis).
        sizes = [float(n) for n, _ in list(measured) + list(extrapolated)]
        if sizes:
            x_lo, x_hi = log_limits(sizes, upper=None)
            ax.set_xlim(x_lo / 1.5, x_hi * 1.5)
        vals: list[float | None] = []
        if extrapolated:
            xs = [float(n) for n, _ in extrapolated]
            ys = [p.value if p.value and p.value > 0 else float("nan") for _, p in extrapolated]
            ax.plot(xs, ys, ls="--", color=IMPOSTOR, lw=1.4, label="extrapolated (tail fit)")
            if all(p.lo is not None and p.hi is not None for _, p in extrapolated):
                lo = [max(p.lo, 1e-300) for _, p in extrapolated]
                hi = [p.hi for _, p in extrapolated]
                ax.fill_between(
                    xs, lo, hi, color=IMPOSTOR, alpha=0.18, lw=0, label="extrapolation band"
                )
                vals += lo + hi
            vals += ys
        if measured:
            xs = [float(n) for n, _ in measured]
            ys = [p.value if p.value is not None else float("nan") for _, p in measured]
            yerr_lo = [
                (p.value - p.lo) if p.lo is not None and p.value is not None else 0.0
                for _, p in measured
            ]
            yerr_hi = [
                (p.hi - p.value) if p.hi is not None and p.value is not None else 0.0
                for _, p in measured
            ]
            ys_plot = [y if y and y > 0 else float("nan") for y in ys]
            ax.errorbar(
                xs,
                ys_plot,
                yerr=[yerr_lo, yerr_hi],
                fmt="o",
                color=GENUINE,
                ms=5,
                capsize=3,
                lw=1.2,
                label="measured (with CI)",
            )
            for n, p in measured:
                if p.bound and p.hi:
                    ax.plot([float(n)], [p.hi], marker="v", color=GENUINE, ms=6, ls="none")
            vals += ys + [p.hi for _, p in measured if p.hi] + [p.lo for _, p in measured if p.lo]
        ax.set_ylim(*log_limits(vals))
        ax.set_xlabel("gallery size N (enrolled people)")
        ax.set_ylabel("FPIR (false candidate rate)")
        if title is None:
            title = "False positive identification rate vs gallery size"
            if threshold is not None:
                title += f"\nat threshold {threshold:.6g}"
        ax.set_title(plain(title, 200))
        ax.legend(loc="upper left")
    return fig


def tail_fit_figure(
    score: Sequence[float],
    empirical: Sequence[float],
    fitted: Sequence[float],
    *,
    lo: Sequence[float] | None = None,
    hi: Sequence[float] | None = None,
    threshold_u: float | None = None,
    xlabel: str = "non-mated score",
) -> Figure:
    """Tail-fit diagnostic: empirical vs fitted exceedance probability of the non-mated tail."""
    with _rc():
        fig, (ax,) = _new_figure(5.6, 3.8)
        _set_log(ax, "y")
        x = [float(v) for v in score]
        emp = [v if v and v > 0 else float("nan") for v in empirical]
        fit = [v if v and v > 0 else float("nan") for v in fitted]
        if lo is not None and hi is not None:
            ax.fill_between(
                x,
                [max(v, 1e-300) for v in lo],
                list(hi),
                color=IMPOSTOR,
                alpha=0.18,
                lw=0,
                label="fit band",
            )
        ax.plot(x, fit, color=IMPOSTOR, lw=1.4, label="fitted tail (generalised Pareto)")
        ax.plot(x, emp, ".", color=GENUINE, ms=3, label="empirical")
        if threshold_u is not None:
            ax.axvline(threshold_u, color=MARK, lw=0.8, ls="--", label="tail starts (u)")
        ax.set_ylim(*log_limits(list(empirical) + list(fitted)))
        ax.set_xlabel(plain(xlabel, 80))
        ax.set_ylabel("P(score ≥ x) (log)")
        ax.set_title("Tail fit diagnostic")
        ax.legend(loc="lower left")
    return fig


def _rate_panel(
    ax: Axes, names: Sequence[str], points: Sequence[Point], title: str, colour: str
) -> None:
    n = len(names)
    ypos = list(range(n))[::-1]
    vals: list[float | None] = []
    for p in points:
        vals += [p.value, p.lo, p.hi]
    x_lo, x_hi = log_limits(vals)
    _set_log(ax, "x")
    ax.set_xlim(x_lo, x_hi)
    for y, p in zip(ypos, points, strict=True):
        # Unsupported rows keep their figure (never hidden) but are drawn grey and hatched.
        face = "none" if (p.bound or not p.supported) else colour
        edge = GREY if not p.supported else (WARN if p.bound else colour)
        hatch = "///" if not p.supported else (".." if p.bound else None)
        top = p.hi if p.bound else p.value
        if top is not None and top > 0:
            ax.barh(
                y,
                top - x_lo,
                left=x_lo,
                height=0.6,
                color=face,
                edgecolor=edge,
                hatch=hatch,
                lw=0.8,
                alpha=0.8,
            )
        if not p.bound and p.value and p.lo is not None and p.hi is not None:
            ax.errorbar(
                [p.value],
                [y],
                xerr=[[max(p.value - p.lo, 0)], [max(p.hi - p.value, 0)]],
                fmt="none",
                ecolor=MARK if p.supported else GREY,
                capsize=3,
                lw=1.0,
            )
        note = []
        if p.bound:
            note.append("≤ bound, no errors")
        if not p.supported:
            note.append("not supported")
        if top is None or top <= 0:
            note.append("no data")
        if note:
            x_text = (max(top, p.hi or 0) if top else x_lo) * 1.25
            ax.text(
                x_text,
                y,
                ", ".join(note),
                va="center",
                fontsize=7,
                color=WARN if p.supported else "#555555",
            )
    ax.set_yticks(ypos)
    ax.set_yticklabels([plain(s) for s in names])
    ax.set_title(title)
    ax.grid(axis="y", visible=False)


def group_rates_figure(
    groups: Sequence[str],
    fmr: Sequence[Point],
    fnmr: Sequence[Point],
    *,
    threshold: float | None = None,
    titles: tuple[str, str] = (
        "FMR by group (impostor pairs within the group)",
        "FNMR by group (genuine pairs)",
    ),
    xlabels: tuple[str, str] = ("false match rate (log)", "false non-match rate (log)"),
) -> Figure:
    """Per-group false-positive and false-negative rates (log x) at one global threshold.

    Bars with CI whiskers; FMR/FNMR by default, FPIR/FNIR with other ``titles``/``xlabels``.

    Unsupported groups are drawn as grey hatched rows labelled "not supported"; rule-of-3 bounds
    as hatched bars reaching the bound. ``groups`` labels may carry flags (e.g. "(small)").
    """
    with _rc():
        height = max(2.6, 0.8 + 0.32 * len(groups))
        fig, axes = _new_figure(9.0, height, ncols=2, margins=None)
        _rate_panel(axes[0], groups, fmr, titles[0], IMPOSTOR)
        _rate_panel(axes[1], groups, fnmr, titles[1], GENUINE)
        axes[1].set_yticklabels([])
        axes[0].set_xlabel(xlabels[0])
        axes[1].set_xlabel(xlabels[1])
        if threshold is not None:
            fig.suptitle(f"One global threshold: {threshold:.6g}", fontsize=9)
    return fig


def cross_fmr_figure(
    probe_groups: Sequence[str],
    reference_groups: Sequence[str],
    matrix: Sequence[Sequence[Point | None]],
) -> Figure:
    """Cross-group FMR heatmap: probe group (rows) x reference group (columns), log colour scale.

    Cells with no data are grey; rule-of-3 bounds are labelled "≤ x"; unsupported cells "n/s".
    """
    import numpy as np

    with _rc():
        from matplotlib.colors import LogNorm

        nr, nc = len(probe_groups), len(reference_groups)
        fig, (ax,) = _new_figure(max(4.5, 1.6 + 0.7 * nc), max(3.2, 1.2 + 0.5 * nr), margins=None)
        values = np.full((nr, nc), np.nan)
        for i, row in enumerate(matrix):
            for j, p in enumerate(row):
                if p is not None and p.supported and not p.bound and p.value and p.value > 0:
                    values[i, j] = p.value
        pos = values[np.isfinite(values)]
        lo, hi = log_limits(list(pos), upper=None) if pos.size else (1e-6, 1.0)
        cmap = _cmap()
        ax.set_facecolor("#dddddd")
        # Vector cells (pcolormesh), not an embedded raster: crisp, and nothing but text and
        # paths in the SVG.
        im = ax.pcolormesh(
            np.arange(nc + 1) - 0.5,
            np.arange(nr + 1) - 0.5,
            np.ma.masked_invalid(values),
            cmap=cmap,
            norm=LogNorm(vmin=lo, vmax=hi),
            edgecolors="white",
            linewidth=0.5,
        )
        ax.set_xlim(-0.5, nc - 0.5)
        ax.set_ylim(nr - 0.5, -0.5)
        cbar = fig.colorbar(im, ax=ax, label="FMR (log scale)")
        if cbar.solids is not None:
            cbar.solids.set_rasterized(False)  # vector only: no embedded <image> in the SVG
        if nr * nc <= 144:
            norm = LogNorm(vmin=lo, vmax=hi)
            for i, row in enumerate(matrix):
                for j, p in enumerate(row):
                    dark = bool(np.isfinite(values[i, j]) and norm(values[i, j]) > 0.6)
                    ax.text(
                        j,
                        i,
                        _cell_text(p),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if dark else "black",
                    )
        ax.set_xticks(range(nc))
        ax.set_xticklabels([plain(s, 20) for s in reference_groups], rotation=30, ha="right")
        ax.set_yticks(range(nr))
        ax.set_yticklabels([plain(s, 20) for s in probe_groups])
        ax.set_xlabel("reference (enrolled) group")
        ax.set_ylabel("probe group")
        ax.set_title("Cross-group false match rate")
        ax.grid(False)
    return fig


def _cmap():
    import matplotlib

    return matplotlib.colormaps["YlOrRd"]


def _cell_text(p: Point | None) -> str:
    from faceaudit.report.format import fmt_num

    if p is None:
        return "–"
    if not p.supported:
        return "n/s"
    if p.bound:
        return f"≤{fmt_num(p.hi, 2)}" if p.hi else "0"
    if p.value is None:
        return "–"
    return fmt_num(p.value, 2)


def ppv_figure(
    prevalence: Sequence[float],
    ppv: Sequence[float],
    *,
    lo: Sequence[float] | None = None,
    hi: Sequence[float] | None = None,
    groups: Sequence[tuple[str, float, float]] = (),
) -> Figure:
    """Positive predictive value of a hit against prevalence (log x), with its CI band.

    ``ppv``, ``lo`` and ``hi`` may hold NaN where the PPV or its interval is undefined (left as
    gaps). ``groups`` are ``(label, prevalence, ppv)`` markers: each group at its assumed
    prevalence.
    """
    with _rc():
        fig, (ax,) = _new_figure(5.6, 3.9, margins=(0.8, 0.55, 0.2, 0.45))
        _set_log(ax, "x")
        x = [float(v) for v in prevalence]
        if lo is not None and hi is not None:
            ax.fill_between(
                x, [float(v) for v in lo], [float(v) for v in hi], color=ACCENT, alpha=0.22,
                lw=0, label="confidence band",
            )  # fmt: skip
        ax.plot(x, [float(v) for v in ppv], color=ACCENT, lw=1.6, label="PPV")
        markers = ("o", "s", "^", "D", "v", "P", "X")
        for k, (label, pi, value) in enumerate(groups):
            ax.plot([pi], [value], markers[k % len(markers)], color=OTHER, ms=6, mfc="white",
                    mew=1.4, ls="none", label=f"group {plain(label, 24)}")  # fmt: skip
        xs = x + [g[1] for g in groups]
        if xs:
            ax.set_xlim(*log_limits(xs, upper=1.0))
        ax.set_ylim(0, 1)
        ax.set_xlabel("prevalence: share of searched people who are enrolled (log)")
        ax.set_ylabel("PPV: P(hit shows the right person)")
        ax.set_title("What one hit means: positive predictive value")
        ax.legend(loc="lower right")
    return fig


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
