"""Figures of the paired comparison of systems: the systems' DET curves overlaid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from faceaudit.report.figures._base import (
    ACCENT,
    GREY,
    MARK,
    MATED,
    NONMATED,
    OTHER,
    WARN,
    _new_figure,
    _rc,
    _set_log,
    log_limits,
    plain,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

_COLOURS = (MATED, NONMATED, ACCENT, OTHER, WARN, MARK)
_STYLES = ("-", "--", "-.", ":")


def det_overlay_figure(
    curves: Sequence[tuple[str, Sequence[float | None], Sequence[float | None]]],
    *,
    marks: Sequence[tuple[str, float, float]] = (),
    rates: tuple[str, str] = ("fmr", "fnmr"),
    title: str = "DET curves of the compared systems",
) -> Figure:
    """Several systems' DET curves (FNMR against FMR, log axes spanning the data) on one plot.

    Parameters
    ----------
    curves : sequence of (name, fmr, fnmr)
        One curve per system; points where either rate is 0 (or None) are skipped (not drawable
        on log axes). Names are user strings, drawn as literal text (:func:`plain`).
    marks : sequence of (name, fmr, fnmr)
        Operating points to mark (each system at its own threshold for a target).
    rates : ("fmr", "fnmr") or ("fpir", "fnir")
        Which rates the curves hold (1:1 or 1:N): the axis labels.
    """
    with _rc():
        fig, (ax,) = _new_figure(5.8, 4.6)
        _set_log(ax, "x")
        _set_log(ax, "y")
        all_x, all_y = [], []
        colour = {}
        for k, (name, fmr, fnmr) in enumerate(curves):
            xs, ys = [], []
            for x, y in zip(fmr, fnmr, strict=False):
                if x is not None and y is not None and x > 0 and y > 0:
                    xs.append(float(x))
                    ys.append(float(y))
            c = _COLOURS[k % len(_COLOURS)]
            colour[name] = c
            if xs:
                ax.plot(xs, ys, color=c, lw=1.5, ls=_STYLES[k // len(_COLOURS) % 4],
                        label=plain(name))  # fmt: skip
            all_x += xs
            all_y += ys
        for name, x, y in marks:
            if x and y and x > 0 and y > 0:
                ax.plot([x], [y], "s", ms=4, color=colour.get(name, MARK))
                all_x.append(x)
                all_y.append(y)
        x_lo, x_hi = log_limits(all_x)
        y_lo, y_hi = log_limits(all_y)
        lo = min(x_lo, y_lo)
        ax.plot([lo, 1], [lo, 1], color=GREY, lw=0.8, ls=":",
                label=f"{rates[0].upper()} = {rates[1].upper()}")  # fmt: skip
        if not all_x:
            ax.text(0.5, 0.5, "no curve: no errors of one kind observed", ha="center",
                    transform=ax.transAxes, color=GREY)  # fmt: skip
        ax.set_xlim(x_lo, x_hi)
        ax.set_ylim(y_lo, y_hi)
        if rates == ("fpir", "fnir"):
            ax.set_xlabel("FPIR: share of searches of people not enrolled that return a candidate")
            ax.set_ylabel("FNIR: share of searches of enrolled people that miss them")
        else:
            ax.set_xlabel("FMR: share of non-mated comparisons accepted")
            ax.set_ylabel("FNMR: share of mated comparisons rejected")
        ax.set_title(plain(title, 80))
        ax.legend(loc="upper right")
    return fig
