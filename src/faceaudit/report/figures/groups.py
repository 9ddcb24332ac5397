"""Figures of the demographic analyses: per-group rates, the cross-group FMR heatmap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from faceaudit.report.figures._base import (
    GREY,
    MARK,
    MATED,
    NONMATED,
    WARN,
    Point,
    _new_figure,
    _rc,
    _set_log,
    log_limits,
    plain,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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
        "FMR by group (non-mated pairs within the group)",
        "FNMR by group (mated pairs)",
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
        _rate_panel(axes[0], groups, fmr, titles[0], NONMATED)
        _rate_panel(axes[1], groups, fnmr, titles[1], MATED)
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
