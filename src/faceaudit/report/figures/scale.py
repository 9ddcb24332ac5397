"""Figures of the gallery-size analysis: FPIR against N, the tail-fit diagnostic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from faceaudit.report.figures._base import (
    MARK,
    MATED,
    NONMATED,
    Point,
    _new_figure,
    _rc,
    _set_log,
    log_limits,
    plain,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


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
            ax.plot(xs, ys, ls="--", color=NONMATED, lw=1.4, label="extrapolated (tail fit)")
            if all(p.lo is not None and p.hi is not None for _, p in extrapolated):
                lo = [max(p.lo, 1e-300) for _, p in extrapolated]
                hi = [p.hi for _, p in extrapolated]
                ax.fill_between(
                    xs, lo, hi, color=NONMATED, alpha=0.18, lw=0, label="extrapolation band"
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
                color=MATED,
                ms=5,
                capsize=3,
                lw=1.2,
                label="measured (with CI)",
            )
            for n, p in measured:
                if p.bound and p.hi:
                    ax.plot([float(n)], [p.hi], marker="v", color=MATED, ms=6, ls="none")
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
                color=NONMATED,
                alpha=0.18,
                lw=0,
                label="fit band",
            )
        ax.plot(x, fit, color=NONMATED, lw=1.4, label="fitted tail (generalised Pareto)")
        ax.plot(x, emp, ".", color=MATED, ms=3, label="empirical")
        if threshold_u is not None:
            ax.axvline(threshold_u, color=MARK, lw=0.8, ls="--", label="tail starts (u)")
        ax.set_ylim(*log_limits(list(empirical) + list(fitted)))
        ax.set_xlabel(plain(xlabel, 80))
        ax.set_ylabel("P(score ≥ x) (log)")
        ax.set_title("Tail fit diagnostic")
        ax.legend(loc="lower left")
    return fig
